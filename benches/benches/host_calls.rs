//! A granted host call's round trip through Plinth beside a raw Wasmtime host import
//! doing the same, on the same guest (`test_programs::CAPS`) and the same Wasmtime.
//!
//! Each line is one warm call of the guest's `run` on a long-lived instance:
//!
//! - `noop`: `run(["noop"])`, no host call (the cost of the call itself);
//! - `kv_get`: `run(["kv-get", "k"])`, one `plinth:host/kv.get`. Plinth checks and audits
//!   the `kv` grant and reads the redb database; the raw import reads a `HashMap`;
//! - `log`: `run(["log", "hello"])`, one `plinth:host/log.log`. Plinth checks the `log`
//!   grant, counts the record against the per-call cap and hands it to a sink that drops
//!   it; the raw import drops it;
//! - `custom_add` (guest `test_programs::HOST_FN`): `run(["add", "2", "3"])`, one call of
//!   an app-defined function registered with `HostBuilder::host_interface`. Plinth checks
//!   and audits the app capability before the closure runs; the raw import only adds.
//!   Its `custom_noop` is that guest's call without a host call.
//!
//! `kv_get - noop` (and `log - noop`, `custom_add - custom_noop`) is the host call's own
//! cost on each side.

use plinth_benches::Level;
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use plinth_host::log::LogRecord;
use plinth_host::{Host, HostCallContext, HostFnError, HostInterface, LoadOptions, PluginInstance};
use plinth_manifest::Grant;
use wasmtime::component::{
    Component, ComponentType, Lift, Linker, Lower, ResourceTable, TypedFunc,
};
use wasmtime::{Config, Engine, Store, StoreContextMut};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

type Run = (Result<String, String>,);

/// `plinth:host/kv.kv-error`, for the raw import's signature.
#[allow(dead_code)]
#[derive(ComponentType, Lift, Lower, Clone, Debug)]
#[component(variant)]
enum KvError {
    #[component(name = "missing-grant")]
    MissingGrant(String),
    #[component(name = "too-large")]
    TooLarge(String),
    #[component(name = "quota-exceeded")]
    QuotaExceeded(String),
    #[component(name = "not-a-number")]
    NotANumber(String),
    #[component(name = "io")]
    Io(String),
}

struct RawState {
    wasi: WasiCtx,
    table: ResourceTable,
    kv: HashMap<String, Vec<u8>>,
}

impl WasiView for RawState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn args(list: &[&str]) -> (Vec<String>,) {
    (list.iter().map(|s| s.to_string()).collect(),)
}

/// The app-defined interface of the `host-fn` guest, under the capability `math`.
fn math() -> HostInterface {
    HostInterface::new("math", "test:app/math@0.1.0")
        .func("add", |_cx: &HostCallContext, (a, b): (u32, u32)| {
            Ok::<_, HostFnError>((a.wrapping_add(b),))
        })
}

fn plinth(data: &std::path::Path) -> (PluginInstance, PluginInstance) {
    let host = Host::builder()
        .data_dir(data)
        // Records are dropped, as the raw import drops them: the row measures the call.
        .log_sink(Arc::new(|_: &LogRecord| {}))
        .host_interface(math())
        .build()
        .expect("host");
    let math_grant = Grant::Custom {
        name: "math".into(),
        scope: None,
    };
    let custom = host
        .load_with(
            test_programs::HOST_FN,
            LoadOptions::default().with_grants([math_grant]),
        )
        .expect("load host-fn")
        .instantiate()
        .expect("instantiate host-fn");
    let plugin = host
        .load_with(
            test_programs::CAPS,
            LoadOptions::default().with_grants([Grant::Kv, Grant::Log]),
        )
        .expect("load caps");
    host.kv_store()
        .expect("kv store")
        .set(
            &plinth_host::KvNamespace {
                tenant: None,
                plugin: plugin.id().to_string(),
            },
            "k",
            b"value",
        )
        .expect("seed");
    (plugin.instantiate().expect("instantiate"), custom)
}

