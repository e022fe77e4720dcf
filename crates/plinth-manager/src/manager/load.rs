//! Loading one entry's plugin off the call path: grants, settings, the id check, and a
//! long-lived instance started with `on-load`.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use plinth_host::{LoadOptions, Plugin, PluginInstance};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_manifest::grant::Grant;
use serde_json::Value;

use super::{Active, Manager, Slot, fingerprint};
use crate::state::{InstanceMode, PluginEntry};

impl Manager {
    pub(super) fn prepare(&self, entry: &PluginEntry, slot: &Slot) -> Result<Active, Diagnostic> {
        let source = self.source_of(entry)?;
        let span = tracing::info_span!(
            "plugin.load",
            plugin = %entry.id,
            version = tracing::field::Empty,
            outcome = tracing::field::Empty
        );
        let _entered = span.enter();
        let result = self.prepare_from(entry, &source, slot);
        match &result {
            Ok(active) => {
                span.record("version", active.version.as_str());
                span.record("outcome", "ready");
                tracing::info!(plugin = %entry.id, version = %active.version, "plugin.load ready");
            }
            Err(d) => {
                span.record("outcome", d.code.as_str());
                tracing::warn!(plugin = %entry.id, code = %d.code, "plugin.load failed: {}", d.message);
            }
        }
        result
    }

    fn prepare_from(
        &self,
        entry: &PluginEntry,
        source: &Path,
        slot: &Slot,
    ) -> Result<Active, Diagnostic> {
        let grants = entry
            .grants
            .iter()
            .map(|g| {
                g.parse::<Grant>()
                    .map_err(|e| e.to_diagnostic().with_plugin(&entry.id))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut options = LoadOptions::default()
            .with_grants(grants)
            .with_settings(Value::Object(entry.config.clone()));
        if let Some(tenant) = &self.shared.tenant {
            options = options.with_tenant(tenant.clone());
        }
        let fingerprint = fingerprint(source);
        let plugin = self
            .shared
            .host
            .load_with(source, options)
            .map_err(|e| e.to_diagnostic().with_plugin(&entry.id))?;
        self.shared.loads.fetch_add(1, Ordering::Relaxed);
        if plugin.id() != entry.id && plugin.manifest().is_some() {
            return Err(Diagnostic::new(
                Code::InvalidManifest,
                format!(
                    "{}: the plugin at {} has the id `{}`",
                    entry.id,
                    source.display(),
                    plugin.id()
                ),
            )
            .with_plugin(&entry.id));
        }
        let version = plugin
            .manifest()
            .map_or_else(|| "0.0.0".into(), |m| m.plugin.version.to_string());
        let instance = match entry.instance {
            InstanceMode::PerCall => None,
            InstanceMode::LongLived => Some(Mutex::new(Some(
                self.start_instance(&plugin)
                    .map_err(|d| d.with_plugin(&entry.id))?,
            ))),
        };
        Ok(Active {
            plugin,
            version,
            fingerprint,
            instance,
            retired: slot.retired.clone(),
            unloads: self.shared.unloads.clone(),
        })
    }

    /// Instantiates and calls `on-load(settings)`, with the settings in force, when the
    /// plugin exports it.
    pub(super) fn start_instance(&self, plugin: &Plugin) -> Result<PluginInstance, Diagnostic> {
        let settings = plugin.settings();
        let mut instance = plugin.instantiate().map_err(|e| e.to_diagnostic())?;
        self.shared.instantiations.fetch_add(1, Ordering::Relaxed);
        if plugin.exports().resolve("on-load").is_ok() {
            let result = instance
                .call_json("on-load", &[Value::String(settings.to_string())])
                .map_err(|e| {
                    tracing::warn!(target: "plinth::panic", plugin = %plugin.id(), "plugin.panic in on-load");
                    e.to_diagnostic()
                })?;
            if let Some(err) = result.get("err") {
                return Err(Diagnostic::new(
                    Code::Trap,
                    format!(
                        "{}: on-load refused the settings: {}",
                        plugin.id(),
                        err.as_str().unwrap_or_default()
                    ),
                )
                .with_hint("fix the plugin's settings (`config` in the state file)"));
            }
        }
        Ok(instance)
    }
}
