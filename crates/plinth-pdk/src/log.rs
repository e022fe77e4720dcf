//! Logging into the embedding application's log (`plinth:host/log`).
//!
//! Needs the `log` capability. Without the grant the host drops the records and reports one
//! `missing-grant` diagnostic, so logging never fails from the plugin's point of view.

use crate::bindings::plinth::host::log as host;

/// Severity of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Information useful when debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the plugin recovered from.
    Warn,
    /// A failure.
    Error,
}

impl From<Level> for host::Level {
    fn from(level: Level) -> Self {
        match level {
            Level::Trace => Self::Trace,
            Level::Debug => Self::Debug,
            Level::Info => Self::Info,
            Level::Warn => Self::Warn,
            Level::Error => Self::Error,
        }
    }
}

/// Writes one record at `level`.
pub fn log(level: Level, message: impl AsRef<str>) {
    host::log(level.into(), message.as_ref());
}

/// Whether a record at `level` would be kept, so that an expensive message can be skipped.
pub fn enabled(level: Level) -> bool {
    host::enabled(level.into())
}

/// Writes a [`Level::Trace`] record.
pub fn trace(message: impl AsRef<str>) {
    log(Level::Trace, message);
}

/// Writes a [`Level::Debug`] record.
pub fn debug(message: impl AsRef<str>) {
    log(Level::Debug, message);
}

/// Writes a [`Level::Info`] record.
pub fn info(message: impl AsRef<str>) {
    log(Level::Info, message);
}

/// Writes a [`Level::Warn`] record.
pub fn warn(message: impl AsRef<str>) {
    log(Level::Warn, message);
}

/// Writes a [`Level::Error`] record.
pub fn error(message: impl AsRef<str>) {
    log(Level::Error, message);
}
