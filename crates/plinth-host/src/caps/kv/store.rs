//! [`KvStore`]: the embedded database behind `plinth:host/kv` (redb, one file).
//!
//! Each (tenant, plugin) pair has its own table, so one namespace can never read or list
//! another's keys. A per-namespace byte count in the `usage` table enforces the quota in
//! the same transaction as the write. Every write commits with `Durability::Immediate`:
//! when a call returns `Ok`, the data is on disk.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::backend::{KvBackend, KvFuture, OpId, check_key, check_value, incremented, usage_after};

/// Size caps of the key-value store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvLimits {
    /// Longest key, in bytes.
    pub max_key_bytes: usize,
    /// Largest value, in bytes.
    pub max_value_bytes: usize,
    /// Bytes (keys plus values) one plugin may keep, per tenant.
    pub quota_bytes: u64,
}

impl Default for KvLimits {
    fn default() -> Self {
        Self {
            max_key_bytes: 1024,
            max_value_bytes: 1024 * 1024,
            quota_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// A key or value over [`KvLimits`].
    #[error("{0}")]
    TooLarge(String),
    /// The write would take the namespace over its quota.
    #[error("{0}")]
    QuotaExceeded(String),
    /// `increment` on a value that is not a decimal i64, or overflow.
    #[error("{0}")]
    NotANumber(String),
    /// The database failed.
    #[error("{0}")]
    Io(String),
}

/// Whose keys: a plugin, optionally within a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace {
    /// The embedder's tenant, if any.
    pub tenant: Option<String>,
    /// The plugin id.
    pub plugin: String,
}

impl Namespace {
    /// An unambiguous name (JSON of the pair, so no separator can collide): the redb
    /// table's, and the key of the namespace on server backends.
    pub(crate) fn table_name(&self) -> String {
        let name = serde_json::json!([self.tenant, self.plugin]).to_string();
        format!("kv:{name}")
    }
}

const USAGE: TableDefinition<&str, u64> = TableDefinition::new("usage");

/// The key-value database file. Cheap to share behind an `Arc`; redb serializes writers.
#[derive(Debug)]
pub struct KvStore {
    db: Database,
    path: PathBuf,
    limits: KvLimits,
}

fn io(e: impl std::fmt::Display) -> KvError {
    KvError::Io(e.to_string())
}

impl KvStore {
    /// Opens (creating) the database at `path`, creating its parent directory.
    pub fn open(path: impl AsRef<Path>, limits: KvLimits) -> Result<KvStore, KvError> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| KvError::Io(format!("creating {}: {e}", parent.display())))?;
        }
        let db = Database::create(&path)
            .map_err(|e| KvError::Io(format!("opening {}: {e}", path.display())))?;
        Ok(KvStore { db, path, limits })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The caps in force.
    pub fn limits(&self) -> &KvLimits {
        &self.limits
    }

    fn check_key(&self, key: &str) -> Result<(), KvError> {
        check_key(&self.limits, key)
    }

    /// The value under `key`.
    pub fn get(&self, ns: &Namespace, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.check_key(key)?;
        let name = ns.table_name();
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        let txn = self.db.begin_read().map_err(io)?;
        let table = match txn.open_table(def) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let value = table.get(key).map_err(io)?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    /// Keys starting with `prefix`, sorted, at most `limit`.
    pub fn list_keys(
        &self,
        ns: &Namespace,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, KvError> {
        let name = ns.table_name();
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        let txn = self.db.begin_read().map_err(io)?;
        let table = match txn.open_table(def) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(io(e)),
        };
        let mut keys = Vec::new();
        for entry in table.range(prefix..).map_err(io)? {
            if keys.len() >= limit as usize {
                break;
            }
            let (key, _) = entry.map_err(io)?;
            let key = key.value();
            if !key.starts_with(prefix) {
                break;
            }
            keys.push(key.to_string());
        }
        Ok(keys)
    }

    /// Runs `change` on the current value of `key` inside one write transaction and
    /// stores what it returns (`None` deletes), keeping the quota; commits durably.
    fn update<T>(
        &self,
        ns: &Namespace,
        key: &str,
        change: impl FnOnce(Option<&[u8]>) -> Result<(Option<Vec<u8>>, T), KvError>,
    ) -> Result<T, KvError> {
        self.check_key(key)?;
        let name = ns.table_name();
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        let txn = self.db.begin_write().map_err(io)?;
        let out = {
            let mut table = txn.open_table(def).map_err(io)?;
            let mut usage = txn.open_table(USAGE).map_err(io)?;
            let old = table.get(key).map_err(io)?.map(|v| v.value().to_vec());
            let (new, out) = change(old.as_deref())?;
            if let Some(value) = &new {
                check_value(&self.limits, value)?;
            }
            let used = usage
                .get(name.as_str())
                .map_err(io)?
                .map_or(0, |v| v.value());
            let after = usage_after(&self.limits, key, used, old.as_deref(), new.as_deref())?;
            match &new {
                Some(value) => {
                    table.insert(key, value.as_slice()).map_err(io)?;
                }
                None => {
                    table.remove(key).map_err(io)?;
                }
            }
            usage.insert(name.as_str(), after).map_err(io)?;
            out
        };
        txn.commit().map_err(io)?;
        Ok(out)
    }

    /// Stores `value` under `key`; returns after the commit is on disk.
    pub fn set(&self, ns: &Namespace, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.update(ns, key, |_| Ok((Some(value.to_vec()), ())))
    }

    /// Removes `key`; true when it existed.
    pub fn delete(&self, ns: &Namespace, key: &str) -> Result<bool, KvError> {
        self.update(ns, key, |old| Ok((None, old.is_some())))
    }

    /// Adds `delta` to the decimal integer under `key` (absent is 0), atomically.
    pub fn increment(&self, ns: &Namespace, key: &str, delta: i64) -> Result<i64, KvError> {
        self.update(ns, key, |old| {
            let new = incremented(key, old, delta)?;
            Ok((Some(new.to_string().into_bytes()), new))
        })
    }

    /// Bytes (keys plus values) the namespace keeps.
    pub fn usage(&self, ns: &Namespace) -> Result<u64, KvError> {
        let txn = self.db.begin_read().map_err(io)?;
        let usage = match txn.open_table(USAGE) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
            Err(e) => return Err(io(e)),
        };
        let used = usage.get(ns.table_name().as_str()).map_err(io)?;
        Ok(used.map_or(0, |v| v.value()))
    }
}

