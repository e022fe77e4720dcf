//! The `.plinth` unpacker on hostile bytes: it returns a package or an error, within its caps,
//! and an accepted package's member paths are all safe relative paths.
//!
//! The first input byte picks the mode: odd, the rest is a tar stream that the target gzips
//! before unpacking (so mutations reach the tar reader and the path rules instead of breaking
//! the deflate stream); even, the rest is used as the archive bytes as they are.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use plinth_package::{Package, UnpackLimits};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let archive = if mode & 1 == 1 {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(rest).expect("in-memory write");
        gz.finish().expect("in-memory write")
    } else {
        rest.to_vec()
    };
    let limits = UnpackLimits {
        max_archive_bytes: 1 << 20,
        max_entries: 64,
        max_member_bytes: 1 << 20,
        max_total_bytes: 2 << 20,
    };
    if let Ok(package) = Package::from_bytes_with(&archive, &limits) {
        let mut total = 0u64;
        let mut lower = std::collections::BTreeSet::new();
        for (path, bytes) in package.members() {
            assert!(!path.starts_with('/'), "{path}");
            assert!(
                path.split('/')
                    .all(|p| !p.is_empty() && p != "." && p != ".."),
                "{path}"
            );
            assert!(lower.insert(path.to_ascii_lowercase()), "duplicate {path}");
            total += bytes.len() as u64;
        }
        assert!(total <= limits.max_total_bytes);
        assert!(package.member("plugin.toml").is_some());
        // A component, when the manifest names one (themes alone have none).
        if package.component_path().is_some() {
            assert!(package.component().starts_with(b"\0asm"));
        }
        let _ = package.payload_digest();
        let _ = package.subject().message();
    }
});
