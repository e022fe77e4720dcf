//! `plinth:host/events`: plugins publish on granted channels; the embedder subscribes
//! through [`crate::Host::subscribe_events`] (every tenant's events, each naming its
//! tenant) or [`crate::Host::subscribe_tenant_events`] (one tenant's only). The bus is in
//! the process, or spans hosts through NATS (`[events] backend = "nats"`, [`nats`]).

mod nats;

pub use nats::{CONFIRM as NATS_CONFIRM, HEARTBEAT as NATS_HEARTBEAT};

use std::sync::{Arc, Mutex};
use std::time::Instant;

use plinth_manifest::Grant;
use tokio::sync::broadcast;

mod checks;
pub(crate) use checks::EventChecks;
pub use checks::{EventRejected, EventValidator};

use super::gate::CallGate;
use crate::bindings::events;

/// Limits on publishing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventLimits {
    /// Largest payload, in bytes.
    pub max_payload_bytes: usize,
    /// Sustained publishes per second, per plugin.
    pub per_second: f64,
    /// Publishes a plugin may make at once before the rate applies.
    pub burst: u32,
}

impl Default for EventLimits {
    fn default() -> Self {
        Self {
            max_payload_bytes: 64 * 1024,
            per_second: 100.0,
            burst: 100,
        }
    }
}

/// One published event, as subscribers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedEvent {
    /// The channel.
    pub channel: String,
    /// The publishing plugin.
    pub plugin: String,
    /// The payload (usually JSON).
    pub payload: String,
    /// The tenant the publishing plugin was loaded for (`LoadOptions::with_tenant`);
    /// `None` for a plugin loaded without one.
    pub tenant: Option<String>,
}

/// Whose events a subscription receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TenantScope {
    /// Every plugin's events, whatever its tenant: the embedder's own view.
    All,
    /// Only events of plugins loaded for this tenant (`None`: loaded without a tenant).
    Only(Option<String>),
}

/// `[events]` in the host config: where events travel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventSettings {
    /// `local` (the default: the host's own bus) or `nats`.
    pub backend: EventBackendKind,
    /// The NATS server (`nats://host:4222`), for `nats`.
    pub url: Option<String>,
    /// The first subject token of every event (`PREFIX.ev.TENANT.CHANNEL`); hosts that
    /// share events use the same prefix.
    pub subject_prefix: String,
}

impl Default for EventSettings {
    fn default() -> Self {
        EventSettings {
            backend: EventBackendKind::Local,
            url: None,
            subject_prefix: "plinth".into(),
        }
    }
}

impl EventSettings {
    /// Events over the NATS server at `url`.
    pub fn nats(url: impl Into<String>) -> EventSettings {
        EventSettings {
            backend: EventBackendKind::Nats,
            url: Some(url.into()),
            ..EventSettings::default()
        }
    }
}

/// The backends `[events] backend` names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventBackendKind {
    /// The host's own in-process bus.
    #[default]
    Local,
    /// A NATS server shared by every host that names it.
    Nats,
}

/// What the bus carries: an event, or word that some were lost on the way.
#[derive(Debug, Clone)]
pub(crate) enum BusItem {
    Event(PublishedEvent),
    /// Events published (on some host) that this host will never receive.
    Lost(u64),
}

/// The host's event bus: a broadcast channel every subscription reads from, fed by the
/// host's plugins or, over NATS, by every host's.
#[derive(Debug)]
pub(crate) struct EventBus {
    sender: broadcast::Sender<BusItem>,
    pub(crate) limits: EventLimits,
    /// What a payload must pass before it is forwarded.
    pub(crate) checks: EventChecks,
    nats: Option<nats::NatsLink>,
}

/// The most events the bus keeps for a slow subscriber, which skips (and counts) older
/// ones.
const BUS_CAPACITY: usize = 4096;
/// The most payload bytes the bus keeps: its capacity is lowered so that this many full
/// payloads fit (512 events of the default 64 KiB), but never below 16 events.
pub const BUS_MAX_BYTES: usize = 32 * 1024 * 1024;

