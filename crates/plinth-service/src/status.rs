//! What a service reports: its status, its events, its dead letters and its counters.

use std::sync::atomic::{AtomicU64, Ordering};

use plinth_host::kinds::IngressEvent;
use plinth_manifest::diagnostic::Diagnostic;

/// A service's state: `Starting → Ready → Degraded | Error → Stopped`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The first instance is being made and started.
    Starting,
    /// Serving.
    Ready,
    /// An instance failed; the service restarts it with backoff and keeps the queue.
    Degraded {
        /// The last failure.
        reason: String,
    },
    /// [`crate::ServiceConfig::error_after`] failures in a row; restarts go on at the
    /// longest backoff.
    Error {
        /// The last failure.
        reason: String,
    },
    /// Stopped: no more events are accepted.
    Stopped,
}

impl Status {
    /// The status's name: `starting`, `ready`, `degraded`, `error` or `stopped`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Ready => "ready",
            Status::Degraded { .. } => "degraded",
            Status::Error { .. } => "error",
            Status::Stopped => "stopped",
        }
    }
}

/// Why an event was dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadReason {
    /// The handler answered `reject(reason)`.
    Rejected(String),
    /// Every attempt asked for a retry or failed; the last failure or retry, for people.
    AttemptsExhausted {
        /// Deliveries made.
        attempts: u32,
        /// What the last attempt ended with.
        last: String,
    },
    /// The service stopped with the event still queued or waiting for a retry.
    Stopped,
}

/// An event the service did not process, for the embedder to inspect or replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The event as last delivered (its `attempt` is the number of deliveries).
    pub event: IngressEvent,
    /// Why.
    pub reason: DeadReason,
}

/// What a service reports as it runs ([`crate::Service::subscribe`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceEvent {
    /// The status changed.
    Status {
        /// The plugin.
        plugin: String,
        /// The new status.
        status: Status,
    },
    /// An event was shed (the queue was full, policy `shed`).
    Shed {
        /// The plugin.
        plugin: String,
        /// Events shed so far.
        total: u64,
    },
    /// An event went to the dead-letter channel.
    DeadLettered {
        /// The plugin.
        plugin: String,
        /// The event's sequence number.
        sequence: u64,
        /// Why.
        reason: DeadReason,
    },
    /// An output command was refused or failed: it had no effect.
    CommandFailed {
        /// The plugin.
        plugin: String,
        /// The command (`send-frame`, `publish`, ...).
        command: &'static str,
        /// The coded diagnostic (`missing-grant` for a denied command).
        diagnostic: Diagnostic,
    },
}

/// A service's counters. Every pushed event is in exactly one of `rejected`, `shed`,
/// `accepted`; every accepted event ends in exactly one of `delivered`, `dead_lettered`
/// (or is still queued or in flight: `pending`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Events offered by producers.
    pub pushed: u64,
    /// Refused at the door (full queue, policy `reject`, or a stopped service).
    pub rejected: u64,
    /// Dropped at the door (full queue, policy `shed`).
    pub shed: u64,
    /// Taken into the queue.
    pub accepted: u64,
    /// Handled with outcome `ok`.
    pub delivered: u64,
    /// Gone to the dead-letter channel.
    pub dead_lettered: u64,
    /// Accepted and not yet delivered or dead-lettered.
    pub pending: u64,
    /// Deliveries after the first (retries and redeliveries after a failure).
    pub redeliveries: u64,
    /// Instances replaced after a failure.
    pub restarts: u64,
    /// Output commands carried out.
    pub commands: u64,
    /// Output commands refused or failed.
    pub commands_failed: u64,
    /// Dead letters dropped because the embedder did not read them in time (they are
    /// counted in `dead_lettered` too).
    pub dead_letters_dropped: u64,
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) pushed: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) shed: AtomicU64,
    pub(crate) accepted: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) redeliveries: AtomicU64,
    pub(crate) restarts: AtomicU64,
    pub(crate) commands: AtomicU64,
    pub(crate) commands_failed: AtomicU64,
    pub(crate) dead_letters_dropped: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) -> u64 {
        counter.fetch_add(1, Ordering::AcqRel) + 1
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Acquire);
        // Read the outflows before the inflow, so `pending` never goes negative while
        // events move.
        let delivered = get(&self.delivered);
        let dead_lettered = get(&self.dead_lettered);
        let accepted = get(&self.accepted);
        Stats {
            pushed: get(&self.pushed),
            rejected: get(&self.rejected),
            shed: get(&self.shed),
            accepted,
            delivered,
            dead_lettered,
            pending: accepted.saturating_sub(delivered + dead_lettered),
            redeliveries: get(&self.redeliveries),
            restarts: get(&self.restarts),
            commands: get(&self.commands),
            commands_failed: get(&self.commands_failed),
            dead_letters_dropped: get(&self.dead_letters_dropped),
        }
    }
}
