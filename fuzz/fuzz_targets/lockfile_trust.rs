//! `plinth.lock` and `trusted_keys.toml`: whatever parses writes back to text that parses to
//! the same value.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use plinth_package::{Lockfile, TrustStore};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(lock) = Lockfile::parse(text, Path::new("plinth.lock")) {
        let again = Lockfile::parse(&lock.to_toml(), Path::new("plinth.lock"))
            .expect("a written lockfile parses");
        assert_eq!(again, lock);
    }
    if let Ok(store) = TrustStore::parse(text, Path::new("trusted_keys.toml")) {
        let again = TrustStore::parse(&store.to_toml(), Path::new("trusted_keys.toml"))
            .expect("a written trust store parses");
        assert_eq!(again, store);
    }
});
