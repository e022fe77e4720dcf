//! [`PluginHost`]: Stack Composer's own plugin-host API (seed 002, § 12) over Plinth's
//! manager.
//!
//! ```no_run
//! # async fn demo() -> Result<(), embed_stack_composer::PluginHostError> {
//! use embed_stack_composer::{PluginHost, PluginHostConfig};
//!
//! let config = PluginHostConfig::load("plugin-host.toml".as_ref())?;
//! let ph = PluginHost::new(config).await?;
//! let id = ph.load_plugin("/path/to/hello-plugin.wasm").await?;
//! let res = ph.call_plugin(&id, "run", &["hello"]).await?;
//! println!("Plugin said: {res}");
//! # Ok(())
//! # }
//! ```
//!
//! Every method that loads, calls or unloads runs Plinth's blocking work on a thread of
//! its own and awaits it, so the caller's runtime never blocks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use plinth_host::log::LogSink;
use plinth_host::manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_host::{Host, HostError};
use plinth_manager::discovery::{Inventory, PluginDirs};
use plinth_manager::state::{PluginEntry, PluginsSection};
use plinth_manager::{
    Manager, ManagerError, SignatureCheck, SignaturePolicy, Status, StatusEvent, Watcher,
};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::config::{ConfigError, PluginHostConfig};
use crate::functions::{PluginLookup, network_interface, plan_interface};
use crate::trust::TrustError;
use crate::{ModelStats, documents, llm_interface, retrieval_interface};

/// How long a load waits for a plugin's status to settle.
const SETTLE_WAIT: Duration = Duration::from_secs(60);

/// What the embedding adds to `plugin-host.toml`: where plugin logs go, the model's
/// counters, and (for tests against servers on 127.0.0.1) loopback ports the SSRF guard
/// lets through.
#[derive(Clone, Default)]
pub struct Embedding {
    /// Receives every log line of every plugin (Stack Composer's `log` host function).
    pub log_sink: Option<LogSink>,
    /// The stand-in model's stream counters.
    pub model: Arc<ModelStats>,
    /// Loopback ports requests may reach (never from the config file).
    pub loopback_ports: Vec<u16>,
}

impl std::fmt::Debug for Embedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedding")
            .field("loopback_ports", &self.loopback_ports)
            .finish_non_exhaustive()
    }
}

/// Why the plugin host refused.
#[derive(Debug, thiserror::Error)]
pub enum PluginHostError {
    /// `plugin-host.toml` is unreadable or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `trusted_keys.toml` is unreadable or invalid.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The host could not be built (a bad `[network] proxy`, say).
    #[error(transparent)]
    Host(#[from] HostError),
    /// A plugin did not load, or a call failed in the host: the coded diagnostic
    /// (`bad-signature`, `untrusted-key`, `unsigned`, `missing-grant`, `fuel-exhausted`,
    /// `memory-limit`, `timeout`, …).
    #[error("{0}")]
    Plugin(Diagnostic),
    /// The plugin ran and answered with an error of its own (`run`'s `err`).
    #[error("the plugin answered with an error: {0}")]
    Refused(String),
    /// Writing Plinth's state (its trust store) failed.
    #[error("{0}")]
    State(String),
}

impl PluginHostError {
    /// The diagnostic code, for errors that have one.
    pub fn code(&self) -> Option<Code> {
        match self {
            PluginHostError::Plugin(d) => Some(d.code),
            PluginHostError::Host(e) => Some(e.to_diagnostic().code),
            _ => None,
        }
    }
}

impl From<ManagerError> for PluginHostError {
    fn from(error: ManagerError) -> Self {
        PluginHostError::Plugin(error.to_diagnostic())
    }
}

/// One plugin the host knows.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginInfo {
    /// Its id.
    pub id: String,
    /// Where it is loaded from: a component `x.wasm`, or a plugin folder.
    pub source: Option<PathBuf>,
    /// `loading`, `ready`, `error` or `disabled`, with the diagnostic of an error.
    pub status: Status,
    /// The version serving calls.
    pub serving: Option<String>,
}

