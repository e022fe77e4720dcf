//! Per-plugin context and per-call Store data.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::caps::config::ConfigView;
use crate::caps::events::EventsView;
use crate::caps::fs::FsView;
use crate::caps::gate::{CallGate, Denials, GrantGate};
use crate::caps::http::HttpView;
use crate::caps::http::wasi::WasiHttpGate;
use crate::caps::kv::KvView;
use crate::caps::log::LogView;
use crate::caps::sockets::SocketsCall;
use crate::caps::sockets::wasi::SocketsView;
use crate::caps::watch::WatchView;
use crate::capture::CapturePipe;
use crate::limits::{Limits, MemoryLimiter};
use crate::log::{CallLog, LogCounts, LogLevel, LogSink, LogSource};

/// Host resources (handles: `wasi:http` header sets, bodies, streams, pollables,
/// descriptors) one Store may hold at once. With [`MAX_FIELDS_BYTES`] this bounds the host
/// memory a plugin can pin through handles, with no grant at all (docs/capabilities.md).
pub(crate) const MAX_RESOURCES: usize = 4096;

/// Bytes one guest-made `wasi:http` header set may hold (Wasmtime's in-memory measure,
/// which exceeds the wire size). Wasmtime's default is 128 KiB.
pub(crate) const MAX_FIELDS_BYTES: usize = 32 * 1024;

/// Bytes of stdout (and again of stderr) kept per call; the rest is dropped and counted.
const CAPTURE_BYTES: usize = 64 * 1024;

/// What every call of one plugin shares: identity and grants, settings, where logs go.
pub(crate) struct PluginContext {
    /// The plugin's id, tenant and effective grants: every capability decides through it.
    pub(crate) gate: Arc<GrantGate>,
    /// Settings, schema-checked; replaced whole by [`crate::Plugin::update_settings`].
    pub(crate) settings: Arc<crate::settings::SettingsCell>,
    pub(crate) limits: Limits,
    pub(crate) log_sink: LogSink,
    /// Events for the plugin's `handle-event`, fed by background capabilities.
    pub(crate) inbox: crate::inbox::Inbox,
    /// Totals over every call, read by [`crate::Plugin::usage`].
    pub(crate) usage: crate::usage::UsageCounters,
    /// Each capability's per-plugin state.
    pub(crate) caps: crate::caps::PluginCaps,
    /// The guest's `wasi:cli/environment` arguments, `argv[0]` first.
    pub(crate) argv: Vec<String>,
}

