//! Calling a plugin: a fresh Store and instance per call under fuel, memory, epoch and
//! wall-clock limits, with every failure turned into a [`CallError`].

use std::pin::{Pin, pin};
use std::task::Poll;

use serde_json::Value;
use tracing::Instrument;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Func, Instance, Lift, Lower, TypedFunc, Val,
};
use wasmtime::{Store, Trap};

use crate::caps::gate::grant_hint;
use crate::error::{CallError, CallFailure};
use crate::exports::ExportedFunc;
use crate::json;
use crate::json_plan::{FastArgs, FastResult, FastShape, Form, Json};
use crate::log::{LogLevel, LogSource};
use crate::outcome::{Elapsed, Outcome, Stage};
use crate::plugin::Plugin;
use crate::result_budget::{self, JsonBudget, OverBudget};
use crate::state::StoreState;

/// Runs `work` under the wall clock `limit` (DESIGN §5, §9), inside `span`.
///
/// The guest's own code is bounded by the epoch deadline armed with the same limit; the
/// timer is for a guest blocked in an async host import, where epochs cannot reach it.
/// So the first poll runs without one: a call that never waits on a host import
/// completes inside it and pays for no timer. Only when `work` is pending is a tokio
/// timer armed, for the deadline counted from the start of the call.
///
/// `work` comes pinned by the caller: an `async fn` keeps a future passed by value twice
/// in its own state (the argument and the local it is awaited from), and every warm call
/// would copy those bytes around.
pub(crate) async fn within_wall_clock<F: Future>(
    deadline: Option<tokio::time::Instant>,
    span: &tracing::Span,
    mut work: Pin<&mut F>,
) -> Result<F::Output, Elapsed> {
    let first = std::future::poll_fn(|cx| {
        let _entered = span.enter();
        Poll::Ready(work.as_mut().poll(cx))
    })
    .await;
    if let Poll::Ready(output) = first {
        return Ok(output);
    }
    match deadline {
        // Boxed: the timer is rare, and would make every call's future larger.
        Some(deadline) => {
            Box::pin(tokio::time::timeout_at(deadline, work).instrument(span.clone()))
                .await
                .map_err(|_| Elapsed)
        }
        // A limit past the end of time: no timer can fire.
        None => Ok(work.instrument(span.clone()).await),
    }
}

/// A dynamic call, its export resolved up front; its arguments, converted, travel
/// separately ([`CallArgs`]) since the call consumes them.
pub(crate) struct DynamicCall<'a> {
    func: &'a ExportedFunc,
    /// The hostcall fuel that keeps lifting the results within the result budget
    /// ([`crate::result_budget`]).
    lift_fuel: usize,
    /// The form of JSON the caller gave and wants back.
    form: Form,
    /// [`crate::Limits::result_bytes`]: the JSON form's budget.
    result_bytes: u64,
}

