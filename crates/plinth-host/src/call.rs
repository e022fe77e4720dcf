//! Calling a plugin: a fresh Store and instance per call under fuel, memory, epoch and
//! wall-clock limits, with every failure turned into a [`CallError`].

use serde_json::Value;
use tracing::Instrument;
use wasmtime::component::{ComponentExportIndex, ComponentNamedList, Instance, Lift, Lower, Val};
use wasmtime::{Store, Trap};

use crate::engine::ticks_for;
use crate::error::{CallError, CallFailure};
use crate::exports::ExportedFunc;
use crate::host_api::grant_hint;
use crate::json;
use crate::log::{LogLevel, LogSource};
use crate::plugin::Plugin;
use crate::state::StoreState;

/// Where a failure happened.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stage {
    Instantiate,
    Call,
}

/// A dynamic call, its arguments converted and its export resolved up front.
pub(crate) struct DynamicCall {
    pub(crate) params: Vec<Val>,
    pub(crate) result_count: usize,
    pub(crate) index: ComponentExportIndex,
    pub(crate) name: String,
}

impl DynamicCall {
    pub(crate) async fn run(
        &self,
        store: &mut Store<StoreState>,
        instance: Instance,
    ) -> wasmtime::Result<Vec<Val>> {
        let func = instance
            .get_func(&mut *store, self.index)
            .ok_or_else(|| wasmtime::format_err!("export `{}` vanished", self.name))?;
        let mut results = vec![Val::Bool(false); self.result_count];
        func.call_async(&mut *store, &self.params, &mut results)
            .await?;
        Ok(results)
    }

    pub(crate) fn result(results: &[Val]) -> Value {
        results.first().map_or(Value::Null, json::from_val)
    }
}

/// A typed call; `Ok(Err(reason))` when the Rust types do not fit the export.
pub(crate) async fn typed_call<P, R>(
    store: &mut Store<StoreState>,
    instance: Instance,
    index: ComponentExportIndex,
    params: P,
) -> wasmtime::Result<Result<R, String>>
where
    P: ComponentNamedList + Lower + Send + Sync + 'static,
    R: ComponentNamedList + Lift + Send + Sync + 'static,
{
    let typed = match instance.get_typed_func::<P, R>(&mut *store, index) {
        Ok(typed) => typed,
        Err(e) => return Ok(Err(e.to_string())),
    };
    Ok(Ok(typed.call_async(&mut *store, params).await?))
}

impl Plugin {
    pub(crate) fn error(&self, export: &str, failure: CallFailure) -> CallError {
        CallError {
            plugin: self.id().to_string(),
            export: export.to_string(),
            failure,
        }
    }

    /// Resolves an export name (DESIGN §7) to one of the component's functions.
    pub fn export(&self, name: &str) -> Result<&ExportedFunc, CallError> {
        self.exports()
            .resolve(name)
            .map_err(|candidates| self.error(name, CallFailure::UnknownExport { candidates }))
    }

    /// Converts JSON arguments to the parameter values of `func`.
    fn params_from_json(&self, func: &ExportedFunc, args: &[Value]) -> Result<Vec<Val>, CallError> {
        let name = func.qualified_name();
        let bad = |reason: String| self.error(&name, CallFailure::BadArgument { reason });
        let params: Vec<_> = func.params().collect();
        if params.len() != args.len() {
            return Err(bad(format!(
                "expected {} argument(s) ({}), got {}",
                params.len(),
                params
                    .iter()
                    .map(|(n, t)| format!("{n}: {}", json::type_name(t)))
                    .collect::<Vec<_>>()
                    .join(", "),
                args.len()
            )));
        }
        params
            .iter()
            .zip(args)
            .map(|((param, ty), arg)| {
                json::to_val(arg, ty).map_err(|m| bad(format!("parameter `{param}`: {m}")))
            })
            .collect()
    }

    /// Calls `export` with JSON arguments (one per parameter) and returns the result as
    /// JSON (`null` for a function without result), in a fresh instance. Runs on the
    /// caller's tokio runtime, which needs its time driver enabled.
    pub async fn call_json_async(&self, export: &str, args: &[Value]) -> Result<Value, CallError> {
        let call = self.prepare_json(export, args)?;
        let results = self
            .with_instance(&call.name, async |store, instance| {
                call.run(store, instance).await
            })
            .await?;
        Ok(DynamicCall::result(&results))
    }

    /// Blocking [`Self::call_json_async`], on the host's own runtime. From inside a tokio
    /// runtime it returns a `bad-argument` error instead of blocking.
    pub fn call_json(&self, export: &str, args: &[Value]) -> Result<Value, CallError> {
        self.block_on(export, self.call_json_async(export, args))
    }

