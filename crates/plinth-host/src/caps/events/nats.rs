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
use std::sync::{Arc, Mutex};
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

/// How long a host waits for what it published to come back to it through the server
/// (NATS echoes a client's own messages to its subscription) before it takes a connection
/// that its client still calls connected for dead, and makes a new one.
pub const CONFIRM: Duration = Duration::from_secs(2);

/// The host's side of NATS: an outgoing queue drained by a task that owns the client (and
/// replaces it when it stops delivering), and a receiving task feeding the local bus.
#[derive(Debug)]
pub(crate) struct NatsLink {
    prefix: String,
    origin: u64,
    /// The last number given; held while an event is numbered and queued.
    sequence: Mutex<u64>,
    outgoing: mpsc::Sender<(String, Bytes, u64)>,
    counters: Arc<Counters>,
    client: Arc<Mutex<Option<async_nats::Client>>>,
}

/// What the link counts, shared by its tasks.
#[derive(Debug, Default)]
struct Counters {
    /// The subscription of the current client is in place.
    subscribed: AtomicBool,
    /// Events not handed to the client (queue full, publish not taken in time).
    dropped: AtomicU64,
    /// The highest number dropped before the queue.
    abandoned: AtomicU64,
    /// This host's own messages (events and heartbeats) that came back through the server.
    echoes: AtomicU64,
    /// This host's events that never came back through the server.
    unconfirmed: AtomicU64,
    /// Connections replaced because nothing came back on them.
    replaced: AtomicU64,
}

fn hex(text: &str) -> String {
    hex::encode(text.as_bytes())
}

/// A client of `url` (connecting in the background, reconnecting for ever) whose
/// subscription to `PREFIX.>` forwards to `inbound`, and the forwarding task.
async fn connect(
    url: &str,
    prefix: &str,
    inbound: &mpsc::Sender<async_nats::Message>,
    counters: &Counters,
) -> Result<(async_nats::Client, tokio::task::JoinHandle<()>), String> {
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
    let client = options
        .connect(url)
        .await
        .map_err(|e| format!("NATS at {url}: {e}"))?;
    let mut subscription = client
        .subscribe(format!("{prefix}.>"))
        .await
        .map_err(|e| format!("NATS subscribe: {e}"))?;
    // Subscribed once the server has the subscription; re-made by the client after every
    // reconnect.
    let _ = client.flush().await;
    counters.subscribed.store(true, Ordering::SeqCst);
    let inbound = inbound.clone();
    let forward = tokio::spawn(async move {
        while let Some(message) = subscription.next().await {
            if inbound.send(message).await.is_err() {
                break;
            }
        }
    });
    Ok((client, forward))
}

/// Receiving: events to the bus, gaps in any origin's numbers as losses, and this host's
/// own messages counted as confirmations (and its own gaps as unconfirmed).
async fn receive(
    mut inbound: mpsc::Receiver<async_nats::Message>,
    bus: broadcast::Sender<BusItem>,
    prefix: String,
    origin: u64,
    counters: Arc<Counters>,
) {
    let events_prefix = format!("{prefix}.ev.");
    let heartbeat_subject = format!("{prefix}.hb");
    // This host hears itself from its first number on.
    let mut last: HashMap<u64, u64> = HashMap::from([(origin, 0)]);
    let lost = |from: u64, n: u64| {
        // Counted before subscriptions hear of it: a subscription that has counted a
        // loss of this host's finds it in `unconfirmed` too.
        if from == origin {
            counters.unconfirmed.fetch_add(n, Ordering::SeqCst);
        }
        let _ = bus.send(BusItem::Lost(n));
    };
    while let Some(message) = inbound.recv().await {
        let subject = message.subject.as_str();
        if subject == heartbeat_subject {
            let Ok(beat) = serde_json::from_slice::<Heartbeat>(&message.payload) else {
                continue;
            };
            if beat.o == origin {
                counters.echoes.fetch_add(1, Ordering::SeqCst);
            }
            // First word from this origin: nothing known to be missing.
            let seen = *last.entry(beat.o).or_insert(beat.s);
            if beat.s > seen {
                lost(beat.o, beat.s - seen);
                last.insert(beat.o, beat.s);
            }
        } else if subject.starts_with(&events_prefix) {
            let Ok(wire) = serde_json::from_slice::<Wire>(&message.payload) else {
                continue;
            };
            if wire.o == origin {
                counters.echoes.fetch_add(1, Ordering::SeqCst);
            }
            let seen = *last.entry(wire.o).or_insert(wire.s.saturating_sub(1));
            if wire.s <= seen {
                continue; // already counted as missed, or a second copy
            }
            if wire.s > seen + 1 {
                lost(wire.o, wire.s - seen - 1);
            }
            last.insert(wire.o, wire.s);
            let _ = bus.send(BusItem::Event(PublishedEvent {
                channel: wire.c,
                plugin: wire.p,
                payload: wire.d,
                tenant: wire.t,
            }));
        }
    }
}

/// What the sending task knows of its connection.
struct Sender {
    url: String,
    prefix: String,
    origin: u64,
    inbound: mpsc::Sender<async_nats::Message>,
    counters: Arc<Counters>,
    cell: Arc<Mutex<Option<async_nats::Client>>>,
    client: async_nats::Client,
    forward: tokio::task::JoinHandle<()>,
    /// Since something was published and nothing came back: the echo count then, and when.
    awaiting: Option<(u64, tokio::time::Instant)>,
}

