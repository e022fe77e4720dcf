//! The host-owned WebSocket driver (docs/design/0049): the host holds the connections,
//! turns frames into ingress events and sends the frames output commands ask for.
//!
//! - **Inbound**: [`WebSocketDriver::listen`] accepts connections on a listener the
//!   operator configured (loopback by default, [`crate::bind_loopback`]);
//!   [`WebSocketDriver::listen_tls`] accepts `wss://` with the operator's certificate.
//! - **Outbound**: [`WebSocketDriver::connect`] keeps a client connection to a `ws://` or
//!   `wss://` URL (the Web PKI roots; [`WebSocketDriver::connect_tls`] with other roots),
//!   reconnecting with backoff.
//!
//! Each connection gets an id (`ENDPOINT-N`); its frames become `message` events from
//! `websocket`, in order, each with the connection's own sequence number; opening and
//! closing are `open` and `close` events, and a connection that drops without a close
//! frame gets a synthesized `close` (`"synthesized": true`, code 1006). An idle connection
//! holds no plugin instance: only a small task, its socket and a 2 KiB read buffer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::{SinkExt, StreamExt};
use plinth_host::kinds::{Frame, IngressEvent};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

use crate::commands::FrameSink;
use crate::config::Backoff;
use crate::runtime::Service;

/// Frames queued for sending on one connection before `send-frame` is refused.
const SEND_BUFFER: usize = 64;
/// The read buffer each connection keeps (tungstenite allocates it up front).
const READ_BUFFER: usize = 2 * 1024;
/// The largest message accepted from a peer.
const MAX_MESSAGE: usize = 1024 * 1024;

/// What to do on a connection, from an output command.
enum Outgoing {
    Frame(Frame),
    Close(u16, String),
}

/// One live connection.
struct Conn {
    endpoint: String,
    sender: mpsc::Sender<Outgoing>,
}

#[derive(Default)]
struct Inner {
    connections: Mutex<HashMap<String, Conn>>,
    next_id: AtomicU64,
}

/// The WebSocket connections of a host, shared by every endpoint. Cheap to clone.
#[derive(Clone, Default)]
pub struct WebSocketDriver {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for WebSocketDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketDriver")
            .field("connections", &self.connections())
            .finish()
    }
}

/// The client TLS settings of [`WebSocketDriver::connect`]: the Web PKI roots, made once.
fn web_pki() -> Arc<rustls::ClientConfig> {
    static CONFIG: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            Arc::new(
                rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::aws_lc_rs::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .map(|builder| {
                    builder
                        .with_root_certificates(roots.clone())
                        .with_no_client_auth()
                })
                .unwrap_or_else(|_| {
                    rustls::ClientConfig::builder()
                        .with_root_certificates(roots)
                        .with_no_client_auth()
                }),
            )
        })
        .clone()
}

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

impl WebSocketDriver {
    /// A driver with no connections.
    pub fn new() -> Self {
        Self::default()
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.lock().len()
    }

