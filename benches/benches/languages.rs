//! The `count-vowels` tool built in Rust, Python and JavaScript (`examples/count-vowels`,
//! `-py`, `-js`), through Plinth beside raw Wasmtime on the very same `Engine` (Plinth's,
//! taken from the loaded component), in the same run:
//!
//! - `languages/<lang>/load_cached`: `plinth` = `Host::load_bytes` answered from the disk
//!   compile cache (SHA-256 of the bytes, `deserialize_file`, import check,
//!   `instantiate_pre`, export catalog), a new `Host` per iteration built outside the
//!   timing; `plinth_path` = `Host::load_with` of the component's file, whose digest the
//!   digest index knows (no read, no hash: docs/design/0071); `raw` = `Component::deserialize_file` + `Linker::instantiate_pre`, a new Linker
//!   per iteration built outside the timing;
//! - `languages/<lang>/cold_call`: what a new process pays for its first call once its
//!   Engine exists: `plinth` = a new `Host`, `Host::load_with` of the component's file
//!   (digest index, compile cache), `Plugin::call` (a fresh instance and the first call);
//!   `raw` = a new Linker, `Component::deserialize_file`, `instantiate_pre`, a Store with
//!   fuel and epoch deadline, `instantiate_async`, `call_async`. Values are dropped outside
//!   the timing on both sides;
//! - `languages/<lang>/instantiate`: `plinth` = `Plugin::instantiate` (a live
//!   `PluginInstance`); `raw` = new Store with a WASI context, fuel and epoch deadline
//!   armed, `InstancePre::instantiate_async`;
//! - `languages/<lang>/warm_call`: `call("count_vowels", {"text": …})` on a live instance:
//!   `plinth_typed` (`PluginInstance::call`), `plinth_json` (`call_json`, what
//!   `plinth call` uses) and `raw` (`TypedFunc::call_async`, fuel and epoch re-armed per
//!   call as Plinth does).
//!
//! Before the groups it prints, per language, the component's size and the resident memory
//! of one more live instance (the growth of `VmRSS` over 20 live Plinth instances, each
//! after one call, ÷ 20).
//!
//! The Rust build comes from test-programs. The Python and JavaScript builds are made by
//! plinth-build, the crate behind `plinth build` (same toolchain lookup, arguments, WIT and
//! PDK copies), into
//! `$CARGO_TARGET_TMPDIR/bench-languages/`, and rebuilt only when the example, `pdk/` or
//! `wit/` changed; their compiled code stays in the compile cache there. Without a
//! toolchain (`scripts/install-lang-tools` installs both) the language's rows are skipped
//! with a note.
//!
//! ```text
//! cargo bench -j2 -p plinth-benches --bench languages -- --warm-up-time 1 --measurement-time 3
//! ```

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use plinth_benches::{Level, RawState, instantiate_and_call};
use plinth_build::Language;
use plinth_host::{CacheOutcome, Host, Limits, LoadOptions, Plugin, PluginInstance};
use serde_json::json;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, ComponentExportIndex, ComponentType, InstancePre, Lift, Linker, Lower, ResourceTable,
};
use wasmtime::{Engine, Store, StoreContextMut};
use wasmtime_wasi::WasiCtx;

/// The tools interface every build exports, and its `call`.
const TOOLS: &str = "plinth:plugin/tools@0.1.0";
const CALL: &str = "plinth:plugin/tools#call";
const TOOL: &str = "count_vowels";
/// The tool's input: 64 bytes of text, 16 vowels.
const INPUT: &str =
    r#"{"text": "Plinth hosts WebAssembly plugins; each call runs under its limits"}"#;
const OUTPUT: &str = r#"{"count":16}"#;
/// Epoch ticks Plinth arms per call (5 s at one tick per 2 ms, plus one).
const EPOCH_TICKS: u64 = 2_501;
/// Live instances for the RSS figure.
const RSS_INSTANCES: usize = 20;

/// `plinth:plugin/tools.tool-error`, for the raw side's typed call.
#[allow(dead_code)]
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
enum ToolError {
    #[component(name = "unknown-tool")]
    UnknownTool(String),
    #[component(name = "invalid-input")]
    InvalidInput(String),
    #[component(name = "failed")]
    Failed(String),
}

