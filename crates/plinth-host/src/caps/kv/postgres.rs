//! [`PostgresKv`]: `plinth:host/kv` on a PostgreSQL server, shared by every host that
//! names it (docs/design/0061).
//!
//! Three tables, created on first use: `plinth_kv (ns, key, value)` with the namespace
//! as its JSON name and keys as `bytea` (so `ORDER BY key` is byte order, as on redb);
//! `plinth_kv_usage (ns, bytes)`, whose row is locked (`FOR UPDATE`) by every write to
//! the namespace, so the quota is checked and kept in the write's own transaction; and
//! `plinth_kv_ops (id, result)`, the answers of recent deletes and increments by
//! operation id, written in the same transaction: a retry after a lost answer finds its
//! operation there and returns the first answer instead of applying twice.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{
    Config, ManagerConfig, Object, Pool, PoolConfig, RecyclingMethod, Runtime, Timeouts,
};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

use super::backend::{Attempt, KvBackend, KvFuture, OpId, incremented, retrying, usage_after};
use super::store::{KvError, KvLimits, Namespace};
use super::tls::{self, PgTls, PgTlsMode};

/// The tables, made once per server under a lock so hosts starting together do not race.
const SCHEMA: &str = "
SELECT pg_advisory_xact_lock(7061061);
CREATE TABLE IF NOT EXISTS plinth_kv (
    ns TEXT NOT NULL, key BYTEA NOT NULL, value BYTEA NOT NULL, PRIMARY KEY (ns, key));
CREATE TABLE IF NOT EXISTS plinth_kv_usage (ns TEXT PRIMARY KEY, bytes BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS plinth_kv_ops (
    id TEXT PRIMARY KEY, result BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now());
";

/// How long an operation's answer is kept for its retries.
const OPS_KEPT: &str = "10 minutes";

/// What a write does to the old value: the new value (`None` deletes) and the answer.
type Change = dyn Fn(Option<&[u8]>) -> Result<(Option<Vec<u8>>, i64), KvError> + Sync;

/// The key-value store on PostgreSQL: a connection pool and the caps.
#[derive(Clone)]
pub struct PostgresKv {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    limits: KvLimits,
    budget: Duration,
    schema: tokio::sync::OnceCell<()>,
}

impl fmt::Debug for PostgresKv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresKv")
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl PostgresKv {
    /// A pool of at most `pool_size` connections to `url`; nothing connects until the
    /// first operation. Connection failures are retried for `budget`.
    pub fn new(
        url: &str,
        pool_size: usize,
        limits: KvLimits,
        budget: Duration,
    ) -> Result<PostgresKv, KvError> {
        PostgresKv::with_tls(url, None, pool_size, limits, budget)
    }

    /// As [`PostgresKv::new`]; `sslmode=require` (or `verify-full`) in `url` connects over
    /// TLS, the server's certificate checked against `ca_file` (PEM) or, without it, the
    /// Mozilla roots, and its name against the URL's host. Without `sslmode` (or with
    /// `disable`) connections are plain TCP, and `ca_file` is refused; `prefer`, which
    /// could fall back to plain text unseen, is refused too.
    pub fn with_tls(
        url: &str,
        ca_file: Option<&std::path::Path>,
        pool_size: usize,
        limits: KvLimits,
        budget: Duration,
    ) -> Result<PostgresKv, KvError> {
        let (mode, url) = tls::pg_mode(url)?;
        let mut config = Config::new();
        config.url = Some(url);
        config.manager = Some(ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        });
        let mut pool = PoolConfig::new(pool_size.max(1));
        pool.timeouts = Timeouts {
            wait: Some(budget),
            create: Some(budget),
            recycle: Some(budget),
        };
        config.pool = Some(pool);
        let pool = match (mode, ca_file) {
            (PgTlsMode::Plain, Some(_)) => {
                return Err(KvError::Io(
                    "[kv] ca_file is for TLS: add `sslmode=require` to the PostgreSQL url".into(),
                ));
            }
            (PgTlsMode::Plain, None) => config.create_pool(Some(Runtime::Tokio1), NoTls),
            (PgTlsMode::Verified, ca_file) => {
                let ca = ca_file.map(tls::read_ca_file).transpose()?;
                config.create_pool(Some(Runtime::Tokio1), PgTls::new(tls::client_config(ca)?))
            }
        }
        .map_err(|e| KvError::Io(format!("[kv] PostgreSQL settings: {e}")))?;
        Ok(PostgresKv {
            inner: Arc::new(Inner {
                pool,
                limits,
                budget,
                schema: tokio::sync::OnceCell::new(),
            }),
        })
    }
}

