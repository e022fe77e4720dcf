//! Calling a plugin: a fresh Store and instance per call under fuel, memory, epoch and
//! wall-clock limits, with every failure turned into a [`CallError`].

use serde_json::Value;
use tracing::Instrument;
use wasmtime::component::{ComponentNamedList, Instance, Lift, Lower, Val};
use wasmtime::{Store, Trap};

use crate::engine::ticks_for;
use crate::error::{CallError, CallFailure};
use crate::exports::ExportedFunc;
use crate::host_api::grant_hint;
use crate::json;
use crate::log::{LogLevel, LogSource};
use crate::plugin::Plugin;
use crate::state::StoreState;

impl Plugin {
    fn error(&self, export: &str, failure: CallFailure) -> CallError {
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
    /// JSON (`null` for a function without result). Runs on the caller's tokio runtime,
    /// which needs its time driver enabled.
    pub async fn call_json_async(&self, export: &str, args: &[Value]) -> Result<Value, CallError> {
        let func = self.export(export)?.clone();
        let params = self.params_from_json(&func, args)?;
        let result_count = func.results().len();
        let index = func.index;
        let results = self
            .with_instance(&func.qualified_name(), async |store, instance| {
                let f = instance
                    .get_func(&mut *store, index)
                    .ok_or_else(|| wasmtime::format_err!("export vanished"))?;
                let mut results = vec![Val::Bool(false); result_count];
                f.call_async(&mut *store, &params, &mut results).await?;
                Ok(results)
            })
            .await?;
        Ok(results.first().map_or(Value::Null, json::from_val))
    }

    /// Blocking [`Self::call_json_async`], on the host's own runtime. From inside a tokio
    /// runtime it returns a `bad-argument` error instead of blocking.
    pub fn call_json(&self, export: &str, args: &[Value]) -> Result<Value, CallError> {
        self.inner
            .host
            .block_on(self.call_json_async(export, args))
            .unwrap_or_else(|| Err(self.inside_runtime(export)))
    }

    /// Calls `export` with typed Rust values: `P` and `R` are tuples of the parameter and
    /// result types (`(String,)`, `(u32,)`).
    pub async fn call_async<P, R>(&self, export: &str, params: P) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let func = self.export(export)?;
        let index = func.index;
        let name = func.qualified_name();
        let typed = self
            .with_instance(&name, async |store, instance| {
                let typed = match instance.get_typed_func::<P, R>(&mut *store, index) {
                    Ok(typed) => typed,
                    Err(e) => return Ok(Err(e.to_string())),
                };
                Ok(Ok(typed.call_async(&mut *store, params).await?))
            })
            .await?;
        typed.map_err(|reason| {
            self.error(
                &name,
                CallFailure::BadArgument {
                    reason: format!("the Rust types do not match the export's signature: {reason}"),
                },
            )
        })
    }

    /// Blocking [`Self::call_async`].
    pub fn call<P, R>(&self, export: &str, params: P) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        self.inner
            .host
            .block_on(self.call_async(export, params))
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

    /// A Store with this plugin's limits armed.
    fn new_store(&self) -> Store<StoreState> {
        let ctx = self.inner.ctx.clone();
        let mut store = Store::new(&self.inner.host.engine, StoreState::new(ctx));
        let limits = self.inner.ctx.limits;
        store.limiter(|state| &mut state.limiter);
        // A fresh Store has no fuel; this cannot fail with fuel enabled on the engine.
        let _ = store.set_fuel(limits.fuel_units);
        store.set_epoch_deadline(ticks_for(limits.wall_timeout()));
        store.epoch_deadline_trap();
        store
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
        let timeout = self.inner.ctx.limits.wall_timeout();
        let pre = &self.inner.pre;
        let outcome = tokio::time::timeout(timeout, async {
            let instance = pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| (true, e))?;
            body(&mut store, instance).await.map_err(|e| (false, e))
        })
        .instrument(span)
        .await;
        let fuel_used = self
            .inner
            .ctx
            .limits
            .fuel_units
            .saturating_sub(store.get_fuel().unwrap_or(0));
        tracing::debug!(
            plugin = %self.id(),
            export,
            fuel_used,
            peak_memory = store.data().limiter.peak(),
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
            Ok(Err((in_instantiation, error))) => {
                let label = if in_instantiation {
                    "instantiate"
                } else {
                    export
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
            _ => CallFailure::Trap {
                message: error
                    .chain()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(": "),
                guest_message,
            },
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
