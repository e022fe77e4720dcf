//! [`KvBackend`]: where `plinth:host/kv` keeps its data, and [`Kv`], the host's handle on
//! it that checks the caps, runs the backend's work on the host's runtime and bounds it
//! in time (docs/design/0061).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::store::{KvError, KvLimits, KvStore, Namespace};

/// What a backend's operation returns: owned, so it can run on the host's runtime.
pub type KvFuture<T> = Pin<Box<dyn Future<Output = Result<T, KvError>> + Send + 'static>>;

/// A storage backend of `plinth:host/kv`. Every backend keeps the same semantics (the
/// conformance suite in the host's tests runs unchanged on each): one namespace per
/// (tenant, plugin), the quota checked in the same atomic step as the write, atomic
/// increment, keys listed in byte order. [`Kv`] checks key and value sizes before a
/// backend sees them.
pub trait KvBackend: Send + Sync + fmt::Debug {
    /// The backend's name as the host config spells it (`redb`, `postgres`, `redis`).
    fn name(&self) -> &'static str;

    /// The server as error messages name it (`PostgreSQL`, `Redis`).
    fn server(&self) -> &'static str {
        self.name()
    }

    /// Whether operations finish without waiting on the network: [`Kv`] then runs them
    /// in place rather than on the host's runtime.
    fn is_local(&self) -> bool {
        false
    }

    /// The value under `key`.
    fn get(&self, ns: &Namespace, key: &str) -> KvFuture<Option<Vec<u8>>>;

    /// Stores `value` under `key`; resolves once the write is durable in the backend.
    fn set(&self, ns: &Namespace, key: &str, value: &[u8]) -> KvFuture<()>;

    /// Removes `key`; true when it existed. `op` identifies the operation: a retry
    /// with the same `op` returns the first answer instead of applying twice.
    fn delete(&self, ns: &Namespace, key: &str, op: OpId) -> KvFuture<bool>;

    /// Keys starting with `prefix`, in byte order, at most `limit`.
    fn list_keys(&self, ns: &Namespace, prefix: &str, limit: u32) -> KvFuture<Vec<String>>;

    /// Adds `delta` to the decimal integer under `key` (absent is 0), atomically. `op`
    /// makes a retry after a lost answer return the first result, never add twice.
    fn increment(&self, ns: &Namespace, key: &str, delta: i64, op: OpId) -> KvFuture<i64>;

    /// Bytes (keys plus values) the namespace keeps.
    fn usage(&self, ns: &Namespace) -> KvFuture<u64>;
}

/// The identity of one write, for retries without double application: 128 random bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpId(pub u128);

impl OpId {
    /// A fresh random id.
    pub fn random() -> OpId {
        let mut bytes = [0u8; 16];
        // Without OS randomness, a clock-and-counter id still differs per operation of
        // this process; ids only need to be unique among the writes of a few minutes.
        if getrandom::fill(&mut bytes).is_err() {
            use std::sync::atomic::{AtomicU64, Ordering};
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            bytes[..8].copy_from_slice(&now.to_le_bytes());
            bytes[8..].copy_from_slice(&(n ^ u64::from(std::process::id())).to_le_bytes());
        }
        OpId(u128::from_le_bytes(bytes))
    }

    /// 32 hex digits.
    pub fn hex(&self) -> String {
        format!("{:032x}", self.0)
    }
}

/// `[kv]` in the host config: which backend and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KvSettings {
    /// `redb` (the default: `<data dir>/kv.redb`), `postgres` or `redis`.
    pub backend: KvBackendKind,
    /// The server's URL for `postgres` (`postgres://user:password@host:port/db`, with
    /// `?sslmode=require` for TLS) or `redis` (`redis://host:port/db`, `rediss://` for TLS).
    pub url: Option<String>,
    /// PEM certificates of the CA that signed the server's TLS certificate: the only roots
    /// trusted when set (a private CA); unset, the Mozilla roots. Only with a TLS URL.
    pub ca_file: Option<std::path::PathBuf>,
    /// Most connections the host keeps open to the server (PostgreSQL's pool size).
    pub pool_size: usize,
    /// How long one operation may take, retries included, before it fails with `io`
    /// (a call's own wall clock may end it sooner).
    pub timeout_ms: u64,
}

impl Default for KvSettings {
    fn default() -> Self {
        KvSettings {
            backend: KvBackendKind::Redb,
            url: None,
            ca_file: None,
            pool_size: 16,
            timeout_ms: 5_000,
        }
    }
}

