//! OpenTelemetry export for Plinth (docs/design/0069): the spans `plugin.load`,
//! `plugin.call` and `plugin.panic` and per-plugin metrics, sent over OTLP/HTTP
//! (protobuf) to the collector named by host config `[telemetry] otlp_endpoint`.
//!
//! [`Telemetry::start`] builds a tracer and a meter provider; [`Telemetry::layer`] is the
//! `tracing` layer that turns Plinth's spans into OpenTelemetry spans, and
//! [`Telemetry::observer`] the [`CallObserver`] that records each call's figures as
//! metrics. Export runs on the SDK's own threads from bounded queues: a slow or
//! unreachable collector never fails or slows a plugin call; spans over the queue are
//! dropped (and counted by the SDK's batch processor, reported at shutdown).
//!
//! ```no_run
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let config = plinth_host::HostConfig::load("config.toml".as_ref())?;
//! let telemetry = plinth_telemetry::Telemetry::start(&config.telemetry)?;
//! let mut builder = config.host_builder();
//! if let Some(telemetry) = &telemetry {
//!     let subscriber = tracing_subscriber::registry().with(telemetry.layer());
//!     tracing::subscriber::set_global_default(subscriber)?;
//!     builder = builder.call_observer(telemetry.observer());
//! }
//! let host = builder.build()?;
//! # let _ = host;
//! // … load and call plugins; dropping `telemetry` flushes and shuts the exporters down.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod metrics;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use plinth_host::{CallObserver, TelemetrySettings};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::registry::LookupSpan;

pub use metrics::{
    ATTR_EXPORT, ATTR_OUTCOME, ATTR_PLUGIN, ATTR_VERSION, METRIC_CALLS, METRIC_DURATION,
    METRIC_ERRORS, METRIC_FUEL, METRIC_PEAK_MEMORY, PluginMetrics,
};

/// The instrumentation scope of Plinth's spans and metrics.
pub const SCOPE: &str = "plinth";

/// Telemetry could not start, flush or shut down.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `[telemetry] otlp_endpoint` is not an `http://` or `https://` URL.
    #[error("[telemetry] otlp_endpoint `{endpoint}`: {reason}")]
    Endpoint {
        /// The endpoint as configured.
        endpoint: String,
        /// Why it was refused.
        reason: String,
    },
    /// An OTLP exporter could not be built.
    #[error("[telemetry] cannot build the OTLP {signal} exporter: {reason}")]
    Exporter {
        /// `traces` or `metrics`.
        signal: &'static str,
        /// The SDK's reason.
        reason: String,
    },
    /// Spans or metrics could not be handed to the collector.
    #[error("[telemetry] {signal}: {reason}")]
    Export {
        /// `traces` or `metrics`.
        signal: &'static str,
        /// The SDK's reason.
        reason: String,
    },
}

/// OpenTelemetry export for one process: a tracer and a meter provider sending to one
/// OTLP/HTTP endpoint. Dropping it flushes what is queued and shuts the exporters down.
#[derive(Debug)]
pub struct Telemetry {
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
    metrics: Arc<PluginMetrics>,
    endpoint: String,
}

impl Telemetry {
    /// Starts export as `settings` say: `Ok(None)` when no endpoint is configured (in the
    /// file, or in `OTEL_EXPORTER_OTLP_ENDPOINT` when `from_env` allows it).
    pub fn start(settings: &TelemetrySettings) -> Result<Option<Telemetry>, TelemetryError> {
        match settings.endpoint() {
            Some(endpoint) => Telemetry::to_endpoint(settings, &endpoint).map(Some),
            None => Ok(None),
        }
    }

