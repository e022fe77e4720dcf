//! Cranelift's per-function compile cache on disk (docs/design/0063).
//!
//! The compile cache ([`crate::cache`]) keeps whole compiled components, keyed by their
//! digest: any change to a component's bytes misses it. Components built from the same
//! toolchain share most of their functions, though: every componentize-py plugin carries the
//! same CPython, every componentize-js plugin the same JavaScript engine, every Rust plugin
//! the same standard library. Wasmtime's incremental compilation hands each function's
//! Cranelift input to a [`CacheStore`] before compiling it; this store keeps the compiled
//! function in a file named by that key, so the next component with the same function
//! skips its code generation.
//!
//! A cached function becomes machine code the host runs, so the store is held to the same
//! rule as the compile cache (docs/design/0032): it reads only regular files owned by the
//! current user in a directory tree that user owns and no one else may write to. Each file
//! also starts with the SHA-256 of the rest, so a torn or altered entry is a miss (the
//! function is compiled again), never wrong code.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest as _, Sha256};
use wasmtime::CacheStore;

/// How many functions the cache served and stored, counted since the host's engine was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FunctionCacheStats {
    /// Functions whose compiled code came from the cache.
    pub hits: u64,
    /// Functions compiled and written to the cache.
    pub stored: u64,
    /// Entries present but refused (not owned by this user, a directory others may write
    /// to, a digest that does not match): each was compiled again.
    pub refused: u64,
}

/// The directory-backed [`CacheStore`] of one engine.
#[derive(Debug)]
pub(crate) struct FunctionCache {
    dir: PathBuf,
    hits: AtomicU64,
    stored: AtomicU64,
    refused: AtomicU64,
}

/// Bytes of the SHA-256 that starts every entry.
const DIGEST_LEN: usize = 32;

impl FunctionCache {
    pub(crate) fn new(dir: PathBuf) -> FunctionCache {
        FunctionCache {
            dir,
            hits: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    pub(crate) fn stats(&self) -> FunctionCacheStats {
        FunctionCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            stored: self.stored.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }

    /// `<dir>/<2 hex digits>/<62 hex digits>`: the SHA-256 of Cranelift's key, spread over
    /// 256 folders.
    fn file_for(&self, key: &[u8]) -> PathBuf {
        let name = hex::encode(Sha256::digest(key));
        self.dir.join(&name[..2]).join(&name[2..])
    }

    fn read(&self, key: &[u8]) -> Option<Vec<u8>> {
        let file = self.file_for(key);
        match crate::cache::trust_entry(&file) {
            Ok(()) => {}
            Err(crate::cache::Untrusted::Absent) => return None,
            Err(crate::cache::Untrusted::Because(reason)) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(file = %file.display(), reason, "not using a cached function");
                return None;
            }
        }
        let bytes = std::fs::read(&file).ok()?;
        if bytes.len() < DIGEST_LEN
            || Sha256::digest(&bytes[DIGEST_LEN..])[..] != bytes[..DIGEST_LEN]
        {
            self.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(file = %file.display(), "not using a cached function: its digest does not match");
            return None;
        }
        let mut bytes = bytes;
        bytes.drain(..DIGEST_LEN);
        Some(bytes)
    }

    fn write(&self, key: &[u8], value: &[u8]) -> std::io::Result<()> {
        let file = self.file_for(key);
        let mut bytes = Vec::with_capacity(DIGEST_LEN + value.len());
        bytes.extend_from_slice(&Sha256::digest(value));
        bytes.extend_from_slice(value);
        crate::cache::write_private(&file, &bytes)
    }
}

impl CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let value = self.read(key)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(Cow::Owned(value))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        match self.write(key, &value) {
            Ok(()) => {
                self.stored.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(error) => {
                // An optimisation only: the function is compiled, just not kept.
                tracing::debug!(dir = %self.dir.display(), %error, "could not keep a compiled function");
                false
            }
        }
    }
}
