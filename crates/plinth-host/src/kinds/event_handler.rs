//! The `event-handler` kind (docs/design/0045): a storage server's object events in,
//! `ok`, `reject(reason)` or `retry(after)` out.

use std::time::Duration;

use plinth_manifest::{EventHandlerDecl, Kind, ObjectAction};

use super::{Binding, Checker, KindError, block};
use crate::bindings::event_handler_v0_1::exports::plinth::event_handler::event_handler as v1;
use crate::error::HostError;
use crate::plugin::Plugin;

/// The longest retry delay a handler may ask for: a day. A longer one is `invalid-output`.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(v1::ObjectEvent,), (v1::Outcome,)>(
        "handle",
        "func(event: object-event) -> outcome",
    )
}

/// One event about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    /// A unique id of the event; a retried delivery keeps it.
    pub id: String,
    /// What happened.
    pub action: ObjectAction,
    /// The tenant owning the object.
    pub tenant: String,
    /// The object's key inside the tenant.
    pub path: String,
    /// The object's size in bytes.
    pub size: u64,
    /// The object's media type.
    pub media_type: String,
    /// A digest of the content, e.g. `sha256:…` (empty for a deletion).
    pub digest: String,
    /// When it happened, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Further attributes (user metadata), in order.
    pub attributes: Vec<(String, String)>,
}

impl ObjectEvent {
    /// An event `id` of `action` on `path` of `tenant`, with no size, type or attributes.
    pub fn new(
        id: impl Into<String>,
        action: ObjectAction,
        tenant: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            action,
            tenant: tenant.into(),
            path: path.into(),
            size: 0,
            media_type: String::new(),
            digest: String::new(),
            at_ms: 0,
            attributes: Vec::new(),
        }
    }
}

/// A handler's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// Handled.
    Ok,
    /// Refused for good, for this reason.
    Reject(String),
    /// Deliver again after this long (at most [`MAX_RETRY_AFTER`]).
    Retry(Duration),
}

/// The `event-handler` kind of one plugin:
/// [`Plugin::kind`]`::<`[`EventHandler`](super::EventHandler)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct EventHandlers<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> EventHandlers<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// The manifest's `[[provides.event-handler]]` entries; nothing runs.
    pub fn handlers(&self) -> &'p [EventHandlerDecl] {
        self.plugin
            .manifest()
            .map_or(&[], |m| m.provides.event_handler.as_slice())
    }

    /// Whether any entry takes `action` (a component without a manifest takes every one).
    pub fn accepts(&self, action: ObjectAction) -> bool {
        let handlers = self.handlers();
        handlers.is_empty() || handlers.iter().any(|h| h.actions.contains(&action))
    }

    /// Delivers `event` to a fresh instance. An action no entry takes is `unknown-format`
    /// without running the plugin; a `reject` without a reason or a retry later than
    /// [`MAX_RETRY_AFTER`] is `invalid-output`.
    pub async fn handle_async(&self, event: &ObjectEvent) -> Result<EventOutcome, KindError> {
        if !self.accepts(event.action) {
            let mut accepted: Vec<String> = self
                .handlers()
                .iter()
                .flat_map(|h| h.actions.iter().map(|a| a.to_string()))
                .collect();
            accepted.sort();
            accepted.dedup();
            return Err(KindError::NotAccepted {
                plugin: self.plugin.id().into(),
                kind: Kind::EventHandler,
                input: format!("the action `{}`", event.action),
                accepted,
            });
        }
        self.handle_guest_async(event).await
    }

    /// [`Self::handle_async`] without the manifest's action check: what the guest does
    /// with any event.
    pub(crate) async fn handle_guest_async(
        &self,
        event: &ObjectEvent,
    ) -> Result<EventOutcome, KindError> {
        let wit = v1::ObjectEvent {
            id: event.id.clone(),
            action: match event.action {
                ObjectAction::Created => v1::Action::Created,
                ObjectAction::Updated => v1::Action::Updated,
                ObjectAction::Deleted => v1::Action::Deleted,
            },
            tenant: event.tenant.clone(),
            path: event.path.clone(),
            size: event.size,
            media_type: event.media_type.clone(),
            digest: event.digest.clone(),
            at_ms: event.at_ms,
            attributes: event.attributes.clone(),
        };
        let (outcome,): (v1::Outcome,) = self
            .plugin
            .call_async(&self.binding.func("handle"), (wit,))
            .await?;
        let invalid = |reason: String| KindError::InvalidOutput {
            plugin: self.plugin.id().into(),
            what: format!("event handler on `{}`", event.action),
            reason,
        };
        match outcome {
            v1::Outcome::Ok => Ok(EventOutcome::Ok),
            v1::Outcome::Reject(reason) if reason.trim().is_empty() => Err(invalid(
                "`reject` without a reason: say why, for the person reading the log".into(),
            )),
            v1::Outcome::Reject(reason) => Ok(EventOutcome::Reject(reason)),
            v1::Outcome::Retry(ms) => {
                let after = Duration::from_millis(u64::from(ms));
                if after > MAX_RETRY_AFTER {
                    Err(invalid(format!(
                        "`retry` after {ms} ms, later than the longest delay ({} ms)",
                        MAX_RETRY_AFTER.as_millis()
                    )))
                } else {
                    Ok(EventOutcome::Retry(after))
                }
            }
        }
    }

    /// Blocking [`Self::handle_async`].
    pub fn handle(&self, event: &ObjectEvent) -> Result<EventOutcome, KindError> {
        block(
            self.plugin,
            &self.binding.func("handle"),
            self.handle_async(event),
        )
    }

    /// Blocking [`Self::handle_guest_async`].
    pub(crate) fn handle_guest(&self, event: &ObjectEvent) -> Result<EventOutcome, KindError> {
        block(
            self.plugin,
            &self.binding.func("handle"),
            self.handle_guest_async(event),
        )
    }
}
