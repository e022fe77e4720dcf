//! The `.plinth` unpacker on hostile bytes: it returns a package or an error, within its caps,
//! and an accepted package's member paths are all safe relative paths.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plinth_package::{Package, UnpackLimits};

fuzz_target!(|data: &[u8]| {
    let limits = UnpackLimits {
        max_archive_bytes: 1 << 20,
        max_entries: 64,
        max_member_bytes: 1 << 20,
        max_total_bytes: 2 << 20,
    };
    if let Ok(package) = Package::from_bytes_with(data, &limits) {
        let mut total = 0u64;
        for (path, bytes) in package.members() {
            assert!(!path.starts_with('/'), "{path}");
            assert!(path.split('/').all(|p| !p.is_empty() && p != "." && p != ".."), "{path}");
            total += bytes.len() as u64;
        }
        assert!(total <= limits.max_total_bytes);
        assert!(package.member("plugin.toml").is_some());
        let _ = package.subject().message();
    }
});
