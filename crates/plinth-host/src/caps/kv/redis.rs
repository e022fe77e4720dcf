//! [`RedisKv`]: `plinth:host/kv` on a Redis server, shared by every host that names it
//! (docs/design/0061).
//!
//! A namespace is three Redis keys sharing one hash tag (so one cluster slot): a hash of
//! its keys and values, a sorted set of its keys (all of score 0, so `ZRANGEBYLEX` lists
//! them in byte order) and its byte count. Every write is one Lua script, which Redis
//! runs atomically: it reads the old value, checks the quota, writes, and for a delete
//! or an increment records the answer under the operation's id for ten minutes, so a
//! retry after a lost answer returns the first answer instead of applying twice.
//! Durability is the server's: `appendonly yes` with `appendfsync always` keeps every
//! acknowledged write across a server crash.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::backend::{Attempt, KvBackend, KvFuture, OpId, retrying};
use super::store::{KvError, KvLimits, Namespace};

/// The write script: `KEYS` = values hash, key index, byte count, operation record;
/// `ARGV` = mode (`set`, `del`, `incr`), key, value or delta, quota.
const WRITE: &str = r#"
local h, z, u, opk = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, key, arg, quota = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if mode ~= 'set' then
  local done = redis.call('GET', opk)
  if done then return {'ok', done} end
end
local old = redis.call('HGET', h, key)
local used = tonumber(redis.call('GET', u) or '0')
local oldsize = 0
if old then oldsize = #key + #old end
local newsize = 0
local out = ''
if mode == 'set' then
  newsize = #key + #arg
elseif mode == 'del' then
  if old then out = '1' else out = '0' end
else
  local r = redis.pcall('HINCRBY', h, key, arg)
  if type(r) == 'table' and r.err then return {'nan', r.err} end
  out = redis.call('HGET', h, key)
  newsize = #key + #out
end
local after = used - oldsize + newsize
if after < 0 then after = 0 end
if after > used and after > quota then
  if mode == 'incr' then
    if old then redis.call('HSET', h, key, old) else redis.call('HDEL', h, key) end
  end
  return {'quota', string.format('%d', after)}
end
if mode == 'set' then
  redis.call('HSET', h, key, arg)
  redis.call('ZADD', z, 0, key)
elseif mode == 'del' then
  if old then
    redis.call('HDEL', h, key)
    redis.call('ZREM', z, key)
  end
else
  redis.call('ZADD', z, 0, key)
end
redis.call('SET', u, string.format('%d', after))
if mode ~= 'set' then redis.call('SET', opk, out, 'EX', 600) end
return {'ok', out}
"#;

/// The key-value store on Redis: a client, its connection (made on first use and
/// re-made by the connection manager after a failure) and the caps.
#[derive(Clone)]
pub struct RedisKv {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
    limits: KvLimits,
    budget: Duration,
    write: redis::Script,
}

impl fmt::Debug for RedisKv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisKv")
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl RedisKv {
    /// A client of `url` (`redis://host:port/db`); nothing connects until the first
    /// operation. Connection failures are retried for `budget`.
    pub fn new(url: &str, limits: KvLimits, budget: Duration) -> Result<RedisKv, KvError> {
        RedisKv::with_tls(url, None, limits, budget)
    }

    /// As [`RedisKv::new`]; a `rediss://` URL connects over TLS, the server's certificate
    /// checked against `ca_file` (PEM) or, without it, the Mozilla roots, and its name
    /// against the URL's host. `ca_file` with a plain `redis://` URL is refused.
    pub fn with_tls(
        url: &str,
        ca_file: Option<&std::path::Path>,
        limits: KvLimits,
        budget: Duration,
    ) -> Result<RedisKv, KvError> {
        let settings = |e: redis::RedisError| KvError::Io(format!("[kv] Redis settings: {e}"));
        let tls = url.starts_with("rediss://");
        if tls {
            // The client builds its rustls configuration with the process's default
            // provider: the host's own (aws-lc-rs), unless the embedder installed one.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        }
        let client = match ca_file {
            None => redis::Client::open(url).map_err(settings)?,
            Some(_) if !tls => {
                return Err(KvError::Io(
                    "[kv] ca_file is for TLS: use a `rediss://` Redis url".into(),
                ));
            }
            Some(path) => {
                // Checked here, so a bad file stops the host's build, not its first call.
                super::tls::read_ca_file(path)?;
                let pem = std::fs::read(path)
                    .map_err(|e| KvError::Io(format!("[kv] ca_file {}: {e}", path.display())))?;
                redis::Client::build_with_tls(
                    url,
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(pem),
                    },
                )
                .map_err(settings)?
            }
        };
        Ok(RedisKv {
            inner: Arc::new(Inner {
                client,
                connection: tokio::sync::OnceCell::new(),
                limits,
                budget,
                write: redis::Script::new(WRITE),
            }),
        })
    }
}