fn pg(e: tokio_postgres::Error) -> Attempt {
    match e.as_db_error() {
        Some(db) => {
            let code = db.code();
            // Connection trouble, a server shutting down, a serialization failure, or a
            // retry racing its own first attempt (the op id's primary key).
            let class = code.code().get(..2).unwrap_or_default();
            if matches!(class, "08" | "40" | "57") || *code == SqlState::UNIQUE_VIOLATION {
                Attempt::Transient(format!("PostgreSQL: {}", db.message()))
            } else {
                Attempt::Final(KvError::Io(format!("PostgreSQL: {}", db.message())))
            }
        }
        None => match tls::tls_failure(&e) {
            // A certificate that is not trusted does not become trusted on retry.
            Some(reason) => Attempt::Final(KvError::Io(format!("PostgreSQL: TLS: {reason}"))),
            None if e.to_string().contains("server does not support TLS") => Attempt::Final(
                KvError::Io("PostgreSQL: TLS: the server does not offer TLS".into()),
            ),
            None => Attempt::Transient(format!("PostgreSQL: {e}")),
        },
    }
}

impl Inner {
    /// A pooled connection, the tables made.
    async fn client(&self) -> Result<Object, Attempt> {
        let client = self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => pg(e),
            e => Attempt::Transient(format!("PostgreSQL: {e}")),
        })?;
        self.schema
            .get_or_try_init(|| async { client.batch_execute(SCHEMA).await.map_err(pg) })
            .await?;
        Ok(client)
    }

    /// One write transaction: locks the namespace's usage row, returns the recorded
    /// answer when `op` already ran, else applies `change` to the old value, checks the
    /// quota, stores, records `op`'s answer and commits.
    async fn write(
        &self,
        ns: &str,
        key: &str,
        op: Option<OpId>,
        change: &Change,
    ) -> Result<i64, Attempt> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg)?;
        let ensure = tx
            .prepare_cached(
                "INSERT INTO plinth_kv_usage (ns, bytes) VALUES ($1, 0) ON CONFLICT (ns) DO NOTHING",
            )
            .await
            .map_err(pg)?;
        tx.execute(&ensure, &[&ns]).await.map_err(pg)?;
        let lock = tx
            .prepare_cached("SELECT bytes FROM plinth_kv_usage WHERE ns = $1 FOR UPDATE")
            .await
            .map_err(pg)?;
        let used: i64 = tx.query_one(&lock, &[&ns]).await.map_err(pg)?.get(0);
        let op_id = op.map(|op| op.hex());
        if let Some(id) = &op_id {
            // After the lock: a first attempt that committed is visible now.
            let done = tx
                .prepare_cached("SELECT result FROM plinth_kv_ops WHERE id = $1")
                .await
                .map_err(pg)?;
            if let Some(row) = tx.query_opt(&done, &[id]).await.map_err(pg)? {
                return Ok(row.get(0));
            }
        }
        let read = tx
            .prepare_cached("SELECT value FROM plinth_kv WHERE ns = $1 AND key = $2")
            .await
            .map_err(pg)?;
        let old: Option<Vec<u8>> = tx
            .query_opt(&read, &[&ns, &key.as_bytes()])
            .await
            .map_err(pg)?
            .map(|row| row.get(0));
        let (new, out) = change(old.as_deref()).map_err(Attempt::Final)?;
        let after = usage_after(
            &self.limits,
            key,
            u64::try_from(used).unwrap_or(0),
            old.as_deref(),
            new.as_deref(),
        )
        .map_err(Attempt::Final)?;
        match &new {
            Some(value) => {
                let upsert = tx
                    .prepare_cached(
                        "INSERT INTO plinth_kv (ns, key, value) VALUES ($1, $2, $3) \
                         ON CONFLICT (ns, key) DO UPDATE SET value = EXCLUDED.value",
                    )
                    .await
                    .map_err(pg)?;
                tx.execute(&upsert, &[&ns, &key.as_bytes(), &value.as_slice()])
                    .await
                    .map_err(pg)?;
            }
            None if old.is_some() => {
                let remove = tx
                    .prepare_cached("DELETE FROM plinth_kv WHERE ns = $1 AND key = $2")
                    .await
                    .map_err(pg)?;
                tx.execute(&remove, &[&ns, &key.as_bytes()])
                    .await
                    .map_err(pg)?;
            }
            None => {}
        }
        let account = tx
            .prepare_cached("UPDATE plinth_kv_usage SET bytes = $2 WHERE ns = $1")
            .await
            .map_err(pg)?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        tx.execute(&account, &[&ns, &after]).await.map_err(pg)?;
        if let (Some(id), Some(op)) = (&op_id, op) {
            let record = tx
                .prepare_cached("INSERT INTO plinth_kv_ops (id, result) VALUES ($1, $2)")
                .await
                .map_err(pg)?;
            tx.execute(&record, &[id, &out]).await.map_err(pg)?;
            // Now and then, forget answers no retry can still ask for.
            if op.0 & 0xff == 0 {
                let forget =
                    format!("DELETE FROM plinth_kv_ops WHERE at < now() - interval '{OPS_KEPT}'");
                tx.execute(forget.as_str(), &[]).await.map_err(pg)?;
            }
        }
        tx.commit().await.map_err(pg)?;
        Ok(out)
    }
}

