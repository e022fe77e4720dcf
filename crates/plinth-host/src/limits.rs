//! The four per-call limits of DESIGN §5 and the memory limiter that enforces one of them.

use std::time::Duration;

use plinth_manifest::LimitOverrides;
use serde::{Deserialize, Serialize};

/// Default fuel per call.
pub const DEFAULT_FUEL: u64 = 5_000_000_000;
/// Default memory per instance: all linear memories and tables together.
pub const DEFAULT_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
/// Default wall clock per call.
pub const DEFAULT_WALL_TIMEOUT_MS: u64 = 5_000;
/// Default wasm stack (an engine setting, host-wide).
pub const DEFAULT_MAX_STACK_BYTES: u64 = 1024 * 1024;
/// Default number of log records a call may write before the rest are dropped.
pub const DEFAULT_LOG_LINES: u32 = 1_000;
/// Default host memory a call's result may take, and the most data one guest-to-host
/// transfer (a host call's arguments) may copy into the host: 128 MiB, Wasmtime's own default.
pub const DEFAULT_RESULT_BYTES: u64 = 128 * 1024 * 1024;

/// Limits applied to every call (and to instantiation) of a plugin.
///
/// The host sets them; a plugin's manifest may only lower them ([`Limits::lowered_by`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Fuel units per call (roughly one per wasm instruction).
    pub fuel_units: u64,
    /// Bytes of linear memory plus tables (8 bytes an element) per instance.
    pub mem_bytes: u64,
    /// Wall-clock milliseconds per call, time blocked in host imports included.
    pub wall_timeout_ms: u64,
    /// Wasm stack bytes. Host-wide: a manifest cannot change it.
    pub max_stack_bytes: u64,
    /// Log records per call; the rest are dropped and counted.
    pub log_lines: u32,
    /// Host memory a call's result may take once lifted out of the guest (the `Val`s and,
    /// for a JSON call, the JSON value), and the most one host call's arguments may
    /// copy into the host. Over it, the call fails with `too-large`
    /// (docs/capabilities.md, "Host memory a plugin causes").
    pub result_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel_units: DEFAULT_FUEL,
            mem_bytes: DEFAULT_MEMORY_BYTES,
            wall_timeout_ms: DEFAULT_WALL_TIMEOUT_MS,
            max_stack_bytes: DEFAULT_MAX_STACK_BYTES,
            log_lines: DEFAULT_LOG_LINES,
            result_bytes: DEFAULT_RESULT_BYTES,
        }
    }
}

impl Limits {
    /// These limits with every value a manifest sets lowered to it; a value above the
    /// host's is ignored, so a plugin can never raise its own limits.
    pub fn lowered_by(mut self, overrides: &LimitOverrides) -> Self {
        if let Some(fuel) = overrides.fuel_units {
            self.fuel_units = self.fuel_units.min(fuel);
        }
        if let Some(mem) = overrides.mem_bytes {
            self.mem_bytes = self.mem_bytes.min(mem);
        }
        if let Some(ms) = overrides.wall_timeout_ms {
            self.wall_timeout_ms = self.wall_timeout_ms.min(ms);
        }
        self
    }

    /// The same limits with a smaller fuel budget, if `fuel` is smaller.
    pub fn with_fuel(mut self, fuel: u64) -> Self {
        self.fuel_units = fuel;
        self
    }

    /// The same limits with a memory cap of `bytes`.
    pub fn with_memory(mut self, bytes: u64) -> Self {
        self.mem_bytes = bytes;
        self
    }

    /// The same limits with a wall clock of `ms` milliseconds.
    pub fn with_timeout_ms(mut self, ms: u64) -> Self {
        self.wall_timeout_ms = ms;
        self
    }

    /// The same limits with at most `bytes` of host memory for a call's result.
    pub fn with_result_bytes(mut self, bytes: u64) -> Self {
        self.result_bytes = bytes;
        self
    }

    /// The wall clock as a [`Duration`].
    pub fn wall_timeout(&self) -> Duration {
        Duration::from_millis(self.wall_timeout_ms)
    }

    /// Keeps each limit at or below `ceiling`'s (the host's limits bound any request).
    pub fn capped_by(self, ceiling: &Limits) -> Self {
        Self {
            fuel_units: self.fuel_units.min(ceiling.fuel_units),
            mem_bytes: self.mem_bytes.min(ceiling.mem_bytes),
            wall_timeout_ms: self.wall_timeout_ms.min(ceiling.wall_timeout_ms),
            max_stack_bytes: ceiling.max_stack_bytes,
            log_lines: self.log_lines.min(ceiling.log_lines),
            result_bytes: self.result_bytes.min(ceiling.result_bytes),
        }
    }
}

/// A [`wasmtime::ResourceLimiter`] that caps the *sum* of all linear memories and tables
/// of a Store (Wasmtime's own `StoreLimits` caps each memory separately), and remembers
/// that it refused, so the trap or error that follows is reported as `memory-limit`.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    cap: u64,
    memories: u64,
    tables: u64,
    peak: u64,
    refused: bool,
}

/// Bytes a table element is charged.
const TABLE_ELEMENT_BYTES: u64 = 8;

impl MemoryLimiter {
    pub(crate) fn new(cap: u64) -> Self {
        Self {
            cap,
            memories: 0,
            tables: 0,
            peak: 0,
            refused: false,
        }
    }

    /// Whether a growth was refused during this Store's life.
    pub(crate) fn refused(&self) -> bool {
        self.refused
    }

    /// Highest total seen, in bytes.
    pub(crate) fn peak(&self) -> u64 {
        self.peak
    }

    fn admit(&mut self, extra: u64) -> bool {
        let total = self.memories + self.tables + extra;
        if total > self.cap {
            self.refused = true;
            return false;
        }
        true
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let extra = (desired as u64).saturating_sub(current as u64);
        if !self.admit(extra) {
            return Ok(false);
        }
        self.memories += extra;
        self.peak = self.peak.max(self.memories + self.tables);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let extra = (desired as u64).saturating_sub(current as u64) * TABLE_ELEMENT_BYTES;
        if !self.admit(extra) {
            return Ok(false);
        }
        self.tables += extra;
        self.peak = self.peak.max(self.memories + self.tables);
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        Ok(())
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn manifest_can_only_lower() {
        let host = Limits::default();
        let lowered = host.lowered_by(&LimitOverrides {
            fuel_units: Some(10),
            mem_bytes: Some(u64::MAX),
            wall_timeout_ms: Some(50),
        });
        assert_eq!(lowered.fuel_units, 10);
        assert_eq!(lowered.mem_bytes, DEFAULT_MEMORY_BYTES);
        assert_eq!(lowered.wall_timeout_ms, 50);
    }

    #[test]
    fn limiter_sums_memories_and_tables() {
        let mut limiter = MemoryLimiter::new(100);
        assert!(limiter.memory_growing(0, 60, None).unwrap());
        assert!(limiter.table_growing(0, 5, None).unwrap()); // 40 bytes
        assert!(!limiter.memory_growing(60, 61, None).unwrap());
        assert!(limiter.refused());
        assert_eq!(limiter.peak(), 100);
    }
}