/// The converted arguments of a [`DynamicCall`].
pub(crate) enum CallArgs {
    /// For Wasmtime's dynamic API.
    Vals(Vec<Val>),
    /// For the typed path of the export's plan ([`crate::json_plan`]).
    Fast(&'static dyn FastShape, FastArgs),
}

/// A dynamic call's arguments: [`Value`]s, or the JSON text of their array.
#[derive(Clone, Copy)]
pub(crate) enum JsonArgs<'a> {
    /// One value per parameter.
    Values(&'a [Value]),
    /// A JSON array, one element per parameter.
    Text(&'a str),
}

/// What a [`DynamicCall`] returned.
pub(crate) enum Lifted {
    /// From Wasmtime's dynamic API, to be made JSON.
    Vals(Vec<Val>),
    /// Made JSON by the typed path.
    Json(FastResult),
}

impl DynamicCall<'_> {
    /// The export's qualified name.
    pub(crate) fn name(&self) -> &str {
        &self.func.qualified
    }

    /// The export's index.
    pub(crate) fn index(&self) -> ComponentExportIndex {
        self.func.index
    }

    /// The error of an export that is not in the instance.
    pub(crate) fn vanished(&self) -> wasmtime::Error {
        wasmtime::format_err!("export `{}` vanished", self.name())
    }

    /// The export's function in `instance`.
    fn lookup(&self, store: &mut Store<StoreState>, instance: Instance) -> wasmtime::Result<Func> {
        instance
            .get_func(&mut *store, self.func.index)
            .ok_or_else(|| self.vanished())
    }

    /// Looks the function up in `instance` and calls it.
    pub(crate) async fn run(
        &self,
        store: &mut Store<StoreState>,
        instance: Instance,
        args: CallArgs,
    ) -> wasmtime::Result<Lifted> {
        let func = self.lookup(store, instance)?;
        self.run_func(store, func, args).await
    }

    /// [`Self::run`] on the sync path (docs/design/0075).
    pub(crate) fn run_sync(
        &self,
        store: &mut Store<StoreState>,
        instance: Instance,
        args: CallArgs,
    ) -> wasmtime::Result<Lifted> {
        let func = self.lookup(store, instance)?;
        self.run_func_sync(store, func, args)
    }

    /// [`Self::run_func`] on the sync path.
    pub(crate) fn run_func_sync(
        &self,
        store: &mut Store<StoreState>,
        func: Func,
        args: CallArgs,
    ) -> wasmtime::Result<Lifted> {
        store.set_hostcall_fuel(self.lift_fuel);
        match args {
            CallArgs::Vals(params) => {
                let mut results = vec![Val::Bool(false); self.func.plan.result_count];
                func.call(&mut *store, &params, &mut results)?;
                Ok(Lifted::Vals(results))
            }
            CallArgs::Fast(shape, args) => {
                let result = (self.form, self.result_bytes);
                let json = shape.call_sync(store, func, self.func.index, args, result)?;
                Ok(Lifted::Json(json))
            }
        }
    }

    /// Calls `func`, this call's export, already looked up.
    pub(crate) async fn run_func(
        &self,
        store: &mut Store<StoreState>,
        func: Func,
        args: CallArgs,
    ) -> wasmtime::Result<Lifted> {
        store.set_hostcall_fuel(self.lift_fuel);
        match args {
            CallArgs::Vals(params) => {
                let mut results = vec![Val::Bool(false); self.func.plan.result_count];
                func.call_async(&mut *store, &params, &mut results).await?;
                Ok(Lifted::Vals(results))
            }
            CallArgs::Fast(shape, args) => {
                let (index, result) = (self.func.index, (self.form, self.result_bytes));
                let json = shape.call(store, func, index, args, result).await?;
                Ok(Lifted::Json(json))
            }
        }
    }

    /// The results of an exit with status 0, for [`crate::exit::success_on_exit`].
    pub(crate) fn exit_results(&self) -> Option<Lifted> {
        self.func.plan.exit_results.clone().map(Lifted::Vals)
    }

    /// The first result as JSON of the call's form, within the result budget.
    pub(crate) fn result(&self, results: Lifted) -> Result<Json, CallFailure> {
        let json = match results {
            Lifted::Json(json) => json,
            Lifted::Vals(results) => match results.into_iter().next() {
                None => return Ok(Json::of(Value::Null, self.form)),
                Some(first) => {
                    let mut budget = JsonBudget::new(self.result_bytes);
                    budget
                        .node()
                        .and_then(|()| json::from_val_within(first, &mut budget))
                        .map(|value| Json::of(value, self.form))
                }
            },
        };
        json.map_err(|OverBudget| CallFailure::ResultTooLarge {
            limit: self.result_bytes,
        })
    }
}

/// The typed function of export `index` in `instance`; `Err(reason)` when the Rust types
/// do not fit it.
fn typed_func<P, R>(
    store: &mut Store<StoreState>,
    instance: Instance,
    index: ComponentExportIndex,
) -> Result<TypedFunc<P, R>, String>
where
    P: ComponentNamedList + Lower + Send + Sync + 'static,
    R: ComponentNamedList + Lift + Send + Sync + 'static,
{
    instance
        .get_typed_func::<P, R>(&mut *store, index)
        .map_err(|e| e.to_string())
}

/// [`typed_call`] on the sync path.
fn typed_call_sync<P, R>(
    store: &mut Store<StoreState>,
    instance: Instance,
    index: ComponentExportIndex,
    params: P,
) -> wasmtime::Result<Result<R, String>>
where
    P: ComponentNamedList + Lower + Send + Sync + 'static,
    R: ComponentNamedList + Lift + Send + Sync + 'static,
{
    match typed_func::<P, R>(store, instance, index) {
        Ok(typed) => Ok(Ok(typed.call(&mut *store, params)?)),
        Err(reason) => Ok(Err(reason)),
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
    match typed_func::<P, R>(store, instance, index) {
        Ok(typed) => Ok(Ok(typed.call_async(&mut *store, params).await?)),
        Err(reason) => Ok(Err(reason)),
    }
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

    /// Converts JSON text arguments (an array, one element per parameter) for a call of
    /// `func`: straight to the typed path's values when they fit its plan, else through
    /// [`Value`]s, which say what is wrong with them.
    fn args_from_text(&self, func: &ExportedFunc, args: &str) -> Result<CallArgs, CallError> {
        if let Some(shape) = func.plan.fast
            && let Some(converted) = shape.convert_text(args)
        {
            return Ok(CallArgs::Fast(shape, converted));
        }
        let values: Vec<Value> = serde_json::from_str(args).map_err(|e| {
            self.error(
                &func.qualified,
                CallFailure::BadArgument {
                    reason: format!("the arguments are not a JSON array: {e}"),
                },
            )
        })?;
        self.args_from_json(func, &values)
    }

    /// Converts JSON arguments for a call of `func`, by its plan.
    fn args_from_json(&self, func: &ExportedFunc, args: &[Value]) -> Result<CallArgs, CallError> {
        let name = &*func.qualified;
        let bad = |reason: String| self.error(name, CallFailure::BadArgument { reason });
        let params = &func.plan.params;
        if params.len() != args.len() {
            return Err(bad(format!(
                "expected {} argument(s) ({}), got {}",
                func.params().len(),
                func.params()
                    .map(|(n, t)| format!("{n}: {}", json::type_name(&t)))
                    .collect::<Vec<_>>()
                    .join(", "),
                args.len()
            )));
        }
        let param_name = |i: usize| {
            func.params()
                .nth(i)
                .map_or_else(String::new, |(n, _)| n.to_string())
        };
        if let Some(shape) = func.plan.fast {
            return match shape.convert(args, params) {
                Ok(converted) => Ok(CallArgs::Fast(shape, converted)),
                Err((i, m)) => Err(bad(format!("parameter `{}`: {m}", param_name(i)))),
            };
        }
        params
            .iter()
            .zip(args)
            .enumerate()
            .map(|(i, (ty, arg))| {
                json::to_val(arg, ty)
                    .map_err(|m| bad(format!("parameter `{}`: {m}", param_name(i))))
            })
            .collect::<Result<_, _>>()
            .map(CallArgs::Vals)
    }

    /// Calls `export` with JSON arguments (one per parameter) and returns the result as
    /// JSON (`null` for a function without result), in a fresh instance. Runs on the
    /// caller's tokio runtime, which needs its time driver enabled.
    pub async fn call_json_async(&self, export: &str, args: &[Value]) -> Result<Value, CallError> {
        self.json_call_async(export, JsonArgs::Values(args))
            .await
            .map(Json::into_value)
    }

    /// Blocking [`Self::call_json_async`], on the host's own runtime, or on this thread when
    /// the plugin's imports cannot wait ([`Self::runs_sync`]). From inside a tokio runtime
    /// it returns a `bad-argument` error instead of blocking.
    pub fn call_json(&self, export: &str, args: &[Value]) -> Result<Value, CallError> {
        self.json_call(export, JsonArgs::Values(args))
            .map(Json::into_value)
    }

    /// [`Self::call_json_async`] with JSON text: `args` is a JSON array with one element
    /// per parameter (`[]` for none), and the result is JSON text (`null` without one).
    /// The same arguments are accepted and refused as by [`Self::call_json_async`], with
    /// the same messages; for the common signatures (`list<u8>`, `string`, `u32`, `bool`
    /// parameters and results) the text is read and written straight from and to the
    /// guest's values, without building [`Value`]s (docs/design/0077).
    pub async fn call_json_text_async(
        &self,
        export: &str,
        args: &str,
    ) -> Result<String, CallError> {
        self.json_call_async(export, JsonArgs::Text(args))
            .await
            .map(Json::into_text)
    }

    /// Blocking [`Self::call_json_text_async`], as [`Self::call_json`] blocks.
    pub fn call_json_text(&self, export: &str, args: &str) -> Result<String, CallError> {
        self.json_call(export, JsonArgs::Text(args))
            .map(Json::into_text)
    }

    async fn json_call_async(&self, export: &str, args: JsonArgs<'_>) -> Result<Json, CallError> {
        let (call, args) = self.prepare_json(export, args)?;
        let results = self
            .with_instance(
                call.name(),
                || call.exit_results(),
                async |store, instance| call.run(store, instance, args).await,
            )
            .await?;
        call.result(results)
            .map_err(|failure| self.error(call.name(), failure))
    }

    fn json_call(&self, export: &str, args: JsonArgs<'_>) -> Result<Json, CallError> {
        if self.runs_sync() {
            let (call, args) = self.prepare_json(export, args)?;
            let results = self.with_instance_sync(
                call.name(),
                || call.exit_results(),
                |store, instance| call.run_sync(store, instance, args),
            )?;
            return call
                .result(results)
                .map_err(|failure| self.error(call.name(), failure));
        }
        self.block_on(export, pin!(self.json_call_async(export, args)))
    }

    /// Calls `export` with typed Rust values in a fresh instance: `P` and `R` are tuples
    /// of the parameter and result types (`(String,)`, `(u32,)`).
    pub async fn call_async<P, R>(&self, export: &str, params: P) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        self.call_within_async(export, None, params).await
    }

    /// [`Self::call_async`] under a wall clock lowered to `wall` for this call only.
    pub(crate) async fn call_within_async<P, R>(
        &self,
        export: &str,
        wall: Option<std::time::Duration>,
        params: P,
    ) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let func = self.export(export)?;
        let (index, name) = (func.index, &*func.qualified);
        let typed = self
            .with_instance_within(
                name,
                wall,
                || crate::exit::success_typed::<R>().map(Ok),
                async |store, instance| typed_call(store, instance, index, params).await,
            )
            .await?;
        typed.map_err(|reason| self.signature_mismatch(name, reason))
    }

