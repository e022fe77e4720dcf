//! The key-value backends (docs/design/0061): one conformance suite run unchanged on
//! redb, PostgreSQL and Redis; acknowledged writes surviving `kill -9` of the host on
//! each; atomic increment through a proxy that loses answers; and a call on a dead or
//! unreachable database failing with the right code. The servers are real (Debian's
//! `postgresql` and `redis-server`), started by each test on 127.0.0.1.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use plinth_host::manifest::diagnostic::Code;
use plinth_host::manifest::grant::Grant;
use plinth_host::{
    Host, Kv, KvBackendKind, KvError, KvLimits, KvNamespace, KvSettings, Limits, LoadOptions,
};
use serde_json::{Value, json};
use test_programs::fault_proxy::FaultProxy;
use test_programs::postgres::{PASSWORD, Postgres, USER};
use test_programs::redis::Redis;

/// The caps every conformance run uses: small, so the quota is reached quickly.
pub(crate) const LIMITS: KvLimits = KvLimits {
    max_key_bytes: 16,
    max_value_bytes: 32,
    quota_bytes: 100,
};

/// A backend under test and what keeps it alive.
enum Backend {
    Redb(tempfile::TempDir),
    Postgres(Postgres),
    Redis(Redis),
}

pub(crate) fn postgres_url(port: u16) -> String {
    format!("postgres://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres")
}

impl Backend {
    fn start(kind: KvBackendKind) -> Backend {
        match kind {
            KvBackendKind::Redb => Backend::Redb(tempfile::tempdir().unwrap()),
            KvBackendKind::Postgres => Backend::Postgres(Postgres::start()),
            KvBackendKind::Redis => Backend::Redis(Redis::start()),
        }
    }

    /// The settings reaching the server on `port` (a proxy's) or its own.
    fn settings_via(&self, port: Option<u16>) -> KvSettings {
        match self {
            Backend::Redb(_) => KvSettings::default(),
            Backend::Postgres(pg) => KvSettings::server(
                KvBackendKind::Postgres,
                postgres_url(port.unwrap_or(pg.port)),
            ),
            Backend::Redis(redis) => KvSettings::server(
                KvBackendKind::Redis,
                format!("redis://127.0.0.1:{}/0", port.unwrap_or(redis.port)),
            ),
        }
    }

    fn settings(&self) -> KvSettings {
        self.settings_via(None)
    }

    /// What a child process needs to open the same store: `redb:DIR` or `KIND:URL`.
    fn child_spec(&self) -> String {
        match self {
            Backend::Redb(dir) => format!("redb:{}", dir.path().display()),
            other => {
                let settings = other.settings();
                format!("{}:{}", settings.backend.name(), settings.url.unwrap())
            }
        }
    }

    fn host(&self, limits: KvLimits, settings: KvSettings) -> Host {
        let builder = Host::builder().kv_limits(limits).kv_settings(settings);
        match self {
            Backend::Redb(dir) => builder.data_dir(dir.path()),
            _ => builder,
        }
        .build()
        .unwrap()
    }
}

