//! One module per `plinth:host` capability, plus the embedder's own interfaces
//! ([`custom`]). Each owns its per-plugin state and implements its interface on a narrow
//! view of the call (its state, the plugin's [`gate::CallGate`], and the log where it
//! writes), so no capability sees another's state or the whole Store. Every grant check
//! goes through [`gate`]: an ungranted call is answered with the interface's
//! `missing-grant` case and noted for a diagnostic after the call.
//!
//! Adding a capability is a module here (state, view, `HasData` marker, `Host` impl) and
//! one line in `linker.rs`.

/// Declares `$marker`, the `HasData` type that links an interface to its `$view`
/// (`kv::add_to_linker::<_, Kv>(linker, StoreState::kv_view)`).
macro_rules! linked_through {
    ($(#[$doc:meta])* $marker:ident => $view:ident) => {
        $(#[$doc])*
        pub(crate) struct $marker;

        impl wasmtime::component::HasData for $marker {
            type Data<'a> = $view<'a>;
        }
    };
}

pub(crate) mod config;
pub(crate) mod custom;
pub(crate) mod custom_stream;
pub(crate) mod events;
pub(crate) mod fs;
pub(crate) mod gate;
pub(crate) mod guard;
pub(crate) mod http;
pub(crate) mod kv;
pub(crate) mod log;
pub(crate) mod sockets;
pub(crate) mod watch;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Host-wide resources of the fs, kv, events, http and sockets capabilities.
#[derive(Debug)]
pub(crate) struct HostCaps {
    /// `[dirs]`: names grants may use, mapped to host paths.
    pub(crate) dirs: BTreeMap<String, PathBuf>,
    /// Plinth's own directories, which no `fs.write:` grant may reach (docs/design/0032).
    pub(crate) protected: Vec<PathBuf>,
    /// The key-value store: redb under the data directory, or a `[kv]` server.
    pub(crate) kv: Option<kv::Kv>,
    /// The redb store, when that is the backend ([`crate::Host::kv_store`]).
    pub(crate) redb: Option<Arc<kv::KvStore>>,
    pub(crate) events: Arc<events::EventBus>,
    /// Outgoing HTTP: settings, resolver, TLS roots, consent.
    pub(crate) net: Arc<http::Network>,
    /// `[sockets]`: limits of `wasi:sockets`.
    pub(crate) sockets: sockets::settings::SocketSettings,
}

/// What the builder collects for [`HostCaps`].
#[derive(Debug, Clone)]
pub(crate) struct HostCapsConfig {
    pub(crate) dirs: BTreeMap<String, PathBuf>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) kv_limits: kv::KvLimits,
    pub(crate) kv_settings: kv::KvSettings,
    pub(crate) event_limits: events::EventLimits,
    pub(crate) event_checks: events::EventChecks,
    pub(crate) event_settings: events::EventSettings,
    pub(crate) network: http::settings::NetworkSettings,
    pub(crate) sockets: sockets::settings::SocketSettings,
    pub(crate) resolver: Arc<dyn http::resolve::Resolve>,
    pub(crate) consent_file: Option<PathBuf>,
    /// Directories of Plinth's own files (the home, data, cache): no `fs.write:` grant
    /// may name a directory that contains one or lies inside one.
    pub(crate) protected: Vec<PathBuf>,
}

impl Default for HostCapsConfig {
    fn default() -> Self {
        Self {
            dirs: BTreeMap::new(),
            data_dir: None,
            kv_limits: Default::default(),
            kv_settings: Default::default(),
            event_limits: Default::default(),
            event_checks: Default::default(),
            event_settings: Default::default(),
            network: Default::default(),
            sockets: Default::default(),
            resolver: Arc::new(http::resolve::SystemResolver),
            consent_file: None,
            protected: Vec::new(),
        }
    }
}

impl HostCapsConfig {
    /// Opens the host-wide resources; requests run on `runtime`.
    pub(crate) fn build(
        &self,
        runtime: &crate::runtime::HostRuntime,
    ) -> Result<HostCaps, crate::HostError> {
        let (kv, redb) = match self.kv_settings.backend {
            kv::KvBackendKind::Redb => match &self.data_dir {
                Some(dir) => {
                    let path = dir.join("kv.redb");
                    let store = kv::KvStore::open(&path, self.kv_limits).map_err(|e| {
                        crate::HostError::KvStore {
                            path,
                            reason: e.to_string(),
                        }
                    })?;
                    let store = Arc::new(store);
                    let backend: Arc<dyn kv::KvBackend> = store.clone();
                    (Some(backend), Some(store))
                }
                None => (None, None),
            },
            backend => {
                let opened = self.kv_settings.open(None, self.kv_limits).map_err(|e| {
                    crate::HostError::KvBackend {
                        backend: backend.name().into(),
                        reason: e.to_string(),
                    }
                })?;
                (opened, None)
            }
        };
        let kv = kv.map(|backend| {
            kv::Kv::on_host(
                backend,
                self.kv_limits,
                runtime.clone(),
                self.kv_settings.timeout(),
            )
        });
        let consent = match &self.consent_file {
            Some(path) => http::consent::ConsentStore::open(path)?,
            None => http::consent::ConsentStore::in_memory(),
        };
        let net = http::Network::new(
            self.network.clone(),
            self.resolver.clone(),
            Arc::new(consent),
            runtime.clone(),
        )
        .map_err(crate::HostError::Network)?;
        let consent_dir = self
            .consent_file
            .as_ref()
            .and_then(|f| f.parent())
            .filter(|d| !d.as_os_str().is_empty());
        let protected = self
            .protected
            .iter()
            .chain(self.data_dir.as_ref())
            .chain(consent_dir.map(|d| d.to_path_buf()).as_ref())
            .cloned()
            .collect();
        Ok(HostCaps {
            dirs: self.dirs.clone(),
            protected,
            kv,
            redb,
            events: Arc::new(
                events::EventBus::start(
                    self.event_limits,
                    self.event_checks.clone(),
                    &self.event_settings,
                    runtime,
                )
                .map_err(crate::HostError::EventBackend)?,
            ),
            net: Arc::new(net),
            sockets: self.sockets,
        })
    }
}

/// Per-plugin state of each capability, made at load from the host's resources and the
/// plugin's grants.
#[derive(Debug)]
pub(crate) struct PluginCaps {
    pub(crate) kv: kv::KvState,
    pub(crate) fs: fs::FsState,
    pub(crate) events: events::EventsState,
    pub(crate) watch: watch::WatchState,
    pub(crate) http: Arc<http::HttpPlugin>,
    pub(crate) sockets: sockets::SocketsPlugin,
    /// The directory names mapped for this plugin only ([`crate::LoadOptions::dirs`]).
    pub(crate) own_dirs: BTreeMap<String, PathBuf>,
}

impl PluginCaps {
    /// Opens what the gate's grants need; a granted directory that is not mapped or not
    /// there is `fs-denied`, naming it.
    pub(crate) fn for_plugin(
        host: &HostCaps,
        gate: &Arc<gate::GrantGate>,
        requested: plinth_manifest::grant::GrantSet,
        inbox: &crate::inbox::Inbox,
        own_dirs: BTreeMap<String, PathBuf>,
    ) -> Result<PluginCaps, crate::HostError> {
        let plugin = gate.plugin();
        let grants = gate.grants();
        let denied = |(dir, reason)| crate::HostError::FsDenied {
            plugin: plugin.into(),
            dir,
            reason,
        };
        let mut dirs = host.dirs.clone();
        for (name, path) in &own_dirs {
            match dirs.get(name) {
                Some(mapped) if mapped != path => {
                    return Err(denied((
                        name.clone(),
                        format!(
                            "the host maps `{name}` to {}, not {}",
                            mapped.display(),
                            path.display()
                        ),
                    )));
                }
                _ => {
                    dirs.insert(name.clone(), path.clone());
                }
            }
        }
        fs::refuse_writes_to_protected(grants, &dirs, &host.protected).map_err(denied)?;
        let fs = fs::open_granted(grants, &dirs).map_err(denied)?;
        let watch_dirs = grants
            .iter()
            .filter_map(|g| match g {
                plinth_manifest::Grant::Watch(name) => dirs.get(name).map(|path| {
                    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                    (name.clone(), path)
                }),
                _ => None,
            })
            .collect();
        Ok(PluginCaps {
            kv: kv::KvState {
                store: host.kv.clone(),
                namespace: kv::Namespace {
                    tenant: gate.tenant().map(str::to_string),
                    plugin: plugin.to_string(),
                },
            },
            fs,
            events: events::EventsState {
                publish_rate: events::RateLimiter::new(&host.events.limits),
                bus: host.events.clone(),
            },
            watch: watch::WatchState {
                dirs: watch_dirs,
                watches: watch::Watches::default(),
            },
            http: Arc::new(http::HttpPlugin {
                gate: gate.clone(),
                requested,
                http: Arc::new(http::PluginHttp::new(host.net.clone())),
                inbox: inbox.clone(),
            }),
            sockets: sockets::SocketsPlugin::new(gate.clone(), host.sockets),
            own_dirs,
        })
    }
}
