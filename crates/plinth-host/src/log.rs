//! Plugin log records: what guests write through `plinth:host/log` and what they print.

use std::sync::Arc;

use serde::Serialize;

/// Severity of a plugin log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Very detailed.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something looks wrong.
    Warn,
    /// Something failed.
    Error,
}

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSource {
    /// The `plinth:host/log` interface.
    Api,
    /// A line the guest printed to stdout.
    Stdout,
    /// A line the guest printed to stderr.
    Stderr,
    /// The host, about the plugin (a missing grant, dropped records).
    Host,
}

/// One record of a plugin's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogRecord {
    /// Plugin id.
    pub plugin: String,
    /// Severity.
    pub level: LogLevel,
    /// Origin.
    pub source: LogSource,
    /// Text.
    pub message: String,
}

/// The longest message a record keeps, in bytes; the rest is cut, and the record says how
/// much (`…[N bytes cut]`).
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;

/// `message` cut to [`MAX_MESSAGE_BYTES`] at a character boundary.
fn capped(mut message: String) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message;
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let cut = message.len() - end;
    message.truncate(end);
    message.push_str(&format!("…[{cut} bytes cut]"));
    message
}

/// Receives every plugin log record; set with [`crate::HostBuilder::log_sink`].
pub type LogSink = Arc<dyn Fn(&LogRecord) + Send + Sync>;

/// The default sink: each record becomes a `tracing` event (target `plinth::plugin`)
/// carrying the plugin id.
pub fn tracing_sink() -> LogSink {
    Arc::new(|record: &LogRecord| {
        let plugin = record.plugin.as_str();
        let source = match record.source {
            LogSource::Api => "log",
            LogSource::Stdout => "stdout",
            LogSource::Stderr => "stderr",
            LogSource::Host => "host",
        };
        let message = record.message.as_str();
        match record.level {
            LogLevel::Trace => {
                tracing::trace!(target: "plinth::plugin", plugin, source, "{message}")
            }
            LogLevel::Debug => {
                tracing::debug!(target: "plinth::plugin", plugin, source, "{message}")
            }
            LogLevel::Info => tracing::info!(target: "plinth::plugin", plugin, source, "{message}"),
            LogLevel::Warn => tracing::warn!(target: "plinth::plugin", plugin, source, "{message}"),
            LogLevel::Error => {
                tracing::error!(target: "plinth::plugin", plugin, source, "{message}")
            }
        }
    })
}

/// Records a call wrote and dropped over the per-call cap.
#[derive(Debug, Default)]
pub(crate) struct LogCounts {
    pub(crate) written: u32,
    pub(crate) dropped: u32,
}

/// A plugin's log during one call: records reach the sink until the per-call cap, then
/// are counted as dropped.
pub(crate) struct CallLog<'a> {
    pub(crate) plugin: &'a str,
    pub(crate) sink: &'a LogSink,
    pub(crate) cap: u32,
    pub(crate) counts: &'a mut LogCounts,
}

impl CallLog<'_> {
    pub(crate) fn write(&mut self, level: LogLevel, source: LogSource, message: String) {
        if self.counts.written >= self.cap {
            self.counts.dropped = self.counts.dropped.saturating_add(1);
            return;
        }
        self.counts.written += 1;
        let record = LogRecord {
            plugin: self.plugin.to_string(),
            level,
            source,
            message: capped(message),
        };
        (self.sink)(&record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_is_cut_at_a_character_boundary() {
        assert_eq!(capped("short".into()), "short");
        let long = "é".repeat(MAX_MESSAGE_BYTES); // two bytes each
        let cut = capped(long);
        assert!(cut.starts_with(&"é".repeat(MAX_MESSAGE_BYTES / 2)));
        assert!(
            cut.ends_with(&format!("…[{} bytes cut]", MAX_MESSAGE_BYTES)),
            "{cut}"
        );
    }
}
