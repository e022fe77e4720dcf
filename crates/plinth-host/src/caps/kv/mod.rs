//! `plinth:host/kv`: the guest side of [`KvStore`].

mod store;

pub use store::{KvError, KvLimits, KvStore, Namespace};

use std::sync::Arc;

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

/// The key-value state of one plugin: the host's store (when it has a data directory)
/// and the plugin's namespace in it.
#[derive(Debug)]
pub(crate) struct KvState {
    pub(crate) store: Option<Arc<KvStore>>,
    pub(crate) namespace: Namespace,
}

/// What `kv` sees of a call.
pub(crate) struct KvView<'a> {
    pub(crate) gate: CallGate<'a>,
    pub(crate) state: &'a KvState,
}

linked_through!(
    /// Links `plinth:host/kv` to a [`KvView`].
    Kv => KvView
);

impl kv::Host for KvView<'_> {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, kv::KvError> {
        let (store, ns) = self.check()?;
        Ok(store.get(ns, &key)?)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), kv::KvError> {
        let (store, ns) = self.check()?;
        Ok(store.set(ns, &key, &value)?)
    }

    fn delete(&mut self, key: String) -> Result<bool, kv::KvError> {
        let (store, ns) = self.check()?;
        Ok(store.delete(ns, &key)?)
    }

    fn list_keys(&mut self, prefix: String, limit: u32) -> Result<Vec<String>, kv::KvError> {
        let (store, ns) = self.check()?;
        Ok(store.list_keys(ns, &prefix, limit)?)
    }

    fn increment(&mut self, key: String, delta: i64) -> Result<i64, kv::KvError> {
        let (store, ns) = self.check()?;
        Ok(store.increment(ns, &key, delta)?)
    }
}

impl<'a> KvView<'a> {
    /// The grant, then the store and the plugin's namespace in it.
    fn check(&mut self) -> Result<(&'a KvStore, &'a Namespace), kv::KvError> {
        self.gate.check(Grant::Kv)?;
        let store = self.state.store.as_deref().ok_or_else(|| {
            kv::KvError::Io("the host has no data directory for the key-value store".into())
        })?;
        Ok((store, &self.state.namespace))
    }
}
