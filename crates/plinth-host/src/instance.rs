//! [`PluginInstance`]: a long-lived instance for warm calls and plugins that keep state.

use std::any::{Any, TypeId};
use std::pin::pin;

use serde_json::Value;
use wasmtime::Store;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Func, Instance, Lift, Lower, Resource, TypedFunc,
};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::types::{HostIncomingRequest, HostResponseOutparam};

use crate::bindings::tool::exports::plinth::plugin::lifecycle::Event;
use crate::call::{JsonArgs, within_wall_clock};
use crate::error::{CallError, CallFailure};
use crate::incoming::{Answer, IncomingResponse};
use crate::json_plan::Json;
use crate::outcome::Stage;
use crate::plugin::Plugin;
use crate::state::StoreState;

/// The lifecycle export that receives events.
const HANDLE_EVENT: &str = "plinth:plugin/lifecycle#handle-event";

/// A live instance of a plugin: its memory and globals survive from call to call.
///
/// Each call gets the plugin's full fuel budget, memory cap (for the instance's whole
/// life) and wall clock. After a trap or a limit hit the instance is discarded and the
/// next call instantiates a fresh one, so a failure never leaks into later calls.
pub struct PluginInstance {
    plugin: Plugin,
    live: Option<Live>,
    instantiations: u64,
}

/// The Store and instance of a [`PluginInstance`], with the functions already looked up
/// in it: a warm call then skips the export lookup and the signature check.
struct Live {
    store: Store<StoreState>,
    instance: Instance,
    /// Typed functions, by export and Rust signature (`TypeId` of `(P, R)`), each a
    /// boxed `TypedFunc<P, R>`: the signature was checked once, when it was added.
    typed: Vec<(ComponentExportIndex, TypeId, Box<dyn Any + Send + Sync>)>,
    /// Untyped functions for dynamic (JSON) calls, by export.
    funcs: Vec<(ComponentExportIndex, Func)>,
}

impl Live {
    fn new(store: Store<StoreState>, instance: Instance) -> Self {
        Self {
            store,
            instance,
            typed: Vec::new(),
            funcs: Vec::new(),
        }
    }

    /// The typed function of export `index`, checked against `(P, R)` once per instance;
    /// `Err(reason)` when the Rust types do not fit the export.
    fn typed<P, R>(&mut self, index: ComponentExportIndex) -> Result<TypedFunc<P, R>, String>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let signature = TypeId::of::<(P, R)>();
        let cached = self
            .typed
            .iter()
            .find(|(i, s, _)| *i == index && *s == signature)
            .and_then(|(_, _, func)| func.downcast_ref::<TypedFunc<P, R>>());
        if let Some(func) = cached {
            return Ok(*func);
        }
        let func = self
            .instance
            .get_typed_func::<P, R>(&mut self.store, index)
            .map_err(|e| e.to_string())?;
        self.typed.push((index, signature, Box::new(func)));
        Ok(func)
    }

    /// The function of export `index`, for a dynamic call.
    fn func(&mut self, index: ComponentExportIndex) -> Option<Func> {
        if let Some((_, func)) = self.funcs.iter().find(|(i, _)| *i == index) {
            return Some(*func);
        }
        let func = self.instance.get_func(&mut self.store, index)?;
        self.funcs.push((index, func));
        Some(func)
    }
}

impl std::fmt::Debug for PluginInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginInstance")
            .field("plugin", &self.plugin.id())
            .field("live", &self.live.is_some())
            .field("instantiations", &self.instantiations)
            .finish()
    }
}

impl Plugin {
    /// A long-lived instance, instantiated now (start functions run under the limits).
    pub async fn instantiate_async(&self) -> Result<PluginInstance, CallError> {
        let mut instance = PluginInstance {
            plugin: self.clone(),
            live: None,
            instantiations: 0,
        };
        instance.ensure_live().await?;
        Ok(instance)
    }

    /// Blocking [`Self::instantiate_async`].
    pub fn instantiate(&self) -> Result<PluginInstance, CallError> {
        if self.runs_sync() {
            return Ok(PluginInstance {
                plugin: self.clone(),
                live: Some(instantiate_sync(self)?),
                instantiations: 1,
            });
        }
        self.block_on("instantiate", pin!(self.instantiate_async()))
    }
}

