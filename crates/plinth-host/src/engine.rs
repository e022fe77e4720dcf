//! The process-wide Wasmtime [`Engine`]s and the epoch ticker that drives wall-clock limits.
//!
//! Pooling reserves a large range of address space per Engine, and every Engine compiles
//! separately, so Plinth keeps one Engine per distinct engine configuration for the whole
//! process (in practice: one), shared by every [`crate::Host`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::error::HostError;
use crate::function_cache::FunctionCache;

/// How often the epoch advances. A wall-clock deadline is rounded up to this.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(2);

/// Engine-wide settings: they shape the compiled code or the instance allocator, so
/// changing them means another Engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// Wasm stack bytes for every call.
    pub max_stack_bytes: u64,
    /// Instance slots kept by the pooling allocator; 0 selects on-demand allocation.
    pub pooled_instances: u32,
    /// Largest linear memory a pooled slot holds (at least the memory limit).
    pub pooled_memory_bytes: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            max_stack_bytes: crate::limits::DEFAULT_MAX_STACK_BYTES,
            pooled_instances: 256,
            pooled_memory_bytes: crate::limits::DEFAULT_MEMORY_BYTES,
        }
    }
}

/// Extra stack the async fiber needs beyond the wasm stack limit, for host frames.
const HOST_STACK_HEADROOM: u64 = 1024 * 1024;

fn build_engine(
    settings: &EngineSettings,
    functions: Option<&Arc<FunctionCache>>,
) -> Result<Engine, HostError> {
    let mut config = Config::new();
    if let Some(functions) = functions {
        config
            .enable_incremental_compilation(functions.clone())
            .map_err(|e| HostError::Engine(e.to_string()))?;
    }
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(settings.max_stack_bytes as usize)
        .async_stack_size((settings.max_stack_bytes + HOST_STACK_HEADROOM) as usize)
        // Plinth serves WASI p2 components; the concurrent (p3) machinery only slows
        // every call down.
        .concurrency_support(false);
    if settings.pooled_instances > 0 {
        let mut pool = PoolingAllocationConfig::new();
        let n = settings.pooled_instances;
        pool.total_component_instances(n)
            .total_core_instances(n * 4)
            .total_memories(n * 2)
            .total_tables(n * 2)
            .max_memories_per_component(8)
            .max_tables_per_component(8)
            .max_core_instances_per_component(64)
            .max_memory_size(settings.pooled_memory_bytes as usize)
            .total_stacks(n)
            // Keep the first MiB of each memory (and 64 KiB of tables) resident and reset
            // it in place instead of unmapping: a fresh instance per call then costs a
            // third as much (docs/design/0006). Each instance still starts from a clean
            // copy of its initial memory.
            .linear_memory_keep_resident(1 << 20)
            .table_keep_resident(64 << 10)
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&config).map_err(|e| HostError::Engine(e.to_string()))
}

/// One process-wide Engine and the function cache it compiles through, if any.
#[derive(Debug, Clone)]
pub(crate) struct SharedEngine {
    pub(crate) engine: Engine,
    pub(crate) functions: Option<Arc<FunctionCache>>,
    /// The compile cache's key for this Engine ([`crate::cache::engine_key`]), hashed once.
    pub(crate) cache_key: u64,
}

/// The shared Engine for `settings` compiling through the function cache in
/// `function_cache` (docs/design/0063), created (with its epoch ticker) on first use. The
/// cache belongs to the Engine, so each cache directory has an Engine of its own; a process
/// normally uses one.
pub(crate) fn shared_engine(
    settings: &EngineSettings,
    function_cache: Option<PathBuf>,
) -> Result<SharedEngine, HostError> {
    type Engines = HashMap<(EngineSettings, Option<PathBuf>), SharedEngine>;
    static ENGINES: OnceLock<Mutex<Engines>> = OnceLock::new();
    let engines = ENGINES.get_or_init(Default::default);
    let mut engines = engines
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let key = (*settings, function_cache);
    if let Some(shared) = engines.get(&key) {
        return Ok(shared.clone());
    }
    let functions = key.1.clone().map(|dir| Arc::new(FunctionCache::new(dir)));
    let engine = build_engine(settings, functions.as_ref())?;
    start_epoch_ticker(engine.clone());
    let cache_key = crate::cache::engine_key(&engine);
    let shared = SharedEngine {
        engine,
        functions,
        cache_key,
    };
    engines.insert(key, shared.clone());
    Ok(shared)
}

/// Advances `engine`'s epoch every [`EPOCH_TICK`] for the rest of the process.
fn start_epoch_ticker(engine: Engine) {
    let spawned = std::thread::Builder::new()
        .name("plinth-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        });
    if let Err(error) = spawned {
        // Without a ticker, deadlines still hold through the async timer around calls.
        tracing::error!(%error, "could not start the epoch ticker thread");
    }
}

/// Epoch ticks covering `timeout` (at least one).
pub(crate) fn ticks_for(timeout: Duration) -> u64 {
    (timeout.as_micros() / EPOCH_TICK.as_micros()).max(1) as u64 + 1
}
