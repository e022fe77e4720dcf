//! The `service` kind (docs/design/0048): a long-lived instance fed one ingress event at a
//! time. This module is the typed face of the component's `plinth:service/service`
//! export; the runtime around it (queue, dispatch, retries, restarts, WebSocket and HTTP
//! ingress, output commands) is the `plinth-service` crate's.

use std::time::Duration;

use plinth_manifest::{Kind, ServiceDecl};

use wasmtime::component::Resource;
use wasmtime_wasi_http::p2::types::{HostIncomingRequest, HostResponseOutparam};

use super::{Binding, Checker, KindError};
use crate::bindings::service_v0_1::exports::plinth::service::service as v1;
use crate::error::HostError;
use crate::instance::PluginInstance;
use crate::plugin::Plugin;

/// The `handle` of a `wasi:http` proxy component serving a service's HTTP requests.
pub(super) fn typecheck_http(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(
        Resource<HostIncomingRequest>,
        Resource<HostResponseOutparam>,
    ), ()>(
        "handle",
        "func(request: incoming-request, response-out: response-outparam)",
    )
}

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(), (Result<(), String>,)>("start", "func() -> result<_, string>")?;
    checker.func::<(v1::IngressEvent,), (v1::Handled,)>(
        "handle",
        "func(event: ingress-event) -> handled",
    )?;
    checker.func::<(), ()>("stop", "func()")
}

/// One event from a service's ingress queue, as the handler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressEvent {
    /// The service's sequence number, in the order events were accepted.
    pub sequence: u64,
    /// 1 on the first delivery, one more on each retry.
    pub attempt: u32,
    /// Where it came from: `app`, `websocket`, `http`, `http-client`, or the
    /// application's own source.
    pub source: String,
    /// What happened: `message`, `open`, `close`, `request`, `response`, or the
    /// application's own kind.
    pub kind: String,
    /// The connection, route or command tag the event belongs to.
    pub connection: Option<String>,
    /// The connection's own sequence number (0 for unordered sources).
    pub connection_sequence: u64,
    /// Metadata, a JSON object in text.
    pub meta: String,
    /// The data.
    pub body: Vec<u8>,
}

impl IngressEvent {
    /// An event from `source` of `kind` carrying `body`, with empty metadata; the
    /// runtime numbers it.
    pub fn new(source: impl Into<String>, kind: impl Into<String>, body: Vec<u8>) -> Self {
        Self {
            sequence: 0,
            attempt: 0,
            source: source.into(),
            kind: kind.into(),
            connection: None,
            connection_sequence: 0,
            meta: "{}".into(),
            body,
        }
    }

    /// The bytes the event holds on the host, for queue accounting.
    pub fn size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.source.len()
            + self.kind.len()
            + self.connection.as_ref().map_or(0, String::len)
            + self.meta.len()
            + self.body.len()
    }
}

/// What a handler made of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Ok,
    /// Never processable: dead-lettered with this reason.
    Reject(String),
    /// Try again after this long (bounded by the service's `max_attempts`).
    Retry(Duration),
}

/// A WebSocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

/// A side effect a handler asks for; the host checks each against the plugin's grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send a frame on a host-owned WebSocket connection (`websocket:<endpoint>`).
    SendFrame {
        /// The connection id, as ingress events name it.
        connection: String,
        /// The frame.
        frame: Frame,
    },
    /// Close a host-owned WebSocket connection (`websocket:<endpoint>`).
    Close {
        /// The connection id.
        connection: String,
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// Publish on an event channel (`events.publish:<channel>`).
    Publish {
        /// The channel.
        channel: String,
        /// The payload.
        payload: String,
    },
    /// Make an HTTP request (`http:<host>`); the answer comes back as an ingress event.
    HttpRequest {
        /// Names the answer's event (its `connection`).
        tag: String,
        /// The method, e.g. `POST`.
        method: String,
        /// The URL.
        url: String,
        /// Request headers.
        headers: Vec<(String, String)>,
        /// Request body.
        body: Vec<u8>,
    },
    /// Call an application-defined action (`<name>` or `<name>:<scope>`).
    Action {
        /// The action, as the application registered it.
        name: String,
        /// The scope the grant is checked for.
        scope: Option<String>,
        /// A JSON value in text.
        payload: String,
    },
}

