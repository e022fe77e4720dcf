//! Change notifications for directories the host maps by name (`plinth:host/watch`).
//!
//! Needs `watch:<dir>` for each directory. Changes are debounced and arrive as
//! [`crate::Event`]s of kind `fs-change` in [`crate::Plugin::handle_event`], with the
//! subscription id as subject and `{"dir": NAME, "paths": [...]}` as payload.

use crate::bindings::plinth::host::watch as host;

/// Why a subscription failed; each case carries the host's explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchError {
    /// A directory is not granted; the text is the hint.
    MissingGrant(String),
    /// A directory is not mapped or does not exist.
    Denied(String),
    /// The watcher could not be started.
    Io(String),
}

impl WatchError {
    /// The diagnostic code of this case.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingGrant(_) => "missing-grant",
            Self::Denied(_) => "fs-denied",
            Self::Io(_) => "io",
        }
    }

    /// The host's explanation.
    pub fn message(&self) -> &str {
        match self {
            Self::MissingGrant(m) | Self::Denied(m) | Self::Io(m) => m,
        }
    }
}

impl std::fmt::Display for WatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for WatchError {}

impl From<host::WatchError> for WatchError {
    fn from(e: host::WatchError) -> Self {
        match e {
            host::WatchError::MissingGrant(m) => Self::MissingGrant(m),
            host::WatchError::Denied(m) => Self::Denied(m),
            host::WatchError::Io(m) => Self::Io(m),
        }
    }
}

/// Watches `dirs` recursively, coalescing changes over `debounce_ms`; the subscription id.
pub fn subscribe(dirs: &[&str], debounce_ms: u32) -> Result<u64, WatchError> {
    let dirs: Vec<String> = dirs.iter().map(|d| (*d).to_string()).collect();
    Ok(host::subscribe(&dirs, debounce_ms)?)
}

/// Ends a subscription (unknown ids are ignored).
pub fn unsubscribe(id: u64) {
    host::unsubscribe(id);
}