/// Stack Composer's plugin host: discovery in the user and system directories, Ed25519
/// signatures checked against `trusted_keys.toml` on every load and reload, the app's host
/// functions behind their capabilities, limits from `plugin-host.toml`, hot reload and the
/// host's network mode.
pub struct PluginHost {
    manager: Option<Manager>,
    config: PluginHostConfig,
    entries: Mutex<BTreeMap<String, PluginEntry>>,
    watcher: Mutex<Option<Watcher>>,
    lookup: PluginLookup,
    trust_file: PathBuf,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Runs `work` on a thread of its own and awaits its answer (Plinth's blocking API refuses
/// to run inside the caller's runtime, and must not stall it).
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        let _ = sender.send(outcome);
    });
    match receiver.await {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the plugin host's worker thread ended without an answer"),
    }
}

impl PluginHost {
    /// A plugin host as `config` says, with no embedding extras.
    pub async fn new(config: PluginHostConfig) -> Result<PluginHost, PluginHostError> {
        PluginHost::with_embedding(config, Embedding::default()).await
    }

    /// A plugin host as `config` says: the directories are scanned (nothing is loaded
    /// until [`PluginHost::load_discovered`] or [`PluginHost::load_plugin`]), and with
    /// `[reload] watch` they are watched from now on.
    pub async fn with_embedding(
        config: PluginHostConfig,
        embedding: Embedding,
    ) -> Result<PluginHost, PluginHostError> {
        off_runtime(move || PluginHost::build(config, embedding)).await
    }

    fn build(
        config: PluginHostConfig,
        embedding: Embedding,
    ) -> Result<PluginHost, PluginHostError> {
        let state_dir = config.state_dir();
        std::fs::create_dir_all(&state_dir)
            .map_err(|e| PluginHostError::State(format!("{}: {e}", state_dir.display())))?;
        let trust_file = state_dir.join(plinth_package::TRUST_FILE);
        write_trust(&config.trusted_keys(), &trust_file)?;

        let lookup: PluginLookup = Arc::default();
        let network = embedding
            .loopback_ports
            .iter()
            .fold(config.network_settings(), |settings, port| {
                settings.allow_loopback_port(*port)
            });
        let mut builder = Host::builder()
            .limits(config.limits)
            .network(network)
            .cache_dir(state_dir.join("cache"))
            .host_interface(retrieval_interface(Arc::new(documents())))
            .host_interface(llm_interface(embedding.model.clone()))
            .host_interface(plan_interface())
            .host_interface(network_interface(lookup.clone()));
        if let Some(sink) = embedding.log_sink {
            builder = builder.log_sink(sink);
        }
        let host = builder.build()?;
        let dirs = PluginDirs {
            user: config.user_dir(),
            system: vec![config.system_dir()],
        };
        let manager = Manager::builder(host)
            .plugin_dirs(dirs)
            .signatures(SignatureCheck::new(&trust_file, SignaturePolicy::Require))
            .build();
        let serving = manager.clone();
        if let Ok(mut slot) = lookup.lock() {
            *slot = Some(Box::new(move |id: &str| serving.plugin(id)));
        }
        let watcher = if config.reload.watch {
            let debounce = Duration::from_millis(config.reload.debounce_ms);
            Some(
                manager
                    .watch(debounce)
                    .map_err(|e| PluginHostError::State(format!("watching the plugins: {e}")))?,
            )
        } else {
            None
        };
        Ok(PluginHost {
            manager: Some(manager),
            config,
            entries: Mutex::new(BTreeMap::new()),
            watcher: Mutex::new(watcher),
            lookup,
            trust_file,
        })
    }

