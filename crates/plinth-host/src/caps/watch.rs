//! `plinth:host/watch`.

use plinth_manifest::Grant;

use crate::bindings::watch;
use crate::host_api::grant_hint;
use crate::state::StoreState;

impl watch::Host for StoreState {
    fn subscribe(
        &mut self,
        dirs: Vec<String>,
        _debounce_ms: u32,
    ) -> Result<u64, watch::WatchError> {
        for dir in dirs {
            let grant = Grant::Watch(dir);
            if !self.plugin.grants.allows(&grant) {
                let hint = grant_hint(&self.plugin.id, &grant);
                self.note_missing_grant(grant);
                return Err(watch::WatchError::MissingGrant(hint));
            }
        }
        Err(watch::WatchError::Io(super::unavailable("watch")))
    }

    fn unsubscribe(&mut self, _id: u64) {}
}
