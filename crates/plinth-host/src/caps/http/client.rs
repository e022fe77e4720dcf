//! The request path shared by `fetch`, `submit` and `wasi:http`: host-wide network state
//! ([`Network`]), per-plugin limits ([`PluginHttp`]) and the redirect loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::HttpPlugin;
use super::consent::ConsentStore;
use super::error_code::Failure;
use super::policy::{Policy, Target};
use super::resolve::Resolve;
use super::settings::NetworkSettings;
use super::wire::{Outgoing, Reply};
use crate::caps::events::RateLimiter;

/// Redirects followed per request; the sixth is refused.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// `submit` requests of one plugin held for a consent decision at once; beyond it a
/// request to a host awaiting consent is refused at once (`consent-pending`).
pub(crate) const MAX_HELD_PER_PLUGIN: usize = 32;

/// Host-wide network state: settings, policy, resolver, TLS roots, consent, runtime.
pub(crate) struct Network {
    pub(crate) settings: NetworkSettings,
    pub(crate) policy: Policy,
    pub(crate) resolver: Arc<dyn Resolve>,
    pub(crate) tls: Arc<rustls::ClientConfig>,
    pub(crate) consent: Arc<ConsentStore>,
    /// The host's runtime: requests run here whichever runtime the call runs on.
    pub(crate) runtime: crate::runtime::HostRuntime,
    /// `[network] proxy`: where every exchange connects instead of its destination.
    pub(crate) proxy: Option<Proxy>,
}

/// An HTTP proxy from `[network] proxy`: an operator's choice, so its address is not
/// put through the SSRF guard (the destinations still are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    /// The host name or address to connect to.
    pub(crate) host: String,
    /// Its port.
    pub(crate) port: u16,
}