    fn manager(&self) -> &Manager {
        match &self.manager {
            Some(manager) => manager,
            None => unreachable!("only `Drop` takes the manager"),
        }
    }

    /// What discovery found in the user and system directories, with its diagnostics
    /// (`shadowed` for an id the user directory wins, invalid manifests, `.wasm` files
    /// without a manifest).
    pub fn discovered(&self) -> Inventory {
        self.manager().inventory()
    }

    /// Status changes from now on (`loading`, `ready`, `error` with its diagnostic), of
    /// loads, reloads and unloads alike.
    pub fn subscribe(&self) -> broadcast::Receiver<StatusEvent> {
        self.manager().subscribe()
    }

    /// Loads every discovered plugin, with the grants `[permissions]` gives it. Returns
    /// each id with its outcome; a plugin that does not load (its signature, its manifest,
    /// its component) leaves the others loading.
    pub async fn load_discovered(&self) -> BTreeMap<String, Result<(), Diagnostic>> {
        let ids: Vec<String> = self.discovered().plugins.keys().cloned().collect();
        for id in &ids {
            let mut entry = PluginEntry::new(id.clone());
            entry.enabled = true;
            entry.grants = self.config.grants_of(id);
            self.lock_entries().insert(id.clone(), entry);
        }
        let mut events = self.subscribe();
        self.apply().await;
        let mut outcomes = BTreeMap::new();
        for id in ids {
            let outcome = self.settled(&mut events, &id).await;
            outcomes.insert(id, outcome);
        }
        outcomes
    }

    /// Loads the plugin at `path` (a flat `x.wasm` with its `x.toml` and `x.sig`, or a
    /// plugin folder) and returns its id. Its signature must verify with a trusted key.
    pub async fn load_plugin(&self, path: impl AsRef<Path>) -> Result<String, PluginHostError> {
        let path = std::path::absolute(path.as_ref()).map_err(|e| {
            PluginHostError::Plugin(Diagnostic::new(
                Code::MissingPackage,
                format!("{}: {e}", path.as_ref().display()),
            ))
        })?;
        let id = off_runtime({
            let path = path.clone();
            move || id_at(&path)
        })
        .await
        .map_err(PluginHostError::Plugin)?;
        let mut entry = PluginEntry::new(id.clone());
        entry.enabled = true;
        entry.artifact_path = Some(path);
        entry.grants = self.config.grants_of(&id);
        self.lock_entries().insert(id.clone(), entry);
        let mut events = self.subscribe();
        self.apply().await;
        self.settled(&mut events, &id)
            .await
            .map_err(PluginHostError::Plugin)?;
        Ok(id)
    }

    /// Unloads `id`: calls in flight finish on it, new ones are refused. Returns whether
    /// it was loaded.
    pub async fn unload_plugin(&self, id: &str) -> bool {
        let removed = self.lock_entries().remove(id).is_some();
        if removed {
            self.apply().await;
        }
        removed
    }

    /// Calls `func` of plugin `id` with `args`: an export shaped like the command world's
    /// `run: func(args: list<string>) -> result<string, string>`. Returns the `ok` text;
    /// the plugin's `err` is [`PluginHostError::Refused`], a failure in the host (a
    /// missing grant, a limit, a trap) [`PluginHostError::Plugin`] with its code.
    pub async fn call_plugin(
        &self,
        id: &str,
        func: &str,
        args: &[&str],
    ) -> Result<String, PluginHostError> {
        let args = Value::from(args.iter().map(|a| Value::from(*a)).collect::<Vec<_>>());
        let answer = self.manager().call_json_async(id, func, vec![args]).await?;
        match (answer.get("ok"), answer.get("err")) {
            (Some(Value::String(ok)), _) => Ok(ok.clone()),
            (_, Some(err)) => Err(PluginHostError::Refused(
                err.as_str().map_or_else(|| err.to_string(), str::to_owned),
            )),
            _ => Ok(answer.to_string()),
        }
    }

