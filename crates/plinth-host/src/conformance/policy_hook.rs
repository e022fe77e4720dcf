//! The `policy-hook` kit's steps (docs/design/0045): the case's request decided under the
//! case's deadline.
//!
//! "Answers" means a decision the host accepts (`allow`, a `deny` with a reason, an `add`
//! with distinct names), in time; not a trap, not a timeout.

use std::time::Duration;

use serde_json::Value;

use super::run::{Check, Verdict, clean, fail, unknown};
use super::suite::Case;
use crate::kinds::{PolicyHook, PolicyRequest};
use crate::plugin::Plugin;

/// The deadline of a case that names none.
const DEFAULT_DEADLINE: Duration = Duration::from_millis(2_000);

pub(super) fn step(case: &Case, plugin: &Plugin) -> Check {
    let hooks = plugin
        .kind::<PolicyHook>()
        .map_err(|e| fail(e.to_string()))?;
    let request = request(case)?;
    let deadline = case
        .deadline_ms
        .map_or(DEFAULT_DEADLINE, Duration::from_millis);
    let decide = || hooks.decide(&request, deadline);
    match (case.step.as_str(), case.expect.as_str()) {
        ("decide", "answers") => match decide() {
            Ok(_) => Ok(()),
            Err(e) if clean(&e) => Ok(()),
            Err(e) => Err(fail(format!(
                "`{}` on {:?}: {e}",
                request.operation, request.path
            ))),
        },
        ("decide", "same-twice") => {
            let first = decide().map_err(|e| fail(e.to_string()))?;
            let second = decide().map_err(|e| fail(e.to_string()))?;
            if first == second {
                Ok(())
            } else {
                Err(fail(format!(
                    "the same request got {first:?}, then {second:?}"
                )))
            }
        }
        (_, other) => Err(unknown(case, other)),
    }
}

/// The case's `request` table (`operation`, `subject`, `tenant`, `path`, `attributes`);
/// `attributes = "many:N"` is N attributes, `path = "large:N"` a path of N bytes.
fn request(case: &Case) -> Result<PolicyRequest, Verdict> {
    let table = match &case.request {
        Some(Value::Object(table)) => table.clone(),
        None => Default::default(),
        Some(other) => return Err(fail(format!("unknown `request = {other}` in the suite"))),
    };
    let text = |key: &str, default: &str| {
        table
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let path = super::inputs::sized(&text("path", "photos/cat.png"));
    let attributes = super::inputs::attributes(table.get("attributes"))?;
    Ok(PolicyRequest {
        operation: text("operation", "get"),
        subject: text("subject", "alice"),
        tenant: text("tenant", "acme"),
        path,
        attributes,
    })
}