impl Proxy {
    /// Parses `http://HOST[:PORT]` (port 80 by default); anything else is refused when the
    /// host is built.
    pub(crate) fn parse(text: &str) -> Result<Proxy, String> {
        let bad = |why: &str| format!("[network] proxy = {text:?}: {why}");
        let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "http" {
            return Err(bad("the proxy must be an http:// URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("credentials in the proxy URL are not supported"));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err(bad("a proxy URL has no path"));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            None => return Err(bad("no host")),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        Ok(Proxy { host, port })
    }
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("settings", &self.settings)
            .field("resolver", &self.resolver)
            .finish_non_exhaustive()
    }
}

/// One plugin's share of the network: its rate, its concurrency slots, its request ids.
#[derive(Debug)]
pub(crate) struct PluginHttp {
    pub(crate) net: Arc<Network>,
    rate: RateLimiter,
    slots: Arc<Semaphore>,
    /// Room for requests held for consent ([`MAX_HELD_PER_PLUGIN`]).
    held: Arc<Semaphore>,
    next_id: AtomicU64,
}

/// A request the policy and the limits admitted, holding one concurrency slot.
#[derive(Debug)]
pub(crate) struct Admitted {
    pub(crate) target: Target,
    pub(crate) slot: OwnedSemaphorePermit,
}

impl Network {
    pub(crate) fn new(
        settings: NetworkSettings,
        resolver: Arc<dyn Resolve>,
        consent: Arc<ConsentStore>,
        runtime: crate::runtime::HostRuntime,
    ) -> Result<Network, String> {
        let tls =
            super::tls::config(&settings.ca_certificates).map_err(|e| format!("TLS setup: {e}"))?;
        let policy = Policy {
            allow_plain_http: settings.allow_http,
            loopback_ports: settings.loopback_ports().clone(),
        };
        let proxy = settings.proxy.as_deref().map(Proxy::parse).transpose()?;
        Ok(Network {
            settings,
            policy,
            resolver,
            tls,
            consent,
            runtime,
            proxy,
        })
    }

    /// The latest a request started now may finish: its own timeout, the host's, and
    /// `call_deadline` (the call's wall clock), whichever comes first.
    pub(crate) fn deadline(
        &self,
        timeout_ms: Option<u32>,
        call_deadline: Option<Instant>,
    ) -> Instant {
        let mut ms = self.settings.timeout_ms;
        if let Some(own) = timeout_ms {
            ms = ms.min(u64::from(own));
        }
        let deadline = Instant::now() + Duration::from_millis(ms);
        call_deadline.map_or(deadline, |call| call.min(deadline))
    }

    /// Follows the exchange through at most [`MAX_REDIRECTS`] redirects, each hop checked
    /// again by the scheme rule, the allowlist and (at connect time) the SSRF guard, all
    /// before `deadline`.
    pub(crate) async fn send(
        &self,
        plugin: &HttpPlugin,
        target: Target,
        request: Outgoing,
        deadline: Instant,
    ) -> Result<Reply, Failure> {
        let work = self.follow(plugin, target, request);
        match tokio::time::timeout_at(deadline, work).await {
            Ok(outcome) => outcome,
            Err(_) => Err(self.too_slow()),
        }
    }

    /// The failure of a request that ran past its deadline ([`Network::deadline`]).
    pub(crate) fn too_slow(&self) -> Failure {
        Failure::Timeout(format!(
            "no complete response in time (the request's own timeout, the call's remaining time, or the host's {} ms)",
            self.settings.timeout_ms
        ))
    }

    async fn follow(
        &self,
        plugin: &HttpPlugin,
        mut target: Target,
        mut request: Outgoing,
    ) -> Result<Reply, Failure> {
        let max_body = self.settings.max_body_bytes;
        for hop in 0..=MAX_REDIRECTS {
            let reply = self
                .exchange(&target, super::wire::build(&target, &request)?, max_body)
                .await?;
            let Some(location) = super::wire::redirect_location(&reply) else {
                return Ok(reply);
            };
            if hop == MAX_REDIRECTS {
                break;
            }
            let next = url::Url::parse(&request.url)
                .and_then(|base| base.join(location))
                .map_err(|e| Failure::Denied(format!("redirect to {location:?}: {e}")))?
                .to_string();
            // The same decision as the first hop's: grants, then a person's consent.
            let next_target = super::decide(plugin, &next, None).map_err(|failure| {
                Failure::Denied(format!("redirect to {next} refused: {failure}"))
            })?;
            super::wire::redirect(
                &mut request,
                reply.status,
                next,
                target.host != next_target.host,
            );
            target = next_target;
        }
        Err(Failure::Denied(format!(
            "more than {MAX_REDIRECTS} redirects"
        )))
    }
}

impl PluginHttp {
    pub(crate) fn new(net: Arc<Network>) -> PluginHttp {
        let s = &net.settings;
        PluginHttp {
            rate: RateLimiter::with_rate(s.requests_per_second, s.burst),
            slots: Arc::new(Semaphore::new(s.max_concurrent.max(1) as usize)),
            held: Arc::new(Semaphore::new(MAX_HELD_PER_PLUGIN)),
            next_id: AtomicU64::new(1),
            net,
        }
    }

    /// A fresh request id for `submit`.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Room to hold one more request for a consent decision, if the plugin has any left.
    pub(crate) fn hold(&self) -> Option<OwnedSemaphorePermit> {
        self.held.clone().try_acquire_owned().ok()
    }

    /// Takes a rate token and a concurrency slot, or `rate-limited`.
    pub(crate) fn admit(&self, target: Target) -> Result<Admitted, Failure> {
        let s = &self.net.settings;
        let slot = self.slots.clone().try_acquire_owned().map_err(|_| {
            Failure::RateLimited(format!(
                "{} requests of this plugin are already in flight ([network] max_concurrent)",
                s.max_concurrent
            ))
        })?;
        if !self.rate.try_take() {
            return Err(Failure::RateLimited(format!(
                "over {} requests per second (burst {}) ([network] requests_per_second, burst)",
                s.requests_per_second, s.burst
            )));
        }
        Ok(Admitted { target, slot })
    }
}
