//! The registry index parser (`plinth-registry`'s `index` module, built here on its own so the
//! target does not pull in the network stack): any bytes either fail with an error or give an
//! index that searches and resolves without panicking and writes back to JSON that parses to
//! the same index.
#![no_main]

#[path = "../../crates/plinth-registry/src/error.rs"]
#[allow(dead_code)]
mod error;
#[path = "../../crates/plinth-registry/src/index.rs"]
#[allow(dead_code)]
mod index;

use index::{Index, PreReleases, parse_spec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = Index::parse(data, "index.json") else {
        return;
    };
    let index = parsed.index;
    let written = serde_json::to_vec(&index).expect("an index serializes");
    let again = Index::parse(&written, "index.json").expect("a written index parses");
    assert_eq!(again.index, index);
    assert!(
        again.warnings.is_empty(),
        "a written index has no unknown fields"
    );
    for plugin in &index.plugins {
        assert!(!index.search(plugin.id.as_str()).is_empty());
        for version in &plugin.versions {
            // Requests carry no build metadata: `=1.0.0` matches `1.0.0+a` and `1.0.0+b`.
            let mut exact = version.version.clone();
            exact.build = semver::BuildMetadata::EMPTY;
            let spec = format!("{}@={exact}", plugin.id);
            let (id, request) = parse_spec(&spec).expect("an id and its exact version parse");
            let (_, found) = index
                .resolve(&id, &request, PreReleases::Include)
                .expect("a listed version resolves exactly");
            assert_eq!(
                found.version.cmp_precedence(&version.version),
                std::cmp::Ordering::Equal
            );
        }
    }
});
