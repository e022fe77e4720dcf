//! Plinth beside raw Wasmtime, in the same process, on the same guest
//! (`test_programs::BENCH`, `crates/test-programs/guests/bench`) and the same Wasmtime.
//!
//! Every group has Plinth lines (`plinth*`) and raw Wasmtime lines (`raw*`) doing the same
//! work; `scripts/bench` prints the medians and the Plinth/raw ratios, and
//! `docs/performance.md` records them with the command that made them.
//!
//! Raw engines (one each per process, in a `OnceLock`, like Plinth's own):
//!
//! - `raw_default`: `Config::new()` and `concurrency_support(false)`, nothing else;
//! - `raw_fuel_epoch` / `raw_ondemand`: plus fuel, epoch interruption and Plinth's stack
//!   settings (what Plinth's limits cost), on-demand allocation;
//! - `raw_pooling`: the same with Plinth's pooling configuration;
//! - `raw_pooling_resident`: that plus resident pool slots, which is Plinth's own pool
//!   configuration (`docs/design/0006-performance-levers.md`, lever 1), in the
//!   fresh-instance groups and `cold_host`.
//!
//! The warm groups also have `raw_sync`: the `raw_fuel_epoch` engine with WASI linked
//! through its sync bindings, called with `TypedFunc::call` (no fiber, no executor), the
//! fastest way raw Wasmtime calls a guest under a fuel budget and an epoch deadline.
//!
//! The raw side needs a WASI context too (the guest imports WASI, as any `wasm32-wasip2`
//! guest does) and implements `plinth:host/log` with a plain closure. Async calls run on a
//! tokio runtime shaped like Plinth's (multi-thread, one worker, `block_on` on the caller).

use plinth_benches::{Level, instantiate_and_call};
use std::hint::black_box;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use plinth_host::{CacheOutcome, EngineSettings, Host, Limits, LoadOptions, Plugin};
use plinth_manifest::Grant;
use serde_json::{Value, json};
use wasmtime::component::{
    Component, ComponentExportIndex, ComponentNamedList, InstancePre, Lift, Linker, Lower,
    ResourceTable,
};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
    StoreContextMut,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

const INTERFACE: &str = "bench:guest/work";
const ECHO: &str = "bench:guest/work#echo";
const COUNT_VOWELS: &str = "bench:guest/work#count-vowels";
const NOOP: &str = "bench:guest/work#noop";
const LOG_ONCE: &str = "bench:guest/work#log-once";

/// The `echo16` payload.
const ECHO_INPUT: &[u8; 16] = b"0123456789abcdef";
/// The `count_vowels` input: 64 bytes, 18 vowels.
const TEXT: &str = "Plinth hosts WebAssembly plugins; each call runs under its limits";

/// Epoch ticks Plinth arms per call (5 s at one tick per 2 ms, plus one).
const EPOCH_TICKS: u64 = 2_501;
/// Extra fiber stack Plinth gives beyond the wasm stack limit.
const HOST_STACK_HEADROOM: usize = 1 << 20;

fn bench_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| std::fs::read(test_programs::BENCH).expect("read the bench guest"))
}

// ---------------------------------------------------------------------------------------
// Plinth
// ---------------------------------------------------------------------------------------

/// The bench guest loaded once into a default host, with `log` granted.
fn plinth() -> &'static Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        let host = Host::builder().build().expect("build a host");
        host.load_bytes("bench", bench_bytes(), plinth_options())
            .expect("load the bench guest")
    })
}

fn plinth_options() -> LoadOptions {
    LoadOptions::default().with_grants([Grant::Log])
}

// ---------------------------------------------------------------------------------------
// Raw Wasmtime
// ---------------------------------------------------------------------------------------

/// Which raw engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// Wasmtime's defaults plus what Plinth's engine shares regardless of limits.
    Default,
    /// Fuel and epoch interruption on, on-demand allocation.
    FuelEpoch,
    /// Fuel, epoch interruption and Plinth's pooling allocator.
    Pooling,
    /// `Pooling` plus lever 1 of `docs/design/0006-performance-levers.md` (Plinth's own
    /// pool configuration): slots keep
    /// their pages resident and are reset with `memset` of the pages `PAGEMAP_SCAN`
    /// reports dirty, instead of `madvise` and fresh page faults on every instantiation.
    PoolingResident,
}

