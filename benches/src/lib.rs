//! Benchmarks, and what their raw-Wasmtime baselines share.

use wasmtime::Store;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, ComponentType, InstancePre, Lift, Lower,
    ResourceTable,
};
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

/// Instantiates `pre` in `store` and calls its export `index` once with `params`: the
/// fresh-instance call of every raw-Wasmtime baseline. The caller owns `store`, so it can
/// drop it outside the timing. Panics on a failure: a baseline measures working calls.
pub async fn instantiate_and_call<T, P, R>(
    store: &mut Store<T>,
    pre: &InstancePre<T>,
    index: ComponentExportIndex,
    params: P,
) -> R
where
    T: Send + 'static,
    P: ComponentNamedList + Lower + Send + Sync + 'static,
    R: ComponentNamedList + Lift + Send + Sync + 'static,
{
    let instance = pre
        .instantiate_async(&mut *store)
        .await
        .expect("instantiate");
    let func = instance
        .get_typed_func::<P, R>(&mut *store, index)
        .expect("typed func");
    func.call_async(&mut *store, params).await.expect("call")
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
