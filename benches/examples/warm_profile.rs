//! Warm calls in a loop, for instruction counts under `valgrind --tool=callgrind`, which
//! are repeatable on a busy machine where wall-clock benchmarks are not.
//!
//! ```text
//! cargo build --release -p plinth-benches --example warm_profile
//! target/release/examples/warm_profile plinth_typed noop 1   # fills the compile caches
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured_calls*' \
//!     target/release/examples/warm_profile plinth_typed noop 20000
//! ```
//!
//! Instructions per call = the callgrind total ÷ the call count. `scripts/callgrind-warm`
//! runs every line. Lines: `plinth_typed`, `plinth_json`, `plinth_json_text` (JSON text in
//! and out, `PluginInstance::call_json_text`; all three on a `PluginInstance`) and
//! `raw_fuel_epoch`, `raw_default` (a raw `TypedFunc`, fuel and epoch deadline re-armed per
//! call as in `benches/calls.rs`), `raw_sync` (the same with fuel and an epoch trap, sync
//! WASI functions and `TypedFunc::call`: no fiber, no executor); `plinth_fresh` and
//! `raw_fresh` (a fresh instance per
//! call, `echo16` only); `plinth_cold` and `raw_cold` (a new Host or Linker, the plugin
//! loaded from its cached compiled form, one call: what each new process pays, `echo16`
//! only). Calls: `noop`, `echo16`, `count_vowels`, `log_once`. With
//! `SIZES=1` it first prints the size of one warm call's future, Plinth's and raw.
//!
//! Both sides allocate instances on demand: valgrind cannot reserve the address space of
//! a pooling allocator, and a warm call does not touch the allocator.

use plinth_benches::{Level, RawState, instantiate_and_call};
use std::hint::black_box;
use std::path::PathBuf;

use plinth_host::{EngineSettings, Host, Limits, LoadOptions, PluginInstance};
use plinth_manifest::Grant;
use serde_json::{Value, json};
use wasmtime::component::{
    Component, ComponentExportIndex, ComponentNamedList, InstancePre, Lift, Linker, Lower,
    ResourceTable, TypedFunc,
};
use wasmtime::{Config, Engine, Store, StoreContextMut};
use wasmtime_wasi::WasiCtx;

const INTERFACE: &str = "bench:guest/work";
const ECHO_INPUT: &[u8; 16] = b"0123456789abcdef";

/// The `echo16` argument: `ECHO_INPUT`, or `ECHO_BYTES` bytes of it repeated when that
/// variable is set (`ECHO_BYTES=1048576` for the 1 MiB line of docs/performance.md).
fn echo_input() -> Vec<u8> {
    static INPUT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    INPUT
        .get_or_init(|| match std::env::var("ECHO_BYTES") {
            Ok(n) => {
                let n: usize = n.parse().expect("ECHO_BYTES is a byte count");
                ECHO_INPUT.iter().copied().cycle().take(n).collect()
            }
            Err(_) => ECHO_INPUT.to_vec(),
        })
        .clone()
}
const TEXT: &str = "Plinth hosts WebAssembly plugins; each call runs under its limits";
const EPOCH_TICKS: u64 = 2_501;

fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("plinth-warm-profile-cache")
}

/// A raw live instance: engine as Plinth's limits need it (or defaults), component
/// compiled once and kept as a `.cwasm` beside Plinth's cache.
struct Raw {
    pre: InstancePre<RawState>,
    store: Store<RawState>,
    instance: wasmtime::component::Instance,
    component: Component,
    armed: bool,
    /// Sync host functions and `TypedFunc::call`, no fiber (`raw_sync`).
    sync: bool,
}