/// The live instance, instantiated first (under the plugin's limits) when there is none.
async fn ensure_live<'a>(
    plugin: &Plugin,
    live: &'a mut Option<Live>,
    instantiations: &mut u64,
) -> Result<&'a mut Live, CallError> {
    if live.is_none() {
        // Boxed: instantiation is the rare path, and its future is large; inline, it would
        // be part of (and copied with) every warm call's future.
        *live = Some(Box::pin(instantiate(plugin)).await?);
        *instantiations += 1;
    }
    live.as_mut()
        .ok_or_else(|| no_live_instance(plugin, "instantiate"))
}

/// A new Store and instance of `plugin`, under its limits (start functions run here).
async fn instantiate(plugin: &Plugin) -> Result<Live, CallError> {
    let mut store = plugin.new_store();
    let deadline = plugin.arm(&mut store);
    let pre = &plugin.inner.pre;
    let span = tracing::debug_span!("plugin.instantiate", plugin = %plugin.id());
    let outcome = {
        let work = pin!(async {
            pre.instantiate_async(&mut store)
                .await
                .map_err(|e| (Stage::Instantiate, e))
        });
        within_wall_clock(deadline, &span, work).await
    };
    let instance = plugin.settle(&mut store, "instantiate", outcome)?;
    Ok(Live::new(store, instance))
}

/// [`instantiate`] on the sync path (docs/design/0075): start functions run on this
/// thread, bounded by fuel and the epoch deadline.
fn instantiate_sync(plugin: &Plugin) -> Result<Live, CallError> {
    let mut store = plugin.new_store();
    plugin.arm(&mut store);
    let _entered = tracing::debug_span!("plugin.instantiate", plugin = %plugin.id()).entered();
    let outcome = plugin
        .inner
        .pre
        .instantiate(&mut store)
        .map_err(|e| (Stage::Instantiate, e));
    let instance = plugin.settle(&mut store, "instantiate", Ok(outcome))?;
    Ok(Live::new(store, instance))
}

/// The live instance of the sync path, instantiated first when there is none.
fn ensure_live_sync<'a>(
    plugin: &Plugin,
    live: &'a mut Option<Live>,
    instantiations: &mut u64,
) -> Result<&'a mut Live, CallError> {
    if live.is_none() {
        *live = Some(instantiate_sync(plugin)?);
        *instantiations += 1;
    }
    live.as_mut()
        .ok_or_else(|| no_live_instance(plugin, "instantiate"))
}

fn no_live_instance(plugin: &Plugin, export: &str) -> CallError {
    plugin.error(
        export,
        CallFailure::Trap {
            message: "no live instance".into(),
            guest_message: None,
        },
    )
}

/// Settles a call on the live instance and drops the instance when the call failed or
/// the guest exited, so the next call starts from a fresh one. An exit with status 0
/// returns `on_exit()` (see [`crate::exit`]).
fn settle_live<T>(
    plugin: &Plugin,
    live: &mut Option<Live>,
    export: &str,
    outcome: crate::outcome::Outcome<T>,
    on_exit: impl FnOnce() -> Option<T>,
) -> Result<T, CallError> {
    let exited = crate::exit::exited(&outcome);
    let outcome = crate::exit::success_on_exit(outcome, on_exit);
    let Some(current) = live.as_mut() else {
        return Err(no_live_instance(plugin, export));
    };
    let result = plugin.settle(&mut current.store, export, outcome);
    if result.is_err() || exited {
        *live = None;
    }
    result
}

/// [`run_live`] on the sync path: `body` runs on this thread under a fresh budget and the
/// epoch deadline.
fn run_live_sync<T>(
    plugin: &Plugin,
    live: &mut Option<Live>,
    export: &str,
    on_exit: impl FnOnce() -> Option<T>,
    body: impl FnOnce(&mut Store<StoreState>) -> wasmtime::Result<T>,
) -> Result<T, CallError> {
    let Some(current) = live.as_mut() else {
        return Err(no_live_instance(plugin, export));
    };
    let store = &mut current.store;
    plugin.arm(store);
    let outcome = {
        let _entered = tracing::debug_span!("plugin.call", plugin = %plugin.id(), export).entered();
        body(store).map_err(|e| (Stage::Call, e))
    };
    settle_live(plugin, live, export, Ok(outcome), on_exit)
}

