//! `plinth:host/kv`.

use plinth_manifest::Grant;

use crate::bindings::kv;
use crate::host_api::grant_hint;
use crate::state::StoreState;

impl kv::Host for StoreState {
    fn get(&mut self, _key: String) -> Result<Option<Vec<u8>>, kv::KvError> {
        self.check_kv()?;
        Err(kv::KvError::Io(super::unavailable("kv")))
    }

    fn set(&mut self, _key: String, _value: Vec<u8>) -> Result<(), kv::KvError> {
        self.check_kv()?;
        Err(kv::KvError::Io(super::unavailable("kv")))
    }

    fn delete(&mut self, _key: String) -> Result<bool, kv::KvError> {
        self.check_kv()?;
        Err(kv::KvError::Io(super::unavailable("kv")))
    }

    fn list_keys(&mut self, _prefix: String, _limit: u32) -> Result<Vec<String>, kv::KvError> {
        self.check_kv()?;
        Err(kv::KvError::Io(super::unavailable("kv")))
    }

    fn increment(&mut self, _key: String, _delta: i64) -> Result<i64, kv::KvError> {
        self.check_kv()?;
        Err(kv::KvError::Io(super::unavailable("kv")))
    }
}

impl StoreState {
    fn check_kv(&mut self) -> Result<(), kv::KvError> {
        let allowed = self.plugin.has(&Grant::Kv);
        super::audit(&self.plugin.id, &Grant::Kv, allowed);
        if allowed {
            return Ok(());
        }
        self.note_missing_grant(Grant::Kv);
        Err(kv::KvError::MissingGrant(grant_hint(
            &self.plugin.id,
            &Grant::Kv,
        )))
    }
}
