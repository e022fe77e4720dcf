//! [`PluginInstance`]: a long-lived instance for warm calls and plugins that keep state.

use serde_json::Value;
use tracing::Instrument;
use wasmtime::Store;
use wasmtime::component::{ComponentNamedList, Instance, Lift, Lower};

use crate::bindings::tool::exports::plinth::plugin::lifecycle::Event;
use crate::call::{DynamicCall, Stage, typed_call};
use crate::error::CallError;
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
    live: Option<(Store<StoreState>, Instance)>,
    instantiations: u64,
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
        self.block_on("instantiate", self.instantiate_async())
    }
}

impl PluginInstance {
    /// The plugin this is an instance of.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// How many times an instance was created (1 unless a failure forced a new one).
    pub fn instantiations(&self) -> u64 {
        self.instantiations
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
        plugin.block_on(HANDLE_EVENT, self.handle_event_async(event))
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
        plugin.block_on(HANDLE_EVENT, self.deliver_pending_async())
    }

    async fn ensure_live(&mut self) -> Result<(), CallError> {
        if self.live.is_some() {
            return Ok(());
        }
        let plugin = &self.plugin;
        let mut store = plugin.new_store();
        plugin.arm(&mut store);
        let pre = &plugin.inner.pre;
        let outcome = tokio::time::timeout(plugin.limits().wall_timeout(), async {
            pre.instantiate_async(&mut store)
                .await
                .map_err(|e| (Stage::Instantiate, e))
        })
        .await;
        let instance = plugin.settle(&mut store, "instantiate", outcome)?;
        self.instantiations += 1;
        self.live = Some((store, instance));
        Ok(())
    }

    /// Runs `body` on the live instance under a fresh budget; drops the instance when
    /// the call fails.
    async fn with_live<T>(
        &mut self,
        export: &str,
        body: impl AsyncFnOnce(&mut Store<StoreState>, Instance) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        self.ensure_live().await?;
        let Some((mut store, instance)) = self.live.take() else {
            return Err(self.plugin.error(
                export,
                crate::error::CallFailure::Trap {
                    message: "no live instance".into(),
                    guest_message: None,
                },
            ));
        };
        self.plugin.arm(&mut store);
        let span = tracing::debug_span!("plugin.call", plugin = %self.plugin.id(), export);
        let outcome = tokio::time::timeout(self.plugin.limits().wall_timeout(), async {
            body(&mut store, instance)
                .await
                .map_err(|e| (Stage::Call, e))
        })
        .instrument(span)
        .await;
        let result = self.plugin.settle(&mut store, export, outcome);
        if result.is_ok() {
            self.live = Some((store, instance));
        }
        result
    }

    /// [`Plugin::call_json_async`] on this instance.
    pub async fn call_json_async(
        &mut self,
        export: &str,
        args: &[Value],
    ) -> Result<Value, CallError> {
        let call = self.plugin.prepare_json(export, args)?;
        let results = self
            .with_live(&call.name, async |store, instance| {
                call.run(store, instance).await
            })
            .await?;
        Ok(DynamicCall::result(&results))
    }

    /// Blocking [`Self::call_json_async`].
    pub fn call_json(&mut self, export: &str, args: &[Value]) -> Result<Value, CallError> {
        let plugin = self.plugin.clone();
        plugin.block_on(export, self.call_json_async(export, args))
    }

    /// [`Plugin::call_async`] on this instance.
    pub async fn call_async<P, R>(&mut self, export: &str, params: P) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let func = self.plugin.export(export)?;
        let (index, name) = (func.index, func.qualified_name());
        let typed = self
            .with_live(&name, async |store, instance| {
                typed_call(store, instance, index, params).await
            })
            .await?;
        typed.map_err(|reason| self.plugin.signature_mismatch(&name, reason))
    }

    /// Blocking [`Self::call_async`].
    pub fn call<P, R>(&mut self, export: &str, params: P) -> Result<R, CallError>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let plugin = self.plugin.clone();
        plugin.block_on(export, self.call_async(export, params))
    }
}
