//! `plugin.toml` parsing: any text either parses or is refused with a coded error, and a
//! parsed manifest's questions (component path, requested grants) never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use plinth_manifest::{Manifest, ToDiagnostic};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Manifest::parse(text, Path::new("plugins/x/plugin.toml")) {
        Ok(parsed) => {
            let manifest = parsed.manifest;
            let _ = manifest.component_path();
            for grant in manifest.requested_grants() {
                // Every requested grant prints as a grant string that parses back to itself.
                let text = grant.to_string();
                let again: plinth_manifest::Grant = text.parse().expect("requested grant reparses");
                assert_eq!(again, grant);
            }
        }
        Err(e) => {
            let _ = e.to_diagnostic();
        }
    }
});