/// Runs `future` to its end on a small runtime of the test's own (the store's server
/// work runs on the host's runtime).
pub(crate) fn wait<T>(future: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn ns(tenant: Option<&str>, plugin: &str) -> KvNamespace {
    KvNamespace {
        tenant: tenant.map(str::to_string),
        plugin: plugin.into(),
    }
}

/// The suite: what every backend must do alike.
pub(crate) fn conformance(kv: &Kv) {
    assert_eq!(kv.limits(), &LIMITS);
    wait(async {
        // Set, get, delete; a namespace starts empty and counts keys plus values.
        let a = ns(None, "basics");
        assert_eq!(kv.usage(&a).await.unwrap(), 0);
        assert_eq!(kv.get(&a, "k").await.unwrap(), None);
        kv.set(&a, "user:1", b"one").await.unwrap();
        kv.set(&a, "user:2", b"two").await.unwrap();
        kv.set(&a, "vser", b"x").await.unwrap();
        kv.set(&a, "bin", &[0, 255, 10]).await.unwrap();
        assert_eq!(
            kv.get(&a, "user:1").await.unwrap().as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(
            kv.get(&a, "bin").await.unwrap().as_deref(),
            Some(&[0, 255, 10][..])
        );
        kv.set(&a, "user:1", b"uno!").await.unwrap();
        assert_eq!(
            kv.get(&a, "user:1").await.unwrap().as_deref(),
            Some(&b"uno!"[..])
        );
        assert!(kv.delete(&a, "user:1").await.unwrap());
        assert!(!kv.delete(&a, "user:1").await.unwrap());
        assert!(!kv.delete(&a, "never").await.unwrap());
        assert_eq!(kv.get(&a, "user:1").await.unwrap(), None);
        assert_eq!(kv.usage(&a).await.unwrap(), (6 + 3 + 4 + 1 + 3 + 3) as u64);
        kv.set(&a, "empty", b"").await.unwrap();
        assert_eq!(
            kv.get(&a, "empty").await.unwrap().as_deref(),
            Some(&b""[..])
        );

        // Listing: byte order, prefix, limit as the page size.
        let l = ns(None, "listing");
        for key in [
            "b", "a~", "ab", "a", "B", "a\u{e9}", "a/1", "a/2", "a/10", "c",
        ] {
            kv.set(&l, key, b"").await.unwrap();
        }
        let all = kv.list_keys(&l, "", 100).await.unwrap();
        let mut sorted = all.clone();
        sorted.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
        assert_eq!(all, sorted, "keys come in byte order");
        assert_eq!(
            all,
            [
                "B", "a", "a/1", "a/10", "a/2", "ab", "a~", "a\u{e9}", "b", "c"
            ]
        );
        assert_eq!(
            kv.list_keys(&l, "a/", 100).await.unwrap(),
            ["a/1", "a/10", "a/2"]
        );
        assert_eq!(kv.list_keys(&l, "a/", 2).await.unwrap(), ["a/1", "a/10"]);
        assert_eq!(
            kv.list_keys(&l, "a", 3).await.unwrap(),
            ["a", "a/1", "a/10"]
        );
        assert_eq!(kv.list_keys(&l, "", 0).await.unwrap(), Vec::<String>::new());
        assert_eq!(
            kv.list_keys(&l, "zz", 10).await.unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(kv.list_keys(&l, "c", 10).await.unwrap(), ["c"]);

        // Increment: decimal text, absent is 0, checked.
        let n = ns(None, "numbers");
        assert_eq!(kv.increment(&n, "n", 5).await.unwrap(), 5);
        assert_eq!(kv.increment(&n, "n", -7).await.unwrap(), -2);
        assert_eq!(kv.get(&n, "n").await.unwrap().as_deref(), Some(&b"-2"[..]));
        kv.set(&n, "s", b"abc").await.unwrap();
        assert!(matches!(
            kv.increment(&n, "s", 1).await,
            Err(KvError::NotANumber(_))
        ));
        assert_eq!(kv.get(&n, "s").await.unwrap().as_deref(), Some(&b"abc"[..]));
        kv.set(&n, "max", i64::MAX.to_string().as_bytes())
            .await
            .unwrap();
        assert!(matches!(
            kv.increment(&n, "max", 1).await,
            Err(KvError::NotANumber(_))
        ));
        assert_eq!(kv.increment(&n, "max", -1).await.unwrap(), i64::MAX - 1);
        kv.set(&n, "set", b"41").await.unwrap();
        assert_eq!(kv.increment(&n, "set", 1).await.unwrap(), 42);
        assert_eq!(
            kv.list_keys(&n, "", 10).await.unwrap(),
            ["max", "n", "s", "set"]
        );

        // Caps and quota: refused writes store nothing.
        let q = ns(None, "quota");
        let long = "k".repeat(17);
        assert!(matches!(
            kv.set(&q, &long, b"").await,
            Err(KvError::TooLarge(_))
        ));
        assert!(matches!(kv.get(&q, &long).await, Err(KvError::TooLarge(_))));
        assert!(matches!(
            kv.increment(&q, &long, 1).await,
            Err(KvError::TooLarge(_))
        ));
        assert!(matches!(
            kv.set(&q, "k", &[0; 33]).await,
            Err(KvError::TooLarge(_))
        ));
        kv.set(&q, "k1", &[1; 30]).await.unwrap(); // 32
        kv.set(&q, "k2", &[2; 30]).await.unwrap(); // 64
        kv.set(&q, "k3", &[3; 30]).await.unwrap(); // 96
        let err = kv.set(&q, "k4", &[4; 30]).await.unwrap_err();
        assert!(matches!(err, KvError::QuotaExceeded(_)), "{err:?}");
        assert_eq!(
            kv.get(&q, "k4").await.unwrap(),
            None,
            "a refused write stores nothing"
        );
        assert_eq!(kv.usage(&q).await.unwrap(), 96);
        // An increment that would grow past the quota leaves the old value.
        kv.set(&q, "i", b"9").await.unwrap(); // 98
        assert_eq!(kv.increment(&q, "i", -8).await.unwrap(), 1);
        let err = kv.increment(&q, "i", 99_999).await.unwrap_err();
        assert!(matches!(err, KvError::QuotaExceeded(_)), "{err:?}");
        assert_eq!(kv.get(&q, "i").await.unwrap().as_deref(), Some(&b"1"[..]));
        // Shrinking or replacing within the quota works; deleting frees room.
        kv.set(&q, "k2", &[2; 4]).await.unwrap();
        assert!(kv.delete(&q, "k1").await.unwrap());
        kv.set(&q, "k4", &[4; 30]).await.unwrap();
        assert_eq!(kv.usage(&q).await.unwrap(), 6 + 32 + 32 + 2);
        // Another plugin, and the same plugin for a tenant, have quotas of their own.
        kv.set(&ns(None, "quota2"), "k1", &[0; 30]).await.unwrap();
        kv.set(&ns(Some("t"), "quota"), "k1", &[0; 30])
            .await
            .unwrap();

        // Namespaces: per tenant and plugin, no separator to abuse.
        let t1 = ns(Some("acme"), "p");
        let t2 = ns(Some("globex"), "p");
        let bare = ns(None, "p");
        kv.set(&t1, "secret", b"acme").await.unwrap();
        kv.set(&t2, "secret", b"globex").await.unwrap();
        assert_eq!(
            kv.get(&t1, "secret").await.unwrap().as_deref(),
            Some(&b"acme"[..])
        );
        assert_eq!(
            kv.get(&t2, "secret").await.unwrap().as_deref(),
            Some(&b"globex"[..])
        );
        assert_eq!(kv.get(&bare, "secret").await.unwrap(), None);
        assert_eq!(
            kv.list_keys(&bare, "", 10).await.unwrap(),
            Vec::<String>::new()
        );
        assert!(kv.delete(&t1, "secret").await.unwrap());
        assert_eq!(
            kv.get(&t2, "secret").await.unwrap().as_deref(),
            Some(&b"globex"[..])
        );
        let tricky = ns(Some("acme\",\"p"), "");
        assert_eq!(kv.get(&tricky, "secret").await.unwrap(), None);
        let braces = ns(Some("}{"), "p:h");
        assert_eq!(
            kv.list_keys(&braces, "", 10).await.unwrap(),
            Vec::<String>::new()
        );
    });

    // Atomic increment under contention: 4 threads x 25 increments, none lost.
    let c = ns(None, "contended");
    let kv = Arc::new(kv.clone());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (kv, c) = (kv.clone(), c.clone());
            std::thread::spawn(move || {
                wait(async {
                    let mut seen = Vec::new();
                    for _ in 0..25 {
                        seen.push(kv.increment(&c, "n", 1).await.unwrap());
                    }
                    seen
                })
            })
        })
        .collect();
    let mut seen: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=100).collect::<Vec<_>>(),
        "every increment saw its own value"
    );
    assert_eq!(wait(kv.get(&c, "n")).unwrap().as_deref(), Some(&b"100"[..]));
}