fn failed(e: redis::RedisError) -> Attempt {
    // A certificate that is not trusted does not become trusted on retry.
    if let Some(reason) = super::tls::tls_failure(&e) {
        return Attempt::Final(KvError::Io(format!("Redis: TLS: {reason}")));
    }
    let transient = e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(
            e.kind(),
            redis::ErrorKind::BusyLoadingError | redis::ErrorKind::TryAgain
        );
    if transient {
        Attempt::Transient(format!("Redis: {e}"))
    } else {
        Attempt::Final(KvError::Io(format!("Redis: {e}")))
    }
}

/// The Redis keys of a namespace: its JSON name in hex inside a hash tag.
struct Keys {
    base: String,
}

impl Keys {
    fn of(ns: &Namespace) -> Keys {
        Keys {
            base: format!("plinth:kv:{{{}}}", hex::encode(ns.table_name())),
        }
    }

    fn values(&self) -> String {
        format!("{}:h", self.base)
    }

    fn index(&self) -> String {
        format!("{}:z", self.base)
    }

    fn usage(&self) -> String {
        format!("{}:u", self.base)
    }

    fn op(&self, op: OpId) -> String {
        format!("{}:op:{}", self.base, op.hex())
    }
}

impl Inner {
    async fn connection(&self) -> Result<ConnectionManager, Attempt> {
        // One connection attempt at a time: `retrying` paces the attempts and bounds them
        // by the operation's budget.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(self.budget);
        self.connection
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config))
            .await
            .cloned()
            .map_err(failed)
    }

    /// Runs the write script; the answer's text.
    async fn write(
        &self,
        keys: &Keys,
        op: OpId,
        mode: &str,
        key: &str,
        arg: &[u8],
    ) -> Result<Vec<u8>, Attempt> {
        let mut connection = self.connection().await?;
        let reply: Vec<Vec<u8>> = self
            .write
            .key(keys.values())
            .key(keys.index())
            .key(keys.usage())
            .key(keys.op(op))
            .arg(mode)
            .arg(key)
            .arg(arg)
            .arg(self.limits.quota_bytes)
            .invoke_async(&mut connection)
            .await
            .map_err(failed)?;
        let text = |i: usize| {
            reply
                .get(i)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        match text(0).as_deref() {
            Some("ok") => Ok(reply.get(1).cloned().unwrap_or_default()),
            Some("quota") => Err(Attempt::Final(KvError::QuotaExceeded(format!(
                "this write would use {} bytes; the quota is {} bytes",
                text(1).unwrap_or_default(),
                self.limits.quota_bytes
            )))),
            Some("nan") => {
                let reason = text(1).unwrap_or_default();
                Err(Attempt::Final(KvError::NotANumber(
                    if reason.contains("overflow") {
                        format!("`{key}` + the delta overflows a 64-bit integer")
                    } else {
                        format!("the value of `{key}` is not a decimal integer")
                    },
                )))
            }
            _ => Err(Attempt::Final(KvError::Io(
                "Redis: an unexpected answer to the write script".into(),
            ))),
        }
    }
}

