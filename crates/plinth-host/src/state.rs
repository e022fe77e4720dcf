//! Per-plugin context and per-call Store data.

use std::sync::Arc;

use plinth_manifest::Grant;
use plinth_manifest::grant::GrantSet;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::caps::http::wasi::WasiHttpGate;

use crate::capture::CapturePipe;
use crate::limits::{Limits, MemoryLimiter};
use crate::log::{LogLevel, LogRecord, LogSink, LogSource};

/// Bytes of stdout (and again of stderr) kept per call; the rest is dropped and counted.
const CAPTURE_BYTES: usize = 64 * 1024;

/// What every call of one plugin shares: identity, grants, settings, where logs go.
pub(crate) struct PluginContext {
    pub(crate) id: String,
    pub(crate) grants: GrantSet,
    /// What the manifest asks for (the grants as given, for a bare component): the hosts
    /// per-domain consent may be asked for.
    pub(crate) requested: GrantSet,
    /// Settings, schema-checked; replaced whole by [`crate::Plugin::update_settings`].
    pub(crate) settings: crate::settings::SettingsCell,
    pub(crate) limits: Limits,
    pub(crate) log_sink: LogSink,
    /// Events for the plugin's `handle-event`, fed by background capabilities.
    pub(crate) inbox: crate::inbox::Inbox,
    /// Totals over every call, read by [`crate::Plugin::usage`].
    pub(crate) usage: crate::usage::UsageCounters,
    /// fs, kv and events state (tenant, opened directories, publish rate).
    pub(crate) caps: crate::caps::PluginCaps,
    /// The guest's `wasi:cli/environment` arguments, `argv[0]` first.
    pub(crate) argv: Vec<String>,
}

impl std::fmt::Debug for PluginContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginContext")
            .field("id", &self.id)
            .field("grants", &self.grants)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl PluginContext {
    pub(crate) fn has(&self, grant: &Grant) -> bool {
        self.grants.contains(grant)
    }
}

/// The data of one Store, i.e. of one instance's life.
pub(crate) struct StoreState {
    pub(crate) plugin: Arc<PluginContext>,
    pub(crate) limiter: MemoryLimiter,
    wasi: WasiCtx,
    table: ResourceTable,
    stdout: CapturePipe,
    stderr: CapturePipe,
    logs_written: u32,
    pub(crate) logs_dropped: u32,
    /// Capabilities the guest used without a grant, reported once each after the call.
    pub(crate) missing_grants: Vec<Grant>,
    /// When the current call's wall clock runs out; bounds `http.fetch`.
    pub(crate) call_deadline: Option<tokio::time::Instant>,
    /// `wasi:http` state, made when the guest first reaches `wasi:http`.
    wasi_http: Option<(WasiHttpCtx, WasiHttpGate)>,
}

impl StoreState {
    pub(crate) fn new(plugin: Arc<PluginContext>) -> Self {
        let stdout = CapturePipe::new(CAPTURE_BYTES);
        let stderr = CapturePipe::new(CAPTURE_BYTES);
        // Grants nothing: no env, closed stdin, no sockets; preopens only for granted
        // directories, each seen as `/NAME`, read-only unless `fs.write`. Arguments: the
        // program name and what the operator passed (docs/design/0030).
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .args(&plugin.argv);
        for (name, mapped) in &plugin.caps.dirs {
            let perms = if mapped.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            if let Err(e) = builder.preopened_dir(&mapped.host_path, format!("/{name}"), perms) {
                tracing::warn!(plugin = %plugin.id, dir = %name, "cannot preopen: {e:#}");
            }
        }
        let wasi = builder.build();
        Self {
            limiter: MemoryLimiter::new(plugin.limits.mem_bytes),
            plugin,
            wasi,
            table: ResourceTable::new(),
            stdout,
            stderr,
            logs_written: 0,
            logs_dropped: 0,
            missing_grants: Vec::new(),
            call_deadline: None,
            wasi_http: None,
        }
    }

    /// Records a log record from the guest, within the per-call cap.
    pub(crate) fn log(&mut self, level: LogLevel, source: LogSource, message: String) {
        if self.logs_written >= self.plugin.limits.log_lines {
            self.logs_dropped = self.logs_dropped.saturating_add(1);
            return;
        }
        self.logs_written += 1;
        let record = LogRecord {
            plugin: self.plugin.id.clone(),
            level,
            source,
            message,
        };
        (self.plugin.log_sink)(&record);
    }

    pub(crate) fn note_missing_grant(&mut self, grant: Grant) {
        if !self.missing_grants.contains(&grant) {
            self.missing_grants.push(grant);
        }
    }

    /// Moves what the guest printed into the plugin's log, one record per line, and
    /// returns the last stderr line (a panic message, usually).
    pub(crate) fn flush_output(&mut self) -> Option<String> {
        let out = self.stdout.take();
        let err = self.stderr.take();
        if out.text.is_empty() && err.text.is_empty() && !out.closed && !err.closed {
            return None;
        }
        for line in out.text.lines() {
            self.log(LogLevel::Info, LogSource::Stdout, line.to_string());
        }
        let last = last_message(&err.text);
        for line in err.text.lines() {
            self.log(LogLevel::Warn, LogSource::Stderr, line.to_string());
        }
        for (stream, captured) in [("stdout", &out), ("stderr", &err)] {
            if let Some(note) = crate::capture::overflow_note(stream, captured, CAPTURE_BYTES) {
                tracing::warn!(plugin = %self.plugin.id, stream, dropped = captured.dropped, "{note}");
                self.log(LogLevel::Warn, LogSource::Host, note);
            }
        }
        last
    }
}

/// What a guest last said on stderr: a Rust panic's message (the lines after
/// `panicked at`, without the backtrace note), else the last non-empty line.
fn last_message(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    if let Some(at) = lines.iter().rposition(|l| l.contains(" panicked at ")) {
        let message: Vec<&str> = lines[at + 1..]
            .iter()
            .copied()
            .take_while(|l| !l.starts_with("note: "))
            .filter(|l| !l.trim().is_empty())
            .collect();
        if !message.is_empty() {
            return Some(message.join(" "));
        }
        return Some(lines[at].to_string());
    }
    lines
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.to_string())
}

impl StoreState {
    /// Reports what `wasi:http` refused since the last call, as `plinth:host/http`
    /// reports its own refusals.
    pub(crate) fn settle_wasi_http(&mut self) {
        let refusals = match &mut self.wasi_http {
            Some((_, gate)) => gate.take_refusals(),
            None => return,
        };
        for failure in refusals {
            let _ = self.http_error(failure);
        }
    }
}

impl WasiHttpView for StoreState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        let plugin = &self.plugin;
        let (ctx, gate) = self
            .wasi_http
            .get_or_insert_with(|| (WasiHttpCtx::new(), WasiHttpGate::new(plugin.clone())));
        gate.call_deadline = self.call_deadline;
        WasiHttpCtxView {
            ctx,
            table: &mut self.table,
            hooks: gate,
        }
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::last_message;

    #[test]
    fn finds_the_panic_message() {
        let stderr = "thread '<unnamed>' panicked at src/lib.rs:9:5:\nthe sky fell\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(last_message(stderr).as_deref(), Some("the sky fell"));
        assert_eq!(last_message("a\nb\n\n").as_deref(), Some("b"));
        assert_eq!(last_message(""), None);
    }
}