/// Runs `body` on the live instance under a fresh budget and the wall clock; drops the
/// instance when the call fails or the guest exited, so the next call starts from a fresh
/// one. An exit with status 0 returns `on_exit()` (see [`crate::exit`]).
async fn run_live<T>(
    plugin: &Plugin,
    live: &mut Option<Live>,
    export: &str,
    wall: Option<std::time::Duration>,
    on_exit: impl FnOnce() -> Option<T>,
    body: impl AsyncFnOnce(&mut Store<StoreState>) -> wasmtime::Result<T>,
) -> Result<T, CallError> {
    let Some(current) = live.as_mut() else {
        return Err(no_live_instance(plugin, export));
    };
    let store = &mut current.store;
    let deadline = plugin.arm_within(store, wall);
    let span = tracing::debug_span!("plugin.call", plugin = %plugin.id(), export);
    let outcome = {
        let work = pin!(async { body(&mut *store).await.map_err(|e| (Stage::Call, e)) });
        within_wall_clock(deadline, &span, work).await
    };
    settle_live(plugin, live, export, outcome, on_exit)
}

impl PluginInstance {
    /// The plugin this is an instance of.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// How many times an instance was created (1 unless a failure or an exit forced a
    /// new one).
    pub fn instantiations(&self) -> u64 {
        self.instantiations
    }

    /// Whether the instance is alive: false after a call trapped, hit a limit or exited
    /// (`wasi:cli/exit`), until the next call instantiates a fresh one. An embedder that
    /// runs set-up (`on-load`) on each instance starts a new [`PluginInstance`] instead.
    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// Delivers one event to the instance's `plinth:plugin/lifecycle.handle-event`.
    /// The plugin's own `Err` comes back as `Ok(Err(reason))`; a trap or limit is a
    /// [`CallError`] (and the instance is replaced on the next call).
    pub async fn handle_event_async(
        &mut self,
        event: &crate::inbox::PluginEvent,
    ) -> Result<Result<(), String>, CallError> {
        let event = Event {
            kind: event.kind.clone(),
            subject: event.subject.clone(),
            payload: event.payload.clone(),
        };
        self.call_async(HANDLE_EVENT, (event,))
            .await
            .map(|(result,): (Result<(), String>,)| result)
    }

    /// Blocking [`Self::handle_event_async`].
    pub fn handle_event(
        &mut self,
        event: &crate::inbox::PluginEvent,
    ) -> Result<Result<(), String>, CallError> {
        let plugin = self.plugin.clone();
        plugin.block_on(HANDLE_EVENT, pin!(self.handle_event_async(event)))
    }

    /// Delivers every queued event of the plugin's [`Inbox`](crate::inbox::Inbox), oldest
    /// first, and returns how many were handled. A plugin's `Err` is logged and delivery
    /// goes on; a trap stops delivery and is returned (the remaining events stay lost:
    /// the failed instance's state is gone with them).
    pub async fn deliver_pending_async(&mut self) -> Result<usize, CallError> {
        let events = self.plugin.inbox().drain();
        let mut handled = 0;
        for event in &events {
            if let Err(reason) = self.handle_event_async(event).await? {
                tracing::warn!(
                    plugin = %self.plugin.id(),
                    kind = %event.kind,
                    %reason,
                    "plugin refused an event"
                );
            }
            handled += 1;
        }
        Ok(handled)
    }

    /// Blocking [`Self::deliver_pending_async`].
    pub fn deliver_pending(&mut self) -> Result<usize, CallError> {
        let plugin = self.plugin.clone();
        plugin.block_on(HANDLE_EVENT, pin!(self.deliver_pending_async()))
    }

    async fn ensure_live(&mut self) -> Result<(), CallError> {
        ensure_live(&self.plugin, &mut self.live, &mut self.instantiations).await?;
        Ok(())
    }

