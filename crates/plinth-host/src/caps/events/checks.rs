//! The checks a published payload passes before the bus forwards it (docs/design/0066): a
//! JSON Schema per channel pattern, and the embedder's own validators. A refused event is
//! forwarded to no one, and the publishing call fails with `rejected-schema`.

use std::sync::Arc;

use super::{PublishedEvent, channel_matches};

/// An embedder's check of a published event: `Err(reason)` refuses it.
pub type EventValidator = Arc<dyn Fn(&PublishedEvent) -> Result<(), String> + Send + Sync>;

/// A published event the host's checks refused: nothing was forwarded, and the plugin's call
/// fails with code `rejected-schema`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event published on `{channel}` was refused: {reason}")]
pub struct EventRejected {
    /// The channel it was published on.
    pub channel: String,
    /// Why: the schema's first violation, or the validator's reason.
    pub reason: String,
}

/// Every check, in registration order: schemas first, then validators.
#[derive(Clone, Default)]
pub(crate) struct EventChecks {
    pub(crate) schemas: Vec<(String, Arc<jsonschema::Validator>)>,
    pub(crate) validators: Vec<EventValidator>,
}

impl std::fmt::Debug for EventChecks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventChecks")
            .field(
                "schemas",
                &self.schemas.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .field("validators", &self.validators.len())
            .finish()
    }
}

impl EventChecks {
    /// Refuses `event` at the first check it fails. A channel with a schema takes JSON
    /// payloads only.
    pub(crate) fn check(&self, event: &PublishedEvent) -> Result<(), EventRejected> {
        let refuse = |reason: String| EventRejected {
            channel: event.channel.clone(),
            reason,
        };
        let mut parsed = None;
        for (pattern, schema) in &self.schemas {
            if !channel_matches(pattern, &event.channel) {
                continue;
            }
            if parsed.is_none() {
                let value: serde_json::Value = serde_json::from_str(&event.payload)
                    .map_err(|e| refuse(format!("the payload is not JSON: {e}")))?;
                parsed = Some(value);
            }
            if let Some(value) = &parsed
                && let Some(first) = crate::settings::violations(schema, value)
                    .into_iter()
                    .next()
            {
                return Err(refuse(format!("schema of `{pattern}`: {first}")));
            }
        }
        for validator in &self.validators {
            validator(event).map_err(refuse)?;
        }
        Ok(())
    }
}
