//! The `service` kind: a long-lived instance the host feeds from its ingress queue.

use serde_json::Value;

use crate::Plugin;

/// The `service` kind (world `plinth:service/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: service)`.
///
/// The host makes one instance (one per worker with `concurrency` above 1), calls
/// [`start`](Service::start), then [`handle`](Service::handle) once per ingress event, in
/// order, and [`stop`](Service::stop) before it stops. State kept in statics survives from
/// event to event, and is gone when the host replaces a failed instance (a panic is a trap).
/// A handler does not reach out itself: it answers with [`Command`]s that the host checks
/// against the plugin's grants.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Echo;
///
/// impl Plugin for Echo {}
///
/// impl Service for Echo {
///     fn handle(event: IngressEvent) -> Handled {
///         match (event.source.as_str(), event.kind.as_str(), &event.connection) {
///             ("websocket", "message", Some(connection)) => Handled::ok()
///                 .command(ServiceCommand::send_text(connection, format!("echo: {}", event.text()))),
///             _ => Handled::ok(),
///         }
///     }
/// }
///
/// plinth_pdk::export!(Echo: service);
/// # fn main() {}
/// ```
pub trait Service: Plugin {
    /// Called once on a new instance; an `Err` fails the start and the host tries again
    /// with backoff.
    fn start() -> Result<(), String> {
        Ok(())
    }

    /// Handles one event, under the event's deadline.
    fn handle(event: IngressEvent) -> Handled;

    /// Called once before the host stops the service.
    fn stop() {}
}

/// One event from the service's ingress queue.
#[derive(Debug, Clone, PartialEq)]
pub struct IngressEvent {
    /// The service's sequence number, in acceptance order.
    pub sequence: u64,
    /// 1 on the first delivery, one more per retry.
    pub attempt: u32,
    /// `app`, `websocket`, `http`, `http-client`, or the application's own source.
    pub source: String,
    /// `message`, `open`, `close`, `request`, `response`, `error`, or the application's own.
    pub kind: String,
    /// The WebSocket connection, HTTP route or `http-request` tag it belongs to.
    pub connection: Option<String>,
    /// The connection's own sequence number (0 for unordered sources).
    pub connection_sequence: u64,
    /// Metadata, parsed ([`Value::Null`] when it is not JSON).
    pub meta: Value,
    /// The data.
    pub body: Vec<u8>,
}

impl IngressEvent {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What became of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Ok,
    /// Never processable: the host dead-letters it with this reason.
    Reject(String),
    /// Deliver it again after this many milliseconds (up to the service's `max_attempts`).
    Retry(u32),
}

/// A WebSocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

/// A side effect the host carries out after [`Service::handle`] returns, if the plugin's
/// grants allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send a frame on a host-owned WebSocket connection (`websocket:<endpoint>`).
    SendFrame {
        /// The connection id, as events name it.
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
        /// The reason.
        reason: String,
    },
    /// Publish on an event channel (`events.publish:<channel>`).
    Publish {
        /// The channel.
        channel: String,
        /// The payload.
        payload: String,
    },
    /// An HTTP request (`http:<host>`); the answer arrives as an event from `http-client`
    /// whose connection is `tag`.
    HttpRequest {
        /// Names the answer's event.
        tag: String,
        /// The method, e.g. `POST`.
        method: String,
        /// The URL.
        url: String,
        /// Headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
    /// Call an action the application defines (`<name>` or `<name>:<scope>`).
    Action {
        /// The action.
        name: String,
        /// The scope the grant is checked for.
        scope: Option<String>,
        /// A JSON value.
        payload: Value,
    },
}

impl Command {
    /// A text frame on `connection`.
    pub fn send_text(connection: impl Into<String>, text: impl Into<String>) -> Self {
        Command::SendFrame {
            connection: connection.into(),
            frame: Frame::Text(text.into()),
        }
    }

    /// A publish of `payload` on `channel`.
    pub fn publish(channel: impl Into<String>, payload: impl Into<String>) -> Self {
        Command::Publish {
            channel: channel.into(),
            payload: payload.into(),
        }
    }

    /// A `POST` of `body` to `url` with a JSON content type, tagged `tag`.
    pub fn post_json(tag: impl Into<String>, url: impl Into<String>, body: &Value) -> Self {
        Command::HttpRequest {
            tag: tag.into(),
            method: "POST".into(),
            url: url.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// The application action `name` with `payload`.
    pub fn action(name: impl Into<String>, payload: Value) -> Self {
        Command::Action {
            name: name.into(),
            scope: None,
            payload,
        }
    }
}

/// The response to an HTTP route's event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// The handler's answer: an outcome, commands, and for an HTTP route a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// What became of the event.
    pub outcome: Outcome,
    /// Side effects, in order.
    pub commands: Vec<Command>,
    /// The HTTP response, for an event from a route.
    pub reply: Option<Reply>,
}

impl Handled {
    /// Done, with nothing else.
    pub fn ok() -> Self {
        Self {
            outcome: Outcome::Ok,
            commands: Vec::new(),
            reply: None,
        }
    }

    /// Not processable: dead-lettered with `reason`.
    pub fn reject(reason: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Reject(reason.into()),
            ..Self::ok()
        }
    }

    /// Deliver again after `after_ms` milliseconds.
    pub fn retry(after_ms: u32) -> Self {
        Self {
            outcome: Outcome::Retry(after_ms),
            ..Self::ok()
        }
    }

    /// With `command` added.
    pub fn command(mut self, command: Command) -> Self {
        self.commands.push(command);
        self
    }

    /// With an HTTP reply of `status` carrying `body` as `content_type`.
    pub fn reply(mut self, status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.reply = Some(Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        });
        self
    }
}