type CallParams = (String, String);
type CallResult = (Result<String, ToolError>,);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Rust,
    Python,
    Js,
}

impl Lang {
    fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
        }
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn work() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-languages")
}

// ---------------------------------------------------------------------------------------
// The components
// ---------------------------------------------------------------------------------------

/// The component bytes of `lang`'s count-vowels, or why there are none.
fn component(lang: Lang) -> Result<Vec<u8>, String> {
    let (example, language) = match lang {
        Lang::Rust => {
            return std::fs::read(test_programs::COUNT_VOWELS).map_err(|e| e.to_string());
        }
        Lang::Python => ("count-vowels-py", Language::Python),
        Lang::Js => ("count-vowels-js", Language::JavaScript),
    };
    // plinth-build finds the toolchain as `plinth build` does; without it the rows are skipped.
    let tool = plinth_build::find_toolchain(language).map_err(|e| {
        format!(
            "{e} ({}; scripts/install-lang-tools installs it)",
            language.install_hint()
        )
    })?;
    let source = repo().join("examples").join(example);
    let mut hasher = DefaultHasher::new();
    test_programs::fingerprint(&source, &mut hasher);
    test_programs::fingerprint(&repo().join("pdk"), &mut hasher);
    test_programs::fingerprint(&repo().join("wit"), &mut hasher);
    tool.hash(&mut hasher);
    let stamp = format!("{:016x}", hasher.finish());
    let stage = work().join(example);
    let output = stage.join("count_vowels.wasm");
    let stamp_file = stage.join(".inputs");
    if std::fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp) && output.is_file() {
        return std::fs::read(&output).map_err(|e| e.to_string());
    }
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&stage).map_err(|e| e.to_string())?;
    // Exactly what `plinth build` runs: the same crate, arguments, WIT and PDK copies.
    eprintln!("building {example} with {}", tool.display());
    plinth_build::build(language, &source, "tool", &output).map_err(|e| e.to_string())?;
    std::fs::write(&stamp_file, stamp).map_err(|e| e.to_string())?;
    std::fs::read(&output).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------
// Plinth
// ---------------------------------------------------------------------------------------

/// A host answering from the bench's compile cache (no grants: the zero-grant case every
/// language must run in; the tools' `log.debug` is dropped).
fn cached_host() -> Host {
    Host::builder()
        .cache_dir(work().join("cache"))
        .build()
        .expect("build a host")
}

// ---------------------------------------------------------------------------------------
// Raw Wasmtime
// ---------------------------------------------------------------------------------------

/// WASI p2, `plinth:host/log` as closures that drop the record, and the rest of
/// `plinth:host` that `component` imports (never called by count-vowels) as traps.
fn raw_linker(engine: &Engine, component: &Component) -> Linker<RawState> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("link WASI");
    let mut log = linker
        .instance("plinth:host/log@0.1.0")
        .expect("define plinth:host/log");
    log.func_wrap(
        "log",
        |_store: StoreContextMut<'_, RawState>, (level, message): (Level, String)| {
            std::hint::black_box((level, message));
            Ok(())
        },
    )
    .expect("define log");
    log.func_wrap(
        "enabled",
        |_store: StoreContextMut<'_, RawState>, (_level,): (Level,)| Ok((false,)),
    )
    .expect("define enabled");
    // Not `define_unknown_imports_as_traps`: it would also stub WASI imports of a newer
    // patch version (componentize-py's `wasi:cli@0.2.9`) that the WASI definitions above
    // serve through Wasmtime's semver matching.
    for (name, item) in component.component_type().imports(engine) {
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            continue;
        };
        if !name.starts_with("plinth:host/") || name.starts_with("plinth:host/log@") {
            continue;
        }
        let mut stubs = linker.instance(name).expect("define an interface");
        for (func, item) in instance.exports(engine) {
            if matches!(item.ty, ComponentItem::ComponentFunc(_)) {
                let what = format!("{name}#{func}");
                stubs
                    .func_new(func, move |_, _, _, _| {
                        Err(wasmtime::format_err!("{what} is not linked in this bench"))
                    })
                    .expect("define a stub");
            }
        }
    }
    linker
}