/// The Store data of the raw side: what `wasmtime_wasi::p2` needs, and a log counter.
struct RawState {
    wasi: WasiCtx,
    table: ResourceTable,
    logged: u64,
}

impl WasiView for RawState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// One raw setup: engine, linker, compiled component, `InstancePre` and export indices.
struct Raw {
    setup: Setup,
    engine: Engine,
    linker: Linker<RawState>,
    component: Component,
    pre: InstancePre<RawState>,
    echo: ComponentExportIndex,
    count_vowels: ComponentExportIndex,
    noop: ComponentExportIndex,
    log_once: ComponentExportIndex,
}

fn raw_config(setup: Setup) -> Config {
    let limits = Limits::default();
    let mut config = Config::new();
    config.concurrency_support(false);
    if setup == Setup::Default {
        return config;
    }
    let stack = limits.max_stack_bytes as usize;
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(stack)
        .async_stack_size(stack + HOST_STACK_HEADROOM);
    if matches!(setup, Setup::Pooling | Setup::PoolingResident) {
        // Plinth's pool, as `plinth-host/src/engine.rs` sizes it.
        let settings = EngineSettings::default();
        let n = settings.pooled_instances;
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(n)
            .total_core_instances(n * 4)
            .total_memories(n * 2)
            .total_tables(n * 2)
            .max_memories_per_component(8)
            .max_tables_per_component(8)
            .max_core_instances_per_component(64)
            .max_memory_size(settings.pooled_memory_bytes as usize)
            .total_stacks(n);
        if setup == Setup::PoolingResident {
            pool.linear_memory_keep_resident(1 << 20)
                .table_keep_resident(64 << 10)
                .pagemap_scan(Enabled::Auto);
        }
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// The raw linker: WASI p2 and `plinth:host/log` as two plain closures.
fn raw_linker(engine: &Engine) -> Linker<RawState> {
    raw_linker_with(engine, false)
}

/// [`raw_linker`] with WASI's synchronous bindings: every host function the bench guest
/// can reach is sync, so its instances take `TypedFunc::call` (no fiber, no executor).
fn raw_sync_linker(engine: &Engine) -> Linker<RawState> {
    raw_linker_with(engine, true)
}

fn raw_linker_with(engine: &Engine, sync: bool) -> Linker<RawState> {
    let mut linker = Linker::new(engine);
    if sync {
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("link WASI");
    } else {
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("link WASI");
    }
    let mut log = linker
        .instance("plinth:host/log@0.1.0")
        .expect("define plinth:host/log");
    log.func_wrap(
        "log",
        |mut store: StoreContextMut<'_, RawState>, (level, message): (Level, String)| {
            store.data_mut().logged += 1;
            black_box((level, message));
            Ok(())
        },
    )
    .expect("define log");
    log.func_wrap(
        "enabled",
        |_store: StoreContextMut<'_, RawState>, (_level,): (Level,)| Ok((true,)),
    )
    .expect("define enabled");
    linker
}

impl Raw {
    fn new(setup: Setup) -> Self {
        let engine = Engine::new(&raw_config(setup)).expect("raw engine");
        let linker = raw_linker(&engine);
        let component = Component::new(&engine, bench_bytes()).expect("compile");
        let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
        let interface = component
            .get_export_index(None, INTERFACE)
            .expect("the guest exports its interface");
        let index = |name: &str| {
            component
                .get_export_index(Some(&interface), name)
                .expect("the guest exports the function")
        };
        Self {
            setup,
            echo: index("echo"),
            count_vowels: index("count-vowels"),
            noop: index("noop"),
            log_once: index("log-once"),
            engine,
            linker,
            component,
            pre,
        }
    }

    fn store(&self) -> Store<RawState> {
        let state = RawState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            logged: 0,
        };
        let mut store = Store::new(&self.engine, state);
        if self.setup != Setup::Default {
            store.epoch_deadline_trap();
        }
        store
    }

    /// A fresh fuel budget and epoch deadline for one call, as Plinth gives each call.
    fn arm(&self, store: &mut Store<RawState>) {
        if self.setup != Setup::Default {
            store
                .set_fuel(Limits::default().fuel_units)
                .expect("fuel is on");
            store.set_epoch_deadline(EPOCH_TICKS);
        }
    }

    /// New Store, instantiate, typed call, drop: what Plinth's `Plugin::call` does.
    async fn fresh_call<P, R>(&self, index: &ComponentExportIndex, params: P) -> R
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let mut store = self.store();
        self.arm(&mut store);
        instantiate_and_call(&mut store, &self.pre, *index, params).await
    }
}