/// The backends `[kv] backend` names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KvBackendKind {
    /// The embedded database file under the host's data directory.
    #[default]
    Redb,
    /// A PostgreSQL server, shared by every host that names it.
    Postgres,
    /// A Redis server, shared by every host that names it.
    Redis,
}

impl KvSettings {
    /// Settings for a server backend at `url`.
    pub fn server(backend: KvBackendKind, url: impl Into<String>) -> KvSettings {
        KvSettings {
            backend,
            url: Some(url.into()),
            ..KvSettings::default()
        }
    }

    /// Opens the backend these settings name. `data_dir` is where `redb` keeps its file
    /// (`None`: no redb store, so `Ok(None)`); server backends connect lazily, on the
    /// first operation, so a host starts while its database is down.
    pub fn open(
        &self,
        data_dir: Option<&std::path::Path>,
        limits: KvLimits,
    ) -> Result<Option<Arc<dyn KvBackend>>, KvError> {
        let url = || {
            self.url.clone().ok_or_else(|| {
                KvError::Io(format!(
                    "[kv] backend = \"{}\" needs `url`",
                    self.backend.name()
                ))
            })
        };
        Ok(match self.backend {
            KvBackendKind::Redb => match data_dir {
                Some(dir) => Some(Arc::new(KvStore::open(dir.join("kv.redb"), limits)?)),
                None => None,
            },
            KvBackendKind::Postgres => Some(Arc::new(super::postgres::PostgresKv::with_tls(
                &url()?,
                self.ca_file.as_deref(),
                self.pool_size,
                limits,
                self.retry_budget(),
            )?)),
            KvBackendKind::Redis => Some(Arc::new(super::redis::RedisKv::with_tls(
                &url()?,
                self.ca_file.as_deref(),
                limits,
                self.retry_budget(),
            )?)),
        })
    }
}

impl KvSettings {
    /// [`Self::timeout_ms`].
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(1))
    }

    /// How long a server backend retries a lost connection: most of the timeout, so the
    /// operation fails with the server's own reason rather than the bare timeout.
    fn retry_budget(&self) -> Duration {
        self.timeout().mul_f64(0.9)
    }
}

impl KvBackendKind {
    /// As the host config spells it.
    pub fn name(self) -> &'static str {
        match self {
            KvBackendKind::Redb => "redb",
            KvBackendKind::Postgres => "postgres",
            KvBackendKind::Redis => "redis",
        }
    }
}

/// The host's key-value store: a backend, the caps, the runtime server backends run on
/// and the time an operation may take. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Kv {
    backend: Arc<dyn KvBackend>,
    limits: KvLimits,
    runtime: KvRuntime,
    timeout: Duration,
}

/// Where a server backend's work runs.
#[derive(Debug, Clone)]
enum KvRuntime {
    /// A runtime the embedder gave.
    Given(tokio::runtime::Handle),
    /// The host's own, started when a server backend first needs it.
    Host(crate::runtime::HostRuntime),
}

impl KvRuntime {
    fn handle(&self) -> &tokio::runtime::Handle {
        match self {
            KvRuntime::Given(handle) => handle,
            KvRuntime::Host(runtime) => runtime.handle(),
        }
    }
}

