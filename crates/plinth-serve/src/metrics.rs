//! Prometheus metrics (`GET /metrics`, text format 0.0.4), per tenant and plugin.
//!
//! The manager counts what runs through it: export calls, their errors and wall time, the
//! fuel and the peak memory of every version (`Manager::counters`). The server adds what
//! only it sees: a latency histogram and error count of the calls made through the API,
//! typed kind calls (tools, hooks) included.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::tenant::{Tenant, lock};

/// Upper bounds of the latency histogram's buckets, in seconds.
const BOUNDS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The API's own per-plugin call figures.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    calls: Mutex<BTreeMap<(String, String), Histogram>>,
    /// Plugin calls through the API running now.
    in_flight: AtomicU64,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Calls at or under each bound (not cumulative; summed when rendered).
    buckets: [u64; BOUNDS.len()],
    count: u64,
    errors: u64,
    sum_seconds: f64,
}

impl Histogram {
    /// The upper bound of the bucket holding quantile `q` (0–1) of the calls; `None` when
    /// it is above the last bound or there were no calls.
    fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let wanted = (q * self.count as f64).ceil().max(1.0) as u64;
        let mut cumulative = 0;
        for (bound, count) in BOUNDS.iter().zip(self.buckets) {
            cumulative += count;
            if cumulative >= wanted {
                return Some(*bound);
            }
        }
        None
    }
}

/// Whether a call succeeded, for [`Metrics::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Failed,
}

impl Metrics {
    /// A call starts: it counts as in flight until [`Metrics::record`] counts it.
    pub(crate) fn start(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one API call of `plugin` that took `elapsed` (and ends it, after
    /// [`Metrics::start`]).
    pub(crate) fn record(&self, tenant: &str, plugin: &str, elapsed: Duration, outcome: Outcome) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        let mut calls = lock(&self.calls);
        let histogram = calls
            .entry((tenant.to_owned(), plugin.to_owned()))
            .or_default();
        let seconds = elapsed.as_secs_f64();
        if let Some(at) = BOUNDS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[at] += 1;
        }
        histogram.count += 1;
        histogram.sum_seconds += seconds;
        if outcome == Outcome::Failed {
            histogram.errors += 1;
        }
    }

    /// The API's figures for one plugin: calls, errors and the p50 and p99 latency, each the
    /// upper bound of the histogram bucket it falls in (`null` above the last bound);
    /// `None` before its first call.
    pub(crate) fn summary(&self, tenant: &str, plugin: &str) -> Option<serde_json::Value> {
        let calls = lock(&self.calls);
        let h = calls.get(&(tenant.to_owned(), plugin.to_owned()))?;
        Some(serde_json::json!({
            "calls": h.count,
            "errors": h.errors,
            "seconds_total": h.sum_seconds,
            "p50_seconds": h.quantile(0.5),
            "p99_seconds": h.quantile(0.99),
        }))
    }

    /// The metrics text of every running home.
    pub(crate) fn render(&self, tenants: &[Arc<Tenant>]) -> String {
        let mut out = String::new();
        let mut counters = Vec::new();
        let mut statuses = Vec::new();
        for tenant in tenants {
            for (id, status) in tenant.manager.statuses() {
                let labels = labels(tenant.label(), &id);
                if let Some(c) = tenant.manager.counters(&id) {
                    counters.push((labels.clone(), c));
                }
                statuses.push((labels, status.name()));
            }
        }
        family(
            &mut out,
            "plinth_plugin_calls_total",
            "counter",
            "Export calls through the manager.",
        );
        for (l, c) in &counters {
            let _ = writeln!(out, "plinth_plugin_calls_total{{{l}}} {}", c.calls);
        }
        family(
            &mut out,
            "plinth_plugin_errors_total",
            "counter",
            "Export calls through the manager that failed.",
        );
        for (l, c) in &counters {
            let _ = writeln!(out, "plinth_plugin_errors_total{{{l}}} {}", c.errors);
        }
        family(
            &mut out,
            "plinth_plugin_call_seconds_total",
            "counter",
            "Wall time of the export calls through the manager.",
        );
        for (l, c) in &counters {
            let _ = writeln!(
                out,
                "plinth_plugin_call_seconds_total{{{l}}} {}",
                c.duration_us as f64 / 1e6
            );
        }
        family(
            &mut out,
            "plinth_plugin_fuel_used_total",
            "counter",
            "Fuel consumed by every version of the plugin.",
        );
        for (l, c) in &counters {
            let _ = writeln!(out, "plinth_plugin_fuel_used_total{{{l}}} {}", c.fuel_used);
        }
        family(
            &mut out,
            "plinth_plugin_peak_memory_bytes",
            "gauge",
            "The most memory an instance of the plugin reached.",
        );
        for (l, c) in &counters {
            let _ = writeln!(
                out,
                "plinth_plugin_peak_memory_bytes{{{l}}} {}",
                c.peak_memory_bytes
            );
        }
        family(
            &mut out,
            "plinth_plugin_status",
            "gauge",
            "1 for the plugin's current status.",
        );
        for (l, status) in &statuses {
            let _ = writeln!(out, "plinth_plugin_status{{{l},status=\"{status}\"}} 1");
        }
        self.render_api_calls(&mut out);
        out
    }