fn raw(setup: Setup) -> &'static Raw {
    static DEFAULT: OnceLock<Raw> = OnceLock::new();
    static FUEL_EPOCH: OnceLock<Raw> = OnceLock::new();
    static POOLING: OnceLock<Raw> = OnceLock::new();
    static POOLING_RESIDENT: OnceLock<Raw> = OnceLock::new();
    let cell = match setup {
        Setup::Default => &DEFAULT,
        Setup::FuelEpoch => &FUEL_EPOCH,
        Setup::Pooling => &POOLING,
        Setup::PoolingResident => &POOLING_RESIDENT,
    };
    cell.get_or_init(|| Raw::new(setup))
}

/// The raw side's executor: shaped like the runtime behind Plinth's blocking API.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .expect("tokio runtime")
    })
}

// ---------------------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------------------

/// One warm-call group: Plinth's `PluginInstance` (typed, JSON values and JSON text) and a
/// raw `TypedFunc`
/// on a live instance, without and with fuel + epoch.
fn warm<P, R>(
    c: &mut Criterion,
    group: &str,
    export: &str,
    params: P,
    json_args: &[Value],
    index: fn(&Raw) -> &ComponentExportIndex,
) where
    P: ComponentNamedList + Lower + Clone + Send + Sync + 'static,
    R: ComponentNamedList + Lift + Send + Sync + 'static,
{
    let mut group = c.benchmark_group(group);
    let mut instance = plinth().instantiate().expect("instantiate");
    group.bench_function("plinth_typed", |b| {
        b.iter(|| instance.call::<P, R>(export, params.clone()).expect("call"))
    });
    group.bench_function("plinth_json", |b| {
        b.iter(|| instance.call_json(export, json_args).expect("call"))
    });
    let text_args = serde_json::to_string(json_args).expect("JSON arguments");
    group.bench_function("plinth_json_text", |b| {
        b.iter(|| instance.call_json_text(export, &text_args).expect("call"))
    });
    for (label, setup) in [
        ("raw_default", Setup::Default),
        ("raw_fuel_epoch", Setup::FuelEpoch),
    ] {
        let raw = raw(setup);
        let rt = runtime();
        let mut store = raw.store();
        raw.arm(&mut store);
        let live = rt
            .block_on(raw.pre.instantiate_async(&mut store))
            .expect("instantiate");
        let func = live
            .get_typed_func::<P, R>(&mut store, index(raw))
            .expect("typed func");
        group.bench_function(label, |b| {
            b.iter(|| {
                rt.block_on(async {
                    raw.arm(&mut store);
                    func.call_async(&mut store, params.clone())
                        .await
                        .expect("call")
                })
            })
        });
    }
    // `raw_sync`: the same engine as `raw_fuel_epoch` (fuel, epoch deadline that traps),
    // WASI linked with its sync bindings, the call made with `TypedFunc::call` on the
    // caller's thread: no fiber and no executor.
    let raw = raw(Setup::FuelEpoch);
    let pre = raw_sync_linker(&raw.engine)
        .instantiate_pre(&raw.component)
        .expect("instantiate_pre");
    let mut store = raw.store();
    raw.arm(&mut store);
    let live = pre.instantiate(&mut store).expect("instantiate");
    let func = live
        .get_typed_func::<P, R>(&mut store, index(raw))
        .expect("typed func");
    group.bench_function("raw_sync", |b| {
        b.iter(|| {
            raw.arm(&mut store);
            func.call(&mut store, params.clone()).expect("call")
        })
    });
    group.finish();
}

