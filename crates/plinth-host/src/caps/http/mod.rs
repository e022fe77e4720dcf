//! `plinth:host/http`: the grant check, the network policy ([`policy`]), the SSRF guard
//! ([`super::guard`]), per-domain consent ([`consent`]) and the transport ([`transport`]) every
//! outgoing request passes. `fetch` waits for the response; `submit` runs the request on
//! the host's runtime and delivers the outcome to the plugin's inbox ([`event`]).

mod client;
pub(crate) mod consent;
mod error_code;
mod event;
mod policy;
pub(crate) mod resolve;
pub(crate) mod settings;
mod tls;
mod transport;
pub(crate) mod wasi;
mod wire;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use plinth_manifest::Grant;
use plinth_manifest::diagnostic::Code;
use plinth_manifest::grant::GrantSet;

use super::gate::{CallGate, GrantGate};
use crate::bindings::http;
use crate::inbox::Inbox;
use crate::log::{CallLog, LogLevel, LogSource};

use client::{Admitted, MAX_HELD_PER_PLUGIN};
pub(crate) use client::{Network, PluginHttp};
use consent::{Asked, ConsentNotice, ConsentState};
use error_code::Failure;
use policy::{Refusal, Target};
use settings::ConsentMode;
use tokio::sync::broadcast;
use wire::{Outgoing, Reply};

/// What the network capability knows of one plugin. Requests outlive the call that made
/// them (`submit`, redirects), so this is shared, not borrowed.
#[derive(Debug)]
pub(crate) struct HttpPlugin {
    pub(crate) gate: Arc<GrantGate>,
    /// What the manifest asks for (the grants as given, for a bare component): the hosts
    /// per-domain consent may be asked for.
    pub(crate) requested: GrantSet,
    /// The plugin's request rate, concurrency slots and request ids (shared with the
    /// requests an app-defined capability makes for it, [`send_under_capability`]).
    pub(crate) http: Arc<PluginHttp>,
    /// Where `submit`'s outcomes go.
    pub(crate) inbox: Inbox,
}

/// What `http` sees of a call.
pub(crate) struct HttpView<'a> {
    pub(crate) gate: CallGate<'a>,
    pub(crate) plugin: &'a Arc<HttpPlugin>,
    pub(crate) log: CallLog<'a>,
    /// When the current call's wall clock runs out; bounds `fetch`.
    pub(crate) call_deadline: Option<tokio::time::Instant>,
}

linked_through!(
    /// Links `plinth:host/http` to an [`HttpView`].
    Http => HttpView
);

