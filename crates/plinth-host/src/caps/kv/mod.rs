//! `plinth:host/kv`: the guest side of [`KvStore`].

mod backend;
mod postgres;
mod redis;
mod store;
mod tls;

pub use backend::{Kv, KvBackend, KvBackendKind, KvFuture, KvSettings, OpId};
pub use postgres::PostgresKv;
pub use redis::RedisKv;
pub use store::{KvError, KvLimits, KvStore, Namespace};

use plinth_manifest::Grant;

use super::gate::CallGate;
use crate::bindings::kv;

impl From<KvError> for kv::KvError {
    fn from(e: KvError) -> Self {
        match e {
            KvError::TooLarge(m) => kv::KvError::TooLarge(m),
            KvError::QuotaExceeded(m) => kv::KvError::QuotaExceeded(m),
            KvError::NotANumber(m) => kv::KvError::NotANumber(m),
            KvError::Io(m) => kv::KvError::Io(m),
        }
    }
}

/// The key-value state of one plugin: the host's store (when it has a data directory or
/// a server backend) and the plugin's namespace in it.
#[derive(Debug)]
pub(crate) struct KvState {
    pub(crate) store: Option<Kv>,
    pub(crate) namespace: Namespace,
}

/// What `kv` sees of a call.
pub(crate) struct KvView<'a> {
    pub(crate) gate: CallGate<'a>,
    pub(crate) state: &'a KvState,
}

linked_through!(
    /// Links `plinth:host/kv` to a [`KvView`].
    KvLink => KvView
);

// Async (docs/design/0061): a server backend's wait makes the call pending, which arms
// its wall-clock timer; redb answers on the first poll, as a sync call would.
impl kv::Host for KvView<'_> {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, kv::KvError> {
        let (store, ns) = self.check()?;
        Ok(store.get(ns, &key).await?)
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), kv::KvError> {
        let (store, ns) = self.check()?;
        Ok(store.set(ns, &key, &value).await?)
    }

    async fn delete(&mut self, key: String) -> Result<bool, kv::KvError> {
        let (store, ns) = self.check()?;
        Ok(store.delete(ns, &key).await?)
    }

    async fn list_keys(&mut self, prefix: String, limit: u32) -> Result<Vec<String>, kv::KvError> {
        let (store, ns) = self.check()?;
        Ok(store.list_keys(ns, &prefix, limit).await?)
    }

    async fn increment(&mut self, key: String, delta: i64) -> Result<i64, kv::KvError> {
        let (store, ns) = self.check()?;
        Ok(store.increment(ns, &key, delta).await?)
    }
}

impl<'a> KvView<'a> {
    /// The grant, then the store and the plugin's namespace in it.
    fn check(&mut self) -> Result<(&'a Kv, &'a Namespace), kv::KvError> {
        self.gate.check(Grant::Kv)?;
        let store = self.state.store.as_ref().ok_or_else(|| {
            kv::KvError::Io(
                "the host has no key-value store (no data directory and no [kv] server)".into(),
            )
        })?;
        Ok((store, &self.state.namespace))
    }
}
