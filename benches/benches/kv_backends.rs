//! A `plinth:host/kv` round trip on each backend: warm calls of the `caps` guest's `run`
//! on a long-lived instance, on redb (a temporary data directory), PostgreSQL and Redis
//! (real servers this bench starts on 127.0.0.1: `scripts/install-postgres`,
//! `scripts/install-redis`).
//!
//! - `BACKEND/get`: `run(["kv-get", "k"])`, one `kv.get` of a 5-byte value;
//! - `BACKEND/set`: `run(["kv-set", "k", "value"])`, one durable `kv.set`;
//! - `BACKEND/increment`: `run(["kv-inc", "n", "1"])`, one `kv.increment`.
//!
//! The PostgreSQL server runs with `fsync=off` (as in the tests), so its `set` measures the
//! round trips and the transaction, not the disk; Redis appends with `appendfsync always`;
//! redb commits with `Durability::Immediate` (an fsync per write).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use plinth_host::log::LogRecord;
use plinth_host::{Host, KvBackendKind, KvSettings, LoadOptions};
use plinth_manifest::Grant;
use test_programs::postgres::{PASSWORD, Postgres, USER};
use test_programs::redis::Redis;

type Run = (Result<String, String>,);

fn args(list: &[&str]) -> (Vec<String>,) {
    (list.iter().map(|s| s.to_string()).collect(),)
}

fn kv_backends(c: &mut Criterion) {
    let data = tempfile::tempdir().expect("tempdir");
    let postgres = Postgres::start();
    let redis = Redis::start();
    let backends = [
        ("redb", KvSettings::default()),
        (
            "postgres",
            KvSettings::server(
                KvBackendKind::Postgres,
                format!(
                    "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/postgres",
                    postgres.port
                ),
            ),
        ),
        (
            "redis",
            KvSettings::server(KvBackendKind::Redis, redis.url()),
        ),
    ];
    let mut group = c.benchmark_group("kv_backends");
    for (name, settings) in backends {
        let host = Host::builder()
            .data_dir(data.path().join(name))
            .kv_settings(settings)
            .log_sink(Arc::new(|_: &LogRecord| {}))
            .build()
            .expect("host");
        let mut instance = host
            .load_with(
                test_programs::CAPS,
                LoadOptions::default().with_grants([Grant::Kv]),
            )
            .expect("load caps")
            .instantiate()
            .expect("instantiate");
        let set: Run = instance
            .call("run", args(&["kv-set", "k", "value"]))
            .expect("seed");
        assert_eq!(set.0.as_deref(), Ok("ok"));
        let got: Run = instance.call("run", args(&["kv-get", "k"])).expect("get");
        assert_eq!(got.0.as_deref(), Ok("value"));
        let rows = [
            ("get", &["kv-get", "k"][..]),
            ("set", &["kv-set", "k", "value"][..]),
            ("increment", &["kv-inc", "n", "1"][..]),
        ];
        for (op, list) in rows {
            group.bench_function(format!("{name}/{op}"), |b| {
                b.iter(|| {
                    let out: Run = instance.call("run", args(list)).expect("call");
                    black_box(out)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, kv_backends);
criterion_main!(benches);