/// Aborts a spawned task when the call waiting for it is dropped (its wall clock ran
/// out), so a dead server holds no task.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Kv {
    /// `backend` under `limits`; server work runs on `runtime`, each operation for at
    /// most `timeout`.
    pub fn new(
        backend: Arc<dyn KvBackend>,
        limits: KvLimits,
        runtime: tokio::runtime::Handle,
        timeout: Duration,
    ) -> Kv {
        Kv {
            backend,
            limits,
            runtime: KvRuntime::Given(runtime),
            timeout,
        }
    }

    /// [`Self::new`] on the host's runtime, which only a server backend's first
    /// operation starts.
    pub(crate) fn on_host(
        backend: Arc<dyn KvBackend>,
        limits: KvLimits,
        runtime: crate::runtime::HostRuntime,
        timeout: Duration,
    ) -> Kv {
        Kv {
            backend,
            limits,
            runtime: KvRuntime::Host(runtime),
            timeout,
        }
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn KvBackend> {
        &self.backend
    }

    /// The caps in force.
    pub fn limits(&self) -> &KvLimits {
        &self.limits
    }

    fn check_key(&self, key: &str) -> Result<(), KvError> {
        check_key(&self.limits, key)
    }

    /// Runs `work` in place for a local backend, else on the host's runtime under the
    /// operation timeout.
    async fn run<T: Send + 'static>(&self, work: KvFuture<T>) -> Result<T, KvError> {
        if self.backend.is_local() {
            return work.await;
        }
        let timeout = self.timeout;
        let server = self.backend.server();
        let mut task = AbortOnDrop(self.runtime.handle().spawn(async move {
            match tokio::time::timeout(timeout, work).await {
                Ok(result) => result,
                Err(_) => Err(KvError::Io(format!(
                    "{server} did not answer within {} ms ([kv] timeout_ms)",
                    timeout.as_millis()
                ))),
            }
        }));
        match (&mut task.0).await {
            Ok(result) => result,
            Err(e) => Err(KvError::Io(format!("the key-value task failed: {e}"))),
        }
    }

    /// The value under `key`.
    pub async fn get(&self, ns: &Namespace, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.check_key(key)?;
        self.run(self.backend.get(ns, key)).await
    }

    /// Stores `value` under `key`.
    pub async fn set(&self, ns: &Namespace, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.check_key(key)?;
        check_value(&self.limits, value)?;
        self.run(self.backend.set(ns, key, value)).await
    }

    /// Removes `key`; true when it existed.
    pub async fn delete(&self, ns: &Namespace, key: &str) -> Result<bool, KvError> {
        self.check_key(key)?;
        self.run(self.backend.delete(ns, key, OpId::random())).await
    }

    /// Keys starting with `prefix`, in byte order, at most `limit`.
    pub async fn list_keys(
        &self,
        ns: &Namespace,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, KvError> {
        self.run(self.backend.list_keys(ns, prefix, limit)).await
    }

    /// Adds `delta` to the decimal integer under `key`, atomically.
    pub async fn increment(&self, ns: &Namespace, key: &str, delta: i64) -> Result<i64, KvError> {
        self.check_key(key)?;
        self.run(self.backend.increment(ns, key, delta, OpId::random()))
            .await
    }

    /// Bytes (keys plus values) the namespace keeps.
    pub async fn usage(&self, ns: &Namespace) -> Result<u64, KvError> {
        self.run(self.backend.usage(ns)).await
    }
}

pub(crate) fn check_key(limits: &KvLimits, key: &str) -> Result<(), KvError> {
    if key.len() > limits.max_key_bytes {
        return Err(KvError::TooLarge(format!(
            "the key is {} bytes; the cap is {}",
            key.len(),
            limits.max_key_bytes
        )));
    }
    Ok(())
}

pub(crate) fn check_value(limits: &KvLimits, value: &[u8]) -> Result<(), KvError> {
    if value.len() > limits.max_value_bytes {
        return Err(KvError::TooLarge(format!(
            "the value is {} bytes; the cap is {}",
            value.len(),
            limits.max_value_bytes
        )));
    }
    Ok(())
}

/// The namespace's usage after replacing `old` by `new` under `key`, or the refusal when
/// that grows it past the quota (shrinking is always allowed).
pub(crate) fn usage_after(
    limits: &KvLimits,
    key: &str,
    used: u64,
    old: Option<&[u8]>,
    new: Option<&[u8]>,
) -> Result<u64, KvError> {
    let size = |v: Option<&[u8]>| v.map_or(0, |v| (key.len() + v.len()) as u64);
    let after = used.saturating_sub(size(old)).saturating_add(size(new));
    if after > used && after > limits.quota_bytes {
        return Err(KvError::QuotaExceeded(format!(
            "this write would use {after} bytes; the quota is {} bytes",
            limits.quota_bytes
        )));
    }
    Ok(after)
}

/// `old + delta` for `increment`: absent is 0; a value that is not a decimal i64, or an
/// overflow, is `not-a-number`.
pub(crate) fn incremented(key: &str, old: Option<&[u8]>, delta: i64) -> Result<i64, KvError> {
    let current = match old {
        None => 0,
        Some(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .ok_or_else(|| {
                KvError::NotANumber(format!("the value of `{key}` is not a decimal integer"))
            })?,
    };
    current
        .checked_add(delta)
        .ok_or_else(|| KvError::NotANumber(format!("`{key}` + {delta} overflows a 64-bit integer")))
}

/// Retries `attempt` while it fails transiently (connection lost, server restarting),
/// pausing a little longer each time, for at most `budget`; then the last failure is the
/// operation's `io` error.
pub(crate) async fn retrying<T, F, Fut>(budget: Duration, mut attempt: F) -> Result<T, KvError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Attempt>>,
{
    let start = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Attempt::Final(e)) => return Err(e),
            Err(Attempt::Transient(reason)) => {
                if start.elapsed() + pause >= budget {
                    return Err(KvError::Io(reason));
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
        }
    }
}

/// How one attempt of a server operation failed.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// The answer is final (a refused write, a non-number).
    Final(KvError),
    /// The connection failed: worth trying again with the same operation id.
    Transient(String),
}
