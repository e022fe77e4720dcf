//! What the host does on a plugin's behalf outside any call: the output commands of a
//! service (docs/design/0048). Each goes through the plugin's own grant gate first, so a
//! denied command has no effect, is audited, and yields a `missing-grant` diagnostic with
//! the hint an operator follows.

use plinth_manifest::Grant;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};

use crate::caps::events::PublishedEvent;
use crate::plugin::Plugin;

/// A side effect refused or failed. Nothing happened, except for a failed HTTP exchange
/// (the request may have reached the server).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{plugin}: {message}")]
pub struct OutboundError {
    /// The plugin on whose behalf it was asked.
    pub plugin: String,
    /// The diagnostic code's text: `missing-grant`, `too-large`, `rate-limited`, an
    /// HTTP policy code, or `transport` for a failed exchange.
    pub code: &'static str,
    /// What went wrong, with the hint for a missing grant.
    pub message: String,
}

impl ToDiagnostic for OutboundError {
    fn to_diagnostic(&self) -> Diagnostic {
        let code = self.code.parse().unwrap_or(Code::PluginFailed);
        Diagnostic::new(code, self.to_string()).with_plugin(&self.plugin)
    }
}

/// An HTTP response to a request made with [`Plugin::http_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    /// The status code.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body (up to the host's body cap).
    pub body: Vec<u8>,
}

impl Plugin {
    /// Decides `grant` through the plugin's grant gate and records the decision: `Ok`
    /// when its effective grants cover it, else a `missing-grant` error with the
    /// `plinth grant` hint.
    pub fn authorize(&self, grant: &Grant) -> Result<(), OutboundError> {
        let gate = &self.inner.ctx.gate;
        match gate.check(grant.clone()) {
            Ok(()) => Ok(()),
            Err(denial) => Err(OutboundError {
                plugin: self.id().into(),
                code: Code::MissingGrant.as_str(),
                message: format!("needs `{}`: {}", denial.grant, denial.hint),
            }),
        }
    }

    /// Watches the mapped directories `dirs` as the plugin, exactly as its own
    /// `plinth:host/watch.subscribe` would: each needs its `watch:` grant, changes arrive in
    /// the plugin's inbox as `fs-change` events after `debounce` (clamped to 10 ms–60 s),
    /// and the subscription lasts until [`Plugin::unwatch`] or the plugin is dropped. The
    /// manager subscribes a plugin to its entry's watch seeds this way.
    pub fn watch(
        &self,
        dirs: &[String],
        debounce: std::time::Duration,
    ) -> Result<u64, OutboundError> {
        use crate::bindings::watch::WatchError;
        let ctx = &self.inner.ctx;
        let mut denial = None;
        let outcome = ctx
            .caps
            .watch
            .roots(dirs.to_vec(), |grant| {
                self.authorize(&grant).map_err(|e| {
                    let message = e.message.clone();
                    denial = Some(e);
                    WatchError::MissingGrant(message)
                })
            })
            .and_then(|roots| {
                let ms = u32::try_from(debounce.as_millis()).unwrap_or(u32::MAX);
                ctx.caps.watch.subscribe(&ctx.inbox, roots, ms)
            });
        outcome.map_err(|error| {
            if let Some(denial) = denial {
                return denial;
            }
            let (code, message) = match error {
                WatchError::MissingGrant(m) => (Code::MissingGrant, m),
                WatchError::Denied(m) => (Code::FsDenied, m),
                WatchError::Io(m) => (Code::IoError, m),
            };
            OutboundError {
                plugin: self.id().into(),
                code: code.as_str(),
                message,
            }
        })
    }

    /// Ends the watch subscription `id` made by [`Plugin::watch`] (or by the plugin
    /// itself); an unknown id is ignored.
    pub fn unwatch(&self, id: u64) {
        self.inner.ctx.caps.watch.unsubscribe(id);
    }

    /// Publishes `payload` on `channel` as the plugin, exactly as its own
    /// `plinth:host/events.publish` would: the `events.publish:<channel>` grant, the
    /// payload cap, the plugin's publish rate and the host's event checks
    /// (`rejected-schema`) apply.
    pub fn publish(&self, channel: &str, payload: &str) -> Result<(), OutboundError> {
        use crate::caps::events::Refusal;
        self.authorize(&Grant::EventsPublish(channel.into()))?;
        let event = PublishedEvent {
            channel: channel.into(),
            plugin: self.id().into(),
            payload: payload.into(),
            tenant: self.inner.ctx.gate.tenant().map(str::to_owned),
        };
        let (code, message) = match self.inner.ctx.caps.events.publish(event) {
            Ok(()) => return Ok(()),
            Err(Refusal::TooLarge(m)) => (Code::TooLarge, m),
            Err(Refusal::RateLimited(m)) => (Code::RateLimited, m),
            Err(Refusal::Rejected(rejected)) => (Code::RejectedSchema, rejected.to_string()),
        };
        Err(OutboundError {
            plugin: self.id().into(),
            code: code.as_str(),
            message,
        })
    }

    /// Makes an HTTP request as the plugin, exactly as its own `plinth:host/http.fetch`
    /// would: the `http:<host>` grant, the network policy (SSRF guard, consent), the
    /// plugin's request rate and concurrency, and the host's body cap apply.
    pub async fn http_request(
        &self,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<OutboundResponse, OutboundError> {
        let http = &self.inner.ctx.caps.http;
        let sent =
            crate::caps::http::send_for_plugin(http, method, url.into(), headers, body).await;
        self.outbound_answer(sent)
    }

    /// Makes an HTTP request for the plugin through an app-defined capability
    /// (`capability`, e.g. the grant `network` of Stack Composer's `network_fetch`): the
    /// plugin needs that grant instead of an `http:<host>` one; the host's network mode
    /// (`offline` refuses it with `http-denied` before any socket is opened) and proxy,
    /// the scheme rule, the SSRF guard, the plugin's request rate and concurrency, and
    /// the body cap apply as to its own `fetch`. Redirects stay on the first destination.
    pub async fn http_request_for(
        &self,
        capability: &Grant,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<OutboundResponse, OutboundError> {
        self.authorize(capability)?;
        let http = &self.inner.ctx.caps.http;
        let sent =
            crate::caps::http::send_under_capability(http, method, url.into(), headers, body).await;
        self.outbound_answer(sent)
    }

    /// A request's outcome from `caps::http` as this API's response or coded error.
    fn outbound_answer(
        &self,
        sent: crate::caps::http::SentForPlugin,
    ) -> Result<OutboundResponse, OutboundError> {
        sent.map(|(status, headers, body)| OutboundResponse {
            status,
            headers,
            body,
        })
        .map_err(|(code, message)| OutboundError {
            plugin: self.id().into(),
            code,
            message,
        })
    }
}
