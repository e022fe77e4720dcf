//! Events over NATS (docs/design/0062): every host publishes its plugins' events to a
//! NATS server and hears every host's, its own included, through one subscription.
//!
//! Subjects: `PREFIX.ev.TENANT.CHANNEL`, with `TENANT` `_` for a plugin loaded without a
//! tenant and `t` + the tenant's hex otherwise, and `CHANNEL` the channel's hex (channel
//! names may hold `.` and `*`, which are NATS syntax). Each tenant's events so live under a
//! subject prefix of their own, which a NATS account's permissions can fence.
//!
//! Delivery is NATS core's: at most once. What Plinth adds is that no event goes missing
//! unseen: each host numbers its events (a random origin id and a sequence), publishes a
//! heartbeat with its latest number every [`HEARTBEAT`] once it has published, and a
//! receiving host counts every number it did not get as missed in each subscription
//! ([`super::EventSubscription::missed`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use super::{BusItem, PublishedEvent};

/// How often a host that has published tells the others its latest sequence number.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// Events waiting to go out while the connection is slow or being re-made; past it an
/// event is dropped (and, by its number, counted as missed by every receiver).
const OUTGOING: usize = 4096;

/// One event on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    /// The publishing host's origin id.
    o: u64,
    /// Its sequence number there (from 1).
    s: u64,
    /// The channel.
    c: String,
    /// The publishing plugin.
    p: String,
    /// The tenant.
    t: Option<String>,
    /// The payload.
    d: String,
}

/// A heartbeat: the origin and its latest sequence number.
#[derive(Debug, Serialize, Deserialize)]
struct Heartbeat {
    o: u64,
    s: u64,
}

/// The host's side of NATS: an outgoing queue drained by a task that owns the client, and
/// a receiving task feeding the local bus.
#[derive(Debug)]
pub(crate) struct NatsLink {
    prefix: String,
    origin: u64,
    /// The last number given; held while an event is numbered and queued.
    sequence: Mutex<u64>,
    outgoing: mpsc::Sender<(String, Bytes, u64)>,
    subscribed: Arc<AtomicBool>,
    client: Arc<OnceLock<async_nats::Client>>,
    dropped: Arc<AtomicU64>,
    /// The highest number dropped before the queue.
    abandoned: Arc<AtomicU64>,
}

fn hex(text: &str) -> String {
    hex::encode(text.as_bytes())
}