    /// A typed call whose arguments are made in the call's Store (`params`, e.g. streams
    /// put in its resource table) and whose results are finished there (`finish`, e.g.
    /// flushing an output stream), both under the call's limits (docs/design/0046).
    pub(crate) async fn call_in_store_async<P, R, T>(
        &self,
        export: &str,
        params: impl FnOnce(&mut Store<StoreState>) -> wasmtime::Result<P>,
        finish: impl AsyncFnOnce(&mut Store<StoreState>, R) -> wasmtime::Result<T>,
    ) -> Result<T, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let func = self.export(export)?;
        let (index, name) = (func.index, &*func.qualified);
        let typed = self
            .with_instance(
                name,
                || None,
                async |store, instance| {
                    let params = params(store)?;
                    match typed_call::<P, R>(store, instance, index, params).await? {
                        Ok(results) => Ok(Ok(finish(store, results).await?)),
                        Err(reason) => Ok(Err(reason)),
                    }
                },
            )
            .await?;
        typed.map_err(|reason| self.signature_mismatch(name, reason))
    }

    /// Blocking [`Self::call_async`]; on this thread when [`Self::runs_sync`].
    pub fn call<P, R>(&self, export: &str, params: P) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        if self.runs_sync() {
            let func = self.export(export)?;
            let (index, name) = (func.index, &*func.qualified);
            let typed = self.with_instance_sync(
                name,
                || crate::exit::success_typed::<R>().map(Ok),
                |store, instance| typed_call_sync(store, instance, index, params),
            )?;
            return typed.map_err(|reason| self.signature_mismatch(name, reason));
        }
        self.block_on(export, pin!(self.call_async(export, params)))
    }

    /// Whether a blocking call may run on this thread, synchronously, instead of on the
    /// host's runtime (docs/design/0075): no import of the plugin can wait (decided at
    /// load), no tokio runtime is current (the blocking API refuses inside one), and the
    /// thread has room for the wasm stack limit and the host frames under it.
    pub(crate) fn runs_sync(&self) -> bool {
        self.inner.sync
            && tokio::runtime::Handle::try_current().is_err()
            && stacker::remaining_stack().is_some_and(|left| left >= self.inner.host.sync_stack)
    }

    /// [`Self::with_instance`] on the sync path: instantiation and `body` run on this
    /// thread, bounded by fuel and the epoch deadline. No import can wait, so no timer is
    /// needed for the wall clock.
    fn with_instance_sync<T>(
        &self,
        export: &str,
        on_exit: impl FnOnce() -> Option<T>,
        body: impl FnOnce(&mut Store<StoreState>, Instance) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        let mut store = self.new_store();
        self.arm(&mut store);
        let outcome = {
            let _entered =
                tracing::debug_span!("plugin.call", plugin = %self.id(), export).entered();
            self.inner
                .pre
                .instantiate(&mut store)
                .map_err(|e| (Stage::Instantiate, e))
                .and_then(|instance| body(&mut store, instance).map_err(|e| (Stage::Call, e)))
        };
        let outcome = crate::exit::success_on_exit(Ok(outcome), on_exit);
        self.settle(&mut store, export, outcome)
    }

    /// Resolves `export` and converts `args` for a dynamic call of it.
    pub(crate) fn prepare_json(
        &self,
        export: &str,
        args: JsonArgs<'_>,
    ) -> Result<(DynamicCall<'_>, CallArgs), CallError> {
        let func = self.export(export)?;
        let result_bytes = self.inner.ctx.limits.result_bytes;
        let (args, form) = match args {
            JsonArgs::Values(args) => (self.args_from_json(func, args)?, Form::Value),
            JsonArgs::Text(args) => (self.args_from_text(func, args)?, Form::Text),
        };
        let call = DynamicCall {
            lift_fuel: result_budget::lift_fuel(func.lift_ratio, result_bytes),
            result_bytes,
            form,
            func,
        };
        Ok((call, args))
    }

    pub(crate) fn signature_mismatch(&self, export: &str, reason: String) -> CallError {
        self.error(
            export,
            CallFailure::BadArgument {
                reason: format!("the Rust types do not match the export's signature: {reason}"),
            },
        )
    }

    /// Runs `future` on the host's runtime for the blocking API. Callers pass it pinned
    /// (`pin!`), so the call's future is not copied on its way to the runtime.
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
        // Typed results and host calls' arguments lift without amplification: one unit of
        // hostcall fuel is about one host byte.
        store.set_hostcall_fuel(result_budget::lift_fuel(
            1.0,
            self.inner.ctx.limits.result_bytes,
        ));
        store
    }

    /// Gives `store` a full fuel budget and a fresh epoch deadline for one call, and
    /// returns the call's wall-clock deadline (one clock read per call, shared by the
    /// timer and by host imports that bound their own waits with it). `None`: a limit
    /// past the end of time.
    pub(crate) fn arm(&self, store: &mut Store<StoreState>) -> Option<tokio::time::Instant> {
        self.arm_within(store, None)
    }

    /// [`Self::arm`] with the wall clock lowered to `wall` for this call (a hook's
    /// deadline); `None` keeps the plugin's limit.
    pub(crate) fn arm_within(
        &self,
        store: &mut Store<StoreState>,
        wall: Option<std::time::Duration>,
    ) -> Option<tokio::time::Instant> {
        let limits = &self.inner.ctx.limits;
        // Cannot fail: fuel is enabled on every Plinth engine.
        let _ = store.set_fuel(limits.fuel_units);
        let (timeout, ticks) = match wall {
            Some(wall) if wall < limits.wall_timeout() => (wall, crate::engine::ticks_for(wall)),
            _ => (limits.wall_timeout(), self.inner.deadline_ticks),
        };
        store.set_epoch_deadline(ticks);
        let now = tokio::time::Instant::now();
        let deadline = now.checked_add(timeout);
        let state = store.data_mut();
        state.call_deadline = deadline;
        state.call_started = Some(now);
        state.wall_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        state.sockets.start_call();
        deadline
    }

    /// Instantiates in a fresh Store and runs `body` on the instance, all under the
    /// wall clock; classifies any failure. An exit with status 0 returns `on_exit()`
    /// (see [`crate::exit`]).
    async fn with_instance<T>(
        &self,
        export: &str,
        on_exit: impl FnOnce() -> Option<T>,
        body: impl AsyncFnOnce(&mut Store<StoreState>, Instance) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        self.with_instance_within(export, None, on_exit, body).await
    }

    /// [`Self::with_instance`] under a wall clock lowered to `wall` ([`Self::arm_within`]).
    async fn with_instance_within<T>(
        &self,
        export: &str,
        wall: Option<std::time::Duration>,
        on_exit: impl FnOnce() -> Option<T>,
        body: impl AsyncFnOnce(&mut Store<StoreState>, Instance) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        let span = tracing::debug_span!("plugin.call", plugin = %self.id(), export);
        let mut store = self.new_store();
        let deadline = self.arm_within(&mut store, wall);
        let pre = &self.inner.pre;
        let outcome = {
            let work = pin!(async {
                let instance = pre
                    .instantiate_async(&mut store)
                    .await
                    .map_err(|e| (Stage::Instantiate, e))?;
                body(&mut store, instance)
                    .await
                    .map_err(|e| (Stage::Call, e))
            });
            within_wall_clock(deadline, &span, work).await
        };
        let outcome = crate::exit::success_on_exit(outcome, on_exit);
        self.settle(&mut store, export, outcome)
    }

    /// Everything after a call: the plugin's output into its log, grant reports, and the
    /// outcome turned into a value or a classified [`CallError`].
    pub(crate) fn settle<T>(
        &self,
        store: &mut Store<StoreState>,
        export: &str,
        outcome: Outcome<T>,
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
        let result = match outcome {
            Ok(Ok(value)) => Ok(value),
            Err(_elapsed) => Err(self.error(
                export,
                CallFailure::Timeout {
                    ms: store.data().wall_ms,
                },
            )),
            Ok(Err((stage, error))) => {
                let label = match stage {
                    Stage::Instantiate => "instantiate",
                    Stage::Call => export,
                };
                let failure = self.classify(&error, store.data(), guest_message);
                if let CallFailure::Trap { message, .. } = &failure {
                    tracing::warn!(target: "plinth::panic", plugin = %self.id(), export = label, trap = %message, "plugin.panic");
                }
                Err(self.error(label, failure))
            }
        };
        if let Some(observer) = &self.inner.host.observer {
            crate::telemetry::observe(
                self,
                observer,
                store.data(),
                export,
                &result,
                fuel_used,
                peak_memory,
            );
        }
        result
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
        // An app-defined function refused an ungranted call (see `caps::custom`).
        if let Some(crate::HostFnError::MissingGrant { grant, .. }) =
            error.downcast_ref::<crate::HostFnError>()
        {
            return CallFailure::MissingGrant {
                grant: grant.clone(),
            };
        }
        // A published event the host's checks refused (see `caps::events`).
        if let Some(rejected) = error.downcast_ref::<crate::EventRejected>() {
            return CallFailure::RejectedEvent {
                channel: rejected.channel.clone(),
                reason: rejected.reason.clone(),
            };
        }
        if let Some(failure) = over_host_budget(error) {
            return failure;
        }
        if copied_too_much(error) {
            return CallFailure::ResultTooLarge {
                limit: limits.result_bytes,
            };
        }
        if let Some(status) = crate::exit::status(error) {
            return CallFailure::ExitStatus {
                status,
                guest_message,
            };
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => CallFailure::FuelExhausted {
                fuel: limits.fuel_units,
            },
            Some(Trap::Interrupt) => CallFailure::Timeout { ms: state.wall_ms },
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
        state.settle_wasi_http();
        state.settle_sockets();
        state.plugin.gate.flush_audit();
        if state.denials.is_empty() && state.logs.dropped == 0 {
            return;
        }
        for grant in state.denials.take() {
            let message = format!(
                "missing-grant: the plugin used `{}` without a grant; {}",
                grant.capability_name(),
                grant_hint(self.id(), &grant)
            );
            tracing::warn!(target: "plinth::audit", plugin = %self.id(), %grant, "denied: missing grant");
            state.log(LogLevel::Warn, LogSource::Host, message);
        }
        if state.logs.dropped > 0 {
            tracing::warn!(plugin = %self.id(), dropped = state.logs.dropped, "log records over the per-call cap were dropped");
        }
    }
}

