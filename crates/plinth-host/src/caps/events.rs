//! `plinth:host/events`.

use plinth_manifest::Grant;

use crate::bindings::events;
use crate::host_api::grant_hint;
use crate::state::StoreState;

impl events::Host for StoreState {
    fn publish(&mut self, channel: String, _payload: String) -> Result<(), events::EventsError> {
        let grant = Grant::EventsPublish(channel);
        if !self.plugin.grants.allows(&grant) {
            let hint = grant_hint(&self.plugin.id, &grant);
            self.note_missing_grant(grant);
            return Err(events::EventsError::MissingGrant(hint));
        }
        Err(events::EventsError::RateLimited(super::unavailable(
            "events",
        )))
    }
}
