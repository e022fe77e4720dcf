//! Benchmarks, and what their raw-Wasmtime baselines share.

use wasmtime::component::{ComponentType, Lift, Lower, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The Store data of a raw-Wasmtime baseline: a WASI p2 context and its resource table.
#[allow(missing_debug_implementations)] // WasiCtx has no Debug.
pub struct RawState {
    /// The WASI context (nothing granted unless the bench says so).
    pub wasi: WasiCtx,
    /// The resource table WASI keeps its handles in.
    pub table: ResourceTable,
}

impl WasiView for RawState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

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