/// The failure when the call went over a host-side budget: its Store's resource table was
/// full ([`crate::state::MAX_RESOURCES`]), or a guest-made header set went over
/// [`crate::state::MAX_FIELDS_BYTES`] (Wasmtime traps for it).
fn over_host_budget(error: &wasmtime::Error) -> Option<CallFailure> {
    use wasmtime::component::ResourceTableError;
    use wasmtime_wasi_http::FieldMapError;

    error.chain().find_map(|cause| {
        if let Some(ResourceTableError::Full) = cause.downcast_ref::<ResourceTableError>() {
            return Some(CallFailure::HostResources {
                limit: crate::state::MAX_RESOURCES,
            });
        }
        match cause.downcast_ref::<FieldMapError>() {
            Some(FieldMapError::TotalSizeTooBig | FieldMapError::TooManyFields) => {
                Some(CallFailure::HeadersTooLarge {
                    limit: crate::state::MAX_FIELDS_BYTES,
                })
            }
            _ => None,
        }
    })
}

/// Whether Wasmtime refused to copy more out of the guest than the store's hostcall fuel
/// allows ([`crate::result_budget`]). Its error type is private; its message is the
/// contract.
fn copied_too_much(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .to_string()
            .contains("fuel allocated for hostcalls has been exhausted")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn runtime(time: bool) -> tokio::runtime::Runtime {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        if time {
            builder.enable_time();
        }
        builder.build().unwrap()
    }

    /// The deadline `Plugin::arm` would give a call with wall-clock `limit`.
    fn deadline_in(limit: Duration) -> Option<tokio::time::Instant> {
        tokio::time::Instant::now().checked_add(limit)
    }

    #[test]
    fn work_done_in_the_first_poll_needs_no_timer() {
        // No time driver: arming a tokio timer here would panic.
        let rt = runtime(false);
        let out = rt.block_on(within_wall_clock(
            deadline_in(Duration::from_millis(1)),
            &tracing::Span::none(),
            pin!(async { 7 }),
        ));
        assert_eq!(out.unwrap(), 7);
    }

    #[test]
    fn pending_work_times_out_counting_from_the_start() {
        let rt = runtime(true);
        let limit = Duration::from_millis(400);
        let started = std::time::Instant::now();
        let work = pin!(async {
            // Guest code running before it blocks in a host import: 300 ms of the 400.
            std::thread::sleep(Duration::from_millis(300));
            std::future::pending::<()>().await
        });
        let out = rt.block_on(within_wall_clock(
            deadline_in(limit),
            &tracing::Span::none(),
            work,
        ));
        let took = started.elapsed();
        assert!(out.is_err());
        assert!(took >= limit, "{took:?}");
        // Counted from the start, the timer fires about 100 ms after the block; counted
        // from the block it would be 400 ms (700 ms in all).
        assert!(took < Duration::from_millis(650), "{took:?}");
    }

    #[test]
    fn pending_work_that_finishes_in_time_is_kept() {
        let rt = runtime(true);
        let work = pin!(async {
            tokio::task::yield_now().await;
            "done"
        });
        let out = rt.block_on(within_wall_clock(
            deadline_in(Duration::MAX),
            &tracing::Span::none(),
            work,
        ));
        assert_eq!(out.unwrap(), "done");
        let work = pin!(async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            "slept"
        });
        let out = rt.block_on(within_wall_clock(
            deadline_in(Duration::from_secs(5)),
            &tracing::Span::none(),
            work,
        ));
        assert_eq!(out.unwrap(), "slept");
    }
}
