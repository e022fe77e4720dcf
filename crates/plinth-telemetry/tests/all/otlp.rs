//! An OTLP/HTTP receiver on 127.0.0.1 for tests: `POST /v1/traces` and `/v1/metrics`
//! with protobuf bodies, decoded with the `opentelemetry-proto` definitions and kept for
//! the test to read. No OTLP collector installs from the registries this project uses, so
//! the test brings its own, built on the protocol's own message types.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use prost::Message;

#[derive(Default)]
struct Received {
    traces: Vec<ExportTraceServiceRequest>,
    metrics: Vec<ExportMetricsServiceRequest>,
    headers: Vec<HeaderMap>,
}

/// A receiver serving on a thread of its own until dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Received>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// One exported span, its attributes and events rendered as text.
#[derive(Debug, Clone)]
pub struct SpanView {
    pub name: String,
    pub span_id: Vec<u8>,
    pub parent_span_id: Vec<u8>,
    pub attributes: BTreeMap<String, String>,
    pub events: Vec<(String, BTreeMap<String, String>)>,
    pub service: String,
}

impl Receiver {
    pub fn start() -> Receiver {
        let received = Arc::new(Mutex::new(Received::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = received.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = Router::new()
                    .route("/v1/traces", post(traces))
                    .route("/v1/metrics", post(metrics))
                    .with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Receiver {
            addr,
            received,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The endpoint for `[telemetry] otlp_endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<SpanView> {
        let received = self.received.lock().unwrap();
        let mut spans = Vec::new();
        for request in &received.traces {
            for resource in &request.resource_spans {
                let service = resource
                    .resource
                    .as_ref()
                    .map(|r| attributes(&r.attributes))
                    .and_then(|a| a.get("service.name").cloned())
                    .unwrap_or_default();
                for scope in &resource.scope_spans {
                    for span in &scope.spans {
                        spans.push(SpanView {
                            name: span.name.clone(),
                            span_id: span.span_id.clone(),
                            parent_span_id: span.parent_span_id.clone(),
                            attributes: attributes(&span.attributes),
                            events: span
                                .events
                                .iter()
                                .map(|e| (e.name.clone(), attributes(&e.attributes)))
                                .collect(),
                            service: service.clone(),
                        });
                    }
                }
            }
        }
        spans
    }

    /// How many metric exports arrived.
    pub fn metric_exports(&self) -> usize {
        self.received.lock().unwrap().metrics.len()
    }

    /// The headers of every request received.
    pub fn headers(&self) -> Vec<HeaderMap> {
        self.received.lock().unwrap().headers.clone()
    }

    /// The data points of metric `name` in the latest export that has it (cumulative
    /// temporality: the latest export holds the totals), as (attributes, value), where
    /// value is a sum's or gauge's number, or a histogram's count.
    pub fn points(&self, name: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        let received = self.received.lock().unwrap();
        for request in received.metrics.iter().rev() {
            let mut points = Vec::new();
            let mut found = false;
            for resource in &request.resource_metrics {
                for scope in &resource.scope_metrics {
                    for m in scope.metrics.iter().filter(|m| m.name == name) {
                        found = true;
                        match &m.data {
                            Some(metric::Data::Sum(sum)) => {
                                for p in &sum.data_points {
                                    points.push((attributes(&p.attributes), number(&p.value)));
                                }
                            }
                            Some(metric::Data::Gauge(gauge)) => {
                                for p in &gauge.data_points {
                                    points.push((attributes(&p.attributes), number(&p.value)));
                                }
                            }
                            Some(metric::Data::Histogram(h)) => {
                                for p in &h.data_points {
                                    points.push((attributes(&p.attributes), p.count as f64));
                                }
                            }
                            other => panic!("{name}: unexpected data {other:?}"),
                        }
                    }
                }
            }
            if found {
                return points;
            }
        }
        Vec::new()
    }

    /// The unit of metric `name`, as last exported.
    pub fn unit(&self, name: &str) -> Option<String> {
        let received = self.received.lock().unwrap();
        received.metrics.iter().rev().find_map(|request| {
            request
                .resource_metrics
                .iter()
                .flat_map(|r| &r.scope_metrics)
                .flat_map(|s| &s.metrics)
                .find(|m| m.name == name)
                .map(|m| m.unit.clone())
        })
    }

    /// The sum of metric `name`'s points whose attributes include every `(key, value)`.
    pub fn total(&self, name: &str, wanted: &[(&str, &str)]) -> f64 {
        self.points(name)
            .into_iter()
            .filter(|(attrs, _)| {
                wanted
                    .iter()
                    .all(|(k, v)| attrs.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, value)| value)
            .sum()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn number(value: &Option<number_data_point::Value>) -> f64 {
    match value {
        Some(number_data_point::Value::AsInt(i)) => *i as f64,
        Some(number_data_point::Value::AsDouble(d)) => *d,
        None => f64::NAN,
    }
}

fn attributes(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
        .collect()
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

/// A protobuf answer.
type Answer = (StatusCode, [(header::HeaderName, &'static str); 1], Vec<u8>);

fn protobuf(body: Vec<u8>) -> Answer {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        body,
    )
}

async fn traces(
    State(state): State<Arc<Mutex<Received>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Answer, StatusCode> {
    let request = ExportTraceServiceRequest::decode(body).map_err(|_| StatusCode::BAD_REQUEST)?;
    let mut received = state.lock().unwrap();
    received.traces.push(request);
    received.headers.push(headers);
    Ok(protobuf(
        ExportTraceServiceResponse::default().encode_to_vec(),
    ))
}

async fn metrics(
    State(state): State<Arc<Mutex<Received>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Answer, StatusCode> {
    let request = ExportMetricsServiceRequest::decode(body).map_err(|_| StatusCode::BAD_REQUEST)?;
    let mut received = state.lock().unwrap();
    received.metrics.push(request);
    received.headers.push(headers);
    Ok(protobuf(
        ExportMetricsServiceResponse::default().encode_to_vec(),
    ))
}