    fn render_api_calls(&self, out: &mut String) {
        let calls = lock(&self.calls).clone();
        family(
            out,
            "plinth_api_calls_in_flight",
            "gauge",
            "Plugin calls through the API running now.",
        );
        let _ = writeln!(
            out,
            "plinth_api_calls_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        family(
            out,
            "plinth_api_call_duration_seconds",
            "histogram",
            "Plugin calls through the API (exports, tools, hooks).",
        );
        for ((tenant, plugin), h) in &calls {
            let l = labels(tenant, plugin);
            let mut cumulative = 0;
            for (bound, count) in BOUNDS.iter().zip(h.buckets) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "plinth_api_call_duration_seconds_bucket{{{l},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "plinth_api_call_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "plinth_api_call_duration_seconds_sum{{{l}}} {}",
                h.sum_seconds
            );
            let _ = writeln!(
                out,
                "plinth_api_call_duration_seconds_count{{{l}}} {}",
                h.count
            );
        }
        family(
            out,
            "plinth_api_call_errors_total",
            "counter",
            "Plugin calls through the API that failed.",
        );
        for ((tenant, plugin), h) in &calls {
            let _ = writeln!(
                out,
                "plinth_api_call_errors_total{{{}}} {}",
                labels(tenant, plugin),
                h.errors
            );
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn labels(tenant: &str, plugin: &str) -> String {
    format!(
        "tenant=\"{}\",plugin=\"{}\"",
        escape(tenant),
        escape(plugin)
    )
}

/// A label value as the text format writes it: `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let metrics = Metrics::default();
        metrics.record("", "a", Duration::from_micros(300), Outcome::Ok);
        metrics.record("", "a", Duration::from_millis(30), Outcome::Failed);
        metrics.record("", "a", Duration::from_secs(9), Outcome::Ok);
        let mut out = String::new();
        metrics.render_api_calls(&mut out);
        let l = "tenant=\"\",plugin=\"a\"";
        for line in [
            format!("plinth_api_call_duration_seconds_bucket{{{l},le=\"0.0005\"}} 1"),
            format!("plinth_api_call_duration_seconds_bucket{{{l},le=\"0.05\"}} 2"),
            format!("plinth_api_call_duration_seconds_bucket{{{l},le=\"5\"}} 2"),
            format!("plinth_api_call_duration_seconds_bucket{{{l},le=\"+Inf\"}} 3"),
            format!("plinth_api_call_duration_seconds_count{{{l}}} 3"),
            format!("plinth_api_call_errors_total{{{l}}} 1"),
        ] {
            assert!(out.lines().any(|l| l == line), "{line} in\n{out}");
        }
    }

    #[test]
    fn quantiles_are_bucket_bounds() {
        let metrics = Metrics::default();
        assert!(metrics.summary("", "a").is_none());
        for _ in 0..98 {
            metrics.record("", "a", Duration::from_micros(300), Outcome::Ok);
        }
        metrics.record("", "a", Duration::from_millis(30), Outcome::Ok);
        metrics.record("", "a", Duration::from_secs(9), Outcome::Failed);
        let summary = metrics.summary("", "a").expect("calls were made");
        assert_eq!(summary["calls"], 100);
        assert_eq!(summary["errors"], 1);
        assert_eq!(summary["p50_seconds"], 0.0005);
        assert_eq!(summary["p99_seconds"], 0.05);
        metrics.record("", "a", Duration::from_secs(9), Outcome::Ok);
        let summary = metrics.summary("", "a").expect("calls were made");
        assert_eq!(summary["p99_seconds"], serde_json::Value::Null);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
