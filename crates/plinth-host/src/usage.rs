//! [`Usage`]: what a loaded plugin's calls have consumed, for embedders' telemetry.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Totals over every call (and instantiation) of one loaded [`crate::Plugin`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Calls and instantiations that finished, successful or not.
    pub calls: u64,
    /// Fuel consumed, summed.
    pub fuel_used: u64,
    /// The highest memory (all linear memories and tables of one instance) seen, in bytes.
    pub peak_memory_bytes: u64,
}

/// Counter shards of one plugin: calls finishing on different threads update different
/// cache lines instead of all contending for one (docs/performance.md, "Two threads").
const SHARDS: usize = 8;

/// One shard's counters, alone on its cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard {
    calls: AtomicU64,
    fuel_used: AtomicU64,
    peak_memory_bytes: AtomicU64,
}

/// The shard of the current thread: threads are spread over the shards in the order they
/// first record a call.
fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|index| *index)
}

/// Lock-free counters behind [`Usage`], updated once per finished call.
#[derive(Debug, Default)]
pub(crate) struct UsageCounters {
    shards: [Shard; SHARDS],
}

impl UsageCounters {
    pub(crate) fn record(&self, fuel_used: u64, peak_memory_bytes: u64) {
        let shard = &self.shards[shard_index()];
        shard.calls.fetch_add(1, Ordering::Relaxed);
        shard.fuel_used.fetch_add(fuel_used, Ordering::Relaxed);
        shard
            .peak_memory_bytes
            .fetch_max(peak_memory_bytes, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Usage {
        self.shards
            .iter()
            .fold(Usage::default(), |usage, shard| Usage {
                calls: usage.calls + shard.calls.load(Ordering::Relaxed),
                fuel_used: usage.fuel_used + shard.fuel_used.load(Ordering::Relaxed),
                peak_memory_bytes: usage
                    .peak_memory_bytes
                    .max(shard.peak_memory_bytes.load(Ordering::Relaxed)),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_on_many_threads_add_up() {
        let counters = UsageCounters::default();
        std::thread::scope(|scope| {
            for t in 0..12u64 {
                let counters = &counters;
                scope.spawn(move || {
                    for _ in 0..1_000 {
                        counters.record(2, t * 100);
                    }
                });
            }
        });
        assert_eq!(
            counters.snapshot(),
            Usage {
                calls: 12_000,
                fuel_used: 24_000,
                peak_memory_bytes: 1_100,
            }
        );
    }
}