impl KvBackend for PostgresKv {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn server(&self) -> &'static str {
        "PostgreSQL"
    }

    fn get(&self, ns: &Namespace, key: &str) -> KvFuture<Option<Vec<u8>>> {
        let (inner, ns, key) = (self.inner.clone(), ns.table_name(), key.to_string());
        Box::pin(async move {
            retrying(inner.budget, || async {
                let client = inner.client().await?;
                let stmt = client
                    .prepare_cached("SELECT value FROM plinth_kv WHERE ns = $1 AND key = $2")
                    .await
                    .map_err(pg)?;
                let row = client
                    .query_opt(&stmt, &[&ns, &key.as_bytes()])
                    .await
                    .map_err(pg)?;
                Ok(row.map(|row| row.get::<_, Vec<u8>>(0)))
            })
            .await
        })
    }

    fn set(&self, ns: &Namespace, key: &str, value: &[u8]) -> KvFuture<()> {
        let (inner, ns, key) = (self.inner.clone(), ns.table_name(), key.to_string());
        let value = value.to_vec();
        Box::pin(async move {
            let change = move |_: Option<&[u8]>| Ok((Some(value.clone()), 0));
            retrying(inner.budget, || inner.write(&ns, &key, None, &change)).await?;
            Ok(())
        })
    }

    fn delete(&self, ns: &Namespace, key: &str, op: OpId) -> KvFuture<bool> {
        let (inner, ns, key) = (self.inner.clone(), ns.table_name(), key.to_string());
        Box::pin(async move {
            let change = |old: Option<&[u8]>| Ok((None, i64::from(old.is_some())));
            let existed =
                retrying(inner.budget, || inner.write(&ns, &key, Some(op), &change)).await?;
            Ok(existed == 1)
        })
    }

    fn list_keys(&self, ns: &Namespace, prefix: &str, limit: u32) -> KvFuture<Vec<String>> {
        let (inner, ns, prefix) = (self.inner.clone(), ns.table_name(), prefix.to_string());
        Box::pin(async move {
            retrying(inner.budget, || async {
                let client = inner.client().await?;
                // Keys from `prefix` on, in byte order: those with the prefix come
                // first, together; the first without it ends the list.
                let stmt = client
                    .prepare_cached(
                        "SELECT key FROM plinth_kv WHERE ns = $1 AND key >= $2 \
                         ORDER BY key LIMIT $3",
                    )
                    .await
                    .map_err(pg)?;
                let rows = client
                    .query(&stmt, &[&ns, &prefix.as_bytes(), &i64::from(limit)])
                    .await
                    .map_err(pg)?;
                let mut keys = Vec::with_capacity(rows.len());
                for row in rows {
                    let key: Vec<u8> = row.get(0);
                    if !key.starts_with(prefix.as_bytes()) {
                        break;
                    }
                    let key = String::from_utf8(key).map_err(|_| {
                        Attempt::Final(KvError::Io("a stored key is not UTF-8".into()))
                    })?;
                    keys.push(key);
                }
                Ok(keys)
            })
            .await
        })
    }

    fn increment(&self, ns: &Namespace, key: &str, delta: i64, op: OpId) -> KvFuture<i64> {
        let (inner, ns, key) = (self.inner.clone(), ns.table_name(), key.to_string());
        Box::pin(async move {
            let name = key.clone();
            let change = move |old: Option<&[u8]>| {
                let new = incremented(&name, old, delta)?;
                Ok((Some(new.to_string().into_bytes()), new))
            };
            retrying(inner.budget, || inner.write(&ns, &key, Some(op), &change)).await
        })
    }

    fn usage(&self, ns: &Namespace) -> KvFuture<u64> {
        let (inner, ns) = (self.inner.clone(), ns.table_name());
        Box::pin(async move {
            retrying(inner.budget, || async {
                let client = inner.client().await?;
                let stmt = client
                    .prepare_cached("SELECT bytes FROM plinth_kv_usage WHERE ns = $1")
                    .await
                    .map_err(pg)?;
                let row = client.query_opt(&stmt, &[&ns]).await.map_err(pg)?;
                Ok(row.map_or(0, |row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)))
            })
            .await
        })
    }
}
