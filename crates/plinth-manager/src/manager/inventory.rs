//! Following the plugin directories: a rescan after they change updates the inventory,
//! reports what changed, and loads plugins the state enabled that were missing so far.

use tokio::sync::broadcast;

use super::{Manager, lock};
use crate::discovery::{InventoryEvent, discover};

impl Manager {
    /// Inventory changes from now on (sent by [`Manager::rediscover`], which the watcher
    /// runs when a plugin directory changes).
    pub fn subscribe_inventory(&self) -> broadcast::Receiver<InventoryEvent> {
        self.shared.inventory_events.subscribe()
    }

    /// Scans the plugin directories (see [`crate::ManagerBuilder::plugin_dirs`]) again.
    /// When the inventory changed it is replaced, the change is sent to
    /// [`Manager::subscribe_inventory`], plugins that the applied state enables by id and
    /// that were added or moved are (re)loaded, and the watchers follow. A plugin that is
    /// only found is never enabled. `None`: no directories, or nothing changed.
    pub fn rediscover(&self) -> Option<InventoryEvent> {
        let dirs = self.shared.plugin_dirs.as_ref()?;
        let fresh = discover(dirs);
        let event = {
            let mut inventory = self
                .shared
                .inventory
                .write()
                .unwrap_or_else(|p| p.into_inner());
            let event = InventoryEvent::between(&inventory, &fresh)?;
            *inventory = fresh;
            event
        };
        tracing::info!(
            added = ?event.added,
            removed = ?event.removed,
            changed = ?event.changed,
            "plugin directories changed"
        );
        let _ = self.shared.inventory_events.send(event.clone());
        for id in event.added.iter().chain(&event.changed) {
            let found_by_id = self
                .slot(id)
                .is_some_and(|slot| lock(&slot.entry).artifact_path.is_none());
            if found_by_id {
                self.reload_if_changed(id);
            }
        }
        self.resync_watchers();
        Some(event)
    }
}