impl http::Host for HttpView<'_> {
    async fn fetch(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        let timeout = request.timeout_ms;
        let (admitted, outgoing) = self.admit(request)?;
        let net = self.plugin.http.net.clone();
        let deadline = net.deadline(timeout, self.call_deadline);
        let plugin = self.plugin.clone();
        // On the host's runtime, whichever runtime runs the call; aborted if the call is
        // dropped (its wall clock ran out).
        let task = AbortOnDrop(net.runtime.handle().clone().spawn(async move {
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
            Ok(Err(failure)) => Err(self.error(failure)),
            Err(e) => Err(http::HttpError::Transport(format!(
                "the request task failed: {e}"
            ))),
        }
    }

    async fn submit(&mut self, request: http::Request) -> Result<u64, http::HttpError> {
        let id = self.plugin.http.next_id();
        let net = self.plugin.http.net.clone();
        // Subscribed before asking, so a decision made as soon as the notice is out is seen.
        let decisions = (net.settings.consent == ConsentMode::Ask).then(|| net.consent.subscribe());
        let target = match decide(self.plugin, &request.url, Some(id)) {
            Ok(target) => target,
            Err(Failure::Awaiting { host, message }) => {
                if let Some(decisions) = decisions {
                    return self.hold(id, host, message, request, decisions);
                }
                return Err(self.error(Failure::Awaiting { host, message }));
            }
            Err(failure) => return Err(self.error(failure)),
        };
        let admitted = self
            .plugin
            .http
            .admit(target)
            .map_err(|failure| self.error(failure))?;
        let timeout = request.timeout_ms;
        let outgoing = outgoing(request);
        // Not bounded by the call: the request outlives it.
        let deadline = net.deadline(timeout, None);
        let plugin = self.plugin.clone();
        net.runtime.handle().clone().spawn(async move {
            let Admitted { target, slot } = admitted;
            let outcome = net.send(&plugin, target, outgoing, deadline).await;
            drop(slot);
            plugin.inbox.push(event::response_event(id, outcome));
        });
        Ok(id)
    }
}

impl HttpView<'_> {
    /// The policy, consent and limits for one request: its destination and a slot, or
    /// the error the plugin gets.
    fn admit(&mut self, request: http::Request) -> Result<(Admitted, Outgoing), http::HttpError> {
        let admitted = decide(self.plugin, &request.url, None)
            .and_then(|target| self.plugin.http.admit(target))
            .map_err(|failure| self.error(failure))?;
        Ok((admitted, outgoing(request)))
    }

    /// Holds a submitted request to a host awaiting consent (docs/design/0042): the plugin
    /// gets its id, a provisional `consent-pending` event, and once a person decides (or
    /// `[network] consent_wait_ms` passes) the request's final event.
    fn hold(
        &mut self,
        id: u64,
        host: String,
        message: String,
        request: http::Request,
        decisions: broadcast::Receiver<ConsentNotice>,
    ) -> Result<u64, http::HttpError> {
        let Some(room) = self.plugin.http.hold() else {
            return Err(self.error(Failure::ConsentPending(format!(
                "{message} ({MAX_HELD_PER_PLUGIN} requests of this plugin already wait for a decision)"
            ))));
        };
        let line = format!(
            "{}: {message} (request {id} held)",
            Code::ConsentPending.as_str()
        );
        self.log.write(LogLevel::Warn, LogSource::Host, line);
        let plugin = self.plugin.clone();
        plugin.inbox.push(event::held_event(id, message));
        let net = plugin.http.net.clone();
        net.runtime.handle().clone().spawn(async move {
            let state = await_decision(&plugin, &host, decisions).await;
            drop(room);
            let outcome = match state {
                ConsentState::Approved => send_approved(&plugin, request).await,
                ConsentState::Denied => Err(Failure::Denied(format!(
                    "a person denied {} access to {host}",
                    plugin.gate.plugin()
                ))),
                ConsentState::Pending => Err(Failure::ConsentPending(format!(
                    "no decision on {host} within {} ms ([network] consent_wait_ms)",
                    plugin.http.net.settings.consent_wait_ms
                ))),
            };
            plugin.inbox.push(event::response_event(id, outcome));
        });
        Ok(id)
    }

    /// The `http-error` for a failure; a missing grant is noted for the call's diagnostic,
    /// a refusal the operator should see is logged as a coded line.
    pub(crate) fn error(&mut self, failure: Failure) -> http::HttpError {
        let (code, message) = match failure {
            Failure::MissingGrant(grant) => {
                self.plugin.gate.record(&grant, false);
                let denial = self.plugin.gate.denial(grant);
                return self.gate.refused(denial).into();
            }
            Failure::Denied(ref m) => (Code::HttpDenied, m),
            Failure::TooLarge(ref m) => (Code::HttpTooLarge, m),
            Failure::RateLimited(ref m) => (Code::RateLimited, m),
            Failure::ConsentPending(ref m) | Failure::Awaiting { message: ref m, .. } => {
                (Code::ConsentPending, m)
            }
            other => return event::wit_error(other),
        };
        let line = format!("{}: {message}", code.as_str());
        self.log.write(LogLevel::Warn, LogSource::Host, line);
        event::wit_error(failure)
    }
}

/// The request of a `submit` held for consent, once approved: decided again (the grants
/// or the decision may have changed), admitted under the plugin's limits, and sent.
pub(crate) async fn send_approved(
    plugin: &Arc<HttpPlugin>,
    request: http::Request,
) -> Result<Reply, Failure> {
    let net = plugin.http.net.clone();
    let target = decide(plugin, &request.url, None)?;
    let Admitted { target, slot } = plugin.http.admit(target)?;
    let deadline = net.deadline(request.timeout_ms, None);
    let outcome = net.send(plugin, target, outgoing(request), deadline).await;
    drop(slot);
    outcome
}