fn conformance_on(kind: KvBackendKind) {
    let backend = Backend::start(kind);
    let host = backend.host(LIMITS, backend.settings());
    let kv = host.kv().expect("the host has a key-value store");
    assert_eq!(kv.backend().name(), kind.name());
    conformance(kv);
    // A second host on the same store (another machine, say) sees the same data.
    drop(host);
    let again = backend.host(LIMITS, backend.settings());
    let kv = again.kv().unwrap();
    assert_eq!(
        wait(kv.get(&ns(None, "contended"), "n"))
            .unwrap()
            .as_deref(),
        Some(&b"100"[..])
    );
}

#[test]
fn conformance_redb() {
    conformance_on(KvBackendKind::Redb);
}

#[test]
fn conformance_postgres() {
    conformance_on(KvBackendKind::Postgres);
}

#[test]
fn conformance_redis() {
    conformance_on(KvBackendKind::Redis);
}

const CHILD_ENV: &str = "PLINTH_KV_BACKEND_CHILD";

/// Run as a child: a host on the store `CHILD_ENV` names writes keys forever, printing
/// each one after its `set` returned.
#[test]
fn kv_backend_child_writer() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return; // only does something when re-invoked by `survives_sigkill`
    };
    let (kind, target) = spec.split_once(':').unwrap();
    let builder = Host::builder();
    let builder = match kind {
        "redb" => builder.data_dir(target),
        "postgres" => builder.kv_settings(KvSettings::server(KvBackendKind::Postgres, target)),
        _ => builder.kv_settings(KvSettings::server(KvBackendKind::Redis, target)),
    };
    let host = builder.build().unwrap();
    let kv = host.kv().unwrap();
    let ns = ns(Some("t"), "writer");
    let stdout = std::io::stdout();
    wait(async {
        for i in 0u64.. {
            let key = format!("key-{i:08}");
            kv.set(&ns, &key, key.as_bytes()).await.unwrap();
            use std::io::Write;
            let mut out = stdout.lock();
            writeln!(out, "ACK {key}").unwrap();
            out.flush().unwrap();
        }
    });
}