/// The raw imports of the `caps` guest: `kv.get` from a map, `log.log` dropped.
fn define_caps(linker: &mut Linker<RawState>) {
    linker
        .instance("plinth:host/kv@0.1.0")
        .expect("kv")
        .func_wrap(
            "get",
            |store: StoreContextMut<'_, RawState>, (key,): (String,)| {
                Ok((Ok::<_, KvError>(store.data().kv.get(&key).cloned()),))
            },
        )
        .expect("define get");
    linker
        .instance("plinth:host/log@0.1.0")
        .expect("log")
        .func_wrap(
            "log",
            |_store: StoreContextMut<'_, RawState>, (_level, message): (Level, String)| {
                black_box(message);
                Ok(())
            },
        )
        .expect("define log");
}

/// The raw import of the `host-fn` guest: `math.add`.
fn define_math(linker: &mut Linker<RawState>) {
    linker
        .instance("test:app/math@0.1.0")
        .expect("math")
        .func_wrap(
            "add",
            |_store: StoreContextMut<'_, RawState>, (a, b): (u32, u32)| Ok((a.wrapping_add(b),)),
        )
        .expect("define add");
}

/// `guest`'s `run` on raw Wasmtime, its imports defined by `define` (the rest trap).
fn raw(
    guest: &str,
    define: fn(&mut Linker<RawState>),
) -> (Store<RawState>, TypedFunc<(Vec<String>,), Run>) {
    let mut config = Config::new();
    config.concurrency_support(false);
    let engine = Engine::new(&config).expect("engine");
    let component = Component::from_file(&engine, guest).expect("component");
    let mut linker: Linker<RawState> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("link WASI");
    define(&mut linker);
    linker
        .define_unknown_imports_as_traps(&component)
        .expect("trap the rest");
    let mut kv = HashMap::new();
    kv.insert("k".to_string(), b"value".to_vec());
    let mut store = Store::new(
        &engine,
        RawState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            kv,
        },
    );
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("instantiate");
    let command = component
        .get_export_index(None, "plinth:plugin/command@0.1.0")
        .expect("command interface");
    let run = component
        .get_export_index(Some(&command), "run")
        .expect("run export");
    let func = instance
        .get_typed_func::<(Vec<String>,), Run>(&mut store, run)
        .expect("typed run");
    (store, func)
}

fn host_calls(c: &mut Criterion) {
    let data = tempfile::tempdir().expect("tempdir");
    let (mut caps, mut custom) = plinth(data.path());
    let (mut caps_store, caps_func) = raw(test_programs::CAPS, define_caps);
    let (mut custom_store, custom_func) = raw(test_programs::HOST_FN, define_math);

    // Both sides answer the same.
    for (list, expected, on_custom) in [
        (&["kv-get", "k"][..], "value", false),
        (&["log", "hello"][..], "", false),
        (&["add", "2", "3"][..], "5", true),
    ] {
        let (instance, store, func) = if on_custom {
            (&mut custom, &mut custom_store, &custom_func)
        } else {
            (&mut caps, &mut caps_store, &caps_func)
        };
        let plinth_out: Run = instance.call("run", args(list)).expect("call");
        let raw_out = func.call(&mut *store, args(list)).expect("raw call");
        assert_eq!(plinth_out, raw_out);
        assert_eq!(raw_out.0.as_deref(), Ok(expected));
    }

    let mut group = c.benchmark_group("host_calls");
    let rows = [
        ("noop", &["noop"][..], false),
        ("kv_get", &["kv-get", "k"][..], false),
        ("log", &["log", "hello"][..], false),
        ("custom_noop", &["noop"][..], true),
        ("custom_add", &["add", "2", "3"][..], true),
    ];
    for (name, list, on_custom) in rows {
        let (instance, store, func) = if on_custom {
            (&mut custom, &mut custom_store, &custom_func)
        } else {
            (&mut caps, &mut caps_store, &caps_func)
        };
        group.bench_function(format!("plinth/{name}"), |b| {
            b.iter(|| {
                let out: Run = instance.call("run", args(list)).expect("call");
                black_box(out)
            })
        });
        group.bench_function(format!("raw/{name}"), |b| {
            b.iter(|| black_box(func.call(&mut *store, args(list)).expect("raw call")))
        });
    }
    group.finish();
}

criterion_group!(benches, host_calls);
criterion_main!(benches);
