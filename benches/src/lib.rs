//! Benchmarks, and what their raw-Wasmtime baselines share.

use wasmtime::component::{ComponentType, Lift, Lower};

/// `plinth:host/log@0.1.0`'s `level`, for the raw linkers that stand beside Plinth.
// The derived `Lift` makes the variants from the guest's values; rustc cannot see that.
#[allow(dead_code)]
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug)]
#[component(enum)]
#[repr(u8)]
pub enum Level {
    /// `trace`
    #[component(name = "trace")]
    Trace,
    /// `debug`
    #[component(name = "debug")]
    Debug,
    /// `info`
    #[component(name = "info")]
    Info,
    /// `warn`
    #[component(name = "warn")]
    Warn,
    /// `error`
    #[component(name = "error")]
    Error,
}
