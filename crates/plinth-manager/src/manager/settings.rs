//! A settings-only change: checked against the schema and swapped in without a reload
//! (docs/design/0025).

use std::sync::{Arc, Mutex};

use plinth_host::PluginInstance;
use plinth_manifest::diagnostic::ToDiagnostic;
use serde_json::Value;

use super::{Active, Manager, SettingsChange, Slot, lock};
use crate::state::PluginEntry;
use crate::status::Status;

impl Manager {
    /// Gives the serving version new settings without a reload: schema-checked, swapped
    /// in for every instance, then `on-setting-change` for a long-lived one. Settings that
    /// break the schema are refused with `Error(rejected-schema)` while the version keeps
    /// serving with its old settings (docs/design/0025).
    pub(super) fn change_settings(
        &self,
        slot: &Slot,
        active: &Arc<Active>,
        entry: &PluginEntry,
    ) -> SettingsChange {
        let settings = Value::Object(entry.config.clone());
        if let Err(error) = active.plugin.update_settings(settings.clone()) {
            tracing::warn!(plugin = %slot.id, "settings refused: {error}");
            self.publish(
                slot,
                Status::Error(error.to_diagnostic().with_plugin(&slot.id)),
            );
            return SettingsChange::Rejected;
        }
        let taken = match &active.instance {
            None => true,
            Some(instance) => self.notify_setting_change(slot, active, instance, &settings),
        };
        if !taken {
            return SettingsChange::NeedsReload;
        }
        if lock(&slot.health).status != Status::Ready {
            self.publish(slot, Status::Ready);
        }
        self.config_updated(&slot.id, &active.plugin, &settings);
        SettingsChange::Applied
    }

    /// `on-setting-change(settings)` on the live instance; false when the plugin has no
    /// such export or refused, so its `on-load` state is stale and it needs a reload.
    fn notify_setting_change(
        &self,
        slot: &Slot,
        active: &Active,
        instance: &Mutex<Option<PluginInstance>>,
        settings: &Value,
    ) -> bool {
        if active
            .plugin
            .exports()
            .resolve("on-setting-change")
            .is_err()
        {
            return false;
        }
        let mut guard = lock(instance);
        let Some(live) = guard.as_mut() else {
            // No live instance (the last one trapped): the next starts with `on-load`.
            return true;
        };
        let ok = matches!(
            live.call_json("on-setting-change", &[Value::String(settings.to_string())]),
            Ok(Value::Object(ref m)) if m.contains_key("ok")
        );
        tracing::info!(plugin = %slot.id, ok, "on-setting-change");
        ok
    }
}
