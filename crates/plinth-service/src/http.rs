//! HTTP ingress (docs/design/0049): requests on operator-configured routes become ingress
//! events (`source` `http`, `kind` `request`, the route as `connection`), and the service's
//! answer becomes the response, under the same queue, deadline and grant rules.
//!
//! | what happened | response |
//! | --- | --- |
//! | handled, with a reply | the reply's status, headers and body |
//! | handled, no reply | 204 |
//! | queue full (`reject`) or shed, or the service stopped | 503 with the diagnostic (`Retry-After: 1`) |
//! | the handler rejected it | 422 with the reason |
//! | attempts exhausted (trap, deadline, retries) | 502 with the last failure |
//!
//! Bodies are capped ([`MAX_BODY`]); every error body is a JSON diagnostic like the CLI's
//! `--json`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use plinth_host::kinds::IngressEvent;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use serde_json::json;
use tokio::net::TcpListener;

use crate::queue::Pushed;
use crate::runtime::{Delivery, Service};
use crate::status::DeadReason;

/// The largest request body a route takes.
pub const MAX_BODY: usize = 1024 * 1024;

/// Routes (exact paths) and the services they feed.
#[derive(Clone, Default)]
pub struct HttpIngress {
    routes: BTreeMap<String, Arc<Service>>,
}

impl std::fmt::Debug for HttpIngress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpIngress")
            .field("routes", &self.routes.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A listener on `addr`, refused unless it is a loopback address or `allow_remote` says
/// otherwise (`forbidden`).
pub async fn bind_loopback(
    addr: SocketAddr,
    allow_remote: bool,
) -> Result<TcpListener, Diagnostic> {
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(Diagnostic::new(
            Code::Forbidden,
            format!(
                "{addr} is not a loopback address: ingress binds to loopback unless the operator allows remote access"
            ),
        ));
    }
    TcpListener::bind(addr)
        .await
        .map_err(|e| Diagnostic::new(Code::HostSetup, format!("cannot listen on {addr}: {e}")))
}

impl HttpIngress {
    /// No routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// With requests to `path` (exact, any method) fed to `service`.
    pub fn route(mut self, path: impl Into<String>, service: Arc<Service>) -> Self {
        self.routes.insert(path.into(), service);
        self
    }

    /// Serves the routes on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(Arc::new(self));
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

fn diagnostic_response(status: StatusCode, diagnostic: &Diagnostic) -> Response {
    let body = json!({
        "code": diagnostic.code.as_str(),
        "message": diagnostic.message,
        "plugin": diagnostic.plugin,
    });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
    }
    response
}

async fn handle(
    State(ingress): State<Arc<HttpIngress>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let Some(service) = ingress.routes.get(&path) else {
        let diagnostic = Diagnostic::new(Code::BadArgument, format!("no route {path}"));
        return diagnostic_response(StatusCode::NOT_FOUND, &diagnostic);
    };
    let header_pairs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let meta = json!({
        "method": method.as_str(),
        "path": path,
        "query": uri.query().unwrap_or_default(),
        "headers": header_pairs,
    });
    let event = IngressEvent {
        connection: Some(path.clone()),
        meta: meta.to_string(),
        ..IngressEvent::new("http", "request", body.to_vec())
    };
    let receiver = match service.request(event) {
        Ok((Pushed::Queued { .. }, receiver)) => receiver,
        Ok((Pushed::Shed, _)) => {
            let diagnostic = Diagnostic::new(
                Code::QueueFull,
                format!(
                    "{}: the ingress queue is full; request shed",
                    service.plugin().id()
                ),
            )
            .with_plugin(service.plugin().id());
            return diagnostic_response(StatusCode::SERVICE_UNAVAILABLE, &diagnostic);
        }
        Err(e) => return diagnostic_response(StatusCode::SERVICE_UNAVAILABLE, &e.to_diagnostic()),
    };
    let plugin = service.plugin().id().to_owned();
    let failed = |code: Code, message: String| {
        Diagnostic::new(code, format!("{plugin}: {message}")).with_plugin(&plugin)
    };
    match receiver.await {
        Ok(Delivery::Handled { reply: None }) => StatusCode::NO_CONTENT.into_response(),
        Ok(Delivery::Handled { reply: Some(reply) }) => {
            let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut response = Response::new(Body::from(reply.body));
            *response.status_mut() = status;
            for (name, value) in reply.headers {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::try_from(name.as_str()),
                    HeaderValue::try_from(value.as_str()),
                ) {
                    response.headers_mut().append(name, value);
                }
            }
            response
        }
        Ok(Delivery::DeadLettered(DeadReason::Rejected(reason))) => diagnostic_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &failed(
                Code::PluginFailed,
                format!("rejected the request: {reason}"),
            ),
        ),
        Ok(Delivery::DeadLettered(DeadReason::AttemptsExhausted { attempts, last })) => {
            diagnostic_response(
                StatusCode::BAD_GATEWAY,
                &failed(
                    Code::PluginFailed,
                    format!("no answer after {attempts} attempts: {last}"),
                ),
            )
        }
        Ok(Delivery::DeadLettered(DeadReason::Stopped)) | Err(_) => diagnostic_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &failed(Code::ServiceStopped, "the service stopped".into()),
        ),
    }
}