/// A host acknowledging writes is SIGKILLed mid-stream; a new host finds every
/// acknowledged write.
fn survives_sigkill(kind: KvBackendKind) {
    let backend = Backend::start(kind);
    let module = module_path!()
        .split_once("::")
        .map_or("", |(_, module)| module);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &format!("{module}::kv_backend_child_writer"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, backend.child_spec())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let reader = BufReader::new(child.stdout.take().unwrap());
    for line in reader.lines() {
        let line = line.unwrap();
        if let Some(key) = line.strip_prefix("ACK ") {
            acked.push(key.to_string());
        }
        if acked.len() >= 100 || Instant::now() > deadline {
            break;
        }
    }
    // SIGKILL (std's `kill` on Unix) while the child is still writing.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        acked.len() >= 100,
        "the child acknowledged only {} writes",
        acked.len()
    );

    let host = backend.host(KvLimits::default(), backend.settings());
    let kv = host.kv().unwrap();
    let ns = ns(Some("t"), "writer");
    wait(async {
        for key in &acked {
            assert_eq!(
                kv.get(&ns, key).await.unwrap().as_deref(),
                Some(key.as_bytes()),
                "acknowledged write {key} was lost"
            );
        }
    });
}

#[test]
fn acknowledged_writes_survive_sigkill_redb() {
    survives_sigkill(KvBackendKind::Redb);
}

#[test]
fn acknowledged_writes_survive_sigkill_postgres() {
    survives_sigkill(KvBackendKind::Postgres);
}

#[test]
fn acknowledged_writes_survive_sigkill_redis() {
    survives_sigkill(KvBackendKind::Redis);
}

/// Increments through a proxy that lets the request reach the server, then swallows the
/// answer and cuts the connection: the backend retries with the same operation id and
/// gets the first answer, so no increment is applied twice.
fn increment_survives_lost_answers(kind: KvBackendKind, marker: &[u8]) {
    let backend = Backend::start(kind);
    let port = match &backend {
        Backend::Postgres(pg) => pg.port,
        Backend::Redis(redis) => redis.port,
        Backend::Redb(_) => unreachable!("redb has no connection to lose"),
    };
    let proxy = FaultProxy::start(port);
    let host = backend.host(KvLimits::default(), backend.settings_via(Some(proxy.port)));
    let kv = host.kv().unwrap();
    let n = ns(None, "counter");
    wait(async {
        // Connected, the tables made, the script loaded: the next marked request is an
        // increment's.
        assert_eq!(kv.increment(&n, "warm", 1).await.unwrap(), 1);
        proxy.lose_answers_to(marker, 3);
        let mut seen = Vec::new();
        for _ in 0..10 {
            seen.push(kv.increment(&n, "n", 1).await.unwrap());
        }
        assert_eq!(proxy.lost_answers(), 3, "three answers were lost");
        assert_eq!(
            seen,
            (1..=10).collect::<Vec<_>>(),
            "each increment applied once"
        );
        assert_eq!(kv.get(&n, "n").await.unwrap().as_deref(), Some(&b"10"[..]));
        // A lost answer to a delete: retried, it still reports that the key existed.
        kv.set(&n, "gone", b"x").await.unwrap();
        proxy.lose_answers_to(marker, 1);
        assert!(kv.delete(&n, "gone").await.unwrap());
        assert_eq!(proxy.lost_answers(), 4);
    });
    // Read straight from the server, not through the proxy.
    let direct = backend.host(KvLimits::default(), backend.settings());
    let value = wait(direct.kv().unwrap().get(&n, "n")).unwrap();
    assert_eq!(value.as_deref(), Some(&b"10"[..]));
}

