//! Telemetry hooks: host config `[telemetry]` and [`CallObserver`], which sees every
//! finished call with the host's own figures (duration, fuel, peak memory).
//!
//! The host itself exports nothing: an exporter (the `plinth-telemetry` crate's
//! OpenTelemetry one, or an embedder's own) implements [`CallObserver`] and is given to
//! [`crate::HostBuilder::call_observer`], or installed for the whole process with
//! [`set_global_observer`] (docs/design/0069).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Deserialize;

use crate::plugin::Plugin;

/// `[telemetry]` in the host config: where OpenTelemetry data goes. Without
/// `otlp_endpoint` nothing is exported.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// The OTLP/HTTP base URL of a collector (`http://127.0.0.1:4318`): traces go to
    /// `/v1/traces`, metrics to `/v1/metrics`. `None`: telemetry is off, unless
    /// [`Self::from_env`] is set and `OTEL_EXPORTER_OTLP_ENDPOINT` names one.
    pub otlp_endpoint: Option<String>,
    /// Whether `OTEL_EXPORTER_OTLP_ENDPOINT` turns export on when `otlp_endpoint` is not
    /// set (default true, as OpenTelemetry SDKs do). The config file wins over it.
    pub from_env: bool,
    /// `service.name` of the exported resource (default `plinth`).
    pub service_name: String,
    /// Extra HTTP headers on each export (an API key a hosted collector wants).
    pub headers: BTreeMap<String, String>,
    /// How long one export may take before it is abandoned (default 5 000 ms).
    pub timeout_ms: u64,
    /// How often metrics are exported (default 60 000 ms); they are also exported when the
    /// exporter flushes or shuts down.
    pub metrics_interval_ms: u64,
    /// Spans held for export at most; more are dropped and counted (default 2 048).
    pub max_queue: usize,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings {
            otlp_endpoint: None,
            from_env: true,
            service_name: "plinth".into(),
            headers: BTreeMap::new(),
            timeout_ms: 5_000,
            metrics_interval_ms: 60_000,
            max_queue: 2_048,
        }
    }
}

impl TelemetrySettings {
    /// The environment variable honoured when [`Self::from_env`] is set.
    pub const ENDPOINT_ENV: &'static str = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// The endpoint in force: the config file's, else (with [`Self::from_env`]) the
    /// environment's; `None` means telemetry is off.
    pub fn endpoint(&self) -> Option<String> {
        self.endpoint_with(|name| std::env::var(name).ok())
    }

    /// [`Self::endpoint`] with the environment read through `env`.
    pub fn endpoint_with(&self, env: impl Fn(&str) -> Option<String>) -> Option<String> {
        let from_env = || {
            self.from_env
                .then(|| env(Self::ENDPOINT_ENV))
                .flatten()
                .filter(|v| !v.trim().is_empty())
        };
        self.otlp_endpoint
            .clone()
            .filter(|v| !v.trim().is_empty())
            .or_else(from_env)
    }
}

/// One finished call (or instantiation) of a plugin, as the host measured it.
#[derive(Debug)]
pub struct CallReport<'a> {
    /// The plugin called (its id, manifest and [`Plugin::usage`]).
    pub plugin: &'a Plugin,
    /// The export called, as resolved (`plinth:plugin/tool@0.1.0#run`), or `instantiate`
    /// for a long-lived instance's start.
    pub export: &'a str,
    /// `ok`, or the diagnostic code of the failure (`trap`, `fuel-exhausted`, …).
    pub outcome: &'a str,
    /// From arming the call's limits to its outcome.
    pub duration: Duration,
    /// Fuel this call consumed.
    pub fuel_used: u64,
    /// The highest memory this call's instance reached, in bytes.
    pub peak_memory_bytes: u64,
}

impl CallReport<'_> {
    /// Whether the call failed.
    pub fn is_error(&self) -> bool {
        self.outcome != "ok"
    }
}

/// Sees every finished call of the plugins of a host. Called on the calling thread right
/// after the call, so it must be quick and never block: record, and export elsewhere.
pub trait CallObserver: Send + Sync + std::fmt::Debug {
    /// One call finished.
    fn call_finished(&self, report: &CallReport<'_>);
}

static GLOBAL: OnceLock<Arc<dyn CallObserver>> = OnceLock::new();

/// Installs `observer` for every host of this process built afterwards without one of its
/// own. Only the first install counts: `false` when one was installed already.
pub fn set_global_observer(observer: Arc<dyn CallObserver>) -> bool {
    GLOBAL.set(observer).is_ok()
}

/// The process-wide observer, if one was installed.
pub(crate) fn global_observer() -> Option<Arc<dyn CallObserver>> {
    GLOBAL.get().cloned()
}

/// Tells `observer` about the call that ended with `result` (after [`Plugin::settle`]).
pub(crate) fn observe<T>(
    plugin: &Plugin,
    observer: &Arc<dyn CallObserver>,
    state: &crate::state::StoreState,
    export: &str,
    result: &Result<T, crate::CallError>,
    fuel_used: u64,
    peak_memory_bytes: u64,
) {
    let (export, outcome) = match result {
        Ok(_) => (export, "ok"),
        // A failed instantiation is reported as `instantiate`, as the error names it.
        Err(error) => (error.export.as_str(), error.code().as_str()),
    };
    observer.call_finished(&CallReport {
        plugin,
        export,
        outcome,
        duration: state
            .call_started
            .map_or(Duration::ZERO, |started| started.elapsed()),
        fuel_used,
        peak_memory_bytes,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_file_wins_over_the_environment() {
        let env = |name: &str| {
            (name == TelemetrySettings::ENDPOINT_ENV).then(|| "http://127.0.0.1:9".to_string())
        };
        let none = |_: &str| None;
        let mut settings = TelemetrySettings::default();
        assert_eq!(settings.endpoint_with(none), None);
        assert_eq!(
            settings.endpoint_with(env).as_deref(),
            Some("http://127.0.0.1:9")
        );
        settings.otlp_endpoint = Some("http://127.0.0.1:4318".into());
        assert_eq!(
            settings.endpoint_with(env).as_deref(),
            Some("http://127.0.0.1:4318")
        );
        settings.otlp_endpoint = None;
        settings.from_env = false;
        assert_eq!(settings.endpoint_with(env), None);
    }

    #[test]
    fn reads_the_telemetry_section() {
        let config: crate::HostConfig = toml::from_str(
            "[telemetry]\notlp_endpoint = \"http://127.0.0.1:4318\"\nservice_name = \"composer\"\n[telemetry.headers]\nx-api-key = \"k\"",
        )
        .unwrap();
        let telemetry = config.telemetry;
        assert_eq!(
            telemetry.otlp_endpoint.as_deref(),
            Some("http://127.0.0.1:4318")
        );
        assert_eq!(telemetry.service_name, "composer");
        assert_eq!(telemetry.headers["x-api-key"], "k");
        assert_eq!(telemetry.timeout_ms, 5_000);
        assert!(toml::from_str::<crate::HostConfig>("[telemetry]\nendpoint = \"x\"").is_err());
    }
}
