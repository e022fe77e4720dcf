//! Per-plugin status and the event stream embedders subscribe to.

use plinth_manifest::diagnostic::Diagnostic;
use serde::Serialize;

/// Where a plugin stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", content = "diagnostic", rename_all = "kebab-case")]
pub enum Status {
    /// Being loaded (compiled, linked, `on-load` called).
    Loading,
    /// Serving calls.
    Ready,
    /// Failed to load, crashed repeatedly, or a reload was refused; see the diagnostic.
    Error(Diagnostic),
    /// Not enabled (or removed from the state).
    Disabled,
}

impl Status {
    /// `loading`, `ready`, `error` or `disabled`.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Loading => "loading",
            Status::Ready => "ready",
            Status::Error(_) => "error",
            Status::Disabled => "disabled",
        }
    }
}

/// One status change.
///
/// Events are sent in the order the changes happen: for one plugin always `Loading`
/// before its `Ready` or `Error`; `seq` increases by one per event over the whole manager,
/// so a subscriber that lagged (the channel keeps the last 1024) sees the gap and can read
/// [`crate::Manager::statuses`] instead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusEvent {
    /// Sequence number, from 1.
    pub seq: u64,
    /// Plugin id.
    pub id: String,
    /// The new status.
    pub status: Status,
    /// The version that serves calls now, if any (after a refused reload: the old one).
    pub serving: Option<String>,
    /// The kinds the serving version provides (none while nothing serves): a registry of
    /// providers follows these events ([`crate::Manager::providers`]).
    pub kinds: Vec<plinth_manifest::Kind>,
}