/// The decision on `host` for `plugin`: the first `approved` or `denied` notice for it,
/// or what the store holds when notices were missed or `[network] consent_wait_ms`
/// passed (a decision written by another process is read then).
async fn await_decision(
    plugin: &HttpPlugin,
    host: &str,
    mut decisions: broadcast::Receiver<ConsentNotice>,
) -> ConsentState {
    let net = &plugin.http.net;
    let (tenant, id) = (plugin.gate.tenant(), plugin.gate.plugin());
    let stored = || {
        net.consent
            .state_for(tenant, id, host)
            .ok()
            .flatten()
            .unwrap_or(ConsentState::Pending)
    };
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(net.settings.consent_wait_ms);
    loop {
        match tokio::time::timeout_at(deadline, decisions.recv()).await {
            Ok(Ok(notice)) => {
                let ours = notice.tenant.as_deref() == tenant
                    && notice.plugin == id
                    && notice.host == host;
                if ours && notice.state != ConsentState::Pending {
                    return notice.state;
                }
            }
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                let state = stored();
                if state != ConsentState::Pending {
                    return state;
                }
            }
            Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return stored(),
        }
    }
}

/// The request as the transport sends it.
fn outgoing(request: http::Request) -> Outgoing {
    Outgoing {
        method: method(request.method),
        url: request.url,
        headers: request.headers,
        body: request.body.map(Bytes::from).unwrap_or_default(),
    }
}

/// The grant decision for one request URL, shared by `plinth:host/http` and `wasi:http`:
/// the network policy on the plugin's grants, and for hosts the manifest asks for but
/// nobody granted, per-domain consent. Every decision is recorded by the plugin's gate.
/// A host recorded as awaiting consent is announced to the store's subscribers, with
/// `request` (a `submit`'s id) when there is one.
pub(crate) fn decide(
    plugin: &HttpPlugin,
    url: &str,
    request: Option<u64>,
) -> Result<Target, Failure> {
    let net = &plugin.http.net;
    if net.settings.mode == settings::NetworkMode::Offline {
        return Err(Failure::Denied(format!(
            "the host is offline ([network] mode = \"offline\"): no request leaves it, {url} included"
        )));
    }
    match net.policy.check(plugin.gate.grants(), url) {
        Ok(target) => {
            plugin.gate.record(&target.grant(), true);
            Ok(target)
        }
        Err(Refusal::NotGranted(grant)) => ask_consent(plugin, url, grant, request),
        Err(refusal) => Err(refusal.into()),
    }
}