fn warm_calls(c: &mut Criterion) {
    warm::<(Vec<u8>,), (Vec<u8>,)>(
        c,
        "warm_call/echo16",
        ECHO,
        (ECHO_INPUT.to_vec(),),
        &[json!(ECHO_INPUT.to_vec())],
        |raw| &raw.echo,
    );
    warm::<(String,), (String,)>(
        c,
        "warm_call/count_vowels",
        COUNT_VOWELS,
        (TEXT.to_string(),),
        &[json!(TEXT)],
        |raw| &raw.count_vowels,
    );
    warm::<(), ()>(c, "warm_call/noop", NOOP, (), &[], |raw| &raw.noop);
}

fn host_call(c: &mut Criterion) {
    warm::<(), ()>(c, "host_call", LOG_ONCE, (), &[], |raw| &raw.log_once);
}

fn fresh_instance_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("fresh_instance_call");
    let plugin = plinth();
    group.bench_function("plinth", |b| {
        b.iter(|| {
            plugin
                .call::<(Vec<u8>,), (Vec<u8>,)>(ECHO, (ECHO_INPUT.to_vec(),))
                .expect("call")
        })
    });
    for (label, setup) in [
        ("raw_pooling", Setup::Pooling),
        ("raw_ondemand", Setup::FuelEpoch),
        ("raw_pooling_resident", Setup::PoolingResident),
    ] {
        let raw = raw(setup);
        group.bench_function(label, |b| {
            b.iter(|| {
                runtime().block_on(
                    raw.fresh_call::<(Vec<u8>,), (Vec<u8>,)>(&raw.echo, (ECHO_INPUT.to_vec(),)),
                )
            })
        });
    }
    group.finish();
}