impl Command {
    /// The command's name in diagnostics and counters: `send-frame`, `close`, `publish`,
    /// `http-request` or `action`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::SendFrame { .. } => "send-frame",
            Command::Close { .. } => "close",
            Command::Publish { .. } => "publish",
            Command::HttpRequest { .. } => "http-request",
            Command::Action { .. } => "action",
        }
    }
}

/// The response to an event from an HTTP route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
}

/// A handler's whole answer to one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// What became of the event.
    pub outcome: Outcome,
    /// Side effects, in order.
    pub commands: Vec<Command>,
    /// For an HTTP route's event: the response.
    pub reply: Option<Reply>,
}

/// The `service` kind of one plugin: [`Plugin::kind`]`::<`[`Service`](super::Service)`>()`.
///
/// Every call runs on a [`PluginInstance`] the caller keeps (the service's long-lived
/// instance), under a deadline that also ends a call blocked in a host import; a call
/// that fails leaves the instance to be replaced on the next call.
#[derive(Debug, Clone, Copy)]
pub struct Services<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> Services<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// How the manifest asks the service to be run (defaults for a bare component).
    pub fn decl(&self) -> ServiceDecl {
        self.plugin
            .manifest()
            .and_then(|m| m.provides.service.first().cloned())
            .unwrap_or_default()
    }

    /// Whether the component serves the kind through `wasi:http/incoming-handler` alone
    /// (a `wasi:http` proxy component): it takes HTTP requests only, and has no `start` or
    /// `stop` to call.
    pub fn http_only(&self) -> bool {
        self.binding.is_wasi_http()
    }

    /// The component's `wasi:http/incoming-handler#handle` export, which HTTP requests
    /// go to instead of `handle` when the component has one.
    pub fn http_handler(&self) -> Option<String> {
        if self.binding.is_wasi_http() {
            return Some(self.binding.func("handle"));
        }
        self.plugin
            .exports()
            .interfaces()
            .into_iter()
            .map(|name| Binding {
                interface: name.to_owned(),
                served: super::Served::Current,
            })
            .find(Binding::is_wasi_http)
            .map(|binding| binding.func("handle"))
    }

    /// Runs `start` on `instance` (nothing to run for a `wasi:http` proxy component). The
    /// plugin's `err` is `Ok(Err(reason))`.
    pub async fn start(
        &self,
        instance: &mut PluginInstance,
        deadline: Option<Duration>,
    ) -> Result<Result<(), String>, KindError> {
        if self.http_only() {
            return Ok(Ok(()));
        }
        let (result,): (Result<(), String>,) = instance
            .call_within_async(&self.binding.func("start"), deadline, ())
            .await?;
        Ok(result)
    }

    /// Hands `event` to `handle` on `instance`; an HTTP request (source `http`, kind
    /// `request`) goes to the component's `wasi:http/incoming-handler` instead when it
    /// exports one. A `wasi:http` proxy component rejects every other event.
    pub async fn handle(
        &self,
        instance: &mut PluginInstance,
        event: &IngressEvent,
        deadline: Option<Duration>,
    ) -> Result<Handled, KindError> {
        // Only an HTTP request looks for the component's HTTP handler.
        if event.source == "http"
            && event.kind == "request"
            && let Some(export) = self.http_handler()
        {
            return self.handle_http(instance, &export, event, deadline).await;
        }
        if self.http_only() {
            return Ok(Handled {
                outcome: Outcome::Reject(format!(
                    "{} serves HTTP requests only (wasi:http/incoming-handler); got {} from {}",
                    self.plugin.id(),
                    event.kind,
                    event.source
                )),
                commands: Vec::new(),
                reply: None,
            });
        }
        let wit = v1::IngressEvent {
            sequence: event.sequence,
            attempt: event.attempt,
            source: event.source.clone(),
            kind: event.kind.clone(),
            connection: event.connection.clone(),
            connection_sequence: event.connection_sequence,
            meta: event.meta.clone(),
            body: event.body.clone(),
        };
        let (handled,): (v1::Handled,) = instance
            .call_within_async(&self.binding.func("handle"), deadline, (wit,))
            .await?;
        Ok(from_wit(handled))
    }

    /// An HTTP request event through `wasi:http/incoming-handler`: the response the
    /// component sets is the reply (a 500 with the reason when it sets an error or
    /// nothing); an event that does not describe a request is rejected.
    async fn handle_http(
        &self,
        instance: &mut PluginInstance,
        export: &str,
        event: &IngressEvent,
        deadline: Option<Duration>,
    ) -> Result<Handled, KindError> {
        let request = match http_request(event) {
            Ok(request) => request,
            Err(reason) => {
                return Ok(Handled {
                    outcome: Outcome::Reject(reason),
                    commands: Vec::new(),
                    reply: None,
                });
            }
        };
        let reply = match instance
            .handle_http_within(export, request, deadline, MAX_HTTP_REPLY)
            .await?
        {
            Ok(response) => Reply {
                status: response.status,
                headers: response.headers,
                body: response.body,
            },
            Err(reason) => Reply {
                status: 500,
                headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
                body: reason.into_bytes(),
            },
        };
        Ok(Handled {
            outcome: Outcome::Ok,
            commands: Vec::new(),
            reply: Some(reply),
        })
    }

    /// Runs `stop` on `instance` (nothing to run for a `wasi:http` proxy component).
    pub async fn stop(
        &self,
        instance: &mut PluginInstance,
        deadline: Option<Duration>,
    ) -> Result<(), KindError> {
        if self.http_only() {
            return Ok(());
        }
        instance
            .call_within_async::<(), ()>(&self.binding.func("stop"), deadline, ())
            .await?;
        Ok(())
    }

    /// The kind, for diagnostics.
    pub fn kind(&self) -> Kind {
        Kind::Service
    }
}