    /// [`Plugin::call_json_async`] on this instance.
    pub async fn call_json_async(
        &mut self,
        export: &str,
        args: &[Value],
    ) -> Result<Value, CallError> {
        self.json_call_async(export, JsonArgs::Values(args))
            .await
            .map(Json::into_value)
    }

    /// Blocking [`Self::call_json_async`].
    pub fn call_json(&mut self, export: &str, args: &[Value]) -> Result<Value, CallError> {
        self.json_call(export, JsonArgs::Values(args))
            .map(Json::into_value)
    }

    /// [`Plugin::call_json_text_async`] on this instance.
    pub async fn call_json_text_async(
        &mut self,
        export: &str,
        args: &str,
    ) -> Result<String, CallError> {
        self.json_call_async(export, JsonArgs::Text(args))
            .await
            .map(Json::into_text)
    }

    /// Blocking [`Self::call_json_text_async`].
    pub fn call_json_text(&mut self, export: &str, args: &str) -> Result<String, CallError> {
        self.json_call(export, JsonArgs::Text(args))
            .map(Json::into_text)
    }

    async fn json_call_async(
        &mut self,
        export: &str,
        args: JsonArgs<'_>,
    ) -> Result<Json, CallError> {
        let Self {
            plugin,
            live,
            instantiations,
        } = self;
        call_json_on(plugin, live, instantiations, export, args).await
    }

    fn json_call(&mut self, export: &str, args: JsonArgs<'_>) -> Result<Json, CallError> {
        let Self {
            plugin,
            live,
            instantiations,
        } = self;
        if plugin.runs_sync() {
            return call_json_on_sync(plugin, live, instantiations, export, args);
        }
        let call = pin!(call_json_on(plugin, live, instantiations, export, args));
        plugin.block_on(export, call)
    }

    /// [`Plugin::call_async`] on this instance.
    pub async fn call_async<P, R>(&mut self, export: &str, params: P) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let Self {
            plugin,
            live,
            instantiations,
        } = self;
        call_on(plugin, live, instantiations, export, None, params).await
    }

    /// [`Self::call_async`] under a wall clock lowered to `wall` for this call only (a
    /// service event's deadline). Past it the call ends, even one blocked in a host import,
    /// and the instance is replaced on the next call.
    pub async fn call_within_async<P, R>(
        &mut self,
        export: &str,
        wall: Option<std::time::Duration>,
        params: P,
    ) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let Self {
            plugin,
            live,
            instantiations,
        } = self;
        call_on(plugin, live, instantiations, export, wall, params).await
    }

    /// Blocking [`Self::call_async`].
    pub fn call<P, R>(&mut self, export: &str, params: P) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let Self {
            plugin,
            live,
            instantiations,
        } = self;
        if plugin.runs_sync() {
            return call_on_sync(plugin, live, instantiations, export, params);
        }
        let call = pin!(call_on(plugin, live, instantiations, export, None, params));
        plugin.block_on(export, call)
    }
}

/// A typed call on the live instance (made first if there is none).
async fn call_on<P, R>(
    plugin: &Plugin,
    live: &mut Option<Live>,
    instantiations: &mut u64,
    export: &str,
    wall: Option<std::time::Duration>,
    params: P,
) -> Result<R, CallError>
where
    P: ComponentNamedList + Lower + Send + Sync + 'static,
    R: ComponentNamedList + Lift + Send + Sync + 'static,
{
    let func = plugin.export(export)?;
    let name = &*func.qualified;
    let typed = ensure_live(plugin, live, instantiations)
        .await?
        .typed::<P, R>(func.index)
        .map_err(|reason| plugin.signature_mismatch(name, reason))?;
    run_live(
        plugin,
        live,
        name,
        wall,
        crate::exit::success_typed::<R>,
        async |store| typed.call_async(store, params).await,
    )
    .await
}

/// [`call_on`] on the sync path.
fn call_on_sync<P, R>(
    plugin: &Plugin,
    live: &mut Option<Live>,
    instantiations: &mut u64,
    export: &str,
    params: P,
) -> Result<R, CallError>
where
    P: ComponentNamedList + Lower + Send + Sync + 'static,
    R: ComponentNamedList + Lift + Send + Sync + 'static,
{
    let func = plugin.export(export)?;
    let name = &*func.qualified;
    let typed = ensure_live_sync(plugin, live, instantiations)?
        .typed::<P, R>(func.index)
        .map_err(|reason| plugin.signature_mismatch(name, reason))?;
    run_live_sync(
        plugin,
        live,
        name,
        crate::exit::success_typed::<R>,
        |store| typed.call(store, params),
    )
}