fn load_cached(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let plinth_cache = dir.path().join("plinth");
    let cached_host = || {
        Host::builder()
            .cache_dir(&plinth_cache)
            .build()
            .expect("build a host")
    };
    // Fill Plinth's disk cache, then check that a new host is answered from it.
    let first = cached_host()
        .load_bytes("bench", bench_bytes(), plinth_options())
        .expect("load");
    assert_eq!(first.cache_outcome(), CacheOutcome::Compiled);
    let second = cached_host()
        .load_bytes("bench", bench_bytes(), plinth_options())
        .expect("load");
    assert_eq!(second.cache_outcome(), CacheOutcome::Disk);

    // The same component as an installed plugin: a directory with a `plugin.toml` that
    // pins its digest, loaded with `Host::load_with` (manifest parse and checks, digest).
    let plugin_dir = dir.path().join("bench-plugin");
    std::fs::create_dir_all(&plugin_dir).expect("plugin dir");
    std::fs::write(plugin_dir.join("bench.wasm"), bench_bytes()).expect("write component");
    let digest = plinth_manifest::Digest::of(bench_bytes());
    std::fs::write(
        plugin_dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"bench.guest\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"bench.wasm\"\ndigest = \"{digest}\"\n\n[capabilities]\nlog = true\n"
        ),
    )
    .expect("write plugin.toml");
    let from_manifest = cached_host()
        .load_with(&plugin_dir, plinth_options())
        .expect("load the plugin directory");
    assert_eq!(from_manifest.cache_outcome(), CacheOutcome::Disk);
    assert!(from_manifest.manifest().is_some());

    // The raw side serializes its own compilation with the engine configured as Plinth's.
    let raw = raw(Setup::Pooling);
    let raw_file = dir.path().join("raw.cwasm");
    std::fs::write(&raw_file, raw.component.serialize().expect("serialize")).expect("write");

    let mut group = c.benchmark_group("load_cached");
    // A new `Host` per iteration, built outside the timing, so its in-memory cache is
    // empty and the disk answers; timed: `load_bytes` alone (hash, cache lookup,
    // deserialize, import check, `instantiate_pre`, export catalog).
    group.bench_function("plinth", |b| {
        b.iter_batched(
            cached_host,
            |host| {
                let plugin = host
                    .load_bytes("bench", bench_bytes(), plinth_options())
                    .expect("load");
                (host, plugin)
            },
            BatchSize::PerIteration,
        )
    });
    // The same from a plugin directory: `plugin.toml` read and checked, digest pinned.
    group.bench_function("plinth_manifest", |b| {
        b.iter_batched(
            cached_host,
            |host| {
                let plugin = host.load_with(&plugin_dir, plinth_options()).expect("load");
                (host, plugin)
            },
            BatchSize::PerIteration,
        )
    });
    // The raw mirror of a fresh host: a fresh Linker per iteration, built outside the
    // timing (which also leaves the caches as cold as Plinth's setup does); timed:
    // `deserialize_file` + `instantiate_pre`.
    group.bench_function("raw", |b| {
        b.iter_batched(
            || raw_linker(&raw.engine),
            |linker| {
                let component = deserialize(&raw.engine, &raw_file);
                let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
                (linker, pre)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();

    // What the fresh host above costs: a Linker with every interface, a tokio runtime.
    let mut group = c.benchmark_group("host_build");
    group.bench_function("plinth", |b| b.iter_with_large_drop(cached_host));
    group.finish();
}

/// What a new process pays for its first call once its Engine exists (as
/// `benches/examples/warm_profile.rs`'s `plinth_cold` and `raw_cold`):
///
/// - `cold_host/plinth`: `Host::builder().cache_dir(..).build()`, `Host::load_with` of the
///   bench component's file (compiled code in the disk cache, digest in the digest index:
///   docs/design/0071), one fresh-instance `echo16` call;
/// - `cold_host/raw`: a new Linker with WASI and `plinth:host/log`, `deserialize_file`,
///   `instantiate_pre`, a Store with fuel and epoch deadline, instantiate, one call, on an
///   engine configured as Plinth's (its pool included).
///
/// Each side's values are dropped outside the timing (a process that exits does not drop
/// them either).
fn cold_host(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("plinth");
    let file = Path::new(test_programs::BENCH);
    let cold = || {
        let host = Host::builder()
            .cache_dir(&cache)
            .build()
            .expect("build a host");
        let plugin = host.load_with(file, plinth_options()).expect("load");
        let out = plugin
            .call::<(Vec<u8>,), (Vec<u8>,)>(ECHO, (ECHO_INPUT.to_vec(),))
            .expect("call");
        (host, plugin, out)
    };
    // The first load compiles and fills the cache and the digest index; the second is the
    // one every later process makes.
    let (_, first, _) = cold();
    assert_eq!(first.cache_outcome(), CacheOutcome::Compiled);
    let (_, second, _) = cold();
    assert_eq!(second.cache_outcome(), CacheOutcome::Disk);

    let raw = raw(Setup::PoolingResident);
    let raw_file = dir.path().join("raw.cwasm");
    std::fs::write(&raw_file, raw.component.serialize().expect("serialize")).expect("write");
    let raw_cold = || {
        let linker = raw_linker(&raw.engine);
        let component = deserialize(&raw.engine, &raw_file);
        let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
        let interface = component
            .get_export_index(None, INTERFACE)
            .expect("the guest exports its interface");
        let echo = component
            .get_export_index(Some(&interface), "echo")
            .expect("echo");
        let out = runtime().block_on(async {
            let mut store = raw.store();
            raw.arm(&mut store);
            let out: (Vec<u8>,) =
                instantiate_and_call(&mut store, &pre, echo, (ECHO_INPUT.to_vec(),)).await;
            (store, out)
        });
        (linker, pre, out)
    };

    let mut group = c.benchmark_group("cold_host");
    group.bench_function("plinth", |b| {
        b.iter_batched(|| (), |()| cold(), BatchSize::NumIterations(8))
    });
    group.bench_function("raw", |b| {
        b.iter_batched(|| (), |()| raw_cold(), BatchSize::NumIterations(8))
    });
    group.finish();
}

/// `Component::deserialize_file` for the raw cached load.
fn deserialize(engine: &Engine, file: &Path) -> Component {
    // SAFETY: the file was written by this process from `Component::serialize` with this
    // very engine, into a private temp directory, and is not modified while mapped.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize_file(engine, file) };
    component.expect("deserialize")
}

fn load_cold(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_cold");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(5));
    // A new host without disk cache per iteration (built outside the timing): every
    // `load_bytes` compiles.
    group.bench_function("plinth", |b| {
        b.iter_batched(
            || Host::builder().build().expect("build a host"),
            |host| {
                let plugin = host
                    .load_bytes("bench", bench_bytes(), plinth_options())
                    .expect("load");
                (host, plugin)
            },
            BatchSize::PerIteration,
        )
    });
    let raw = raw(Setup::Pooling);
    group.bench_function("raw", |b| {
        b.iter_with_large_drop(|| {
            let component = Component::new(&raw.engine, bench_bytes()).expect("compile");
            raw.linker
                .instantiate_pre(&component)
                .expect("instantiate_pre")
        })
    });
    group.finish();
}

/// Runs `call` `iters` times on each of `threads` threads; the wall time of the whole.
fn parallel(threads: usize, iters: u64, call: &(dyn Fn() + Sync)) -> Duration {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                for _ in 0..iters {
                    call();
                }
            });
        }
    });
    start.elapsed()
}

