//! Events the host drives into plugins on its own (docs/design/0053): `config-updated` when
//! a serving plugin's settings change, and `tick` at the interval the embedder sets
//! ([`ManagerBuilder::tick_every`](super::ManagerBuilder::tick_every)). Each goes to the
//! plugin's `handle-event` (plugins without it get none), like the events of its own
//! requests and subscriptions.

use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;

use plinth_host::{Plugin, PluginEvent};
use serde_json::{Value, json};

use super::{Manager, Shared, lock};

/// The export that receives events.
const HANDLE_EVENT: &str = "plinth:plugin/lifecycle#handle-event";

pub(super) fn handles_events(plugin: &Plugin) -> bool {
    plugin.exports().resolve(HANDLE_EVENT).is_ok()
}

impl Manager {
    /// Sends one `tick` (payload `{"tick": N}`, N counting from 1) to every enabled, serving
    /// plugin that handles events, and delivers what each has pending. Returns how many
    /// plugins got it. The ticker of [`ManagerBuilder::tick_every`](super::ManagerBuilder::tick_every)
    /// calls this; an embedder with its own clock may call it instead.
    pub fn tick(&self) -> usize {
        let n = self.shared.ticks.fetch_add(1, Ordering::Relaxed) + 1;
        let slots: Vec<_> = self
            .shared
            .slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let mut reached = 0;
        for slot in slots {
            if !lock(&slot.entry).enabled {
                continue;
            }
            let Some(active) = slot.current() else {
                continue;
            };
            if !handles_events(&active.plugin) {
                continue;
            }
            active.plugin.inbox().push(PluginEvent {
                kind: "tick".into(),
                subject: String::new(),
                payload: json!({ "tick": n }).to_string(),
            });
            if let Err(e) = self.deliver_pending(&slot.id) {
                tracing::warn!(plugin = %slot.id, "tick not delivered: {e}");
            }
            reached += 1;
        }
        reached
    }

    /// Tells a serving plugin that handles events that its settings changed: a
    /// `config-updated` event whose payload is the new settings.
    pub(super) fn config_updated(&self, id: &str, plugin: &Plugin, settings: &Value) {
        if !handles_events(plugin) {
            return;
        }
        plugin.inbox().push(PluginEvent {
            kind: "config-updated".into(),
            subject: String::new(),
            payload: settings.to_string(),
        });
        if let Err(e) = self.deliver_pending(id) {
            tracing::warn!(plugin = %id, "config-updated not delivered: {e}");
        }
    }
}

/// Ticks every `every` on a thread of its own for as long as a [`Manager`] sharing
/// `shared` exists.
pub(super) fn start_ticker(shared: Weak<Shared>, every: Duration) {
    let spawned = std::thread::Builder::new()
        .name("plinth-manager-tick".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                Manager { shared }.tick();
            }
        });
    if let Err(e) = spawned {
        tracing::error!("could not start the tick thread: {e}");
    }
}
