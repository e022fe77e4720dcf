//! The `event-handler` kit's steps (docs/design/0045): the case's event, delivered to the
//! guest whatever actions the manifest declares (a handler answers every event, if only
//! with `ok`).
//!
//! "Answers" means an outcome the host accepts (`ok`, a `reject` with a reason, a `retry`
//! within a day); not a trap, not a limit.

use std::time::Duration;

use plinth_manifest::ObjectAction;
use serde_json::Value;

use super::run::{Check, clean, fail, unknown};
use super::suite::Case;
use crate::kinds::{EventHandler, EventOutcome, ObjectEvent};
use crate::plugin::Plugin;

/// The longest retry delay the kit accepts: an hour (the host accepts a day).
const KIT_MAX_RETRY: Duration = Duration::from_secs(60 * 60);

pub(super) fn step(case: &Case, plugin: &Plugin) -> Check {
    let handlers = plugin
        .kind::<EventHandler>()
        .map_err(|e| fail(e.to_string()))?;
    let event = event(case)?;
    let handle = || handlers.handle_guest(&event);
    match (case.step.as_str(), case.expect.as_str()) {
        ("handle", "answers") => match handle() {
            Ok(_) => Ok(()),
            Err(e) if clean(&e) => Ok(()),
            Err(e) => Err(fail(format!("`{}` event: {e}", event.action))),
        },
        ("handle", "same-twice") => {
            let first = handle().map_err(|e| fail(e.to_string()))?;
            let second = handle().map_err(|e| fail(e.to_string()))?;
            if first == second {
                Ok(())
            } else {
                Err(fail(format!(
                    "the same event got {first:?}, then {second:?}"
                )))
            }
        }
        ("handle", "retry-bounded") => match handle().map_err(|e| fail(e.to_string()))? {
            EventOutcome::Retry(after) if after > KIT_MAX_RETRY => Err(fail(format!(
                "asks for a retry after {} ms, later than an hour",
                after.as_millis()
            ))),
            _ => Ok(()),
        },
        (_, other) => Err(unknown(case, other)),
    }
}

/// The case's `event` table: `action` (default `created`), `path`, `size`,
/// `media_type`, `digest`, `attributes` (a table, or `"many:N"`); `path = "large:N"` is a
/// path of N bytes.
fn event(case: &Case) -> Result<ObjectEvent, super::run::Verdict> {
    let table = match &case.event {
        Some(Value::Object(table)) => table.clone(),
        None => Default::default(),
        Some(other) => return Err(fail(format!("unknown `event = {other}` in the suite"))),
    };
    let text = |key: &str, default: &str| {
        table
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let action = match text("action", "created").as_str() {
        "created" => ObjectAction::Created,
        "updated" => ObjectAction::Updated,
        "deleted" => ObjectAction::Deleted,
        other => return Err(fail(format!("unknown event action {other:?} in the suite"))),
    };
    let path = super::inputs::sized(&text("path", "photos/cat.png"));
    let attributes = super::inputs::attributes(table.get("attributes"))?;
    Ok(ObjectEvent {
        id: text("id", "conformance-event-1"),
        action,
        tenant: text("tenant", "acme"),
        path,
        size: table.get("size").and_then(Value::as_u64).unwrap_or(1024),
        media_type: text("media_type", "image/png"),
        digest: text(
            "digest",
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ),
        at_ms: 1_700_000_000_000,
        attributes,
    })
}