/// Events the bus keeps for payloads of at most `max_payload_bytes`.
fn bus_capacity(max_payload_bytes: usize) -> usize {
    (BUS_MAX_BYTES / max_payload_bytes.max(1)).clamp(16, BUS_CAPACITY)
}

impl EventBus {
    pub(crate) fn new(limits: EventLimits, checks: EventChecks) -> Self {
        Self {
            sender: broadcast::channel(bus_capacity(limits.max_payload_bytes)).0,
            limits,
            checks,
            nats: None,
        }
    }

    /// The bus `settings` name; NATS connects in the background on `runtime` (which it
    /// starts; an in-process bus leaves it alone).
    pub(crate) fn start(
        limits: EventLimits,
        checks: EventChecks,
        settings: &EventSettings,
        runtime: &crate::runtime::HostRuntime,
    ) -> Result<Self, String> {
        let mut bus = Self::new(limits, checks);
        if settings.backend == EventBackendKind::Nats {
            let url = settings
                .url
                .as_deref()
                .ok_or("[events] backend = \"nats\" needs `url`")?;
            let prefix = &settings.subject_prefix;
            if prefix.is_empty()
                || !prefix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(format!(
                    "[events] subject_prefix `{prefix}` must be one NATS token: letters, digits, `_`, `-`"
                ));
            }
            bus.nats = Some(nats::NatsLink::start(
                url,
                prefix,
                runtime.handle(),
                bus.sender.clone(),
            ));
        }
        Ok(bus)
    }

    /// Whether events reach this host: always for the local bus; over NATS once the
    /// subscription is in place.
    pub(crate) fn connected(&self) -> bool {
        self.nats.as_ref().is_none_or(nats::NatsLink::subscribed)
    }

    /// Events this host could not hand to NATS (0 for the local bus).
    pub(crate) fn dropped(&self) -> u64 {
        self.nats.as_ref().map_or(0, nats::NatsLink::dropped)
    }

    /// This host's events that did not come back to it through NATS (0 for the local bus).
    pub(crate) fn unconfirmed(&self) -> u64 {
        self.nats.as_ref().map_or(0, nats::NatsLink::unconfirmed)
    }

    /// NATS connections this host replaced because nothing it published came back on
    /// them (0 for the local bus).
    pub(crate) fn connections_replaced(&self) -> u64 {
        self.nats.as_ref().map_or(0, nats::NatsLink::replaced)
    }

    pub(crate) fn subscribe(&self, channels: Vec<String>, scope: TenantScope) -> EventSubscription {
        EventSubscription {
            receiver: self.sender.subscribe(),
            channels,
            scope,
            missed: 0,
        }
    }

    pub(crate) fn publish(&self, event: PublishedEvent) {
        match &self.nats {
            Some(nats) => nats.publish(event),
            // No subscriber is not an error: the event is simply not seen.
            None => {
                let _ = self.sender.send(BusItem::Event(event));
            }
        }
    }
}

/// A subscription made with [`crate::Host::subscribe_events`].
#[derive(Debug)]
pub struct EventSubscription {
    receiver: broadcast::Receiver<BusItem>,
    channels: Vec<String>,
    scope: TenantScope,
    missed: u64,
}

/// Whether `pattern` (a channel name, `prefix.*`, or `*`) matches `channel`.
pub fn channel_matches(pattern: &str, channel: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => channel.starts_with(prefix),
        None => pattern == channel,
    }
}

impl EventSubscription {
    fn wanted(&self, event: &PublishedEvent) -> bool {
        if let TenantScope::Only(tenant) = &self.scope
            && *tenant != event.tenant
        {
            return false;
        }
        self.channels.is_empty()
            || self
                .channels
                .iter()
                .any(|p| channel_matches(p, &event.channel))
    }