fn throughput(c: &mut Criterion) {
    let plugin = plinth();
    for threads in [1usize, 2] {
        let mut group = c.benchmark_group(format!("throughput/{threads}_thread"));
        // One iteration is one fresh-instance `echo16` call on each thread.
        group.throughput(Throughput::Elements(threads as u64));
        group.bench_function("plinth", |b| {
            b.iter_custom(|iters| {
                parallel(threads, iters, &|| {
                    black_box(
                        plugin
                            .call::<(Vec<u8>,), (Vec<u8>,)>(ECHO, (ECHO_INPUT.to_vec(),))
                            .expect("call"),
                    );
                })
            })
        });
        for (label, setup) in [
            ("raw_pooling", Setup::Pooling),
            ("raw_pooling_resident", Setup::PoolingResident),
        ] {
            let raw = raw(setup);
            group.bench_function(label, |b| {
                b.iter_custom(|iters| {
                    parallel(threads, iters, &|| {
                        black_box(runtime().block_on(raw.fresh_call::<(Vec<u8>,), (Vec<u8>,)>(
                            &raw.echo,
                            (ECHO_INPUT.to_vec(),),
                        )));
                    })
                })
            });
        }
        group.finish();
    }
}

/// How many plugins the `many_plugins` groups load into one host.
const MANY: usize = 1_000;

/// Per-call cost with 1 000 plugins loaded in the host (the same component under 1 000
/// ids, each its own `Plugin` with its own `InstancePre`): a warm call on one of them, and
/// fresh-instance calls going round all 1 000. The `ref_1_plugin` lines are the same calls
/// in a host holding one plugin; the ratio should be 1.
fn many_plugins(c: &mut Criterion) {
    let host = Host::builder().build().expect("build a host");
    let plugins: Vec<Plugin> = (0..MANY)
        .map(|i| {
            host.load_bytes(&format!("bench-{i}"), bench_bytes(), plinth_options())
                .expect("load")
        })
        .collect();
    let single = plinth();

    let mut group = c.benchmark_group("many_plugins/warm_echo16");
    let mut last = plugins[MANY - 1].instantiate().expect("instantiate");
    group.bench_function("plinth_1000_plugins", |b| {
        b.iter(|| {
            last.call::<(Vec<u8>,), (Vec<u8>,)>(ECHO, (ECHO_INPUT.to_vec(),))
                .expect("call")
        })
    });
    let mut one = single.instantiate().expect("instantiate");
    group.bench_function("ref_1_plugin", |b| {
        b.iter(|| {
            one.call::<(Vec<u8>,), (Vec<u8>,)>(ECHO, (ECHO_INPUT.to_vec(),))
                .expect("call")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("many_plugins/fresh_echo16");
    let mut next = 0;
    group.bench_function("plinth_1000_plugins", |b| {
        b.iter(|| {
            next = (next + 1) % MANY;
            plugins[next]
                .call::<(Vec<u8>,), (Vec<u8>,)>(ECHO, (ECHO_INPUT.to_vec(),))
                .expect("call")
        })
    });
    group.bench_function("ref_1_plugin", |b| {
        b.iter(|| {
            single
                .call::<(Vec<u8>,), (Vec<u8>,)>(ECHO, (ECHO_INPUT.to_vec(),))
                .expect("call")
        })
    });
    group.finish();
}

/// Short warm-up and measurement, so the suite stays within a few minutes on 2 cores.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .nresamples(20_000)
}

criterion_group! {
    name = benches;
    config = config();
    targets = warm_calls, host_call, fresh_instance_call, load_cached, cold_host, load_cold,
        throughput, many_plugins
}
criterion_main!(benches);
