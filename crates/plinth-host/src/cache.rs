//! The on-disk compile cache: compiled components keyed by content digest and engine
//! compatibility, so a second load of the same bytes never compiles.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use plinth_manifest::digest::Digest;
use sha2::{Digest as _, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::HostError;

/// Where a loaded component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheOutcome {
    /// Already compiled in this process.
    Memory,
    /// Deserialized from the on-disk cache.
    Disk,
    /// Compiled now (and written to the disk cache when one is configured).
    Compiled,
}

/// A `Hasher` over SHA-256, so the engine's compatibility hash gives the same key in
/// every process (`DefaultHasher` promises no such thing).
struct StableHasher(Sha256);

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        let bytes = self.0.clone().finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&bytes[..8]);
        u64::from_le_bytes(first)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// What compiled code depends on besides the component: the Engine's settings and this
/// crate's version.
pub(crate) fn engine_key(engine: &Engine) -> u64 {
    let mut hasher = StableHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    hasher.finish()
}

#[derive(Debug)]
pub(crate) struct CompileCache {
    dir: Option<PathBuf>,
    engine_key: u64,
    memory: Mutex<HashMap<Digest, Component>>,
}

impl CompileCache {
    /// A cache for the Engine whose [`engine_key`] is `engine_key`.
    pub(crate) fn new(engine_key: u64, dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            engine_key,
            memory: Mutex::default(),
        }
    }

    fn file_for(&self, dir: &Path, digest: &Digest) -> PathBuf {
        dir.join(format!(
            "{}-{:016x}.cwasm",
            digest.to_hex(),
            self.engine_key
        ))
    }

    /// The compiled component of digest `digest`, from memory or a trusted disk entry;
    /// `None` when it must be compiled.
    pub(crate) fn get(
        &self,
        engine: &Engine,
        digest: &Digest,
    ) -> Option<(Component, CacheOutcome)> {
        if let Some(component) = self.lock().get(digest) {
            return Some((component.clone(), CacheOutcome::Memory));
        }
        let file = self.dir.as_ref().map(|dir| self.file_for(dir, digest))?;
        match trust_entry(&file) {
            Ok(()) => {}
            Err(Untrusted::Absent) => return None,
            Err(Untrusted::Because(reason)) => {
                tracing::warn!(file = %file.display(), reason, "recompiling: the cache entry is not trusted");
                return None;
            }
        }
        // SAFETY: `trust_entry` checked that the entry is a regular file (not a
        // symlink) owned by this user, in a directory owned by this user that no
        // one else can write to, so only this user's processes (this host writes
        // via temp file + rename, never taking a file from a package) can have put
        // it there, and a file is never modified in place while mapped. A file that
        // fails to deserialize (an older engine, truncation) is recompiled.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &file) };
        match loaded {
            Ok(component) => {
                self.lock().insert(*digest, component.clone());
                Some((component, CacheOutcome::Disk))
            }
            Err(error) => {
                tracing::warn!(file = %file.display(), %error, "recompiling a stale cache entry");
                None
            }
        }
    }

    /// The compiled component for `bytes`, compiling only when no cache has it.
    pub(crate) fn get_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        digest: &Digest,
    ) -> Result<(Component, CacheOutcome), HostError> {
        if let Some(found) = self.get(engine, digest) {
            return Ok(found);
        }
        let file = self.dir.as_ref().map(|dir| self.file_for(dir, digest));
        let component = Component::new(engine, bytes).map_err(compile_error)?;
        if let (Some(file), Some(dir)) = (file.as_ref(), self.dir.as_ref())
            && let Err(error) = write_entry(file, &component)
        {
            // The cache is an optimisation: failing to fill it is not a load error.
            tracing::warn!(dir = %dir.display(), %error, "could not write the compile cache");
        }
        self.lock().insert(*digest, component.clone());
        Ok((component, CacheOutcome::Compiled))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Digest, Component>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A compile failure; a memory whose minimum is over the engine's per-memory limit is
/// `memory-limit`, not an invalid component (the bytes are valid).
fn compile_error(error: wasmtime::Error) -> HostError {
    let text = format!("{error:#}");
    if text.contains("memory has a minimum byte size") {
        HostError::MemoryMinimum(text)
    } else {
        HostError::Compile(text)
    }
}

/// Why a cache entry is not used.
pub(crate) enum Untrusted {
    /// Nothing there: the common case of a first compile, not worth a warning.
    Absent,
    /// There is something, but it is not safe to map as compiled code.
    Because(&'static str),
}

/// Deserializing a cache entry maps it as executable code, so only an entry that nobody
/// but the current user could have written is used (docs/design/0032): a regular file,
/// not a symlink, owned by the current user, in a directory owned by the current user
/// and writable by no one else.
#[cfg(unix)]
pub(crate) fn trust_entry(file: &Path) -> Result<(), Untrusted> {
    use rustix::fs::{FileType, Mode, lstat, stat};
    let me = rustix::process::geteuid().as_raw();
    let entry = match lstat(file) {
        Ok(entry) => entry,
        Err(e) if e == rustix::io::Errno::NOENT => return Err(Untrusted::Absent),
        Err(_) => return Err(Untrusted::Because("it cannot be inspected")),
    };
    if FileType::from_raw_mode(entry.st_mode) != FileType::RegularFile {
        return Err(Untrusted::Because("it is not a regular file"));
    }
    if entry.st_uid != me {
        return Err(Untrusted::Because("it is owned by another user"));
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    let dir = stat(dir).map_err(|_| Untrusted::Because("its directory cannot be inspected"))?;
    if dir.st_uid != me {
        return Err(Untrusted::Because("its directory is owned by another user"));
    }
    let others_write = Mode::WGRP | Mode::WOTH;
    if Mode::from_raw_mode(dir.st_mode).intersects(others_write) {
        return Err(Untrusted::Because("its directory is writable by others"));
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn trust_entry(file: &Path) -> Result<(), Untrusted> {
    match std::fs::symlink_metadata(file) {
        Ok(m) if m.file_type().is_file() => Ok(()),
        Ok(_) => Err(Untrusted::Because("it is not a regular file")),
        Err(_) => Err(Untrusted::Absent),
    }
}

fn write_entry(file: &Path, component: &Component) -> std::io::Result<()> {
    let bytes = component
        .serialize()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    write_private(file, &bytes)
}

/// Writes `bytes` to `file` atomically and readable by its owner only, creating its
/// folder (0700) first: how every entry of the compile cache's directory is written.
pub(crate) fn write_private(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        create_private_dir(dir)?;
    }
    plinth_manifest::write_atomic(file, bytes, plinth_manifest::FileMode::Private)?;
    Ok(())
}

pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}
