//! The ingress queue: bounded, never silent when full.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use plinth_host::kinds::IngressEvent;
use tokio::sync::{Notify, oneshot};

use crate::runtime::Delivery;

/// What became of a pushed event that was not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Queued with this sequence number.
    Queued {
        /// The service's sequence number for the event.
        sequence: u64,
    },
    /// The queue was full and the policy is `shed`: dropped, counted and logged.
    Shed,
}

/// A queued event and who waits for its outcome.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) event: IngressEvent,
    pub(crate) reply: Option<oneshot::Sender<Delivery>>,
}

/// The queue proper: events in order, and whether it still takes any.
#[derive(Debug, Default)]
struct Inner {
    events: VecDeque<Queued>,
    closed: bool,
}

/// A bounded FIFO of [`Queued`] events that workers wait on.
#[derive(Debug)]
pub(crate) struct Queue {
    inner: Mutex<Inner>,
    notify: Notify,
    capacity: usize,
}

/// Why [`Queue::offer`] did not take an event (which is dropped: a waiting requester's
/// receiver closes).
pub(crate) enum Refused {
    Full,
    Closed,
}

impl Queue {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::default(),
            notify: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `item` when there is room; `number` gives it its sequence number under the
    /// queue's lock, so sequence numbers follow queue order.
    pub(crate) fn offer(
        &self,
        mut item: Queued,
        number: impl FnOnce() -> u64,
    ) -> Result<u64, Refused> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(Refused::Closed);
        }
        if inner.events.len() >= self.capacity {
            return Err(Refused::Full);
        }
        let sequence = number();
        item.event.sequence = sequence;
        inner.events.push_back(item);
        drop(inner);
        self.notify.notify_one();
        Ok(sequence)
    }

    /// The next event, waiting for one; `None` once the queue is closed.
    pub(crate) async fn next(&self) -> Option<Queued> {
        loop {
            let notified = self.notify.notified();
            {
                let mut inner = self.lock();
                // A closed queue hands out nothing more: what is left is the stopper's.
                if inner.closed {
                    return None;
                }
                if let Some(item) = inner.events.pop_front() {
                    // Another worker may be waiting for the next one.
                    if !inner.events.is_empty() {
                        self.notify.notify_one();
                    }
                    return Some(item);
                }
            }
            notified.await;
        }
    }

    /// Takes no more events and wakes every waiting worker.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
    }

    /// Whether [`Self::close`] was called.
    pub(crate) fn closed(&self) -> bool {
        self.lock().closed
    }

    /// Everything still queued (after a stop).
    pub(crate) fn drain(&self) -> Vec<Queued> {
        self.lock().events.drain(..).collect()
    }

    /// Events waiting.
    pub(crate) fn len(&self) -> usize {
        self.lock().events.len()
    }
}
