//! `plinth:host/log`: records into the plugin's log sink, within the per-call cap.
//! Ungranted records are dropped (the interface has no error case) and noted.

use plinth_manifest::Grant;

use super::gate::CallGate;
use crate::bindings::log;
use crate::log::{CallLog, LogLevel, LogSource};

/// What `log` sees of a call.
pub(crate) struct LogView<'a> {
    pub(crate) gate: CallGate<'a>,
    pub(crate) log: CallLog<'a>,
}

linked_through!(
    /// Links `plinth:host/log` to a [`LogView`].
    Log => LogView
);

impl From<log::Level> for LogLevel {
    fn from(level: log::Level) -> Self {
        match level {
            log::Level::Trace => LogLevel::Trace,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Error => LogLevel::Error,
        }
    }
}

impl log::Host for LogView<'_> {
    fn log(&mut self, level: log::Level, message: String) {
        if self.gate.check(Grant::Log).is_ok() {
            self.log.write(level.into(), LogSource::Api, message);
        }
    }

    fn enabled(&mut self, _level: log::Level) -> bool {
        self.gate.covers(&Grant::Log)
    }
}
