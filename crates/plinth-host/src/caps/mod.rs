//! One module per `plinth:host` capability beyond `log` and `config` (those live in
//! `host_api.rs`). Each checks the plugin's grant on every call: an ungranted call is
//! answered with the interface's `missing-grant` case and recorded for a diagnostic.

pub(crate) mod custom;
pub(crate) mod events;
pub(crate) mod fs;
mod http;
pub(crate) mod kv;
pub(crate) mod watch;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Host-wide resources of the fs, kv and events capabilities.
#[derive(Debug)]
pub(crate) struct HostCaps {
    /// `[dirs]`: names grants may use, mapped to host paths.
    pub(crate) dirs: BTreeMap<String, PathBuf>,
    /// The key-value database, when the host has a data directory.
    pub(crate) kv: Option<Arc<kv::KvStore>>,
    pub(crate) events: Arc<events::EventBus>,
}

/// What the builder collects for [`HostCaps`].
#[derive(Debug, Clone, Default)]
pub(crate) struct HostCapsConfig {
    pub(crate) dirs: BTreeMap<String, PathBuf>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) kv_limits: kv::KvLimits,
    pub(crate) event_limits: events::EventLimits,
}

impl HostCapsConfig {
    pub(crate) fn build(&self) -> Result<HostCaps, crate::HostError> {
        let kv = match &self.data_dir {
            Some(dir) => Some(Arc::new(
                kv::KvStore::open(dir.join("kv.redb"), self.kv_limits)
                    .map_err(|e| crate::HostError::Engine(format!("key-value store: {e}")))?,
            )),
            None => None,
        };
        Ok(HostCaps {
            dirs: self.dirs.clone(),
            kv,
            events: Arc::new(events::EventBus::new(self.event_limits)),
        })
    }
}

/// Per-plugin state of the fs, kv and events capabilities.
#[derive(Debug)]
pub(crate) struct PluginCaps {
    pub(crate) tenant: Option<String>,
    pub(crate) kv: Option<Arc<kv::KvStore>>,
    /// Granted directories, opened at load.
    pub(crate) dirs: BTreeMap<String, fs::MappedDir>,
    pub(crate) events: Arc<events::EventBus>,
    pub(crate) publish_rate: events::RateLimiter,
    /// Directories `watch:` grants name, canonical host paths.
    pub(crate) watch_dirs: BTreeMap<String, PathBuf>,
    pub(crate) watches: watch::Watches,
}

impl PluginCaps {
    /// Opens what `grants` need; a granted directory that is not mapped or not there is
    /// `fs-denied`, naming it.
    pub(crate) fn for_plugin(
        host: &HostCaps,
        plugin: &str,
        grants: &plinth_manifest::grant::GrantSet,
        tenant: Option<String>,
    ) -> Result<PluginCaps, crate::HostError> {
        let dirs = fs::open_granted(grants, &host.dirs).map_err(|(dir, reason)| {
            crate::HostError::FsDenied {
                plugin: plugin.into(),
                dir,
                reason,
            }
        })?;
        let watch_dirs = grants
            .iter()
            .filter_map(|g| match g {
                plinth_manifest::Grant::Watch(name) => host.dirs.get(name).map(|path| {
                    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                    (name.clone(), path)
                }),
                _ => None,
            })
            .collect();
        Ok(PluginCaps {
            watch_dirs,
            watches: watch::Watches::default(),
            tenant,
            kv: host.kv.clone(),
            dirs,
            publish_rate: events::RateLimiter::new(&host.events.limits),
            events: host.events.clone(),
        })
    }
}

/// Records one grant decision on the `plinth::audit` tracing target. Every capability
/// check goes through here, so an operator can see what each plugin was allowed or denied.
pub(crate) fn audit(plugin: &str, grant: &plinth_manifest::Grant, allowed: bool) {
    tracing::info!(target: "plinth::audit", plugin, grant = %grant, allowed, "grant decision");
}

/// The text of a capability that this build links but does not serve yet.
pub(crate) fn unavailable(capability: &str) -> String {
    format!("the `{capability}` capability is not available in this build of the host")
}