impl Raw {
    fn new(fuel_epoch: bool, sync: bool, rt: &tokio::runtime::Runtime) -> Self {
        let mut config = Config::new();
        config.concurrency_support(false);
        if fuel_epoch {
            let stack = Limits::default().max_stack_bytes as usize;
            config
                .consume_fuel(true)
                .epoch_interruption(true)
                .max_wasm_stack(stack)
                .async_stack_size(stack + (1 << 20));
        }
        let engine = Engine::new(&config).expect("engine");
        let file = cache_dir().join(format!("raw-{fuel_epoch}.cwasm"));
        // SAFETY: the file is written below by this program from `Component::serialize`
        // with the same engine configuration, in a directory only this program writes.
        #[allow(unsafe_code)]
        let cached = file
            .exists()
            .then(|| unsafe { Component::deserialize_file(&engine, &file) }.ok())
            .flatten();
        // Under valgrind the emulated CPU lacks features the native compilation used, so
        // the cached code is refused there and the component is compiled again.
        let component = cached.unwrap_or_else(|| {
            let bytes = std::fs::read(test_programs::BENCH).expect("read the bench guest");
            let component = Component::new(&engine, bytes).expect("compile");
            std::fs::create_dir_all(cache_dir()).expect("cache dir");
            std::fs::write(&file, component.serialize().expect("serialize")).expect("write");
            component
        });
        let linker = raw_linker_with(&engine, sync);
        let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
        let state = RawState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(&engine, state);
        if fuel_epoch {
            store.epoch_deadline_trap();
            store.set_fuel(u64::MAX).expect("fuel");
            store.set_epoch_deadline(EPOCH_TICKS);
        }
        let instance = if sync {
            pre.instantiate(&mut store).expect("instantiate")
        } else {
            rt.block_on(pre.clone().instantiate_async(&mut store))
                .expect("instantiate")
        };
        Self {
            pre,
            store,
            instance,
            component,
            armed: fuel_epoch,
            sync,
        }
    }

    fn func<P, R>(&mut self, name: &str) -> TypedFunc<P, R>
    where
        P: ComponentNamedList + Lower,
        R: ComponentNamedList + Lift,
    {
        let index = export_index(&self.component, name);
        self.instance
            .get_typed_func(&mut self.store, index)
            .expect("typed func")
    }

    /// One call as `benches/calls.rs` makes it: re-arm, `call_async` on the runtime.
    fn call<P, R>(&mut self, rt: &tokio::runtime::Runtime, func: TypedFunc<P, R>, params: P) -> R
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        if self.sync {
            self.store
                .set_fuel(Limits::default().fuel_units)
                .expect("fuel");
            self.store.set_epoch_deadline(EPOCH_TICKS);
            return func.call(&mut self.store, params).expect("call");
        }
        rt.block_on(async {
            if self.armed {
                self.store
                    .set_fuel(Limits::default().fuel_units)
                    .expect("fuel");
                self.store.set_epoch_deadline(EPOCH_TICKS);
            }
            func.call_async(&mut self.store, params)
                .await
                .expect("call")
        })
    }
}

/// WASI and `plinth:host/log`, as the bench guest imports them.
fn raw_linker(engine: &Engine) -> Linker<RawState> {
    raw_linker_with(engine, false)
}