    /// Calls `export` with typed Rust values in a fresh instance: `P` and `R` are tuples
    /// of the parameter and result types (`(String,)`, `(u32,)`).
    pub async fn call_async<P, R>(&self, export: &str, params: P) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let func = self.export(export)?;
        let (index, name) = (func.index, func.qualified_name());
        let typed = self
            .with_instance(&name, async |store, instance| {
                typed_call(store, instance, index, params).await
            })
            .await?;
        typed.map_err(|reason| self.signature_mismatch(&name, reason))
    }

    /// Blocking [`Self::call_async`].
    pub fn call<P, R>(&self, export: &str, params: P) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        self.block_on(export, self.call_async(export, params))
    }

    pub(crate) fn prepare_json(
        &self,
        export: &str,
        args: &[Value],
    ) -> Result<DynamicCall, CallError> {
        let func = self.export(export)?;
        Ok(DynamicCall {
            params: self.params_from_json(func, args)?,
            result_count: func.results().len(),
            index: func.index,
            name: func.qualified_name(),
        })
    }

    pub(crate) fn signature_mismatch(&self, export: &str, reason: String) -> CallError {
        self.error(
            export,
            CallFailure::BadArgument {
                reason: format!("the Rust types do not match the export's signature: {reason}"),
            },
        )
    }

    /// Runs `future` on the host's runtime for the blocking API.
    pub(crate) fn block_on<T>(
        &self,
        export: &str,
        future: impl std::future::Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        self.inner
            .host
            .block_on(future)
            .unwrap_or_else(|| Err(self.inside_runtime(export)))
    }

    fn inside_runtime(&self, export: &str) -> CallError {
        self.error(
            export,
            CallFailure::BadArgument {
                reason: "the blocking API was called from inside an async runtime; use the `_async` method".into(),
            },
        )
    }

    /// A new Store for one instance's life, with the memory limiter installed.
    pub(crate) fn new_store(&self) -> Store<StoreState> {
        let ctx = self.inner.ctx.clone();
        let mut store = Store::new(&self.inner.host.engine, StoreState::new(ctx));
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_trap();
        store
    }

    /// Gives `store` a full fuel budget and a fresh epoch deadline for one call.
    pub(crate) fn arm(&self, store: &mut Store<StoreState>) {
        let limits = &self.inner.ctx.limits;
        // Cannot fail: fuel is enabled on every Plinth engine.
        let _ = store.set_fuel(limits.fuel_units);
        store.set_epoch_deadline(ticks_for(limits.wall_timeout()));
    }

    /// Instantiates in a fresh Store and runs `body` on the instance, all under the
    /// wall clock; classifies any failure.
    async fn with_instance<T>(
        &self,
        export: &str,
        body: impl AsyncFnOnce(&mut Store<StoreState>, Instance) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        let span = tracing::debug_span!("plugin.call", plugin = %self.id(), export);
        let mut store = self.new_store();
        self.arm(&mut store);
        let pre = &self.inner.pre;
        let outcome = tokio::time::timeout(self.inner.ctx.limits.wall_timeout(), async {
            let instance = pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| (Stage::Instantiate, e))?;
            body(&mut store, instance)
                .await
                .map_err(|e| (Stage::Call, e))
        })
        .instrument(span)
        .await;
        self.settle(&mut store, export, outcome)
    }

    /// Everything after a call: the plugin's output into its log, grant reports, and the
    /// outcome turned into a value or a classified [`CallError`].
    pub(crate) fn settle<T>(
        &self,
        store: &mut Store<StoreState>,
        export: &str,
        outcome: Result<Result<T, (Stage, wasmtime::Error)>, tokio::time::error::Elapsed>,
    ) -> Result<T, CallError> {
        let fuel_used = self
            .inner
            .ctx
            .limits
            .fuel_units
            .saturating_sub(store.get_fuel().unwrap_or(0));
        let peak_memory = store.data().limiter.peak();
        self.inner.ctx.usage.record(fuel_used, peak_memory);
        tracing::debug!(
            plugin = %self.id(),
            export,
            fuel_used,
            peak_memory,
            ok = matches!(outcome, Ok(Ok(_))),
            "plugin.call finished"
        );
        let guest_message = store.data_mut().flush_output();
        self.report_after_call(store.data_mut());
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Err(_elapsed) => Err(self.error(
                export,
                CallFailure::Timeout {
                    ms: self.inner.ctx.limits.wall_timeout_ms,
                },
            )),
            Ok(Err((stage, error))) => {
                let label = match stage {
                    Stage::Instantiate => "instantiate",
                    Stage::Call => export,
                };
                let failure = self.classify(&error, store.data(), guest_message);
                if matches!(failure, CallFailure::Trap { .. }) {
                    tracing::warn!(target: "plinth::panic", plugin = %self.id(), export = label, "plugin.panic");
                }
                Err(self.error(label, failure))
            }
        }
    }

    fn classify(
        &self,
        error: &wasmtime::Error,
        state: &StoreState,
        guest_message: Option<String>,
    ) -> CallFailure {
        let limits = &self.inner.ctx.limits;
        if state.limiter.refused() {
            return CallFailure::MemoryLimit {
                limit: limits.mem_bytes,
            };
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => CallFailure::FuelExhausted {
                fuel: limits.fuel_units,
            },
            Some(Trap::Interrupt) => CallFailure::Timeout {
                ms: limits.wall_timeout_ms,
            },
            Some(Trap::StackOverflow) => CallFailure::StackOverflow,
            Some(trap) => CallFailure::Trap {
                message: trap.to_string(),
                guest_message,
            },
            None => {
                // The full chain (with the wasm backtrace) goes to the debug log; the
                // diagnostic keeps the root cause's first line.
                tracing::debug!(plugin = %self.id(), "call failed: {error:?}");
                let root = error.root_cause().to_string();
                CallFailure::Trap {
                    message: root.lines().next().unwrap_or_default().to_string(),
                    guest_message,
                }
            }
        }
    }

    /// Tells the log what the call did without permission and what it lost.
    fn report_after_call(&self, state: &mut StoreState) {
        let missing = std::mem::take(&mut state.missing_grants);
        for grant in missing {
            let message = format!(
                "missing-grant: the plugin used `{}` without a grant; {}",
                grant.capability_name(),
                grant_hint(self.id(), &grant)
            );
            tracing::warn!(target: "plinth::audit", plugin = %self.id(), %grant, "denied: missing grant");
            state.log(LogLevel::Warn, LogSource::Host, message);
        }
        if state.logs_dropped > 0 {
            tracing::warn!(plugin = %self.id(), dropped = state.logs_dropped, "log records over the per-call cap were dropped");
        }
    }
}
