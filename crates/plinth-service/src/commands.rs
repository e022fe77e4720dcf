//! Output commands: what a handler asks the host to do, checked against the plugin's
//! grants before anything happens.
//!
//! | command | grant | carried out by |
//! | --- | --- | --- |
//! | `send-frame`, `close` | `websocket:<endpoint>` | the [`FrameSink`] holding the connection |
//! | `publish` | `events.publish:<channel>` | the host's event bus ([`Plugin::publish`]) |
//! | `http-request` | `http:<host>` | the host's HTTP client ([`Plugin::http_request`]); the answer is an ingress event |
//! | `action` | `<name>` or `<name>:<scope>` | the application's [`ActionFn`] |

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use plinth_host::Plugin;
use plinth_host::kinds::{Frame, ServiceCommand};
use plinth_manifest::Grant;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use serde_json::Value;

/// An application-defined action call, after the grant check.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionCall {
    /// The plugin that asked.
    pub plugin: String,
    /// The action.
    pub name: String,
    /// The scope the grant was checked for.
    pub scope: Option<String>,
    /// The payload, parsed.
    pub payload: Value,
}

/// An application-defined action: `Err(reason)` when it fails.
pub type ActionFn = Arc<dyn Fn(ActionCall) -> Result<(), String> + Send + Sync>;

/// Whoever holds the WebSocket connections a service sends on (the host's WebSocket
/// driver, or the application's own).
pub trait FrameSink: Send + Sync {
    /// The operator-configured endpoint a connection belongs to (`websocket:<endpoint>`
    /// is the grant checked); `None` for an unknown connection.
    fn endpoint(&self, connection: &str) -> Option<String>;
    /// Sends `frame` on `connection`.
    fn send(&self, connection: &str, frame: Frame) -> Result<(), String>;
    /// Closes `connection`.
    fn close(&self, connection: &str, code: u16, reason: &str) -> Result<(), String>;
}

/// The side effects a service's commands can reach: the application's actions and the
/// connections' owner. Publish and HTTP need nothing here: the host does them.
#[derive(Clone, Default)]
pub struct Commands {
    actions: BTreeMap<String, ActionFn>,
    frames: Option<Arc<dyn FrameSink>>,
}

impl fmt::Debug for Commands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Commands")
            .field("actions", &self.actions.keys().collect::<Vec<_>>())
            .field("frames", &self.frames.is_some())
            .finish()
    }
}

impl Commands {
    /// With the action `name` (granted as `name` or `name:<scope>`).
    pub fn action(
        mut self,
        name: impl Into<String>,
        action: impl Fn(ActionCall) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.actions.insert(name.into(), Arc::new(action));
        self
    }

    /// With `sink` holding the WebSocket connections.
    pub fn frames(mut self, sink: Arc<dyn FrameSink>) -> Self {
        self.frames = Some(sink);
        self
    }

    /// Checks and carries out one synchronous command (everything but `http-request`,
    /// which the runtime runs in the background). Nothing happens unless the grant
    /// check passes.
    pub(crate) fn run(&self, plugin: &Plugin, command: ServiceCommand) -> Result<(), Diagnostic> {
        let fail = |code: Code, message: String| {
            Diagnostic::new(code, format!("{}: {message}", plugin.id())).with_plugin(plugin.id())
        };
        match command {
            ServiceCommand::SendFrame { connection, frame } => {
                let sink = self.sink(plugin, &connection)?;
                sink.send(&connection, frame)
                    .map_err(|e| fail(Code::PluginFailed, format!("send-frame: {e}")))
            }
            ServiceCommand::Close {
                connection,
                code,
                reason,
            } => {
                let sink = self.sink(plugin, &connection)?;
                sink.close(&connection, code, &reason)
                    .map_err(|e| fail(Code::PluginFailed, format!("close: {e}")))
            }
            ServiceCommand::Publish { channel, payload } => plugin
                .publish(&channel, &payload)
                .map_err(|e| e.to_diagnostic()),
            ServiceCommand::Action {
                name,
                scope,
                payload,
            } => {
                plugin
                    .authorize(&Grant::Custom {
                        name: name.clone(),
                        scope: scope.clone(),
                    })
                    .map_err(|e| e.to_diagnostic())?;
                let Some(action) = self.actions.get(&name) else {
                    return Err(fail(
                        Code::BadArgument,
                        format!("no action `{name}`: the application registers none by that name"),
                    ));
                };
                let payload: Value = serde_json::from_str(&payload).map_err(|e| {
                    fail(
                        Code::BadArgument,
                        format!("the payload of action `{name}` is not JSON ({e})"),
                    )
                })?;
                action(ActionCall {
                    plugin: plugin.id().into(),
                    name: name.clone(),
                    scope,
                    payload,
                })
                .map_err(|e| fail(Code::PluginFailed, format!("action `{name}` failed: {e}")))
            }
            ServiceCommand::HttpRequest { .. } => Err(fail(
                Code::BadArgument,
                "an http-request command runs in the background".into(),
            )),
        }
    }

    /// The sink holding `connection`, after the `websocket:<endpoint>` grant check.
    fn sink(&self, plugin: &Plugin, connection: &str) -> Result<&Arc<dyn FrameSink>, Diagnostic> {
        let unknown = || {
            Diagnostic::new(
                Code::BadArgument,
                format!("{}: no WebSocket connection `{connection}`", plugin.id()),
            )
            .with_plugin(plugin.id())
        };
        let sink = self.frames.as_ref().ok_or_else(unknown)?;
        let endpoint = sink.endpoint(connection).ok_or_else(unknown)?;
        plugin
            .authorize(&Grant::WebSocket(endpoint))
            .map_err(|e| e.to_diagnostic())?;
        Ok(sink)
    }
}