/// [`call_json_on`] on the sync path.
fn call_json_on_sync(
    plugin: &Plugin,
    live: &mut Option<Live>,
    instantiations: &mut u64,
    export: &str,
    args: JsonArgs<'_>,
) -> Result<Json, CallError> {
    let (call, args) = plugin.prepare_json(export, args)?;
    let func = ensure_live_sync(plugin, live, instantiations)?.func(call.index());
    let results = run_live_sync(
        plugin,
        live,
        call.name(),
        || call.exit_results(),
        |store| match func {
            Some(func) => call.run_func_sync(store, func, args),
            None => Err(call.vanished()),
        },
    )?;
    call.result(results)
        .map_err(|failure| plugin.error(call.name(), failure))
}

/// A dynamic (JSON) call on the live instance (made first if there is none).
async fn call_json_on(
    plugin: &Plugin,
    live: &mut Option<Live>,
    instantiations: &mut u64,
    export: &str,
    args: JsonArgs<'_>,
) -> Result<Json, CallError> {
    let (call, args) = plugin.prepare_json(export, args)?;
    let func = ensure_live(plugin, live, instantiations)
        .await?
        .func(call.index());
    let on_exit = || call.exit_results();
    let results = run_live(
        plugin,
        live,
        call.name(),
        None,
        on_exit,
        async |store| match func {
            Some(func) => call.run_func(store, func, args).await,
            None => Err(call.vanished()),
        },
    )
    .await?;
    call.result(results)
        .map_err(|failure| plugin.error(call.name(), failure))
}

impl PluginInstance {
    /// Hands `request` to `export`, a component's `wasi:http/incoming-handler#handle`, on
    /// this instance, under a wall clock lowered to `wall` for this call only (like
    /// [`Self::call_within_async`]). The response body is read while the guest writes it,
    /// at most `max_body` bytes (`result-too-large` past it). `Ok(Err(reason))` when the
    /// guest set an error code or returned without setting a response.
    pub async fn handle_http_within(
        &mut self,
        export: &str,
        request: http::Request<bytes::Bytes>,
        wall: Option<std::time::Duration>,
        max_body: usize,
    ) -> Result<Result<IncomingResponse, String>, CallError> {
        let Self {
            plugin,
            live,
            instantiations,
        } = self;
        let func = plugin.export(export)?;
        let name = &*func.qualified;
        let typed = ensure_live(plugin, live, instantiations)
            .await?
            .typed::<(
                Resource<HostIncomingRequest>,
                Resource<HostResponseOutparam>,
            ), ()>(func.index)
            .map_err(|reason| plugin.signature_mismatch(name, reason))?;
        let answer = run_live(
            plugin,
            live,
            name,
            wall,
            || None,
            async |store| {
                let (sender, receiver) = tokio::sync::oneshot::channel();
                let (request, outparam) = {
                    let mut http = store.data_mut().http();
                    let request = http.new_incoming_request(
                        Scheme::Http,
                        crate::incoming::request_body(request),
                    )?;
                    (request, http.new_response_outparam(sender)?)
                };
                // The guest may write more body than a pipe holds before it returns: the
                // body is read while it runs.
                let (called, answer) = tokio::join!(
                    typed.call_async(&mut *store, (request, outparam)),
                    crate::incoming::read_answer(receiver, max_body),
                );
                called?;
                Ok(answer)
            },
        )
        .await?;
        match answer {
            Answer::Response(response) => Ok(Ok(response)),
            Answer::Failed(reason) => Ok(Err(reason)),
            Answer::NoResponse => Ok(Err("the handler set no response".into())),
            Answer::TooLarge => Err(plugin.error(
                name,
                CallFailure::ResultTooLarge {
                    limit: u64::try_from(max_body).unwrap_or(u64::MAX),
                },
            )),
        }
    }
}
