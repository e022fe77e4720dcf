//! OpenTelemetry export for `plinth` commands, `plinth serve` included: on when host config
//! `[telemetry] otlp_endpoint` (or `OTEL_EXPORTER_OTLP_ENDPOINT`) names a collector and the
//! binary was built with the `otel` feature (the default). See docs/design/0069.

use plinth_host::TelemetrySettings;

use crate::output::stderr_line;

/// The running export; dropping it (at the end of `main`) flushes and shuts it down.
#[cfg(feature = "otel")]
pub type Telemetry = plinth_telemetry::Telemetry;

/// Without the `otel` feature there is nothing to run.
#[cfg(not(feature = "otel"))]
#[derive(Debug)]
pub enum Telemetry {}

/// Starts export as `settings` say, and installs its call observer for every host this
/// process builds. A bad setting is a warning: telemetry never stops a command.
#[cfg(feature = "otel")]
pub fn start(settings: &TelemetrySettings) -> Option<Telemetry> {
    match Telemetry::start(settings) {
        Ok(Some(telemetry)) => {
            plinth_host::telemetry::set_global_observer(telemetry.observer());
            Some(telemetry)
        }
        Ok(None) => None,
        Err(e) => {
            stderr_line(format_args!("warning: {e}; telemetry is off"));
            None
        }
    }
}

/// Without the `otel` feature a configured endpoint is only worth a warning.
#[cfg(not(feature = "otel"))]
pub fn start(settings: &TelemetrySettings) -> Option<Telemetry> {
    if settings.endpoint().is_some() {
        stderr_line(format_args!(
            "warning: this plinth was built without the `otel` feature; [telemetry] is ignored"
        ));
    }
    None
}
