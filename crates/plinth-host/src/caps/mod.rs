//! One module per `plinth:host` capability beyond `log` and `config` (those live in
//! `host_api.rs`). Each checks the plugin's grant on every call: an ungranted call is
//! answered with the interface's `missing-grant` case and recorded for a diagnostic.

pub(crate) mod custom;
pub(crate) mod events;
pub(crate) mod fs;
pub(crate) mod http;
pub(crate) mod kv;
pub(crate) mod watch;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Host-wide resources of the fs, kv, events and http capabilities.
#[derive(Debug)]
pub(crate) struct HostCaps {
    /// `[dirs]`: names grants may use, mapped to host paths.
    pub(crate) dirs: BTreeMap<String, PathBuf>,
    /// The key-value database, when the host has a data directory.
    pub(crate) kv: Option<Arc<kv::KvStore>>,
    pub(crate) events: Arc<events::EventBus>,
    /// Outgoing HTTP: settings, resolver, TLS roots, consent.
    pub(crate) net: Arc<http::Network>,
}

/// What the builder collects for [`HostCaps`].
#[derive(Debug, Clone)]
pub(crate) struct HostCapsConfig {
    pub(crate) dirs: BTreeMap<String, PathBuf>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) kv_limits: kv::KvLimits,
    pub(crate) event_limits: events::EventLimits,
    pub(crate) network: http::settings::NetworkSettings,
    pub(crate) resolver: Arc<dyn http::resolve::Resolve>,
    pub(crate) consent_file: Option<PathBuf>,
}

impl Default for HostCapsConfig {
    fn default() -> Self {
        Self {
            dirs: BTreeMap::new(),
            data_dir: None,
            kv_limits: Default::default(),
            event_limits: Default::default(),
            network: Default::default(),
            resolver: Arc::new(http::resolve::SystemResolver),
            consent_file: None,
        }
    }
}

impl HostCapsConfig {
    /// Opens the host-wide resources; requests run on `runtime`.
    pub(crate) fn build(
        &self,
        runtime: tokio::runtime::Handle,
    ) -> Result<HostCaps, crate::HostError> {
        let kv = match &self.data_dir {
            Some(dir) => Some(Arc::new(
                kv::KvStore::open(dir.join("kv.redb"), self.kv_limits)
                    .map_err(|e| crate::HostError::Engine(format!("key-value store: {e}")))?,
            )),
            None => None,
        };
        let consent = match &self.consent_file {
            Some(path) => http::consent::ConsentStore::open(path)
                .map_err(|e| crate::HostError::Engine(e.to_string()))?,
            None => http::consent::ConsentStore::in_memory(),
        };
        let net = http::Network::new(
            self.network.clone(),
            self.resolver.clone(),
            Arc::new(consent),
            runtime,
        )
        .map_err(crate::HostError::Engine)?;
        Ok(HostCaps {
            dirs: self.dirs.clone(),
            kv,
            events: Arc::new(events::EventBus::new(self.event_limits)),
            net: Arc::new(net),
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
    /// The plugin's request rate, concurrency slots and request ids.
    pub(crate) http: http::PluginHttp,
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
            http: http::PluginHttp::new(host.net.clone()),
            events: host.events.clone(),
        })
    }
}

/// Records one grant decision on the `plinth::audit` tracing target. Every capability
/// check goes through here, so an operator can see what each plugin was allowed or denied.
pub(crate) fn audit(plugin: &str, grant: &plinth_manifest::Grant, allowed: bool) {
    tracing::info!(target: "plinth::audit", plugin, grant = %grant, allowed, "grant decision");
}
