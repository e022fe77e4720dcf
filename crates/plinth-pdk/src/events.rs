//! Publishing on the embedding application's event channels (`plinth:host/events`).
//!
//! Needs `events.publish:<channel>`. The host caps the payload size and each plugin's rate.

use crate::bindings::plinth::host::events as host;

/// Why a request failed; each case carries the host's explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventsError {
    /// The channel is not granted; the text is the hint.
    MissingGrant(String),
    /// The payload is over the host's size cap.
    TooLarge(String),
    /// Over the plugin's publish rate.
    RateLimited(String),
}

impl EventsError {
    /// The diagnostic code of this case (`missing-grant`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingGrant(_) => "missing-grant",
            Self::TooLarge(_) => "too-large",
            Self::RateLimited(_) => "rate-limited",
        }
    }

    /// The host's explanation.
    pub fn message(&self) -> &str {
        match self {
            Self::MissingGrant(m) => m,
            Self::TooLarge(m) => m,
            Self::RateLimited(m) => m,
        }
    }
}

impl std::fmt::Display for EventsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for EventsError {}

impl From<host::EventsError> for EventsError {
    fn from(e: host::EventsError) -> Self {
        match e {
            host::EventsError::MissingGrant(m) => Self::MissingGrant(m),
            host::EventsError::TooLarge(m) => Self::TooLarge(m),
            host::EventsError::RateLimited(m) => Self::RateLimited(m),
        }
    }
}

/// Publishes `payload` (usually JSON) on `channel`.
pub fn publish(channel: &str, payload: impl AsRef<str>) -> Result<(), EventsError> {
    Ok(host::publish(channel, payload.as_ref())?)
}

/// Publishes `value` serialized as JSON on `channel`.
pub fn publish_json(channel: &str, value: &serde_json::Value) -> Result<(), EventsError> {
    publish(channel, value.to_string())
}
