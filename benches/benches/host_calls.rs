//! A granted host call's round trip through Plinth beside a raw Wasmtime host import
//! doing the same, on the same guest (`test_programs::CAPS`) and the same Wasmtime.
//!
//! Each line is one warm call of the guest's `run` on a long-lived instance:
//!
//! - `noop`: `run(["noop"])`, no host call (the cost of the call itself);
//! - `kv_get`: `run(["kv-get", "k"])`, one `plinth:host/kv.get`. Plinth checks and audits
//!   the `kv` grant and reads the redb database; the raw import reads a `HashMap`.
//!
//! `kv_get - noop` is the host call's own cost on each side.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use plinth_host::{Host, LoadOptions, PluginInstance};
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

fn plinth(data: &std::path::Path) -> PluginInstance {
    let host = Host::builder().data_dir(data).build().expect("host");
    let plugin = host
        .load_with(
            test_programs::CAPS,
            LoadOptions::default().with_grants([Grant::Kv]),
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
    plugin.instantiate().expect("instantiate")
}

fn raw() -> (Store<RawState>, TypedFunc<(Vec<String>,), Run>) {
    let mut config = Config::new();
    config.concurrency_support(false);
    let engine = Engine::new(&config).expect("engine");
    let component = Component::from_file(&engine, test_programs::CAPS).expect("component");
    let mut linker: Linker<RawState> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("link WASI");
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
    let mut instance = plinth(data.path());
    let (mut store, func) = raw();

    // Both sides answer the same.
    let plinth_out: Run = instance.call("run", args(&["kv-get", "k"])).expect("call");
    let raw_out = func
        .call(&mut store, args(&["kv-get", "k"]))
        .expect("raw call");
    assert_eq!(plinth_out, raw_out);
    assert_eq!(raw_out.0.as_deref(), Ok("value"));

    let mut group = c.benchmark_group("host_calls");
    for (name, list) in [("noop", &["noop"][..]), ("kv_get", &["kv-get", "k"][..])] {
        group.bench_function(format!("plinth/{name}"), |b| {
            b.iter(|| {
                let out: Run = instance.call("run", args(list)).expect("call");
                black_box(out)
            })
        });
        group.bench_function(format!("raw/{name}"), |b| {
            b.iter(|| black_box(func.call(&mut store, args(list)).expect("raw call")))
        });
    }
    group.finish();
}

criterion_group!(benches, host_calls);
criterion_main!(benches);