    /// The next matching event; `None` when the host is gone.
    pub async fn recv(&mut self) -> Option<PublishedEvent> {
        loop {
            match self.receiver.recv().await {
                Ok(BusItem::Event(event)) if self.wanted(&event) => return Some(event),
                Ok(BusItem::Lost(n)) => self.missed += n,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => self.missed += n,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next matching event already published, without waiting.
    pub fn try_recv(&mut self) -> Option<PublishedEvent> {
        loop {
            match self.receiver.try_recv() {
                Ok(BusItem::Event(event)) if self.wanted(&event) => return Some(event),
                Ok(BusItem::Lost(n)) => self.missed += n,
                Ok(_) => {}
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.missed += n,
                Err(_) => return None,
            }
        }
    }

    /// Waits (blocking the thread) for the next matching event, up to `timeout`.
    pub fn recv_timeout(&mut self, timeout: std::time::Duration) -> Option<PublishedEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(event) = self.try_recv() {
                return Some(event);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Events this subscriber will never receive: those it skipped because it fell more
    /// than 4096 behind and, over NATS, those lost between hosts (each counted once a
    /// later event or heartbeat of their publishing host arrives; their channels and
    /// tenants are unknown, so every subscription counts them).
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

/// A token bucket: `burst` tokens, refilled at `per_second`.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    state: Mutex<(f64, Instant)>,
    per_second: f64,
    burst: f64,
}

impl RateLimiter {
    pub(crate) fn new(limits: &EventLimits) -> Self {
        Self::with_rate(limits.per_second, limits.burst)
    }

    /// `per_second` tokens a second on average, at most `burst` at once (at least one).
    pub(crate) fn with_rate(per_second: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            state: Mutex::new((burst, Instant::now())),
            per_second: per_second.max(0.0),
            burst,
        }
    }

    /// Takes one token; false when none is left.
    pub(crate) fn try_take(&self) -> bool {
        let mut state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        let (tokens, last) = *state;
        let tokens =
            (tokens + now.duration_since(last).as_secs_f64() * self.per_second).min(self.burst);
        if tokens >= 1.0 {
            *state = (tokens - 1.0, now);
            true
        } else {
            *state = (tokens, now);
            false
        }
    }
}

/// The events state of one plugin: the host's bus and the plugin's publish rate.
#[derive(Debug)]
pub(crate) struct EventsState {
    pub(crate) bus: Arc<EventBus>,
    pub(crate) publish_rate: RateLimiter,
}

/// What `events` sees of a call.
pub(crate) struct EventsView<'a> {
    pub(crate) gate: CallGate<'a>,
    pub(crate) state: &'a EventsState,
}

linked_through!(
    /// Links `plinth:host/events` to an [`EventsView`].
    Events => EventsView
);

impl events::Host for EventsView<'_> {
    fn publish(
        &mut self,
        channel: String,
        payload: String,
    ) -> wasmtime::Result<Result<(), events::EventsError>> {
        if let Err(denial) = self.gate.check(Grant::EventsPublish(channel.clone())) {
            return Ok(Err(denial.into()));
        }
        let event = PublishedEvent {
            channel,
            plugin: self.gate.plugin().to_string(),
            payload,
            tenant: self.gate.tenant().map(str::to_owned),
        };
        Ok(match self.state.publish(event) {
            Ok(()) => Ok(()),
            Err(Refusal::TooLarge(m)) => Err(events::EventsError::TooLarge(m)),
            Err(Refusal::RateLimited(m)) => Err(events::EventsError::RateLimited(m)),
            // No case of the 0.1.0 `events-error` says "invalid": the call fails instead.
            Err(Refusal::Rejected(rejected)) => return Err(wasmtime::Error::new(rejected)),
        })
    }
}

/// Why a granted publish did not happen.
pub(crate) enum Refusal {
    /// Over the payload cap.
    TooLarge(String),
    /// Over the plugin's publish rate.
    RateLimited(String),
    /// Refused by the host's checks (docs/design/0066).
    Rejected(EventRejected),
}

impl EventsState {
    /// Publishes a granted `event` of this plugin: the payload cap, the plugin's rate and
    /// the host's checks, then the bus. The plugin's own `publish` and a publish on its
    /// behalf (`Plugin::publish`) both come here.
    pub(crate) fn publish(&self, event: PublishedEvent) -> Result<(), Refusal> {
        let bus = &self.bus;
        if event.payload.len() > bus.limits.max_payload_bytes {
            return Err(Refusal::TooLarge(format!(
                "the payload is {} bytes; the cap is {}",
                event.payload.len(),
                bus.limits.max_payload_bytes
            )));
        }
        if !self.publish_rate.try_take() {
            return Err(Refusal::RateLimited(format!(
                "over {} events a second (burst {})",
                bus.limits.per_second, bus.limits.burst
            )));
        }
        bus.checks.check(&event).map_err(Refusal::Rejected)?;
        bus.publish(event);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(channel_matches("jobs", "jobs"));
        assert!(!channel_matches("jobs", "jobs.done"));
        assert!(channel_matches("jobs.*", "jobs.done"));
        assert!(!channel_matches("jobs.*", "alerts"));
        assert!(channel_matches("*", "anything"));
    }

