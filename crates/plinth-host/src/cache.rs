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

fn engine_key(engine: &Engine) -> u64 {
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
    pub(crate) fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            engine_key: engine_key(engine),
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

    /// The compiled component for `bytes`, compiling only when no cache has it.
    pub(crate) fn get_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        digest: &Digest,
    ) -> Result<(Component, CacheOutcome), HostError> {
        if let Some(component) = self.lock().get(digest) {
            return Ok((component.clone(), CacheOutcome::Memory));
        }
        let file = self.dir.as_ref().map(|dir| self.file_for(dir, digest));
        if let Some(file) = file.as_ref().filter(|f| f.is_file()) {
            // SAFETY: only this host writes files into the cache directory (created
            // 0700, written via temp file + rename, never taken from a package), and a
            // file is never modified in place while mapped. A file that fails to
            // deserialize (an older engine, truncation) is recompiled below.
            #[allow(unsafe_code)]
            let loaded = unsafe { Component::deserialize_file(engine, file) };
            match loaded {
                Ok(component) => {
                    self.lock().insert(*digest, component.clone());
                    return Ok((component, CacheOutcome::Disk));
                }
                Err(error) => {
                    tracing::warn!(file = %file.display(), %error, "recompiling a stale cache entry");
                }
            }
        }
        let component =
            Component::new(engine, bytes).map_err(|e| HostError::Compile(format!("{e:#}")))?;
        if let (Some(file), Some(dir)) = (file.as_ref(), self.dir.as_ref())
            && let Err(error) = write_entry(dir, file, &component)
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

fn write_entry(dir: &Path, file: &Path, component: &Component) -> std::io::Result<()> {
    create_private_dir(dir)?;
    let bytes = component
        .serialize()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    plinth_manifest::write_atomic(file, &bytes, plinth_manifest::FileMode::Private)?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}
