//! What every plugin of one [`Host`](crate::Host) shares: the engine, the linker, the
//! compile cache, the capabilities' host-wide resources and the tokio runtime behind the
//! blocking API. [`crate::Host`] builds it; each [`crate::Plugin`] holds it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::cache::CompileCache;
use crate::error::HostError;
use crate::limits::Limits;
use crate::linker::{Flavour, ImportSet};
use crate::log::LogSink;
use crate::state::StoreState;

/// Linkers by the import set and flavour they define.
pub(crate) type Linkers = HashMap<(ImportSet, Flavour), Arc<Linker<StoreState>>>;

pub(crate) struct HostInner {
    pub(crate) engine: Engine,
    /// A Linker per import set and flavour, built at the first load that needs it
    /// (docs/design/0075).
    pub(crate) linkers: Mutex<Linkers>,
    /// The embedder's interfaces, for the import check.
    pub(crate) interfaces: crate::caps::custom::HostInterfaces,
    pub(crate) cache: CompileCache,
    /// Digests of component files hashed before (docs/design/0071).
    pub(crate) digests: crate::digest_index::DigestIndex,
    /// Tool schema texts that compiled before (docs/design/0076).
    pub(crate) schemas: crate::schemas::CompiledSchemas,
    /// The Engine's per-function compile cache, when the host was given one.
    pub(crate) functions: Option<std::sync::Arc<crate::function_cache::FunctionCache>>,
    pub(crate) limits: Limits,
    pub(crate) log_sink: LogSink,
    /// Told about every finished call (docs/design/0069).
    pub(crate) observer: Option<std::sync::Arc<dyn crate::telemetry::CallObserver>>,
    pub(crate) caps: crate::caps::HostCaps,
    pub(crate) runtime: tokio::runtime::Runtime,
    /// Stack a thread must have left for a call to run on it synchronously: the wasm
    /// stack limit and room for the host frames under it (docs/design/0075).
    pub(crate) sync_stack: usize,
}

impl HostInner {
    /// The Linker defining `imports` in `flavour`, built on first use.
    pub(crate) fn linker(
        &self,
        imports: ImportSet,
        flavour: Flavour,
    ) -> Result<Arc<Linker<StoreState>>, HostError> {
        let mut linkers = self.linkers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(linker) = linkers.get(&(imports, flavour)) {
            return Ok(linker.clone());
        }
        let linker = Arc::new(crate::linker::build(
            &self.engine,
            &self.interfaces,
            imports,
            flavour,
        )?);
        linkers.insert((imports, flavour), linker.clone());
        Ok(linker)
    }

    /// Runs `future` to completion for the blocking API; refuses (never panics) when
    /// the caller is itself inside a tokio runtime.
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> Option<F::Output> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return None;
        }
        Some(self.runtime.block_on(future))
    }
}

/// The component header: `\0asm`, then version and layer. Layer 1 is a component.
pub(crate) fn check_header(bytes: &[u8], plugin: &str) -> Result<(), HostError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(HostError::NotWasm {
            plugin: plugin.into(),
        });
    }
    if bytes[6..8] == [0, 0] {
        return Err(HostError::NotAComponent {
            plugin: plugin.into(),
        });
    }
    Ok(())
}