impl Sender {
    /// Hands one message to the client, waiting at most [`CONFIRM`] for it to be taken;
    /// false when it was not.
    async fn publish(&mut self, subject: String, payload: Bytes) -> bool {
        let echoes = self.counters.echoes.load(Ordering::SeqCst);
        self.awaiting
            .get_or_insert((echoes, tokio::time::Instant::now()));
        matches!(
            tokio::time::timeout(CONFIRM, self.client.publish(subject, payload)).await,
            Ok(Ok(()))
        )
    }

    /// When the client says it is connected but nothing this host published has come
    /// back for [`CONFIRM`], replaces the client: what it still held is lost, and every
    /// receiver counts it by its number once the next event or heartbeat arrives. (While
    /// the client knows it is disconnected, it is reconnecting by itself.)
    async fn check(&mut self) {
        let Some((count, since)) = self.awaiting else {
            return;
        };
        if self.counters.echoes.load(Ordering::SeqCst) != count {
            self.awaiting = None;
            return;
        }
        let connected = self.client.connection_state() == async_nats::connection::State::Connected;
        if !connected {
            // Reconnecting by itself: the clock starts again once it is back.
            self.awaiting = Some((count, tokio::time::Instant::now()));
            return;
        }
        if since.elapsed() < CONFIRM {
            return;
        }
        tracing::warn!(
            target: "plinth::events",
            "NATS: nothing this host published came back within {} ms; making a new connection",
            CONFIRM.as_millis()
        );
        self.counters.subscribed.store(false, Ordering::SeqCst);
        self.forward.abort();
        match connect(&self.url, &self.prefix, &self.inbound, &self.counters).await {
            Ok((client, forward)) => {
                *self.cell.lock().unwrap_or_else(|p| p.into_inner()) = Some(client.clone());
                self.client = client;
                self.forward = forward;
                self.counters.replaced.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => tracing::error!(target: "plinth::events", "{e}"),
        }
        self.awaiting = None;
    }
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
        let counters = Arc::new(Counters::default());
        let cell = Arc::new(Mutex::new(None));
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
            counters: counters.clone(),
            client: cell.clone(),
        };
        let (inbound, received) = mpsc::channel(OUTGOING);
        runtime.spawn(receive(
            received,
            bus,
            prefix.to_string(),
            origin,
            counters.clone(),
        ));
        let (url, prefix) = (url.to_string(), prefix.to_string());
        runtime.spawn(async move {
            let (client, forward) = match connect(&url, &prefix, &inbound, &counters).await {
                Ok(connected) => connected,
                Err(e) => {
                    tracing::error!(target: "plinth::events", "{e}");
                    return;
                }
            };
            *cell.lock().unwrap_or_else(|p| p.into_inner()) = Some(client.clone());
            let heartbeat_subject = format!("{prefix}.hb");
            let mut sender = Sender {
                url,
                prefix,
                origin,
                inbound,
                counters: counters.clone(),
                cell,
                client,
                forward,
                awaiting: None,
            };
            // Sending: in order, a heartbeat each [`HEARTBEAT`] once there is news, and a
            // look at whether anything comes back four times per [`CONFIRM`].
            let mut beat = tokio::time::interval(HEARTBEAT);
            let mut check = tokio::time::interval(CONFIRM / 4);
            let mut sent = 0u64;
            loop {
                tokio::select! {
                    next = queue.recv() => {
                        let Some((subject, payload, sequence)) = next else { break };
                        sent = sequence;
                        if !sender.publish(subject, payload).await {
                            counters.dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    _ = beat.tick() => {
                        // Numbers dropped before the queue count only once the queue
                        // has drained: every number below them has gone out by then.
                        let latest = if queue.is_empty() {
                            sent.max(counters.abandoned.load(Ordering::SeqCst))
                        } else {
                            sent
                        };
                        // Every beat, not only after news: a lost beat is repeated.
                        if latest > 0 {
                            let body = serde_json::to_vec(&Heartbeat { o: sender.origin, s: latest })
                                .unwrap_or_default();
                            sender.publish(heartbeat_subject.clone(), body.into()).await;
                        }
                    }
                    _ = check.tick() => sender.check().await,
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
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            self.counters
                .abandoned
                .fetch_max(sequence, Ordering::SeqCst);
        }
    }

    /// Whether the subscription is in place and the connection up (events published
    /// from now on reach this host).
    pub(crate) fn subscribed(&self) -> bool {
        self.counters.subscribed.load(Ordering::SeqCst)
            && self
                .client
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .is_some_and(|client| {
                    client.connection_state() == async_nats::connection::State::Connected
                })
    }

    /// Events this host could not hand to NATS (queue full, publish not taken in time).
    pub(crate) fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// This host's events that did not come back to it through the server (counted once
    /// a later event or heartbeat of its own does): those lost on the way to the server,
    /// dropped before it, or lost on the way back.
    pub(crate) fn unconfirmed(&self) -> u64 {
        self.counters.unconfirmed.load(Ordering::SeqCst)
    }

    /// Connections replaced because nothing published on them came back in time.
    pub(crate) fn replaced(&self) -> u64 {
        self.counters.replaced.load(Ordering::SeqCst)
    }
}
