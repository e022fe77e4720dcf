//! How a service is run: from its manifest's `[[provides.service]]`, adjusted by the
//! embedder.

use std::time::Duration;

use plinth_host::Plugin;
use plinth_host::kinds::Service as ServiceKind;
use plinth_manifest::{Overflow, ServiceDecl};

use crate::error::ServiceError;

/// Restart backoff: `initial`, doubled per consecutive failure, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first restart.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait before restart number `failures` (1 for the first).
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.initial.saturating_mul(1u32 << doublings).min(self.max)
    }
}

/// How the host runs one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Events the ingress queue holds, waiting.
    pub queue: usize,
    /// What a full queue does.
    pub overflow: Overflow,
    /// Events handled at once, each in its own instance (1: in order).
    pub concurrency: usize,
    /// A deadline per event (and for `start` and `stop`); `None`: the plugin's wall clock.
    pub deadline: Option<Duration>,
    /// Deliveries of one event before it is dead-lettered.
    pub max_attempts: u32,
    /// The longest `retry(after)` honoured; longer ones wait this long.
    pub max_retry_delay: Duration,
    /// Restart backoff after a failed instance.
    pub restart: Backoff,
    /// Consecutive failures after which the status is `Error` rather than `Degraded`.
    pub error_after: u32,
    /// Dead letters kept for the embedder before the oldest are dropped (and counted).
    pub dead_letter_capacity: usize,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self::from_decl(&ServiceDecl::default())
    }
}

impl ServiceConfig {
    /// The manifest's settings, with the host's defaults for the rest.
    pub fn from_decl(decl: &ServiceDecl) -> Self {
        Self {
            queue: decl.queue as usize,
            overflow: decl.overflow,
            concurrency: decl.concurrency.max(1) as usize,
            deadline: decl.deadline_ms.map(Duration::from_millis),
            max_attempts: decl.max_attempts.max(1),
            max_retry_delay: Duration::from_secs(60),
            restart: Backoff::default(),
            error_after: 5,
            dead_letter_capacity: 1024,
        }
    }

    /// The settings `plugin`'s manifest asks for; `kind-mismatch` when it provides no
    /// service.
    pub fn for_plugin(plugin: &Plugin) -> Result<Self, ServiceError> {
        let services = plugin
            .kind::<ServiceKind>()
            .map_err(|_| ServiceError::NotAService {
                plugin: plugin.id().into(),
            })?;
        Ok(Self::from_decl(&services.decl()))
    }

    /// With a queue of `events`.
    pub fn with_queue(mut self, events: usize) -> Self {
        self.queue = events.max(1);
        self
    }

    /// With overflow policy `overflow`.
    pub fn with_overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// With `n` events at once.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// With a deadline per event.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// With at most `attempts` deliveries per event.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// With restart backoff `backoff`.
    pub fn with_restart(mut self, backoff: Backoff) -> Self {
        self.restart = backoff;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let delays: Vec<u128> = (1..=6).map(|n| backoff.delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn the_manifest_defaults_are_a_serial_rejecting_queue_of_256() {
        let config = ServiceConfig::default();
        assert_eq!(config.queue, 256);
        assert_eq!(config.overflow, Overflow::Reject);
        assert_eq!(config.concurrency, 1);
        assert_eq!(config.max_attempts, 3);
    }
}