fn raw_store(engine: &Engine) -> Store<RawState> {
    let state = RawState {
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
    };
    let mut store = Store::new(engine, state);
    store.epoch_deadline_trap();
    arm(&mut store);
    store
}

/// A fresh fuel budget and epoch deadline, as Plinth gives each call.
fn arm(store: &mut Store<RawState>) {
    store
        .set_fuel(Limits::default().fuel_units)
        .expect("fuel is on");
    store.set_epoch_deadline(EPOCH_TICKS);
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

/// `Component::deserialize_file` for the raw cached load.
fn deserialize(engine: &Engine, file: &Path) -> Component {
    // SAFETY: the file was written by this process from `Component::serialize` with this
    // very engine, into a private temp directory, and is not modified while mapped.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize_file(engine, file) };
    component.expect("deserialize")
}

fn call_export(component: &Component) -> ComponentExportIndex {
    let tools = component
        .get_export_index(None, TOOLS)
        .expect("the tools interface");
    component
        .get_export_index(Some(&tools), "call")
        .expect("tools.call")
}

// ---------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------

/// Resident set size of this process, in bytes (`VmRSS` of `/proc/self/status`).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .expect("VmRSS in /proc/self/status")
        * 1024
}

/// Prints the component size and RSS per live instance of `plugin`.
fn print_footprint(lang: Lang, bytes: &[u8], plugin: &Plugin) {
    let call = |instance: &mut PluginInstance| {
        let (answer,) = instance
            .call::<CallParams, CallResult>(CALL, (TOOL.to_string(), INPUT.to_string()))
            .expect("call");
        assert_eq!(answer, Ok(OUTPUT.to_string()));
    };
    // One instance first, so everything shared (code, pool mappings) is in place.
    let mut first = plugin.instantiate().expect("instantiate");
    call(&mut first);
    let before = rss_bytes();
    let mut live = Vec::with_capacity(RSS_INSTANCES);
    for _ in 0..RSS_INSTANCES {
        let mut instance = plugin.instantiate().expect("instantiate");
        call(&mut instance);
        live.push(instance);
    }
    let per_instance = rss_bytes().saturating_sub(before) / RSS_INSTANCES as u64;
    println!(
        "languages/{}: component {:.1} MB, RSS per live instance {:.2} MB ({RSS_INSTANCES} live instances, each after one call)",
        lang.name(),
        bytes.len() as f64 / 1e6,
        per_instance as f64 / 1e6,
    );
}

