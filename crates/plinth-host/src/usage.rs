//! [`Usage`]: what a loaded plugin's calls have consumed, for embedders' telemetry.

use std::sync::atomic::{AtomicU64, Ordering};

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

/// Lock-free counters behind [`Usage`], updated once per finished call.
#[derive(Debug, Default)]
pub(crate) struct UsageCounters {
    calls: AtomicU64,
    fuel_used: AtomicU64,
    peak_memory_bytes: AtomicU64,
}

impl UsageCounters {
    pub(crate) fn record(&self, fuel_used: u64, peak_memory_bytes: u64) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.fuel_used.fetch_add(fuel_used, Ordering::Relaxed);
        self.peak_memory_bytes
            .fetch_max(peak_memory_bytes, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Usage {
        Usage {
            calls: self.calls.load(Ordering::Relaxed),
            fuel_used: self.fuel_used.load(Ordering::Relaxed),
            peak_memory_bytes: self.peak_memory_bytes.load(Ordering::Relaxed),
        }
    }
}
