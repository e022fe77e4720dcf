//! BitVault's object-event handler:
//!
//! - every event adds one to `events:ACTION` in the plugin's key-value store, which the
//!   host scopes to the event's tenant;
//! - an object of type `application/x-msdownload` is rejected;
//! - an object created under `incoming/` is held once: the first delivery of its event
//!   answers `retry` after 50 ms (it is being scanned), a later delivery of the same event
//!   id `ok`.

use plinth_pdk::prelude::*;

struct Events;

impl Plugin for Events {}

/// How long a held object waits before its event is delivered again.
const HOLD_MS: u32 = 50;

fn action(action: ObjectAction) -> &'static str {
    match action {
        ObjectAction::Created => "created",
        ObjectAction::Updated => "updated",
        ObjectAction::Deleted => "deleted",
    }
}

impl EventHandler for Events {
    fn handle(event: ObjectEvent) -> EventOutcome {
        // Counting is best effort: without the `kv` grant events are still handled.
        let _ = kv::increment(&format!("events:{}", action(event.action)), 1);
        if event.media_type == "application/x-msdownload" {
            return EventOutcome::Reject("executables are not accepted".into());
        }
        if event.action == ObjectAction::Created && event.path.starts_with("incoming/") {
            let held = format!("held:{}", event.id);
            if matches!(kv::get(&held), Ok(None)) && kv::set(&held, "1").is_ok() {
                return EventOutcome::Retry(HOLD_MS);
            }
        }
        EventOutcome::Ok
    }
}

plinth_pdk::export!(Events: event_handler);