impl NatsLink {
    /// Connects (in the background, retrying for ever) to `url` and starts the tasks on
    /// `runtime`; received events go to `bus`.
    pub(crate) fn start(
        url: &str,
        prefix: &str,
        runtime: &tokio::runtime::Handle,
        bus: broadcast::Sender<BusItem>,
    ) -> NatsLink {
        let (outgoing, mut queue) = mpsc::channel::<(String, Bytes, u64)>(OUTGOING);
        let subscribed = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let abandoned = Arc::new(AtomicU64::new(0));
        let client_cell = Arc::new(OnceLock::new());
        let mut origin = [0u8; 8];
        if getrandom::fill(&mut origin).is_err() {
            origin = (std::process::id() as u64 ^ 0x9e37_79b9_7f4a_7c15).to_le_bytes();
        }
        let origin = u64::from_le_bytes(origin);
        let link = NatsLink {
            prefix: prefix.to_string(),
            origin,
            sequence: Mutex::new(0),
            outgoing,
            subscribed: subscribed.clone(),
            client: client_cell.clone(),
            dropped: dropped.clone(),
            abandoned: abandoned.clone(),
        };
        let (url, prefix) = (url.to_string(), prefix.to_string());
        runtime.spawn(async move {
            let options = async_nats::ConnectOptions::new()
                .retry_on_initial_connect()
                .max_reconnects(None)
                .connection_timeout(Duration::from_secs(2))
                // A connection that went quiet is noticed within a few seconds and re-made.
                .ping_interval(Duration::from_secs(1))
                .reconnect_delay_callback(|attempts| {
                    Duration::from_millis((attempts as u64 * 50).min(1_000))
                })
                .name("plinth");
            let client = match options.connect(url.as_str()).await {
                Ok(client) => client,
                Err(e) => {
                    tracing::error!(target: "plinth::events", "NATS at {url}: {e}");
                    return;
                }
            };
            let mut subscription = match client.subscribe(format!("{prefix}.>")).await {
                Ok(subscription) => subscription,
                Err(e) => {
                    tracing::error!(target: "plinth::events", "NATS subscribe: {e}");
                    return;
                }
            };
            // Subscribed once the server has the subscription; re-made by the client after
            // every reconnect.
            let _ = client.flush().await;
            subscribed.store(true, Ordering::SeqCst);
            let _ = client_cell.set(client.clone());
            // Receiving: events to the bus, gaps in any origin's numbers as losses.
            let events_prefix = format!("{prefix}.ev.");
            let heartbeat_subject = format!("{prefix}.hb");
            let receiving_heartbeats = heartbeat_subject.clone();
            tokio::spawn(async move {
                let mut last: HashMap<u64, u64> = HashMap::new();
                while let Some(message) = subscription.next().await {
                    let subject = message.subject.as_str();
                    if subject == receiving_heartbeats {
                        let Ok(beat) = serde_json::from_slice::<Heartbeat>(&message.payload) else {
                            continue;
                        };
                        // First word from this origin: nothing known to be missing.
                        let seen = last.entry(beat.o).or_insert(beat.s);
                        if beat.s > *seen {
                            let _ = bus.send(BusItem::Lost(beat.s - *seen));
                            *seen = beat.s;
                        }
                    } else if subject.starts_with(&events_prefix) {
                        let Ok(wire) = serde_json::from_slice::<Wire>(&message.payload) else {
                            continue;
                        };
                        let seen = last.entry(wire.o).or_insert(wire.s.saturating_sub(1));
                        if wire.s <= *seen {
                            continue; // already counted as missed
                        }
                        if wire.s > *seen + 1 {
                            let _ = bus.send(BusItem::Lost(wire.s - *seen - 1));
                        }
                        *seen = wire.s;
                        let _ = bus.send(BusItem::Event(PublishedEvent {
                            channel: wire.c,
                            plugin: wire.p,
                            payload: wire.d,
                            tenant: wire.t,
                        }));
                    }
                }
            });
            // Sending: in order, and a heartbeat each [`HEARTBEAT`] while there is news.
            let mut beat = tokio::time::interval(HEARTBEAT);
            let mut sent = 0u64;
            loop {
                tokio::select! {
                    next = queue.recv() => {
                        let Some((subject, payload, sequence)) = next else { break };
                        sent = sequence;
                        if client.publish(subject, payload).await.is_err() {
                            dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    _ = beat.tick() => {
                        // Numbers dropped before the queue count only once the queue
                        // has drained: every number below them has gone out by then.
                        let latest = if queue.is_empty() {
                            sent.max(abandoned.load(Ordering::SeqCst))
                        } else {
                            sent
                        };
                        // Every beat, not only after news: a lost beat is repeated.
                        if latest > 0 {
                            let body = serde_json::to_vec(&Heartbeat { o: origin, s: latest })
                                .unwrap_or_default();
                            let subject = heartbeat_subject.clone();
                            let _ = client.publish(subject, body.into()).await;
                        }
                    }
                }
            }
        });
        link
    }

    /// Numbers `event` and queues it; a full queue drops it (receivers count it by its
    /// number). Numbering and queueing happen under one lock, so the queue is in order.
    pub(crate) fn publish(&self, event: PublishedEvent) {
        let mut sequence = self.sequence.lock().unwrap_or_else(|p| p.into_inner());
        *sequence += 1;
        let sequence = *sequence;
        let tenant = match &event.tenant {
            Some(tenant) => format!("t{}", hex(tenant)),
            None => "_".into(),
        };
        let subject = format!("{}.ev.{tenant}.{}", self.prefix, hex(&event.channel));
        let wire = Wire {
            o: self.origin,
            s: sequence,
            c: event.channel,
            p: event.plugin,
            t: event.tenant,
            d: event.payload,
        };
        let queued = serde_json::to_vec(&wire).ok().is_some_and(|body| {
            self.outgoing
                .try_send((subject, body.into(), sequence))
                .is_ok()
        });
        if !queued {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            self.abandoned.fetch_max(sequence, Ordering::SeqCst);
        }
    }

    /// Whether the subscription is in place and the connection up (events published
    /// from now on reach this host).
    pub(crate) fn subscribed(&self) -> bool {
        self.subscribed.load(Ordering::SeqCst)
            && self.client.get().is_some_and(|client| {
                client.connection_state() == async_nats::connection::State::Connected
            })
    }

    /// Events this host could not hand to NATS (queue full, publish refused).
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}
