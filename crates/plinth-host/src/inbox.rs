//! Events waiting for a plugin's `plinth:plugin/lifecycle.handle-event` export.
//!
//! Capabilities that work in the background (a submitted HTTP request, a directory
//! watch) push into the plugin's [`Inbox`]; whoever owns the plugin's long-lived
//! instance (the embedder or the manager) delivers them with
//! [`PluginInstance::deliver_pending`](crate::PluginInstance::deliver_pending), waking on
//! [`Inbox::notified`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Events kept per plugin before the oldest are dropped (and counted).
pub const INBOX_CAPACITY: usize = 1024;
/// Bytes of events (kind, subject and payload) kept per plugin before the oldest are
/// dropped (and counted): room for the largest `http-response` event (a 16 MiB body,
/// escaped as JSON) with margin. An event larger than this alone is dropped.
pub const INBOX_MAX_BYTES: usize = 128 * 1024 * 1024;

/// One event for a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginEvent {
    /// What kind of event: `http-response`, `fs-change`, or an application's own kind.
    pub kind: String,
    /// What it is about, e.g. the request or subscription id.
    pub subject: String,
    /// The event's data, usually JSON.
    pub payload: String,
}

/// A plugin's queue of undelivered events. Cheap to clone; clones share the queue.
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    notify: Notify,
}

#[derive(Debug, Default)]
struct Queue {
    events: VecDeque<PluginEvent>,
    bytes: usize,
    dropped: u64,
}

impl PluginEvent {
    /// What the event holds on the host, in bytes.
    fn size(&self) -> usize {
        std::mem::size_of::<PluginEvent>()
            + self.kind.len()
            + self.subject.len()
            + self.payload.len()
    }
}

impl Inbox {
    /// Queues `event`, dropping the oldest ones while the inbox is over
    /// [`INBOX_CAPACITY`] events or [`INBOX_MAX_BYTES`] bytes. An event larger than
    /// [`INBOX_MAX_BYTES`] alone is dropped.
    pub fn push(&self, event: PluginEvent) {
        let size = event.size();
        {
            let mut queue = self.lock();
            if size > INBOX_MAX_BYTES {
                queue.dropped += 1;
                return;
            }
            while queue.events.len() >= INBOX_CAPACITY || queue.bytes + size > INBOX_MAX_BYTES {
                let Some(oldest) = queue.events.pop_front() else {
                    break;
                };
                queue.bytes -= oldest.size();
                queue.dropped += 1;
            }
            queue.bytes += size;
            queue.events.push_back(event);
        }
        self.shared.notify.notify_one();
    }

    /// Takes every queued event, oldest first.
    pub fn drain(&self) -> Vec<PluginEvent> {
        let mut queue = self.lock();
        queue.bytes = 0;
        queue.events.drain(..).collect()
    }

    /// Bytes of the queued events.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// How many events are queued.
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many events were dropped because the inbox was full.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Resolves once an event was pushed after the last wake-up (at once if one is
    /// pending from before).
    pub async fn notified(&self) {
        self.shared.notify.notified().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        // A panic while holding this lock leaves a consistent queue: recover it.
        self.shared
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: usize) -> PluginEvent {
        PluginEvent {
            kind: "test".into(),
            subject: n.to_string(),
            payload: String::new(),
        }
    }

    #[test]
    fn keeps_order_and_drops_the_oldest_when_full() {
        let inbox = Inbox::default();
        for n in 0..INBOX_CAPACITY + 2 {
            inbox.push(event(n));
        }
        assert_eq!(inbox.dropped(), 2);
        let events = inbox.drain();
        assert_eq!(events.len(), INBOX_CAPACITY);
        assert_eq!(events[0].subject, "2");
        assert!(inbox.is_empty());
    }

    #[test]
    fn keeps_at_most_its_bytes_dropping_the_oldest() {
        let inbox = Inbox::default();
        let big = |n: usize| PluginEvent {
            kind: "http-response".into(),
            subject: n.to_string(),
            payload: "x".repeat(16 * 1024 * 1024),
        };
        for n in 0..20 {
            inbox.push(big(n));
        }
        assert!(inbox.bytes() <= INBOX_MAX_BYTES, "{}", inbox.bytes());
        let kept = inbox.len();
        assert_eq!(kept, INBOX_MAX_BYTES / (16 * 1024 * 1024 + 64), "{kept}");
        assert_eq!(inbox.dropped(), (20 - kept) as u64);
        let events = inbox.drain();
        assert_eq!(events.last().unwrap().subject, "19");
        assert_eq!(inbox.bytes(), 0);

        // One event larger than the whole inbox is dropped, and the queue kept.
        inbox.push(event(1));
        inbox.push(PluginEvent {
            payload: "x".repeat(INBOX_MAX_BYTES + 1),
            ..event(2)
        });
        assert_eq!(inbox.drain(), [event(1)]);
    }

    #[tokio::test]
    async fn a_push_wakes_a_waiter() {
        let inbox = Inbox::default();
        let waiter = inbox.clone();
        let task = tokio::spawn(async move { waiter.notified().await });
        inbox.push(event(1));
        tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .expect("woken")
            .expect("task ran");
    }
}