#[test]
fn increment_with_lost_answers_applies_once_postgres() {
    increment_survives_lost_answers(KvBackendKind::Postgres, b"COMMIT");
}

#[test]
fn increment_with_lost_answers_applies_once_redis() {
    increment_survives_lost_answers(KvBackendKind::Redis, b"EVALSHA");
}

pub(crate) fn run(
    plugin: &plinth_host::Plugin,
    args: &[&str],
) -> Result<Result<String, String>, Code> {
    use plinth_host::manifest::diagnostic::ToDiagnostic;
    match plugin.call_json("run", &[json!(args)]) {
        Ok(Value::Object(map)) if map.contains_key("ok") => {
            Ok(Ok(map["ok"].as_str().unwrap().into()))
        }
        Ok(Value::Object(map)) => Ok(Err(map["err"].as_str().unwrap().into())),
        Ok(other) => panic!("unexpected result {other}"),
        Err(e) => Err(e.to_diagnostic().code),
    }
}

pub(crate) fn caps_plugin(host: &Host, wall_ms: u64) -> plinth_host::Plugin {
    host.load_with(
        test_programs::CAPS,
        LoadOptions::default()
            .with_grants([Grant::Kv])
            .with_limits(Limits::default().with_timeout_ms(wall_ms)),
    )
    .unwrap()
}

/// A server that accepts connections and never answers: a call waiting on it ends at its
/// own wall clock with `timeout`, and the plugin's next call runs.
#[test]
fn a_call_blocked_on_a_silent_database_ends_at_its_deadline() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    for kind in [KvBackendKind::Postgres, KvBackendKind::Redis] {
        let url = match kind {
            KvBackendKind::Postgres => postgres_url(port),
            _ => format!("redis://127.0.0.1:{port}/0"),
        };
        let host = Host::builder()
            .kv_settings(KvSettings::server(kind, url))
            .build()
            .unwrap();
        let plugin = caps_plugin(&host, 300);
        let started = Instant::now();
        assert_eq!(
            run(&plugin, &["kv-get", "a"]),
            Err(Code::Timeout),
            "{kind:?}"
        );
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(3),
            "{kind:?}: {took:?}"
        );
        assert_eq!(run(&plugin, &["noop"]), Ok(Ok(String::new())));
    }
    drop(silent);
}

/// No server at all (connection refused): the operation fails with `io`, naming the
/// backend, within the `[kv]` timeout and before the call's own deadline.
#[test]
fn a_database_that_is_down_is_an_io_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (kind, url, name) in [
        (KvBackendKind::Postgres, postgres_url(port), "PostgreSQL"),
        (
            KvBackendKind::Redis,
            format!("redis://127.0.0.1:{port}/0"),
            "Redis",
        ),
    ] {
        let settings = KvSettings {
            timeout_ms: 400,
            ..KvSettings::server(kind, url)
        };
        let host = Host::builder().kv_settings(settings).build().unwrap();
        let plugin = caps_plugin(&host, 10_000);
        let started = Instant::now();
        let err = run(&plugin, &["kv-set", "a", "1"]).unwrap().unwrap_err();
        assert!(err.starts_with("io"), "{kind:?}: {err}");
        assert!(err.contains(name), "{kind:?}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
}

/// `[kv] backend = "postgres"` without `url` is a storage error at build.
#[test]
fn a_server_backend_needs_a_url() {
    use plinth_host::manifest::diagnostic::ToDiagnostic;
    let settings = KvSettings {
        backend: KvBackendKind::Redis,
        ..KvSettings::default()
    };
    let err = Host::builder().kv_settings(settings).build().unwrap_err();
    let diagnostic = err.to_diagnostic();
    assert_eq!(diagnostic.code, Code::StorageError, "{diagnostic:?}");
    assert!(diagnostic.message.contains("url"), "{diagnostic:?}");
}
