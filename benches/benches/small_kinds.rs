//! Per-invocation overhead of BitVault's small kinds (docs/design/0045) beside raw
//! Wasmtime, in the same run, on the same component (`test_programs::PDK_BITVAULT`, the
//! kinds written with `plinth-pdk`):
//!
//! - `auth_provider/plinth`: `plugin.kind::<AuthProvider>()?.authenticate(token)`, a fresh
//!   instance per call under Plinth's limits, the identity checked by the host;
//! - `policy_hook/plinth`: `plugin.kind::<PolicyHook>()?.decide(request, deadline)`, the
//!   same with a 100 ms deadline;
//! - `*/raw_fresh`: the same export called through `wasmtime::component::bindgen!`
//!   bindings on a fresh instance per call (an `InstancePre` made once, a new `Store` with
//!   an empty WASI context each call), default `Config`, no limits, synchronous;
//! - `*/raw_reused`: one raw instance called again and again (what no per-invocation host
//!   does, the floor of the call itself).
//!
//! `cargo bench -p plinth-benches --bench small_kinds`; `docs/performance.md` records the
//! figures with the command that made them.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use plinth_benches::RawState;
use plinth_host::kinds::{AuthProvider, PolicyDecision, PolicyHook, PolicyRequest};
use plinth_host::{Host, LoadOptions, Plugin};
use plinth_manifest::Manifest;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::WasiCtx;

mod auth {
    wasmtime::component::bindgen!({
        path: "../wit/plinth-auth-provider@0.1.0",
        world: "plinth:auth-provider/plugin",
    });
}

mod policy {
    wasmtime::component::bindgen!({
        path: "../wit/plinth-policy-hook@0.1.0",
        world: "plinth:policy-hook/plugin",
    });
}

const MANIFEST: &str = r#"[plugin]
id = "bench.bitvault"
version = "0.1.0"

[runtime]
kind = "wasm-component"
component = "pdk_bitvault.wasm"

[[provides.auth-provider]]
name = "tokens"

[[provides.policy-hook]]
name = "paths"
"#;

const TOKEN: &str = "tok-alice-acme-7f3a9c";
const DEADLINE: Duration = Duration::from_millis(100);

fn plinth_plugin(host: &Host) -> Plugin {
    let manifest = Manifest::parse(MANIFEST, std::path::Path::new("plugin.toml"))
        .expect("manifest")
        .manifest;
    let bytes = std::fs::read(test_programs::PDK_BITVAULT).expect("guest");
    host.load_manifest_bytes(manifest, &bytes, LoadOptions::default())
        .expect("load")
}

fn request() -> PolicyRequest {
    PolicyRequest::new("put", "alice", "acme", "photos/cat.png").with_attribute("size", "1024")
}

/// Raw Wasmtime: the component linked once, with WASI and every other import a trap (the
/// two exports call none).
struct Raw {
    engine: Engine,
    auth: auth::PluginPre<RawState>,
    policy: policy::PluginPre<RawState>,
}

impl Raw {
    fn new() -> Raw {
        let engine = Engine::new(&Config::new()).expect("engine");
        let component =
            Component::from_file(&engine, test_programs::PDK_BITVAULT).expect("component");
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("link WASI");
        linker
            .define_unknown_imports_as_traps(&component)
            .expect("trap the rest");
        let pre = linker.instantiate_pre(&component).expect("pre");
        Raw {
            auth: auth::PluginPre::new(pre.clone()).expect("auth exports"),
            policy: policy::PluginPre::new(pre).expect("policy exports"),
            engine,
        }
    }

    fn store(&self) -> Store<RawState> {
        Store::new(
            &self.engine,
            RawState {
                wasi: WasiCtx::builder().build(),
                table: ResourceTable::new(),
            },
        )
    }
}

fn raw_policy_request() -> policy::exports::plinth::policy_hook::policy_hook::Request {
    policy::exports::plinth::policy_hook::policy_hook::Request {
        operation: "put".into(),
        subject: "alice".into(),
        tenant: "acme".into(),
        path: "photos/cat.png".into(),
        attributes: vec![("size".into(), "1024".into())],
    }
}

fn small_kinds(c: &mut Criterion) {
    let host = Host::new().expect("host");
    let plugin = plinth_plugin(&host);
    let raw = Raw::new();

    // Both sides answer the same.
    let identity = plugin
        .kind::<AuthProvider>()
        .expect("auth-provider")
        .authenticate(TOKEN)
        .expect("authenticate");
    assert!(format!("{identity:?}").contains("alice"), "{identity:?}");
    let decision = plugin
        .kind::<PolicyHook>()
        .expect("policy-hook")
        .decide(&request(), DEADLINE)
        .expect("decide");
    assert!(matches!(decision, PolicyDecision::Add(_)), "{decision:?}");
    {
        let mut store = raw.store();
        let bindings = raw.auth.instantiate(&mut store).expect("instantiate");
        let answer = bindings
            .plinth_auth_provider_auth_provider()
            .call_authenticate(&mut store, TOKEN)
            .expect("call");
        assert_eq!(answer.expect("identity").subject, "alice");
    }

    let mut group = c.benchmark_group("auth_provider");
    let auth = plugin.kind::<AuthProvider>().expect("auth-provider");
    group.bench_function("plinth", |b| {
        b.iter(|| black_box(auth.authenticate(black_box(TOKEN)).expect("identity")))
    });
    group.bench_function("raw_fresh", |b| {
        b.iter(|| {
            let mut store = raw.store();
            let bindings = raw.auth.instantiate(&mut store).expect("instantiate");
            black_box(
                bindings
                    .plinth_auth_provider_auth_provider()
                    .call_authenticate(&mut store, black_box(TOKEN))
                    .expect("call"),
            )
        })
    });
    {
        let mut store = raw.store();
        let bindings = raw.auth.instantiate(&mut store).expect("instantiate");
        group.bench_function("raw_reused", |b| {
            b.iter(|| {
                black_box(
                    bindings
                        .plinth_auth_provider_auth_provider()
                        .call_authenticate(&mut store, black_box(TOKEN))
                        .expect("call"),
                )
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("policy_hook");
    let hooks = plugin.kind::<PolicyHook>().expect("policy-hook");
    let plinth_request = request();
    group.bench_function("plinth", |b| {
        b.iter(|| black_box(hooks.decide(&plinth_request, DEADLINE).expect("decision")))
    });
    let raw_request = raw_policy_request();
    group.bench_function("raw_fresh", |b| {
        b.iter(|| {
            let mut store = raw.store();
            let bindings = raw.policy.instantiate(&mut store).expect("instantiate");
            black_box(
                bindings
                    .plinth_policy_hook_policy_hook()
                    .call_decide(&mut store, &raw_request)
                    .expect("call"),
            )
        })
    });
    {
        let mut store = raw.store();
        let bindings = raw.policy.instantiate(&mut store).expect("instantiate");
        group.bench_function("raw_reused", |b| {
            b.iter(|| {
                black_box(
                    bindings
                        .plinth_policy_hook_policy_hook()
                        .call_decide(&mut store, &raw_request)
                        .expect("call"),
                )
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = small_kinds
}
criterion_main!(benches);
