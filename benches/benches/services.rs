//! Services (docs/design/0048) beside raw Wasmtime, in the same run:
//!
//! - `service_event/plinth`: one event's round trip through a service: `request` into the
//!   ingress queue, dispatch to the long-lived instance's `handle` (`echo`), the reply back
//!   to the caller; `service_event/raw_async`: the same guest's `handle` called directly on
//!   a raw Wasmtime instance (async, no queue, no limits).
//! - `blocked_event_lateness/*`: how late an event blocked in a host import (an hour's
//!   sleep in `wasi:clocks`) is ended past its 20 ms deadline: Plinth's service (the event
//!   then dead-lettered and the instance dropped) against a raw Wasmtime call under
//!   `tokio::time::timeout` (guest `test_programs::SLEEPY`). Criterion's figure is the mean
//!   lateness; before it, p50 and p99 over 1 000 events of each are printed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use plinth_benches::RawState;
use plinth_host::kinds::IngressEvent;
use plinth_host::{Host, LoadOptions};
use plinth_manifest::Manifest;
use plinth_service::{Backoff, Delivery, Service, ServiceConfig};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::WasiCtx;

mod raw {
    wasmtime::component::bindgen!({
        path: "../wit/plinth-service@0.1.0",
        world: "plinth:service/plugin",
        exports: { default: async },
    });
}

const DEADLINE: Duration = Duration::from_millis(20);
const SAMPLES: usize = 1_000;
/// The interface of `test_programs::SLEEPY` that blocks.
const SLEEP_INTERFACE: &str = "test:sleepy/sleep";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn service(host: &Host, runtime: &tokio::runtime::Runtime) -> Arc<Service> {
    let text = "[plugin]\nid = \"bench.service\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"service.wasm\"\n\n[[provides.service]]\nmax_attempts = 1\n";
    let manifest = Manifest::parse(text, std::path::Path::new("plugin.toml"))
        .expect("manifest")
        .manifest;
    let bytes = std::fs::read(test_programs::SERVICE).expect("guest");
    let plugin = host
        .load_manifest_bytes(manifest, &bytes, LoadOptions::default())
        .expect("load");
    let config = ServiceConfig::for_plugin(&plugin)
        .expect("service")
        .with_deadline(DEADLINE)
        .with_restart(Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(1),
        });
    let _guard = runtime.enter();
    Arc::new(Service::spawn(plugin, config, Default::default()).expect("spawn"))
}

async fn ask(service: &Service, kind: &str) -> Delivery {
    let (_, receiver) = service
        .request(IngressEvent::new("app", kind, b"x".to_vec()))
        .expect("queued");
    receiver.await.expect("delivered")
}

/// One blocked event's lateness past [`DEADLINE`], the service back on a started instance
/// first (an `echo` after the previous failure), so only the deadline is measured.
async fn plinth_lateness(service: &Service) -> Duration {
    ask(service, "echo").await;
    let started = Instant::now();
    let delivery = ask(service, "block").await;
    assert!(
        matches!(delivery, Delivery::DeadLettered(_)),
        "{delivery:?}"
    );
    started.elapsed().saturating_sub(DEADLINE)
}

struct Raw {
    engine: Engine,
    linker: Linker<RawState>,
    sleepy: Component,
    service: Component,
}

impl Raw {
    fn new() -> Raw {
        let mut config = Config::new();
        config.epoch_interruption(false);
        let engine = Engine::new(&config).expect("engine");
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("link WASI");
        let sleepy = Component::from_file(&engine, test_programs::SLEEPY).expect("sleepy");
        let service = Component::from_file(&engine, test_programs::SERVICE).expect("service");
        Raw {
            engine,
            linker,
            sleepy,
            service,
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

    /// One blocked call's lateness past [`DEADLINE`] under `tokio::time::timeout`.
    async fn lateness(&self) -> Duration {
        let mut store = self.store();
        let instance = self
            .linker
            .instantiate_async(&mut store, &self.sleepy)
            .await
            .expect("instantiate");
        let index = instance
            .get_export_index(&mut store, None, SLEEP_INTERFACE)
            .and_then(|i| instance.get_export_index(&mut store, Some(&i), "sleep-ms"))
            .expect("sleep-ms");
        let sleep = instance
            .get_typed_func::<(u64,), ()>(&mut store, index)
            .expect("sleep-ms");
        let started = Instant::now();
        let outcome =
            tokio::time::timeout(DEADLINE, sleep.call_async(&mut store, (3_600_000,))).await;
        assert!(outcome.is_err(), "the sleep must be cut short");
        started.elapsed().saturating_sub(DEADLINE)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "blocked_event_lateness/{name}: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms over {} events (deadline {} ms)",
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        samples.len(),
        DEADLINE.as_millis()
    );
}

fn main() {
    let host = Host::new().expect("host");
    let rt = runtime();
    let service = service(&host, &rt);
    let raw = Raw::new();

    // Percentiles first, from 1 000 events on each side.
    let plinth: Vec<Duration> = (0..SAMPLES)
        .map(|_| rt.block_on(plinth_lateness(&service)))
        .collect();
    report("plinth", plinth);
    let raw_samples: Vec<Duration> = (0..SAMPLES).map(|_| rt.block_on(raw.lateness())).collect();
    report("raw_async", raw_samples);

    let mut c = Criterion::default().configure_from_args();
    {
        let mut group = c.benchmark_group("service_event");
        group.bench_function("plinth", |b| {
            b.iter(|| rt.block_on(ask(&service, "echo")));
        });
        let mut store = raw.store();
        let instance = rt
            .block_on(raw::Plugin::instantiate_async(
                &mut store,
                &raw.service,
                &raw.linker,
            ))
            .expect("instantiate the service guest");
        let event = raw::exports::plinth::service::service::IngressEvent {
            sequence: 1,
            attempt: 1,
            source: "app".into(),
            kind: "echo".into(),
            connection: None,
            connection_sequence: 0,
            meta: "{}".into(),
            body: b"x".to_vec(),
        };
        let api = instance.plinth_service_service();
        rt.block_on(api.call_start(&mut store))
            .expect("start")
            .expect("started");
        group.bench_function("raw_async", |b| {
            b.iter(|| {
                rt.block_on(api.call_handle(&mut store, &event))
                    .expect("handle")
            });
        });
        group.finish();
    }
    {
        let mut group = c.benchmark_group("blocked_event_lateness");
        group.sampling_mode(SamplingMode::Flat).sample_size(20);
        group.bench_function("plinth", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| rt.block_on(plinth_lateness(&service)))
                    .sum()
            });
        });
        group.bench_function("raw_async", |b| {
            b.iter_custom(|iters| (0..iters).map(|_| rt.block_on(raw.lateness())).sum());
        });
        group.finish();
    }
    c.final_summary();
    rt.block_on(service.stop());
    drop(rt);
    drop(host);
}
