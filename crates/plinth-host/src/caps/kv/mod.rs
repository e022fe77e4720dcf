//! `plinth:host/kv`: the guest side of [`KvStore`].

mod store;

pub use store::{KvError, KvLimits, KvStore, Namespace};

use plinth_manifest::Grant;

use crate::bindings::kv;
use crate::host_api::grant_hint;
use crate::state::StoreState;

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

impl kv::Host for StoreState {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, kv::KvError> {
        let (store, ns) = self.check_kv()?;
        Ok(store.get(&ns, &key)?)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), kv::KvError> {
        let (store, ns) = self.check_kv()?;
        Ok(store.set(&ns, &key, &value)?)
    }

    fn delete(&mut self, key: String) -> Result<bool, kv::KvError> {
        let (store, ns) = self.check_kv()?;
        Ok(store.delete(&ns, &key)?)
    }

    fn list_keys(&mut self, prefix: String, limit: u32) -> Result<Vec<String>, kv::KvError> {
        let (store, ns) = self.check_kv()?;
        Ok(store.list_keys(&ns, &prefix, limit)?)
    }

    fn increment(&mut self, key: String, delta: i64) -> Result<i64, kv::KvError> {
        let (store, ns) = self.check_kv()?;
        Ok(store.increment(&ns, &key, delta)?)
    }
}

impl StoreState {
    fn check_kv(&mut self) -> Result<(std::sync::Arc<KvStore>, Namespace), kv::KvError> {
        let allowed = self.plugin.has(&Grant::Kv);
        super::audit(&self.plugin.id, &Grant::Kv, allowed);
        if !allowed {
            self.note_missing_grant(Grant::Kv);
            return Err(kv::KvError::MissingGrant(grant_hint(
                &self.plugin.id,
                &Grant::Kv,
            )));
        }
        let store = self.plugin.caps.kv.clone().ok_or_else(|| {
            kv::KvError::Io("the host has no data directory for the key-value store".into())
        })?;
        let ns = Namespace {
            tenant: self.plugin.caps.tenant.clone(),
            plugin: self.plugin.id.clone(),
        };
        Ok((store, ns))
    }
}