/// [`raw_linker`], with WASI's sync functions when `sync` (for `TypedFunc::call`).
fn raw_linker_with(engine: &Engine, sync: bool) -> Linker<RawState> {
    let mut linker = Linker::new(engine);
    if sync {
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("link WASI");
    } else {
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("link WASI");
    }
    let mut log = linker.instance("plinth:host/log@0.1.0").expect("log");
    log.func_wrap(
        "log",
        |_store: StoreContextMut<'_, RawState>, (level, message): (Level, String)| {
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

/// The export `name` of the bench guest's interface.
fn export_index(component: &Component, name: &str) -> ComponentExportIndex {
    let interface = component
        .get_export_index(None, INTERFACE)
        .expect("interface");
    component
        .get_export_index(Some(&interface), name)
        .expect("export")
}

/// A fresh raw instance (a new Store with fuel and the epoch deadline armed) and one
/// `echo` call on it.
async fn fresh_echo(pre: &InstancePre<RawState>, index: ComponentExportIndex) -> Vec<u8> {
    let mut store = Store::new(
        pre.engine(),
        RawState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        },
    );
    store.epoch_deadline_trap();
    store.set_fuel(Limits::default().fuel_units).expect("fuel");
    store.set_epoch_deadline(EPOCH_TICKS);
    let (echoed,): (Vec<u8>,) = instantiate_and_call(&mut store, pre, index, (echo_input(),)).await;
    echoed
}

/// The loop callgrind collects (`--toggle-collect='*measured_calls*'`).
#[inline(never)]
fn measured_calls(n: u64, call: &mut dyn FnMut()) {
    for _ in 0..n {
        call();
    }
}

fn plinth_instance() -> PluginInstance {
    let host = plinth_host();
    let bytes = std::fs::read(test_programs::BENCH).expect("read the bench guest");
    let plugin = host
        .load_bytes(
            "bench",
            &bytes,
            LoadOptions::default().with_grants([Grant::Log]),
        )
        .expect("load");
    plugin.instantiate().expect("instantiate")
}

fn plinth_host() -> Host {
    Host::builder()
        .engine_settings(EngineSettings {
            pooled_instances: 0,
            ..EngineSettings::default()
        })
        .cache_dir(cache_dir().join("plinth"))
        .build()
        .expect("host")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: warm_profile plinth_typed|plinth_json|plinth_json_text|plinth_fresh|plinth_cold|raw_fuel_epoch|raw_default|raw_sync|raw_fresh|raw_cold noop|echo16|count_vowels|log_once N";
    let [_, line, call, n] = args.as_slice() else {
        panic!("{usage}");
    };
    let n: u64 = n.parse().expect(usage);
    if std::env::var_os("SIZES").is_some() {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let mut raw = Raw::new(true, false, &rt);
        sizes(&mut plinth_instance(), &mut raw);
    }
    let export = match call.as_str() {
        "noop" => "noop",
        "echo16" => "echo",
        "count_vowels" => "count-vowels",
        "log_once" => "log-once",
        _ => panic!("{usage}"),
    };
    let qualified = format!("{INTERFACE}#{export}");
    match line.as_str() {
        "plinth_typed" => {
            let mut instance = plinth_instance();
            match export {
                "echo" => measured_calls(n, &mut || {
                    black_box(
                        instance
                            .call::<(Vec<u8>,), (Vec<u8>,)>(&qualified, (echo_input(),))
                            .expect("call"),
                    );
                }),
                "count-vowels" => measured_calls(n, &mut || {
                    black_box(
                        instance
                            .call::<(String,), (String,)>(&qualified, (TEXT.to_string(),))
                            .expect("call"),
                    );
                }),
                _ => measured_calls(n, &mut || {
                    instance.call::<(), ()>(&qualified, ()).expect("call");
                }),
            }
        }
        "plinth_json" => {
            let mut instance = plinth_instance();
            let args: Vec<Value> = match export {
                "echo" => vec![json!(echo_input())],
                "count-vowels" => vec![json!(TEXT)],
                _ => vec![],
            };
            measured_calls(n, &mut || {
                black_box(instance.call_json(&qualified, &args).expect("call"));
            });
        }
        "plinth_json_text" => {
            let mut instance = plinth_instance();
            let args = match export {
                "echo" => serde_json::to_string(&[echo_input()]).expect("args"),
                "count-vowels" => serde_json::to_string(&[TEXT]).expect("args"),
                _ => "[]".to_string(),
            };
            measured_calls(n, &mut || {
                black_box(instance.call_json_text(&qualified, &args).expect("call"));
            });
        }
        "plinth_fresh" => {
            let plugin = plinth_instance().plugin().clone();
            measured_calls(n, &mut || {
                black_box(
                    plugin
                        .call::<(Vec<u8>,), (Vec<u8>,)>(&qualified, (echo_input(),))
                        .expect("call"),
                );
            });
        }
        "plinth_cold" => {
            // What a new process pays after its first: a new Host, the plugin loaded from
            // its file (digest index, compile cache on disk), one call. The Engine is the
            // process's, made once, as `raw_cold`'s.
            let mut cold = || {
                let host = plinth_host();
                let plugin = host
                    .load_with(
                        test_programs::BENCH,
                        LoadOptions::default().with_grants([Grant::Log]),
                    )
                    .expect("load");
                black_box(
                    plugin
                        .call::<(Vec<u8>,), (Vec<u8>,)>(&qualified, (echo_input(),))
                        .expect("call"),
                );
            };
            cold();
            measured_calls(n, &mut cold);
        }
        "raw_cold" => {
            // The raw mirror: a new Linker (WASI + log), the compiled component mapped from
            // its file, `instantiate_pre`, a Store with fuel and epoch, one call.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_time()
                .build()
                .expect("runtime");
            let raw = Raw::new(true, false, &rt);
            let engine = raw.store.engine().clone();
            let file = cache_dir().join("raw-true.cwasm");
            std::fs::write(&file, raw.component.serialize().expect("serialize")).expect("write");
            measured_calls(n, &mut || {
                let linker = raw_linker(&engine);
                // SAFETY: written just above from `Component::serialize` on this engine.
                #[allow(unsafe_code)]
                let component =
                    unsafe { Component::deserialize_file(&engine, &file) }.expect("deserialize");
                let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
                let index = export_index(&component, export);
                black_box(rt.block_on(fresh_echo(&pre, index)));
            });
        }
        "plinth_fresh_many" => {
            // The same fresh calls going round 1 000 plugins loaded in one host.
            let host = plinth_host();
            let bytes = std::fs::read(test_programs::BENCH).expect("read the bench guest");
            let plugins: Vec<_> = (0..1_000)
                .map(|i| {
                    host.load_bytes(
                        &format!("bench-{i}"),
                        &bytes,
                        LoadOptions::default().with_grants([Grant::Log]),
                    )
                    .expect("load")
                })
                .collect();
            let mut next = 0;
            measured_calls(n, &mut || {
                next = (next + 1) % plugins.len();
                black_box(
                    plugins[next]
                        .call::<(Vec<u8>,), (Vec<u8>,)>(&qualified, (echo_input(),))
                        .expect("call"),
                );
            });
        }
        "raw_fresh" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_time()
                .build()
                .expect("runtime");
            let raw = Raw::new(true, false, &rt);
            let index = export_index(&raw.component, export);
            measured_calls(n, &mut || {
                black_box(rt.block_on(fresh_echo(&raw.pre, index)));
            });
        }
        "raw_fuel_epoch" | "raw_default" | "raw_sync" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_time()
                .build()
                .expect("runtime");
            let mut raw = Raw::new(line != "raw_default", line == "raw_sync", &rt);
            match export {
                "echo" => {
                    let f = raw.func::<(Vec<u8>,), (Vec<u8>,)>(export);
                    measured_calls(n, &mut || {
                        black_box(raw.call(&rt, f, (echo_input(),)));
                    });
                }
                "count-vowels" => {
                    let f = raw.func::<(String,), (String,)>(export);
                    measured_calls(n, &mut || {
                        black_box(raw.call(&rt, f, (TEXT.to_string(),)));
                    });
                }
                _ => {
                    let f = raw.func::<(), ()>(export);
                    measured_calls(n, &mut || raw.call(&rt, f, ()));
                }
            }
        }
        _ => panic!("{usage}"),
    }
}

/// Prints the size of a warm call's future: every byte is copied each time the future
/// moves, so it shows up in `memcpy` per call.
fn sizes(instance: &mut PluginInstance, raw: &mut Raw) {
    let f = instance.call_async::<(), ()>("noop", ());
    eprintln!(
        "plinth call_async future: {} bytes",
        std::mem::size_of_val(&f)
    );
    drop(f);
    let tf = raw.func::<(), ()>("noop");
    let f = tf.call_async(&mut raw.store, ());
    eprintln!("raw call_async future: {} bytes", std::mem::size_of_val(&f));
}