    /// The ids of the open connections of `endpoint`.
    pub fn connection_ids(&self, endpoint: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .lock()
            .iter()
            .filter(|(_, conn)| conn.endpoint == endpoint)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Conn>> {
        self.inner
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Accepts WebSocket connections on `listener` for endpoint `endpoint`, feeding
    /// `service`, until the task is aborted.
    pub fn listen(
        &self,
        endpoint: &str,
        listener: TcpListener,
        service: Arc<Service>,
    ) -> JoinHandle<()> {
        let driver = self.clone();
        let endpoint = endpoint.to_owned();
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    continue;
                };
                let driver = driver.clone();
                let endpoint = endpoint.clone();
                let service = service.clone();
                tokio::spawn(async move {
                    match tokio_tungstenite::accept_async_with_config(stream, Some(config())).await
                    {
                        Ok(socket) => {
                            let meta = json!({"peer": peer.to_string(), "direction": "inbound"});
                            driver.run(&endpoint, socket, &service, meta).await;
                        }
                        Err(e) => tracing::debug!(
                            target: "plinth::service",
                            %endpoint,
                            error = %e,
                            "WebSocket handshake failed"
                        ),
                    }
                });
            }
        })
    }

    /// Accepts `wss://` connections on `listener` for endpoint `endpoint`: the TLS
    /// handshake with `tls` (the operator's certificate), then the WebSocket one; otherwise
    /// like [`Self::listen`].
    pub fn listen_tls(
        &self,
        endpoint: &str,
        listener: TcpListener,
        tls: Arc<rustls::ServerConfig>,
        service: Arc<Service>,
    ) -> JoinHandle<()> {
        let driver = self.clone();
        let endpoint = endpoint.to_owned();
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    continue;
                };
                let (driver, endpoint, service) =
                    (driver.clone(), endpoint.clone(), service.clone());
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let stream = match acceptor.accept(stream).await {
                        Ok(stream) => stream,
                        Err(e) => {
                            tracing::debug!(target: "plinth::service", %endpoint, error = %e, "TLS handshake failed");
                            return;
                        }
                    };
                    match tokio_tungstenite::accept_async_with_config(stream, Some(config())).await
                    {
                        Ok(socket) => {
                            let meta = json!({"peer": peer.to_string(), "direction": "inbound", "tls": true});
                            driver.run(&endpoint, socket, &service, meta).await;
                        }
                        Err(e) => tracing::debug!(
                            target: "plinth::service",
                            %endpoint,
                            error = %e,
                            "WebSocket handshake failed"
                        ),
                    }
                });
            }
        })
    }

    /// Keeps a client connection to `url` (`ws://` or `wss://`, checked against the Web PKI
    /// roots) for endpoint `endpoint`, feeding `service`: reconnects after a drop or a
    /// failed attempt, waiting `backoff` (doubling per failure in a row), until the task is
    /// aborted.
    pub fn connect(
        &self,
        endpoint: &str,
        url: &str,
        service: Arc<Service>,
        backoff: Backoff,
    ) -> JoinHandle<()> {
        self.connect_tls(endpoint, url, service, backoff, web_pki())
    }

    /// [`Self::connect`], with `wss://` servers checked against `tls` (another set of
    /// roots, a private CA, client certificates).
    pub fn connect_tls(
        &self,
        endpoint: &str,
        url: &str,
        service: Arc<Service>,
        backoff: Backoff,
        tls: Arc<rustls::ClientConfig>,
    ) -> JoinHandle<()> {
        let driver = self.clone();
        let endpoint = endpoint.to_owned();
        let url = url.to_owned();
        tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                match tokio_tungstenite::connect_async_tls_with_config(
                    url.as_str(),
                    Some(config()),
                    true,
                    Some(tokio_tungstenite::Connector::Rustls(tls.clone())),
                )
                .await
                {
                    Ok((socket, _)) => {
                        failures = 0;
                        let meta = json!({"url": url, "direction": "outbound"});
                        driver.run(&endpoint, socket, &service, meta).await;
                    }
                    Err(e) => {
                        failures += 1;
                        tracing::warn!(
                            target: "plinth::service",
                            %endpoint,
                            %url,
                            error = %e,
                            failures,
                            "WebSocket connect failed; retrying with backoff"
                        );
                    }
                }
                tokio::time::sleep(backoff.delay(failures.max(1))).await;
            }
        })
    }

    /// Runs one connection until it closes: frames in become events, commands out
    /// become frames.
    async fn run<S>(
        &self,
        endpoint: &str,
        socket: WebSocketStream<S>,
        service: &Service,
        meta: serde_json::Value,
    ) where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let id = format!(
            "{endpoint}-{}",
            self.inner.next_id.fetch_add(1, Ordering::Relaxed) + 1
        );
        let (sender, mut outgoing) = mpsc::channel(SEND_BUFFER);
        self.lock().insert(
            id.clone(),
            Conn {
                endpoint: endpoint.to_owned(),
                sender,
            },
        );
        let mut sequence = 0u64;
        let mut emit = |kind: &str, meta: serde_json::Value, body: Vec<u8>| {
            sequence += 1;
            let event = IngressEvent {
                connection: Some(id.clone()),
                connection_sequence: sequence,
                meta: meta.to_string(),
                ..IngressEvent::new("websocket", kind, body)
            };
            if let Err(e) = service.push(event) {
                tracing::warn!(target: "plinth::service", connection = %id, error = %e, "WebSocket event refused");
            }
        };
        let mut open_meta = meta;
        open_meta["endpoint"] = json!(endpoint);
        emit("open", open_meta, Vec::new());
        let (mut sink, mut stream) = socket.split();
        let closed = loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        emit("message", json!({"type": "text"}), text.as_bytes().to_vec());
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        emit("message", json!({"type": "binary"}), bytes.to_vec());
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = frame.map_or((1005, String::new()), |f| {
                            (u16::from(f.code), f.reason.to_string())
                        });
                        break Some((code, reason));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break None,
                },
                command = outgoing.recv() => match command {
                    Some(Outgoing::Frame(Frame::Text(text))) => {
                        if sink.send(Message::text(text)).await.is_err() {
                            break None;
                        }
                    }
                    Some(Outgoing::Frame(Frame::Binary(bytes))) => {
                        if sink.send(Message::binary(bytes)).await.is_err() {
                            break None;
                        }
                    }
                    Some(Outgoing::Close(code, reason)) => {
                        let frame = CloseFrame {
                            code: CloseCode::from(code),
                            reason: reason.clone().into(),
                        };
                        let _ = sink.send(Message::Close(Some(frame))).await;
                        break Some((code, reason));
                    }
                    None => break None,
                },
            }
        };
        self.lock().remove(&id);
        match closed {
            Some((code, reason)) => emit(
                "close",
                json!({"code": code, "reason": reason, "synthesized": false}),
                Vec::new(),
            ),
            None => emit(
                "close",
                json!({"code": 1006, "reason": "the connection dropped", "synthesized": true}),
                Vec::new(),
            ),
        }
    }

    fn queue(&self, connection: &str, outgoing: Outgoing) -> Result<(), String> {
        let connections = self.lock();
        let Some(conn) = connections.get(connection) else {
            return Err(format!("connection `{connection}` is closed"));
        };
        conn.sender.try_send(outgoing).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => format!(
                "connection `{connection}` has {SEND_BUFFER} frames waiting to be sent; frame refused"
            ),
            mpsc::error::TrySendError::Closed(_) => format!("connection `{connection}` is closed"),
        })
    }
}

impl FrameSink for WebSocketDriver {
    fn endpoint(&self, connection: &str) -> Option<String> {
        self.lock().get(connection).map(|c| c.endpoint.clone())
    }

    fn send(&self, connection: &str, frame: Frame) -> Result<(), String> {
        self.queue(connection, Outgoing::Frame(frame))
    }

    fn close(&self, connection: &str, code: u16, reason: &str) -> Result<(), String> {
        self.queue(connection, Outgoing::Close(code, reason.to_owned()))
    }
}