    /// Starts export to `endpoint` (an OTLP/HTTP base URL), other settings from `settings`.
    pub fn to_endpoint(
        settings: &TelemetrySettings,
        endpoint: &str,
    ) -> Result<Telemetry, TelemetryError> {
        let base = base_url(endpoint)?;
        let timeout = Duration::from_millis(settings.timeout_ms.max(1));
        let headers: HashMap<String, String> = settings.headers.clone().into_iter().collect();
        let resource = Resource::builder()
            .with_service_name(settings.service_name.clone())
            .with_attribute(KeyValue::new(
                "service.version",
                env!("CARGO_PKG_VERSION").to_string(),
            ))
            .build();

        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(format!("{base}/v1/traces"))
            .with_timeout(timeout)
            .with_headers(headers.clone())
            .build()
            .map_err(|e| TelemetryError::Exporter {
                signal: "traces",
                reason: e.to_string(),
            })?;
        let batch = BatchConfigBuilder::default()
            .with_max_queue_size(settings.max_queue.max(1))
            .with_max_export_batch_size(settings.max_queue.clamp(1, 512))
            .build();
        let tracer_provider = SdkTracerProvider::builder()
            .with_span_processor(
                BatchSpanProcessor::builder(spans)
                    .with_batch_config(batch)
                    .build(),
            )
            .with_resource(resource.clone())
            .build();

        let metric_exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_endpoint(format!("{base}/v1/metrics"))
            .with_timeout(timeout)
            .with_headers(headers)
            .build()
            .map_err(|e| TelemetryError::Exporter {
                signal: "metrics",
                reason: e.to_string(),
            })?;
        let reader = PeriodicReader::builder(metric_exporter)
            .with_interval(Duration::from_millis(settings.metrics_interval_ms.max(100)))
            .build();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(reader)
            .with_resource(resource)
            .build();
        let metrics = Arc::new(PluginMetrics::new(
            &opentelemetry::metrics::MeterProvider::meter(&meter_provider, SCOPE),
        ));
        Ok(Telemetry {
            tracer_provider,
            meter_provider,
            metrics,
            endpoint: base,
        })
    }

    /// The collector's base URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The `tracing` layer exporting Plinth's spans (targets `plinth_manager`,
    /// `plinth_host` at info and above; `plinth::panic` and `plinth::audit` warnings as
    /// span events). Other crates' spans stay out.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        let tracer = self.tracer_provider.tracer(SCOPE);
        let targets = Targets::new()
            .with_target("plinth_manager", LevelFilter::INFO)
            .with_target("plinth_host", LevelFilter::INFO)
            .with_target("plinth", LevelFilter::WARN);
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(targets)
    }

    /// The observer recording each call's metrics, for
    /// [`plinth_host::HostBuilder::call_observer`] or
    /// [`plinth_host::telemetry::set_global_observer`].
    pub fn observer(&self) -> Arc<dyn CallObserver> {
        self.metrics.clone()
    }

    /// Exports every finished span and the current metrics now, and waits for the
    /// collector's answers (bounded by `timeout_ms` per export).
    pub fn flush(&self) -> Result<(), TelemetryError> {
        let traces = self
            .tracer_provider
            .force_flush()
            .map_err(|e| TelemetryError::Export {
                signal: "traces",
                reason: e.to_string(),
            });
        let metrics = self
            .meter_provider
            .force_flush()
            .map_err(|e| TelemetryError::Export {
                signal: "metrics",
                reason: e.to_string(),
            });
        traces.and(metrics)
    }

    /// Flushes and stops both exporters; later spans and metrics are dropped.
    pub fn shutdown(&self) -> Result<(), TelemetryError> {
        let traces = self
            .tracer_provider
            .shutdown()
            .map_err(|e| TelemetryError::Export {
                signal: "traces",
                reason: e.to_string(),
            });
        let metrics = self
            .meter_provider
            .shutdown()
            .map_err(|e| TelemetryError::Export {
                signal: "metrics",
                reason: e.to_string(),
            });
        traces.and(metrics)
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        // A collector that is gone loses what was queued; the process goes on.
        if let Err(e) = self.shutdown() {
            tracing::debug!("telemetry shutdown: {e}");
        }
    }
}

/// `endpoint` without a trailing `/`, checked to be an `http(s)://` URL.
fn base_url(endpoint: &str) -> Result<String, TelemetryError> {
    let refuse = |reason: &str| TelemetryError::Endpoint {
        endpoint: endpoint.into(),
        reason: reason.into(),
    };
    let trimmed = endpoint.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| refuse("expected an http:// or https:// URL (OTLP over HTTP)"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(refuse("the URL names no host"));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_http_base_urls() {
        assert_eq!(
            base_url("http://127.0.0.1:4318/").unwrap(),
            "http://127.0.0.1:4318"
        );
        assert_eq!(
            base_url("https://otel.example.org/otlp").unwrap(),
            "https://otel.example.org/otlp"
        );
        for bad in ["127.0.0.1:4317", "grpc://x", "http://", "http:///v1"] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
    }
}