impl KvBackend for RedisKv {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn server(&self) -> &'static str {
        "Redis"
    }

    fn get(&self, ns: &Namespace, key: &str) -> KvFuture<Option<Vec<u8>>> {
        let (inner, keys, key) = (self.inner.clone(), Keys::of(ns), key.to_string());
        Box::pin(async move {
            retrying(inner.budget, || async {
                let mut connection = inner.connection().await?;
                redis::cmd("HGET")
                    .arg(keys.values())
                    .arg(&key)
                    .query_async::<Option<Vec<u8>>>(&mut connection)
                    .await
                    .map_err(failed)
            })
            .await
        })
    }

    fn set(&self, ns: &Namespace, key: &str, value: &[u8]) -> KvFuture<()> {
        let (inner, keys, key) = (self.inner.clone(), Keys::of(ns), key.to_string());
        let value = value.to_vec();
        Box::pin(async move {
            // A set applied twice stores the same value: it needs no operation record.
            let op = OpId(0);
            retrying(inner.budget, || inner.write(&keys, op, "set", &key, &value)).await?;
            Ok(())
        })
    }

    fn delete(&self, ns: &Namespace, key: &str, op: OpId) -> KvFuture<bool> {
        let (inner, keys, key) = (self.inner.clone(), Keys::of(ns), key.to_string());
        Box::pin(async move {
            let out = retrying(inner.budget, || inner.write(&keys, op, "del", &key, b"")).await?;
            Ok(out == b"1")
        })
    }

    fn list_keys(&self, ns: &Namespace, prefix: &str, limit: u32) -> KvFuture<Vec<String>> {
        let (inner, keys, prefix) = (self.inner.clone(), Keys::of(ns), prefix.to_string());
        Box::pin(async move {
            if limit == 0 {
                return Ok(Vec::new());
            }
            retrying(inner.budget, || async {
                let mut connection = inner.connection().await?;
                let mut from = b"[".to_vec();
                from.extend_from_slice(prefix.as_bytes());
                let found: Vec<Vec<u8>> = redis::cmd("ZRANGEBYLEX")
                    .arg(keys.index())
                    .arg(from)
                    .arg("+")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(limit)
                    .query_async(&mut connection)
                    .await
                    .map_err(failed)?;
                let mut listed = Vec::with_capacity(found.len());
                for key in found {
                    if !key.starts_with(prefix.as_bytes()) {
                        break;
                    }
                    let key = String::from_utf8(key).map_err(|_| {
                        Attempt::Final(KvError::Io("a stored key is not UTF-8".into()))
                    })?;
                    listed.push(key);
                }
                Ok(listed)
            })
            .await
        })
    }

    fn increment(&self, ns: &Namespace, key: &str, delta: i64, op: OpId) -> KvFuture<i64> {
        let (inner, keys, key) = (self.inner.clone(), Keys::of(ns), key.to_string());
        Box::pin(async move {
            let delta = delta.to_string();
            let out = retrying(inner.budget, || {
                inner.write(&keys, op, "incr", &key, delta.as_bytes())
            })
            .await?;
            std::str::from_utf8(&out)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| KvError::Io("Redis: the increment's answer is not a number".into()))
        })
    }

    fn usage(&self, ns: &Namespace) -> KvFuture<u64> {
        let (inner, keys) = (self.inner.clone(), Keys::of(ns));
        Box::pin(async move {
            retrying(inner.budget, || async {
                let mut connection = inner.connection().await?;
                let used: Option<u64> = redis::cmd("GET")
                    .arg(keys.usage())
                    .query_async(&mut connection)
                    .await
                    .map_err(failed)?;
                Ok(used.unwrap_or(0))
            })
            .await
        })
    }
}
