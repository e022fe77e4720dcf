//! The per-function compile cache (docs/design/0063): a component that shares functions
//! with one compiled before gets their code from the cache, and an entry someone else could
//! have written or that was altered is never used.

use crate::common;

use plinth_host::{CacheOutcome, FunctionCacheStats, Host, LoadOptions};
use serde_json::json;

/// `bytes` with a custom section appended: the same functions, another digest, so the
/// whole-component cache cannot serve it.
fn with_custom_section(bytes: &[u8], payload: &[u8]) -> Vec<u8> {
    let name = b"plinth-test";
    let mut section = vec![name.len() as u8];
    section.extend_from_slice(name);
    section.extend_from_slice(payload);
    let mut out = bytes.to_vec();
    out.push(0); // custom section id
    let mut len = section.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(&section);
    out
}

/// Loads `bytes` in a new host using the function cache in `dir` (and no component
/// cache), checks it answers, and returns the cache's counts after the load.
fn compile(dir: &std::path::Path, bytes: &[u8]) -> FunctionCacheStats {
    let host = Host::builder().function_cache_dir(dir).build().unwrap();
    let plugin = host
        .load_bytes("tiny", bytes, LoadOptions::default())
        .unwrap();
    assert_eq!(plugin.cache_outcome(), CacheOutcome::Compiled);
    assert_eq!(plugin.call_json("run", &[]).unwrap(), json!(42));
    host.function_cache_stats().expect("a function cache")
}

/// Every entry file of the cache (two levels: a folder per first two hex digits).
fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for folder in std::fs::read_dir(dir).unwrap() {
        for file in std::fs::read_dir(folder.unwrap().path()).unwrap() {
            files.push(file.unwrap().path());
        }
    }
    files
}

/// The lookups one compile of `bytes` makes: each is a hit, a miss that is then stored, or
/// an entry refused (and then compiled and stored again).
fn lookups(after: FunctionCacheStats, before: FunctionCacheStats) -> u64 {
    (after.hits - before.hits) + (after.stored - before.stored)
}

#[test]
fn shared_functions_come_from_the_cache_and_altered_entries_are_compiled_again() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("functions");
    let bytes = common::bytes(test_programs::TINY);

    let first = compile(&dir, &bytes);
    let n = lookups(first, FunctionCacheStats::default());
    assert!(first.stored > 0, "{first:?}");
    let files = entries(&dir);
    assert!(!files.is_empty() && files.len() as u64 <= first.stored);

    // The same functions in another component: every one from the cache.
    let second = compile(&dir, &with_custom_section(&bytes, b"one"));
    assert_eq!(second.hits - first.hits, n, "{second:?}");
    assert_eq!(second.stored, first.stored, "{second:?}");
    assert_eq!(second.refused, 0, "{second:?}");

    // An altered entry (its digest no longer matches) is compiled again and replaced.
    for file in &files {
        let mut entry = std::fs::read(file).unwrap();
        let last = entry.len() - 1;
        entry[last] ^= 0xff;
        std::fs::write(file, entry).unwrap();
    }
    let third = compile(&dir, &with_custom_section(&bytes, b"two"));
    let refused = third.refused - second.refused;
    assert!(refused >= files.len() as u64, "{third:?}");
    assert_eq!(third.stored - second.stored, refused, "{third:?}");
    assert_eq!(lookups(third, second), n, "{third:?}");

    // The replaced entries serve again.
    let fourth = compile(&dir, &with_custom_section(&bytes, b"three"));
    assert_eq!(fourth.hits - third.hits, n, "{fourth:?}");
    assert_eq!(fourth.refused, third.refused, "{fourth:?}");

    // Entries in a folder others may write to are not used.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let folder = files[0].parent().unwrap();
        let in_folder = entries(&dir)
            .iter()
            .filter(|f| f.parent() == Some(folder))
            .count() as u64;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o777)).unwrap();
        let fifth = compile(&dir, &with_custom_section(&bytes, b"four"));
        assert!(fifth.refused - fourth.refused >= in_folder, "{fifth:?}");
        assert_eq!(lookups(fifth, fourth), n, "{fifth:?}");
        assert!(fifth.hits - fourth.hits < n, "{fifth:?}");
    }
}

#[test]
fn a_host_without_a_function_cache_reports_none() {
    let host = Host::builder().build().unwrap();
    assert_eq!(host.function_cache_stats(), None);
}