fn headers(list: Vec<v1::Header>) -> Vec<(String, String)> {
    list.into_iter().map(|h| (h.name, h.value)).collect()
}

fn from_wit(handled: v1::Handled) -> Handled {
    let outcome = match handled.outcome {
        v1::Outcome::Ok => Outcome::Ok,
        v1::Outcome::Reject(reason) => Outcome::Reject(reason),
        v1::Outcome::Retry(ms) => Outcome::Retry(Duration::from_millis(u64::from(ms))),
    };
    let commands = handled
        .commands
        .into_iter()
        .map(|command| match command {
            v1::Command::SendFrame(send) => Command::SendFrame {
                connection: send.connection,
                frame: match send.frame {
                    v1::Frame::Text(text) => Frame::Text(text),
                    v1::Frame::Binary(bytes) => Frame::Binary(bytes),
                },
            },
            v1::Command::Close(close) => Command::Close {
                connection: close.connection,
                code: close.code,
                reason: close.reason,
            },
            v1::Command::Publish(publish) => Command::Publish {
                channel: publish.channel,
                payload: publish.payload,
            },
            v1::Command::HttpRequest(request) => Command::HttpRequest {
                tag: request.tag,
                method: request.method,
                url: request.url,
                headers: headers(request.headers),
                body: request.body,
            },
            v1::Command::Action(action) => Command::Action {
                name: action.name,
                scope: action.scope,
                payload: action.payload,
            },
        })
        .collect();
    let reply = handled.reply.map(|reply| Reply {
        status: reply.status,
        headers: headers(reply.headers),
        body: reply.body,
    });
    Handled {
        outcome,
        commands,
        reply,
    }
}

/// The largest response body a `wasi:http/incoming-handler` may give a service's HTTP
/// route.
pub const MAX_HTTP_REPLY: usize = 8 * 1024 * 1024;

/// The HTTP request an ingress event of source `http` carries: method, path, query and
/// headers from its metadata (as `plinth_service::HttpIngress` writes them), the body as is.
fn http_request(event: &IngressEvent) -> Result<http::Request<bytes::Bytes>, String> {
    let meta: serde_json::Value =
        serde_json::from_str(&event.meta).map_err(|e| format!("event metadata: {e}"))?;
    let method = meta["method"].as_str().unwrap_or("GET");
    let path = meta["path"]
        .as_str()
        .or(event.connection.as_deref())
        .unwrap_or("/");
    let query = meta["query"].as_str().unwrap_or_default();
    let target = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("http://localhost{target}"));
    for pair in meta["headers"].as_array().into_iter().flatten() {
        if let (Some(name), Some(value)) = (pair[0].as_str(), pair[1].as_str()) {
            builder = builder.header(name, value);
        }
    }
    builder
        .body(bytes::Bytes::from(event.body.clone()))
        .map_err(|e| format!("not an HTTP request: {e}"))
}
