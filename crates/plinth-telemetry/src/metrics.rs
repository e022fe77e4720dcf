//! Per-plugin metrics from the host's own figures of each call ([`CallReport`]).

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter};
use plinth_host::{CallObserver, CallReport};

/// Calls (and instantiations) that finished, successful or not: a counter, `{call}`.
pub const METRIC_CALLS: &str = "plinth.plugin.calls";
/// Calls that failed (outcome other than `ok`): a counter, `{call}`.
pub const METRIC_ERRORS: &str = "plinth.plugin.errors";
/// How long each call took, from arming its limits to its outcome: a histogram, `s`.
pub const METRIC_DURATION: &str = "plinth.plugin.call.duration";
/// Fuel consumed: a counter, `{fuel}` (about one unit per WebAssembly instruction).
pub const METRIC_FUEL: &str = "plinth.plugin.fuel";
/// The highest memory one instance of the plugin reached since it was loaded: a gauge,
/// `By` (all linear memories and tables together).
pub const METRIC_PEAK_MEMORY: &str = "plinth.plugin.memory.peak";

/// The plugin id attribute (as the spans' field `plugin`).
pub const ATTR_PLUGIN: &str = "plugin";
/// The manifest version attribute (`0.0.0` for a component without a manifest).
pub const ATTR_VERSION: &str = "version";
/// The export attribute: the export as the host resolved it
/// (`plinth:plugin/tool@0.1.0#run`), `instantiate` for a long-lived instance's start.
pub const ATTR_EXPORT: &str = "export";
/// The outcome attribute: `ok` or the diagnostic code (`trap`, `fuel-exhausted`, …).
pub const ATTR_OUTCOME: &str = "outcome";

/// Bucket bounds of [`METRIC_DURATION`], in seconds: 50 µs to 10 s.
const DURATION_BOUNDS: [f64; 15] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 10.0,
];

/// The instruments behind the per-plugin metrics; a [`CallObserver`].
#[derive(Debug)]
pub struct PluginMetrics {
    calls: Counter<u64>,
    errors: Counter<u64>,
    duration: Histogram<f64>,
    fuel: Counter<u64>,
    peak_memory: Gauge<u64>,
}

impl PluginMetrics {
    /// The instruments, made on `meter`.
    pub fn new(meter: &Meter) -> PluginMetrics {
        PluginMetrics {
            calls: meter
                .u64_counter(METRIC_CALLS)
                .with_unit("{call}")
                .with_description("Plugin calls and instantiations that finished")
                .build(),
            errors: meter
                .u64_counter(METRIC_ERRORS)
                .with_unit("{call}")
                .with_description("Plugin calls that failed, by diagnostic code")
                .build(),
            duration: meter
                .f64_histogram(METRIC_DURATION)
                .with_unit("s")
                .with_description("Duration of plugin calls")
                .with_boundaries(DURATION_BOUNDS.to_vec())
                .build(),
            fuel: meter
                .u64_counter(METRIC_FUEL)
                .with_unit("{fuel}")
                .with_description("Fuel consumed by plugin calls")
                .build(),
            peak_memory: meter
                .u64_gauge(METRIC_PEAK_MEMORY)
                .with_unit("By")
                .with_description("Highest memory of one plugin instance since the load")
                .build(),
        }
    }
}

impl CallObserver for PluginMetrics {
    fn call_finished(&self, report: &CallReport<'_>) {
        let plugin = report.plugin;
        let version = plugin
            .manifest()
            .map_or_else(|| "0.0.0".to_string(), |m| m.plugin.version.to_string());
        let attributes = [
            KeyValue::new(ATTR_PLUGIN, plugin.id().to_string()),
            KeyValue::new(ATTR_VERSION, version),
            KeyValue::new(ATTR_EXPORT, report.export.to_string()),
            KeyValue::new(ATTR_OUTCOME, report.outcome.to_string()),
        ];
        self.calls.add(1, &attributes);
        if report.is_error() {
            self.errors.add(1, &attributes);
        }
        self.duration
            .record(report.duration.as_secs_f64(), &attributes);
        // Fuel and memory by plugin, version and export; the outcome would only split them.
        self.fuel.add(report.fuel_used, &attributes[..3]);
        self.peak_memory
            .record(plugin.usage().peak_memory_bytes, &attributes[..2]);
    }
}
