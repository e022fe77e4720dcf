//! What every plugin of one [`Host`](crate::Host) shares: the engine, the linker, the
//! compile cache, the capabilities' host-wide resources and the tokio runtime behind the
//! blocking API. [`crate::Host`] builds it; each [`crate::Plugin`] holds it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::cache::CompileCache;
use crate::error::HostError;
use crate::limits::Limits;
use crate::linker::{Flavour, ImportSet};
use crate::log::LogSink;
use crate::state::StoreState;

/// The host's tokio runtime, started at its first use (docs/design/0078): a host whose
/// plugins only make sync calls (docs/design/0075) never starts its thread, and a new
/// process that builds a host, loads a plugin and calls it once pays for no thread start
/// and join. Clones share one runtime.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostRuntime(Arc<OnceLock<tokio::runtime::Runtime>>);

impl HostRuntime {
    /// The runtime's handle; the runtime (one worker thread, time and I/O drivers) is
    /// started now if it is not yet.
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime().handle()
    }

    /// Whether the runtime has been started.
    #[cfg(test)]
    fn started(&self) -> bool {
        self.0.get().is_some()
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.0.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("plinth-host")
                // Time for wall clocks, I/O for outgoing HTTP.
                .enable_all()
                .build()
                // Only a process out of threads or file descriptors gets here; nothing
                // a plugin does can cause it.
                .unwrap_or_else(|e| panic!("cannot start the host's tokio runtime: {e}"))
        })
    }

    /// Runs `future` to completion on the runtime, from a thread outside any runtime.
    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime().block_on(future)
    }
}

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
    pub(crate) runtime: HostRuntime,
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

#[cfg(test)]
mod tests {
    use crate::{Host, LoadOptions};
    use plinth_manifest::grant::Grant;

    #[test]
    fn only_a_use_of_the_runtime_starts_it() {
        let host = Host::builder().build().unwrap();
        assert!(
            !host.inner.runtime.started(),
            "building a host starts no thread"
        );
        let bytes = std::fs::read(test_programs::BENCH).unwrap();
        let plugin = host
            .load_bytes(
                "bench",
                &bytes,
                LoadOptions::default().with_grants([Grant::Log]),
            )
            .unwrap();
        assert!(plugin.sync_calls());
        plugin.call::<(), ()>("bench:guest/work#noop", ()).unwrap();
        assert!(
            !host.inner.runtime.started(),
            "a sync call needs no runtime"
        );
        // A call that may wait in an import runs on the runtime, which starts for it.
        let sleepy = host
            .load_bytes(
                "sleepy",
                &std::fs::read(test_programs::SLEEPY).unwrap(),
                LoadOptions::default(),
            )
            .unwrap();
        assert!(!sleepy.sync_calls());
        sleepy
            .call::<(u64,), ()>("test:sleepy/sleep#sleep-ms", (1,))
            .unwrap();
        assert!(host.inner.runtime.started());
    }
}
