//! The `hook` kind: the application asks at its hook points whether to go on.

use serde_json::{Map, Value};

use crate::__rt::HookAnswer as WireDecision;
use crate::Plugin;

/// The `hook` kind (world `plinth:hook/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: hook)`.
///
/// The application names hook points (`before-tool-call`, `after-tool-call`, ...) and at
/// each one asks the hooks registered for it, in the manifest's `priority` order, whether
/// to go on. The PDK answers [`Decision::Allow`] for every point not in
/// [`POINTS`](Hook::POINTS) without calling [`handle`](Hook::handle), and parses the payload
/// for it, so `handle` never sees text that is not JSON as an error to deal with.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct NoDeletes;
///
/// impl Plugin for NoDeletes {}
///
/// impl Hook for NoDeletes {
///     const POINTS: &'static [&'static str] = &["before-tool-call"];
///
///     fn handle(event: HookEvent) -> Decision {
///         if event.subject.starts_with("delete_") {
///             Decision::deny(format!("`{}` deletes things", event.subject))
///         } else {
///             Decision::Allow
///         }
///     }
/// }
///
/// plinth_pdk::export!(NoDeletes: hook);
/// # fn main() {}
/// ```
pub trait Hook: Plugin {
    /// The hook points this hook handles: the `point`s of the manifest's
    /// `[[provides.hook]]` entries.
    const POINTS: &'static [&'static str];

    /// Decides about one event at one of [`POINTS`](Hook::POINTS). It runs under the
    /// application's deadline, and a panic is a trap: answer every payload, however odd,
    /// with a decision.
    fn handle(event: HookEvent) -> Decision;
}

/// What happens at a hook point.
#[derive(Debug, Clone, PartialEq)]
pub struct HookEvent {
    /// The hook point, e.g. `before-tool-call`.
    pub point: String,
    /// What the event is about, e.g. the tool's name.
    pub subject: String,
    /// The event's data, parsed: a JSON object from a well-behaved application, and
    /// [`Value::Null`] when the text is not JSON at all ([`raw_payload`](Self::raw_payload)
    /// keeps it).
    pub payload: Value,
    /// The payload as the application sent it.
    pub raw_payload: String,
}

impl HookEvent {
    /// An event with `payload` parsed from `raw_payload`.
    pub fn new(
        point: impl Into<String>,
        subject: impl Into<String>,
        raw_payload: impl Into<String>,
    ) -> Self {
        let raw_payload = raw_payload.into();
        let payload = serde_json::from_str(&raw_payload).unwrap_or(Value::Null);
        Self {
            point: point.into(),
            subject: subject.into(),
            payload,
            raw_payload,
        }
    }

    /// The payload when it is a JSON object.
    pub fn payload_object(&self) -> Option<&Map<String, Value>> {
        self.payload.as_object()
    }
}

/// A hook's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Go on with the payload as it is.
    Allow,
    /// Stop: the application does not go on. The text is the reason, for a person; the PDK
    /// sends a generic reason in place of an empty one.
    Deny(String),
    /// Go on with this payload instead.
    Modify(Map<String, Value>),
}

impl Decision {
    /// [`Decision::Deny`] with `reason`.
    pub fn deny(reason: impl Into<String>) -> Self {
        Self::Deny(reason.into())
    }

    /// [`Decision::Modify`] with `payload`.
    pub fn modify(payload: Map<String, Value>) -> Self {
        Self::Modify(payload)
    }
}

/// `hook.handle`: points the hook does not declare are allowed without running it; the
/// answer carries the `modify` payload as JSON text and a reason in every `deny`.
pub(crate) fn handle<H: Hook>(point: String, subject: String, payload: String) -> WireDecision {
    if !H::POINTS.contains(&point.as_str()) {
        return WireDecision::Allow;
    }
    let event = HookEvent::new(point, subject, payload);
    let point = event.point.clone();
    match H::handle(event) {
        Decision::Allow => WireDecision::Allow,
        Decision::Deny(reason) if reason.trim().is_empty() => {
            WireDecision::Deny(format!("denied by a hook at `{point}`"))
        }
        Decision::Deny(reason) => WireDecision::Deny(reason),
        Decision::Modify(payload) => WireDecision::Modify(Value::Object(payload).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    struct Guard;

    impl Plugin for Guard {}

    impl Hook for Guard {
        const POINTS: &'static [&'static str] = &["before-tool-call"];

        fn handle(event: HookEvent) -> Decision {
            match event.subject.as_str() {
                "quiet" => Decision::deny(""),
                "trim" => {
                    let mut payload = event.payload_object().cloned().unwrap_or_default();
                    payload.insert("text".into(), json!("trimmed"));
                    Decision::modify(payload)
                }
                "rm" => Decision::deny("no rm"),
                _ => Decision::Allow,
            }
        }
    }

    fn run(point: &str, subject: &str, payload: &str) -> WireDecision {
        handle::<Guard>(point.into(), subject.into(), payload.into())
    }

    #[test]
    fn undeclared_points_are_allowed_without_running_the_hook() {
        assert_eq!(run("after-tool-call", "rm", "{}"), WireDecision::Allow);
        assert_eq!(
            run("before-tool-call", "rm", "{}"),
            WireDecision::Deny("no rm".into())
        );
    }

    #[test]
    fn an_empty_reason_becomes_a_generic_one() {
        assert_eq!(
            run("before-tool-call", "quiet", "{}"),
            WireDecision::Deny("denied by a hook at `before-tool-call`".into())
        );
    }

    #[test]
    fn modify_sends_an_object_and_odd_payloads_reach_the_hook_parsed() {
        assert_eq!(
            run("before-tool-call", "trim", "not json"),
            WireDecision::Modify(r#"{"text":"trimmed"}"#.into())
        );
        let event = HookEvent::new("p", "s", "not json");
        assert_eq!(event.payload, Value::Null);
        assert_eq!(event.raw_payload, "not json");
        assert_eq!(HookEvent::new("p", "s", "[1]").payload_object(), None);
    }
}