fn bench_language(c: &mut Criterion, lang: Lang) {
    let name = lang.name();
    let bytes = match component(lang) {
        Ok(bytes) => bytes,
        Err(why) => {
            println!("languages/{name}: skipped: {why}");
            return;
        }
    };
    let options = LoadOptions::default;
    // Fill the compile cache (a first build compiles for seconds), then check a new host
    // is answered from the disk.
    cached_host()
        .load_bytes(name, &bytes, options())
        .expect("load");
    let plugin = cached_host()
        .load_bytes(name, &bytes, options())
        .expect("load");
    assert_eq!(plugin.cache_outcome(), CacheOutcome::Disk);
    let engine = plugin.component().engine().clone();
    let expected: CallResult = (Ok(OUTPUT.to_string()),);
    print_footprint(lang, &bytes, &plugin);

    // The raw side, on Plinth's engine, from its own serialized copy of the compiled code.
    let scratch = tempfile::tempdir().expect("temp dir");
    let raw_file = scratch.path().join("raw.cwasm");
    std::fs::write(
        &raw_file,
        plugin.component().serialize().expect("serialize"),
    )
    .expect("write");
    // The component as a file, the way a new process loads it (`Host::load_with` of a
    // path): left to settle for the digest index's 2 s (docs/design/0071), then loaded
    // once so the index has it, as after a first `plinth call`.
    let wasm_file = scratch.path().join(format!("{name}.wasm"));
    std::fs::write(&wasm_file, &bytes).expect("write the component");
    std::thread::sleep(Duration::from_millis(2100));
    cached_host()
        .load_with(&wasm_file, options())
        .expect("load from the file");
    let component = deserialize(&engine, &raw_file);
    let linker = raw_linker(&engine, &component);
    let pre: InstancePre<RawState> = linker.instantiate_pre(&component).expect("instantiate_pre");
    let index = call_export(&component);

    let mut group = c.benchmark_group(format!("languages/{name}/load_cached"));
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("plinth", |b| {
        b.iter_batched(
            cached_host,
            |host| {
                let plugin = host.load_bytes(name, &bytes, options()).expect("load");
                (host, plugin)
            },
            BatchSize::PerIteration,
        )
    });
    // From the file: no read and no hash when the digest index knows it.
    group.bench_function("plinth_path", |b| {
        b.iter_batched(
            cached_host,
            |host| {
                let plugin = host.load_with(&wasm_file, options()).expect("load");
                (host, plugin)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("raw", |b| {
        b.iter_batched(
            || raw_linker(&engine, &component),
            |linker| {
                let component = deserialize(&engine, &raw_file);
                let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
                (linker, pre)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();

    // A new process's first call, once its Engine exists.
    let mut group = c.benchmark_group(format!("languages/{name}/cold_call"));
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("plinth", |b| {
        b.iter_batched(
            || (),
            |()| {
                let host = cached_host();
                let plugin = host.load_with(&wasm_file, options()).expect("load");
                let answer = plugin
                    .call::<CallParams, CallResult>(CALL, (TOOL.to_string(), INPUT.to_string()))
                    .expect("call");
                (host, plugin, answer)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("raw", |b| {
        b.iter_batched(
            || (),
            |()| {
                let component = deserialize(&engine, &raw_file);
                let linker = raw_linker(&engine, &component);
                let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
                let index = call_export(&component);
                let (store, answer) = runtime().block_on(async {
                    let mut store = raw_store(&engine);
                    let params = (TOOL.to_string(), INPUT.to_string());
                    let answer: CallResult =
                        instantiate_and_call(&mut store, &pre, index, params).await;
                    (store, answer)
                });
                (linker, pre, store, answer)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();

    // At most 16 live instances at a time (each holds a pool slot of the shared engine).
    let mut group = c.benchmark_group(format!("languages/{name}/instantiate"));
    group.bench_function("plinth", |b| {
        b.iter_batched(
            || (),
            |()| plugin.instantiate().expect("instantiate"),
            BatchSize::NumIterations(16),
        )
    });
    group.bench_function("raw", |b| {
        b.iter_batched(
            || raw_store(&engine),
            |mut store| {
                let instance = runtime()
                    .block_on(pre.instantiate_async(&mut store))
                    .expect("instantiate");
                (store, instance)
            },
            BatchSize::NumIterations(16),
        )
    });
    group.finish();

    let mut group = c.benchmark_group(format!("languages/{name}/warm_call"));
    let mut live = plugin.instantiate().expect("instantiate");
    let typed = live
        .call::<CallParams, CallResult>(CALL, (TOOL.to_string(), INPUT.to_string()))
        .expect("call");
    assert_eq!(typed, expected, "{name}: Plinth's answer");
    group.bench_function("plinth_typed", |b| {
        b.iter(|| {
            live.call::<CallParams, CallResult>(CALL, (TOOL.to_string(), INPUT.to_string()))
                .expect("call")
        })
    });
    let json_args = [json!(TOOL), json!(INPUT)];
    assert_eq!(
        live.call_json(CALL, &json_args).expect("call"),
        json!({ "ok": OUTPUT })
    );
    group.bench_function("plinth_json", |b| {
        b.iter(|| live.call_json(CALL, &json_args).expect("call"))
    });
    let rt = runtime();
    let mut store = raw_store(&engine);
    let instance = rt
        .block_on(pre.instantiate_async(&mut store))
        .expect("instantiate");
    let func = instance
        .get_typed_func::<CallParams, CallResult>(&mut store, index)
        .expect("typed func");
    let mut raw_call = move || {
        rt.block_on(async {
            arm(&mut store);
            func.call_async(&mut store, (TOOL.to_string(), INPUT.to_string()))
                .await
                .expect("call")
        })
    };
    assert_eq!(raw_call(), expected, "{name}: raw Wasmtime's answer");
    group.bench_function("raw", |b| b.iter(&mut raw_call));
    group.finish();
}

fn languages(c: &mut Criterion) {
    for lang in [Lang::Rust, Lang::Python, Lang::Js] {
        bench_language(c, lang);
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = languages
}
criterion_main!(benches);
