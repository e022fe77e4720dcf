//! `plinth:host/http`: the grant check, the network policy ([`policy`]), the SSRF guard
//! ([`guard`]), per-domain consent ([`consent`]) and the transport ([`transport`]) every
//! outgoing request passes. `fetch` waits for the response; `submit` runs the request on
//! the host's runtime and delivers the outcome to the plugin's inbox ([`event`]).

mod client;
pub(crate) mod consent;
mod error_code;
mod event;
mod guard;
mod policy;
pub(crate) mod resolve;
pub(crate) mod settings;
mod transport;
pub(crate) mod wasi;
mod wire;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use plinth_manifest::Grant;
use plinth_manifest::diagnostic::Code;

use crate::bindings::http;
use crate::host_api::grant_hint;
use crate::log::{LogLevel, LogSource};
use crate::state::{PluginContext, StoreState};

use client::{Admitted, Failure, Outgoing};
pub(crate) use client::{Network, PluginHttp};
use consent::ConsentState;
use policy::{Refusal, Target};
use settings::ConsentMode;

impl http::Host for StoreState {
    async fn fetch(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        let timeout = request.timeout_ms;
        let (admitted, outgoing) = self.admit_http(request)?;
        let net = self.plugin.caps.http.net.clone();
        let deadline = net.deadline(timeout, self.call_deadline);
        let plugin = self.plugin.clone();
        // On the host's runtime, whichever runtime runs the call; aborted if the call is
        // dropped (its wall clock ran out).
        let task = AbortOnDrop(net.runtime.clone().spawn(async move {
            let Admitted { target, slot } = admitted;
            let outcome = net.send(&plugin, target, outgoing, deadline).await;
            drop(slot);
            outcome
        }));
        match task.await {
            Ok(Ok(reply)) => Ok(http::Response {
                status: reply.status,
                headers: event::header_pairs(&reply.headers),
                body: reply.body.to_vec(),
            }),
            Ok(Err(failure)) => Err(self.http_error(failure)),
            Err(e) => Err(http::HttpError::Transport(format!(
                "the request task failed: {e}"
            ))),
        }
    }

    async fn submit(&mut self, request: http::Request) -> Result<u64, http::HttpError> {
        let timeout = request.timeout_ms;
        let (admitted, outgoing) = self.admit_http(request)?;
        let net = self.plugin.caps.http.net.clone();
        // Not bounded by the call: the request outlives it.
        let deadline = net.deadline(timeout, None);
        let id = self.plugin.caps.http.next_id();
        let plugin = self.plugin.clone();
        net.runtime.clone().spawn(async move {
            let Admitted { target, slot } = admitted;
            let outcome = net.send(&plugin, target, outgoing, deadline).await;
            drop(slot);
            plugin.inbox.push(event::response_event(id, outcome));
        });
        Ok(id)
    }
}

impl StoreState {
    /// The policy, consent and limits for one request: its destination and a slot, or
    /// the error the plugin gets.
    fn admit_http(
        &mut self,
        request: http::Request,
    ) -> Result<(Admitted, Outgoing), http::HttpError> {
        let target = self.check_http(&request.url)?;
        let admitted = self
            .plugin
            .caps
            .http
            .admit(target)
            .map_err(|f| self.http_error(f))?;
        let outgoing = Outgoing {
            method: method(request.method),
            url: request.url,
            headers: request.headers,
            body: request.body.map(Bytes::from).unwrap_or_default(),
        };
        Ok((admitted, outgoing))
    }

    /// Applies the network policy (and consent) to a request URL: [`decide`], with a
    /// refusal turned into the plugin's `http-error`.
    fn check_http(&mut self, url: &str) -> Result<Target, http::HttpError> {
        decide(&self.plugin, url).map_err(|failure| self.http_error(failure))
    }

    /// The `http-error` for a failure; a missing grant is also recorded and audited.
    pub(crate) fn http_error(&mut self, failure: Failure) -> http::HttpError {
        match failure {
            Failure::MissingGrant(grant) => {
                super::audit(&self.plugin.id, &grant, false);
                let hint = grant_hint(&self.plugin.id, &grant);
                self.note_missing_grant(grant);
                http::HttpError::MissingGrant(hint)
            }
            other => {
                self.report_http(&other);
                event::wit_error(other)
            }
        }
    }

    /// Writes a refusal the operator should see into the plugin's log as a coded line.
    fn report_http(&mut self, failure: &Failure) {
        let (code, message) = match failure {
            Failure::Denied(m) => (Code::HttpDenied, m),
            Failure::TooLarge(m) => (Code::HttpTooLarge, m),
            Failure::RateLimited(m) => (Code::RateLimited, m),
            Failure::ConsentPending(m) => (Code::ConsentPending, m),
            _ => return,
        };
        let line = format!("{}: {message}", code.as_str());
        self.log(LogLevel::Warn, LogSource::Host, line);
    }
}

/// The grant decision for one request URL, shared by `plinth:host/http` and `wasi:http`:
/// the network policy, and for hosts the manifest asks for but nobody granted, per-domain
/// consent. Every decision is audited.
pub(crate) fn decide(plugin: &PluginContext, url: &str) -> Result<Target, Failure> {
    let net = &plugin.caps.http.net;
    match net.policy.check(&plugin.grants, url) {
        Ok(target) => {
            super::audit(&plugin.id, &target.grant(), true);
            Ok(target)
        }
        Err(Refusal::NotGranted(grant)) => ask_consent(plugin, url, grant),
        Err(refusal) => Err(refusal.into()),
    }
}

/// A host outside the grants: `missing-grant`, unless consent is on and the manifest
/// requested it, then whatever a person decided (or `consent-pending`).
fn ask_consent(plugin: &PluginContext, url: &str, grant: Grant) -> Result<Target, Failure> {
    let net = &plugin.caps.http.net;
    let askable = net.settings.consent == ConsentMode::Ask && plugin.requested.allows(&grant);
    if !askable {
        return Err(Failure::MissingGrant(grant));
    }
    let host = grant.scope().unwrap_or_default().to_owned();
    let id = &plugin.id;
    let state = net
        .consent
        .ask(id, &host)
        .map_err(|e| Failure::Denied(e.to_string()))?;
    super::audit(id, &grant, state == ConsentState::Approved);
    match state {
        ConsentState::Approved => {
            let mut grants = plugin.grants.clone();
            grants.insert(grant);
            net.policy.check(&grants, url).map_err(Failure::from)
        }
        ConsentState::Pending => Err(Failure::ConsentPending(format!(
            "{host} awaits a person's approval; approve it with `plinth consent approve {id} {host}` (or deny it with `plinth consent deny {id} {host}`)"
        ))),
        ConsentState::Denied => Err(Failure::Denied(format!(
            "a person denied {id} access to {host} (`plinth consent approve {id} {host}` reverses it)"
        ))),
    }
}

fn method(method: http::Method) -> ::http::Method {
    match method {
        http::Method::Get => ::http::Method::GET,
        http::Method::Head => ::http::Method::HEAD,
        http::Method::Post => ::http::Method::POST,
        http::Method::Put => ::http::Method::PUT,
        http::Method::Patch => ::http::Method::PATCH,
        http::Method::Delete => ::http::Method::DELETE,
        http::Method::Options => ::http::Method::OPTIONS,
    }
}

/// A spawned task that is aborted when its handle is dropped.
pub(crate) struct AbortOnDrop<T>(pub(crate) tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}
