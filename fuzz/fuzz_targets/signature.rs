//! Signature and key text: whatever parses prints back to text that parses to the same value,
//! and checking a parsed signature never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plinth_manifest::{Digest, PluginId};
use plinth_package::{PublicKey, SecretKey, Signature, Subject};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(signature) = Signature::parse(text) {
        let again = Signature::parse(&signature.to_text()).expect("a printed signature parses");
        assert_eq!(again, signature);
        let subject = signature.subject.clone().unwrap_or_else(|| Subject {
            id: PluginId::new("fuzz").expect("valid id"),
            version: semver::Version::new(0, 1, 0),
            digest: Digest::of(data),
        });
        if let Some(key) = &signature.key {
            let _ = key.verifies(&subject, &signature);
        }
    }
    if let Ok(key) = text.trim().parse::<PublicKey>() {
        assert_eq!(key.to_string().parse::<PublicKey>().expect("reparses"), key);
    }
    if let Ok(key) = text.trim().parse::<SecretKey>() {
        let again: SecretKey = key.to_text().parse().expect("reparses");
        assert_eq!(again.public_key(), key.public_key());
    }
});