    #[test]
    fn bucket_allows_a_burst_then_refuses() {
        let limiter = RateLimiter::new(&EventLimits {
            per_second: 0.0,
            burst: 3,
            ..EventLimits::default()
        });
        assert!((0..3).all(|_| limiter.try_take()));
        assert!(!limiter.try_take());
    }

    /// A subscriber that never reads holds at most [`BUS_MAX_BYTES`] of payloads: the
    /// bus keeps the newest that fit and counts the rest as missed.
    #[test]
    fn a_slow_subscriber_holds_a_bounded_number_of_bytes() {
        let limits = EventLimits::default();
        let bus = EventBus::new(limits, EventChecks::default());
        let mut slow = bus.subscribe(Vec::new(), TenantScope::All);
        let payload = "x".repeat(limits.max_payload_bytes);
        for n in 0..1000 {
            bus.publish(PublishedEvent {
                channel: n.to_string(),
                plugin: "p".into(),
                payload: payload.clone(),
                tenant: None,
            });
        }
        let mut held = 0;
        let mut last = String::new();
        while let Some(event) = slow.try_recv() {
            held += event.payload.len();
            last = event.channel;
        }
        assert!(held <= BUS_MAX_BYTES, "{held}");
        assert_eq!(held, BUS_MAX_BYTES, "the newest that fit are kept");
        assert_eq!(slow.missed(), 1000 - 512);
        assert_eq!(last, "999");
        // A tiny payload limit still keeps a useful backlog.
        assert_eq!(bus_capacity(16), BUS_CAPACITY);
        assert_eq!(bus_capacity(usize::MAX), 16);
    }

    #[test]
    fn subscribers_get_matching_channels_only() {
        let bus = EventBus::new(EventLimits::default(), EventChecks::default());
        let mut jobs = bus.subscribe(vec!["jobs.*".into()], TenantScope::All);
        let mut all = bus.subscribe(Vec::new(), TenantScope::All);
        for channel in ["alerts", "jobs.done"] {
            bus.publish(PublishedEvent {
                channel: channel.into(),
                plugin: "p".into(),
                payload: "{}".into(),
                tenant: None,
            });
        }
        assert_eq!(jobs.try_recv().unwrap().channel, "jobs.done");
        assert_eq!(jobs.try_recv(), None);
        assert_eq!(all.try_recv().unwrap().channel, "alerts");
        assert_eq!(all.try_recv().unwrap().channel, "jobs.done");
    }
}