impl std::fmt::Debug for PluginContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginContext")
            .field("gate", &self.gate)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl PluginContext {
    pub(crate) fn id(&self) -> &str {
        self.gate.plugin()
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
    pub(crate) logs: LogCounts,
    /// Capabilities the guest used without a grant, reported once each after the call.
    pub(crate) denials: Denials,
    /// When the current call's wall clock runs out; bounds `http.fetch`.
    pub(crate) call_deadline: Option<tokio::time::Instant>,
    /// When the current call was armed: its duration for [`crate::telemetry`].
    pub(crate) call_started: Option<tokio::time::Instant>,
    /// The current call's wall clock in milliseconds: the plugin's limit, or lower for a
    /// call with a deadline of its own (a hook's).
    pub(crate) wall_ms: u64,
    /// `wasi:http` state, made when the guest first reaches `wasi:http`.
    wasi_http: Option<(WasiHttpCtx, WasiHttpGate)>,
    /// `wasi:sockets` state: lookups, approved connections, open sockets, byte budget.
    pub(crate) sockets: SocketsCall,
    /// Typed functions of JSON calls' plans, looked up once per export (docs/design/0072).
    pub(crate) typed_funcs: crate::json_plan::TypedFuncs,
}

impl StoreState {
    pub(crate) fn new(plugin: Arc<PluginContext>) -> Self {
        let stdout = CapturePipe::new(CAPTURE_BYTES);
        let stderr = CapturePipe::new(CAPTURE_BYTES);
        // Grants nothing: no env, closed stdin; preopens only for granted directories,
        // each seen as `/NAME`, read-only unless `fs.write`. Arguments: the program name
        // and what the operator passed (docs/design/0030). Sockets: TCP and name lookups
        // go through Plinth's `wasi:sockets` (`caps::sockets`), which decides each use on
        // the grants; Wasmtime's own check passes only the connections it approved. No
        // UDP.
        let sockets = SocketsCall::new(&plugin.caps.sockets);
        let approved = sockets.approved.clone();
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .args(&plugin.argv)
            .allow_tcp(true)
            .allow_ip_name_lookup(true)
            .allow_udp(false)
            .socket_addr_check(move |addr, use_| {
                let allowed = approved.allows(addr, use_);
                Box::pin(async move { allowed })
            });
        for (name, mapped) in &plugin.caps.fs {
            let perms = if mapped.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            if let Err(e) = builder.preopened_dir(&mapped.host_path, format!("/{name}"), perms) {
                tracing::warn!(plugin = %plugin.id(), dir = %name, "cannot preopen: {e:#}");
            }
        }
        let wasi = builder.build();
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        Self {
            limiter: MemoryLimiter::new(plugin.limits.mem_bytes),
            wall_ms: plugin.limits.wall_timeout_ms,
            plugin,
            wasi,
            table,
            stdout,
            stderr,
            logs: LogCounts::default(),
            denials: Denials::default(),
            call_deadline: None,
            call_started: None,
            wasi_http: None,
            sockets,
            typed_funcs: Default::default(),
        }
    }

    /// The plugin's gate and log for this call.
    fn gate_and_log(&mut self) -> (CallGate<'_>, CallLog<'_>) {
        gate_and_log(&self.plugin, &mut self.denials, &mut self.logs)
    }

    /// Records a log record about or from the guest, within the per-call cap.
    pub(crate) fn log(&mut self, level: LogLevel, source: LogSource, message: String) {
        self.gate_and_log().1.write(level, source, message);
    }

    pub(crate) fn log_view(&mut self) -> LogView<'_> {
        let (gate, log) = self.gate_and_log();
        LogView { gate, log }
    }

    pub(crate) fn config_view(&mut self) -> ConfigView<'_> {
        ConfigView {
            gate: CallGate::new(&self.plugin.gate, &mut self.denials),
            settings: &self.plugin.settings,
        }
    }

    pub(crate) fn kv_view(&mut self) -> KvView<'_> {
        KvView {
            gate: CallGate::new(&self.plugin.gate, &mut self.denials),
            state: &self.plugin.caps.kv,
        }
    }

    pub(crate) fn fs_view(&mut self) -> FsView<'_> {
        FsView {
            gate: CallGate::new(&self.plugin.gate, &mut self.denials),
            dirs: &self.plugin.caps.fs,
        }
    }

    pub(crate) fn events_view(&mut self) -> EventsView<'_> {
        EventsView {
            gate: CallGate::new(&self.plugin.gate, &mut self.denials),
            state: &self.plugin.caps.events,
        }
    }

    pub(crate) fn watch_view(&mut self) -> WatchView<'_> {
        WatchView {
            gate: CallGate::new(&self.plugin.gate, &mut self.denials),
            state: &self.plugin.caps.watch,
            inbox: &self.plugin.inbox,
        }
    }

    pub(crate) fn http_view(&mut self) -> HttpView<'_> {
        let plugin = &*self.plugin;
        let (gate, log) = gate_and_log(plugin, &mut self.denials, &mut self.logs);
        HttpView {
            gate,
            plugin: &plugin.caps.http,
            log,
            call_deadline: self.call_deadline,
        }
    }

    pub(crate) fn sockets_view(&mut self) -> SocketsView<'_> {
        SocketsView {
            wasi: wasmtime_wasi::sockets::WasiSocketsCtxView {
                ctx: self.wasi.sockets(),
                table: &mut self.table,
            },
            plugin: &self.plugin.caps.sockets,
            call: &mut self.sockets,
        }
    }

    /// Reports what `wasi:sockets` refused during the call (`socket-denied`) and a spent
    /// byte budget (`quota-exceeded`) in the plugin's log.
    pub(crate) fn settle_sockets(&mut self) {
        if self.sockets.quiet() {
            return;
        }
        let (_, mut log) = gate_and_log(&self.plugin, &mut self.denials, &mut self.logs);
        self.sockets.report(self.plugin.id(), &mut log);
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
                tracing::warn!(plugin = %self.plugin.id(), stream, dropped = captured.dropped, "{note}");
                self.log(LogLevel::Warn, LogSource::Host, note);
            }
        }
        last
    }
}

/// A plugin's gate and log for one call, from the Store's per-call records.
fn gate_and_log<'a>(
    plugin: &'a PluginContext,
    denials: &'a mut Denials,
    logs: &'a mut LogCounts,
) -> (CallGate<'a>, CallLog<'a>) {
    let log = CallLog {
        plugin: plugin.id(),
        sink: &plugin.log_sink,
        cap: plugin.limits.log_lines,
        counts: logs,
    };
    (CallGate::new(&plugin.gate, denials), log)
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
        let mut http = self.http_view();
        for failure in refusals {
            let _ = http.error(failure);
        }
    }
}

impl WasiHttpView for StoreState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        let plugin = &self.plugin;
        let (ctx, gate) = self.wasi_http.get_or_insert_with(|| {
            let mut ctx = WasiHttpCtx::new();
            ctx.set_field_size_limit(MAX_FIELDS_BYTES);
            (ctx, WasiHttpGate::new(plugin.caps.http.clone()))
        });
        gate.call_deadline = self.call_deadline;
        WasiHttpCtxView {
            ctx,
            table: &mut self.table,
            hooks: gate,
        }
    }
}

impl StoreState {
    /// The Store's resource table, where a kind's call puts the streams it lends the guest
    /// (docs/design/0046).
    pub(crate) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
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