    /// Every plugin the host was asked to load, with its status and serving version.
    pub fn list(&self) -> Vec<PluginInfo> {
        let manager = self.manager();
        let sources = manager.sources();
        manager
            .statuses()
            .into_iter()
            .filter(|(id, _)| self.lock_entries().contains_key(id))
            .map(|(id, status)| PluginInfo {
                source: sources.get(&id).cloned(),
                serving: manager.serving_version(&id),
                id,
                status,
            })
            .collect()
    }

    /// Reads `trusted_keys.toml` again; the next load or reload checks against it.
    pub fn reload_trust(&self) -> Result<(), PluginHostError> {
        write_trust(&self.config.trusted_keys(), &self.trust_file)
    }

    /// The configuration the host runs with.
    pub fn config(&self) -> &PluginHostConfig {
        &self.config
    }

    fn lock_entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, PluginEntry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn apply(&self) {
        let section = PluginsSection {
            entries: self.lock_entries().values().cloned().collect(),
            ..PluginsSection::new()
        };
        self.manager().apply_async(section).await;
    }

    /// [`Self::outcome`] once `id` is no longer `loading`: the watcher may load a plugin
    /// again right after an apply (its files were read meanwhile), so the status is
    /// awaited through `events` (subscribed before the apply), within [`SETTLE_WAIT`].
    async fn settled(
        &self,
        events: &mut broadcast::Receiver<StatusEvent>,
        id: &str,
    ) -> Result<(), Diagnostic> {
        let deadline = tokio::time::Instant::now() + SETTLE_WAIT;
        while self.manager().status(id) == Some(Status::Loading) {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => break,
            }
        }
        self.outcome(id)
    }

    /// `Ok` when `id` serves now, else the diagnostic of its status.
    fn outcome(&self, id: &str) -> Result<(), Diagnostic> {
        match self.manager().status(id) {
            Some(Status::Ready) => Ok(()),
            Some(Status::Error(diagnostic)) => Err(diagnostic),
            other => Err(Diagnostic::new(
                Code::MissingPackage,
                format!(
                    "{id}: not loaded ({})",
                    other.map_or("unknown", |s| s.name())
                ),
            )
            .with_plugin(id)),
        }
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        // The network function's lookup holds a manager: let it go, or the host it holds
        // (through the functions registered with it) would never be dropped.
        if let Ok(mut lookup) = self.lookup.lock() {
            *lookup = None;
        }
        let watcher = self
            .watcher
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let manager = self.manager.take();
        // Plinth's runtime may not be dropped inside the caller's async context.
        std::thread::spawn(move || {
            drop(watcher);
            drop(manager);
        });
    }
}

/// The id in the manifest of the plugin at `path`: `x.toml` beside a component, or a
/// folder's `plugin.toml`.
fn id_at(path: &Path) -> Result<String, Diagnostic> {
    use plinth_host::manifest::Manifest;
    let parsed = if path.is_dir() {
        Manifest::load(&path.join(plinth_host::manifest::MANIFEST_FILE))
    } else {
        let Some(manifest) = plinth_host::manifest::manifest_beside(path) else {
            return Err(Diagnostic::new(
                Code::MissingPackage,
                format!("{} has no manifest beside it", path.display()),
            )
            .with_hint("a flat plugin is x.wasm with its manifest x.toml (and x.sig)"));
        };
        Manifest::load_flat(&manifest)
    };
    parsed
        .map(|p| p.manifest.plugin.id.to_string())
        .map_err(|e| e.to_diagnostic())
}

/// Translates Stack Composer's trusted keys at `from` into Plinth's trust store at `to`.
fn write_trust(from: &Path, to: &Path) -> Result<(), PluginHostError> {
    let store = crate::trust::translate(from)?;
    store
        .save(to)
        .map_err(|e| PluginHostError::State(format!("{}: {e}", to.display())))
}