/// A host outside the grants: `missing-grant`, unless consent is on and the manifest
/// requested it, then whatever a person decided (or `consent-pending`).
fn ask_consent(
    plugin: &HttpPlugin,
    url: &str,
    grant: Grant,
    request: Option<u64>,
) -> Result<Target, Failure> {
    let net = &plugin.http.net;
    let askable = net.settings.consent == ConsentMode::Ask && plugin.requested.allows(&grant);
    if !askable {
        return Err(Failure::MissingGrant(grant));
    }
    let host = grant.scope().unwrap_or_default().to_owned();
    let id = plugin.gate.plugin();
    let tenant = plugin.gate.tenant();
    let asked = net
        .consent
        .ask(tenant, id, &host)
        .map_err(|e| Failure::Denied(e.to_string()))?;
    let state = match asked {
        Asked::State(state) => state,
        Asked::TooManyPending => {
            plugin.gate.record(&grant, false);
            return Err(Failure::ConsentPending(format!(
                "{id} already has too many hosts awaiting a person's decision; {host} was not recorded (decide the pending ones with `plinth consent list --pending`)"
            )));
        }
        Asked::RateLimited => {
            plugin.gate.record(&grant, false);
            return Err(Failure::RateLimited(format!(
                "{id} asked for consent to new hosts too fast; {host} was not recorded"
            )));
        }
    };
    plugin.gate.record(&grant, state == ConsentState::Approved);
    let tenant_flag = tenant.map(|t| format!("--tenant {t} ")).unwrap_or_default();
    match state {
        ConsentState::Approved => {
            let mut grants = plugin.gate.grants().clone();
            grants.insert(grant);
            net.policy.check(&grants, url).map_err(Failure::from)
        }
        ConsentState::Pending => {
            let message = format!(
                "{host} awaits a person's approval; approve it with `plinth {tenant_flag}consent approve {id} {host}` (or deny it with `plinth {tenant_flag}consent deny {id} {host}`)"
            );
            net.consent.notify(ConsentNotice {
                tenant: tenant.map(str::to_owned),
                plugin: id.to_owned(),
                host: host.clone(),
                request,
                state: ConsentState::Pending,
            });
            Err(Failure::Awaiting { host, message })
        }
        ConsentState::Denied => Err(Failure::Denied(format!(
            "a person denied {id} access to {host} (`plinth {tenant_flag}consent approve {id} {host}` reverses it)"
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

/// What a request made on a plugin's behalf gives: status, headers and body, or a code
/// and a message.
pub(crate) type SentForPlugin =
    Result<(u16, Vec<(String, String)>, Vec<u8>), (&'static str, String)>;

/// A request the host makes on a plugin's behalf outside any call (a service's
/// `http-request` output command): the same policy, consent, limits and transport as the
/// plugin's own `fetch`, run on the host's runtime. The failure is its code (a
/// diagnostic code, or `transport` for a failed exchange) and message; a missing grant
/// is recorded by the plugin's gate.
pub(crate) async fn send_for_plugin(
    plugin: &Arc<HttpPlugin>,
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> SentForPlugin {
    let method = match method.to_ascii_uppercase().as_str() {
        "GET" => http::Method::Get,
        "HEAD" => http::Method::Head,
        "POST" => http::Method::Post,
        "PUT" => http::Method::Put,
        "PATCH" => http::Method::Patch,
        "DELETE" => http::Method::Delete,
        "OPTIONS" => http::Method::Options,
        other => {
            return Err((
                Code::BadArgument.as_str(),
                format!("{other:?} is not a method the host sends"),
            ));
        }
    };
    let request = http::Request {
        method,
        url,
        headers,
        body: Some(body),
        timeout_ms: None,
    };
    let task = AbortOnDrop(plugin.http.net.runtime.handle().clone().spawn({
        let plugin = plugin.clone();
        async move { send_approved(&plugin, request).await }
    }));
    let failure = match task.await {
        Ok(Ok(reply)) => {
            return Ok((
                reply.status,
                event::header_pairs(&reply.headers),
                reply.body.to_vec(),
            ));
        }
        Ok(Err(failure)) => failure,
        Err(e) => return Err(("transport", format!("the request task failed: {e}"))),
    };
    let code = match &failure {
        Failure::MissingGrant(grant) => {
            plugin.gate.record(grant, false);
            let hint = plugin.gate.denial(grant.clone()).hint;
            return Err((Code::MissingGrant.as_str(), format!("{failure}; {hint}")));
        }
        Failure::Denied(_) => Code::HttpDenied.as_str(),
        Failure::TooLarge(_) => Code::HttpTooLarge.as_str(),
        Failure::RateLimited(_) => Code::RateLimited.as_str(),
        Failure::ConsentPending(_) | Failure::Awaiting { .. } => Code::ConsentPending.as_str(),
        Failure::Timeout(_) => Code::Timeout.as_str(),
        Failure::Invalid(_) => Code::BadArgument.as_str(),
        Failure::Transport(_) => "transport",
    };
    Err((code, failure.to_string()))
}

/// A request an app-defined capability makes for the plugin (Stack Composer's
/// `network_fetch`, docs/design/0068): the app checked its own capability, so the
/// destination needs no `http:` grant of the plugin's; everything else is the plugin's own
/// `fetch` — the network mode and proxy, the scheme rule, the SSRF guard, the plugin's
/// request rate and concurrency, the body cap and timeout. Redirects stay on the first
/// destination.
pub(crate) async fn send_under_capability(
    plugin: &Arc<HttpPlugin>,
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> SentForPlugin {
    let target = Target::parse(&url).map_err(|refusal| {
        let code = match refusal {
            Refusal::Invalid(_) => Code::BadArgument,
            _ => Code::HttpDenied,
        };
        (code.as_str(), refusal.to_string())
    })?;
    let mut grants = GrantSet::default();
    grants.insert(target.grant());
    let scoped = Arc::new(HttpPlugin {
        gate: Arc::new(GrantGate::new(
            plugin.gate.plugin(),
            plugin.gate.tenant().map(str::to_owned),
            grants.clone(),
        )),
        requested: grants,
        http: plugin.http.clone(),
        inbox: plugin.inbox.clone(),
    });
    send_for_plugin(&scoped, method, url, headers, body).await
}