/// The embedded default: every operation runs in place (a write waits for its commit
/// on disk, as it always has).
impl KvBackend for KvStore {
    fn name(&self) -> &'static str {
        "redb"
    }

    fn is_local(&self) -> bool {
        true
    }

    fn get(&self, ns: &Namespace, key: &str) -> KvFuture<Option<Vec<u8>>> {
        Box::pin(std::future::ready(KvStore::get(self, ns, key)))
    }

    fn set(&self, ns: &Namespace, key: &str, value: &[u8]) -> KvFuture<()> {
        Box::pin(std::future::ready(KvStore::set(self, ns, key, value)))
    }

    fn delete(&self, ns: &Namespace, key: &str, _op: OpId) -> KvFuture<bool> {
        Box::pin(std::future::ready(KvStore::delete(self, ns, key)))
    }

    fn list_keys(&self, ns: &Namespace, prefix: &str, limit: u32) -> KvFuture<Vec<String>> {
        Box::pin(std::future::ready(KvStore::list_keys(
            self, ns, prefix, limit,
        )))
    }

    fn increment(&self, ns: &Namespace, key: &str, delta: i64, _op: OpId) -> KvFuture<i64> {
        Box::pin(std::future::ready(KvStore::increment(self, ns, key, delta)))
    }

    fn usage(&self, ns: &Namespace) -> KvFuture<u64> {
        Box::pin(std::future::ready(KvStore::usage(self, ns)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(tenant: Option<&str>, plugin: &str) -> Namespace {
        Namespace {
            tenant: tenant.map(str::to_string),
            plugin: plugin.into(),
        }
    }

    fn store(limits: KvLimits) -> (tempfile::TempDir, KvStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = KvStore::open(dir.path().join("data/kv.redb"), limits).unwrap();
        (dir, store)
    }

    #[test]
    fn set_get_delete_list() {
        let (_dir, kv) = store(KvLimits::default());
        let a = ns(None, "a");
        assert_eq!(kv.get(&a, "k").unwrap(), None);
        kv.set(&a, "user:1", b"one").unwrap();
        kv.set(&a, "user:2", b"two").unwrap();
        kv.set(&a, "vser", b"x").unwrap();
        assert_eq!(kv.get(&a, "user:1").unwrap().as_deref(), Some(&b"one"[..]));
        assert_eq!(kv.list_keys(&a, "user:", 10).unwrap(), ["user:1", "user:2"]);
        assert_eq!(kv.list_keys(&a, "user:", 1).unwrap(), ["user:1"]);
        assert_eq!(kv.list_keys(&a, "", 10).unwrap().len(), 3);
        assert!(kv.delete(&a, "user:1").unwrap());
        assert!(!kv.delete(&a, "user:1").unwrap());
        assert_eq!(kv.get(&a, "user:1").unwrap(), None);
        assert_eq!(
            kv.usage(&a).unwrap(),
            ("user:2".len() + 3 + "vser".len() + 1) as u64
        );
    }

    #[test]
    fn increment_is_decimal_and_checked() {
        let (_dir, kv) = store(KvLimits::default());
        let a = ns(None, "a");
        assert_eq!(kv.increment(&a, "n", 5).unwrap(), 5);
        assert_eq!(kv.increment(&a, "n", -7).unwrap(), -2);
        assert_eq!(kv.get(&a, "n").unwrap().as_deref(), Some(&b"-2"[..]));
        kv.set(&a, "s", b"abc").unwrap();
        assert!(matches!(
            kv.increment(&a, "s", 1),
            Err(KvError::NotANumber(_))
        ));
        kv.set(&a, "max", i64::MAX.to_string().as_bytes()).unwrap();
        assert!(matches!(
            kv.increment(&a, "max", 1),
            Err(KvError::NotANumber(_))
        ));
    }

    #[test]
    fn caps_and_quota() {
        let limits = KvLimits {
            max_key_bytes: 8,
            max_value_bytes: 16,
            quota_bytes: 40,
        };
        let (_dir, kv) = store(limits);
        let a = ns(None, "a");
        assert!(matches!(
            kv.set(&a, "123456789", b""),
            Err(KvError::TooLarge(_))
        ));
        assert!(matches!(
            kv.set(&a, "k", &[0; 17]),
            Err(KvError::TooLarge(_))
        ));
        kv.set(&a, "k1", &[0; 16]).unwrap(); // 18
        kv.set(&a, "k2", &[0; 16]).unwrap(); // 36
        let err = kv.set(&a, "k3", &[0; 16]).unwrap_err();
        assert!(matches!(err, KvError::QuotaExceeded(_)), "{err:?}");
        assert_eq!(
            kv.get(&a, "k3").unwrap(),
            None,
            "a refused write stores nothing"
        );
        // Shrinking or replacing within the quota still works; deleting frees room.
        kv.set(&a, "k2", &[0; 4]).unwrap();
        kv.delete(&a, "k1").unwrap();
        kv.set(&a, "k3", &[0; 16]).unwrap();
        assert_eq!(kv.usage(&a).unwrap(), 6 + 18);
        // Another plugin has its own quota.
        kv.set(&ns(None, "b"), "k1", &[0; 16]).unwrap();
    }

    #[test]
    fn namespaces_are_isolated() {
        let (_dir, kv) = store(KvLimits::default());
        let t1 = ns(Some("acme"), "p");
        let t2 = ns(Some("globex"), "p");
        let bare = ns(None, "p");
        kv.set(&t1, "secret", b"acme").unwrap();
        kv.set(&t2, "secret", b"globex").unwrap();
        assert_eq!(
            kv.get(&t1, "secret").unwrap().as_deref(),
            Some(&b"acme"[..])
        );
        assert_eq!(
            kv.get(&t2, "secret").unwrap().as_deref(),
            Some(&b"globex"[..])
        );
        assert_eq!(kv.get(&bare, "secret").unwrap(), None);
        assert_eq!(kv.list_keys(&bare, "", 10).unwrap(), Vec::<String>::new());
        kv.delete(&t1, "secret").unwrap();
        assert_eq!(
            kv.get(&t2, "secret").unwrap().as_deref(),
            Some(&b"globex"[..])
        );
        // A tenant named like a separator cannot reach another namespace.
        let tricky = ns(Some("acme\",\"p"), "");
        assert_eq!(kv.get(&tricky, "secret").unwrap(), None);
    }
}
