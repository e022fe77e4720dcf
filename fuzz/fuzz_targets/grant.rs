//! Grant strings: a grant that parses prints back to a string that parses to the same grant,
//! and a grant always covers itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plinth_manifest::{Grant, GrantSet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parts: Vec<&str> = text.split('\n').collect();
    for part in &parts {
        if let Ok(grant) = part.parse::<Grant>() {
            let printed = grant.to_string();
            let again: Grant = printed.parse().expect("a printed grant parses");
            assert_eq!(again, grant, "{printed}");
            assert!(grant.covers(&grant), "{printed}");
            let _ = grant.capability_name();
            let _ = grant.scope();
        }
    }
    if let Ok(set) = GrantSet::parse_all(parts.iter().copied()) {
        let requested: Vec<Grant> = set.iter().cloned().collect();
        let effective = GrantSet::effective(&requested, &set);
        assert_eq!(effective.len(), set.len());
        assert!(GrantSet::ungranted(&requested, &set).is_empty());
    }
});
