//! One home's running plugins: the main home, or a tenant's (`<home>/tenants/NAME/`), each
//! with its own host, manager, watcher, state file and plugin directory.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use plinth_host::log::LogRecord;
use plinth_host::{Host, HostConfig};
use plinth_manager::discovery::PluginDirs;
use plinth_manager::state::{PluginsSection, StateFile};
use plinth_manager::{ApplyReport, Manager, SignatureCheck, SignaturePolicy, Watcher};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_package::Home;
use tokio::sync::broadcast;

use crate::error::ApiError;
use crate::events::LogEvent;

/// One home's runtime.
#[derive(Debug)]
pub(crate) struct Tenant {
    /// `None` for the main home.
    pub(crate) name: Option<String>,
    pub(crate) home: Home,
    pub(crate) config: HostConfig,
    pub(crate) host: Host,
    pub(crate) manager: Manager,
    pub(crate) state: StateFile,
    watcher: Mutex<Option<Watcher>>,
    /// The configured HTTP index as last read, and when (`routes::index`).
    pub(crate) index_cache: Mutex<Option<CachedIndex>>,
    /// Serializes "edit the state file, read it, apply it", so the last apply always sees
    /// the last edit.
    writes: Mutex<Option<Stamp>>,
}

/// An index read over HTTP: its location, when it was read, what it held.
pub(crate) type CachedIndex = (
    String,
    std::time::Instant,
    Arc<plinth_registry::LoadedIndex>,
);

/// What tells a state file changed by someone else: its length and modification time.
type Stamp = (u64, Option<SystemTime>);

fn stamp(path: &Path) -> Option<Stamp> {
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.len(), m.modified().ok()))
}

/// Where a tenant's logs go, and whether and how the watcher watches.
#[derive(Debug, Clone)]
pub(crate) struct Wiring {
    pub(crate) main_home: std::path::PathBuf,
    pub(crate) config: HostConfig,
    pub(crate) logs: broadcast::Sender<LogEvent>,
    pub(crate) debounce: Duration,
    pub(crate) watch: bool,
}

impl Tenant {
    /// Starts the runtime of the main home (`name` `None`) or of tenant `name`: its state
    /// file is applied (what was enabled runs again) and, unless told otherwise, its files are
    /// watched.
    pub(crate) fn start(wiring: &Wiring, name: Option<&str>) -> Result<Tenant, Diagnostic> {
        let main = Home::new(&wiring.main_home);
        let mut config = wiring.config.clone();
        let home = match name {
            None => match &config.paths.user_dir {
                Some(dir) => main.with_plugins_dir(wiring.main_home.join(dir)),
                None => main,
            },
            Some(name) => {
                // A shared user directory would let tenants see each other's plugins.
                config.paths.user_dir = None;
                main.tenant(name).map_err(|e| e.to_diagnostic())?
            }
        };
        std::fs::create_dir_all(home.plugins_dir()).map_err(|e| {
            Diagnostic::new(
                Code::IoError,
                format!("{}: {e}", home.plugins_dir().display()),
            )
        })?;
        let host = build_host(wiring, &config, &home, name)?;
        let state = StateFile::in_home(home.root());
        let policy = if config.security.require_signatures {
            SignaturePolicy::Require
        } else {
            SignaturePolicy::AllowUnsigned
        };
        let mut builder = Manager::builder(host.clone())
            .base_dir(state.base_dir())
            .plugin_dirs(PluginDirs::from_config(home.root(), &config.paths))
            .signatures(SignatureCheck::in_home(home.root(), policy));
        if let Some(name) = name {
            builder = builder.tenant(name);
        }
        let manager = builder.build();
        let tenant = Tenant {
            name: name.map(str::to_owned),
            home,
            config,
            host,
            manager,
            state,
            watcher: Mutex::new(None),
            index_cache: Mutex::new(None),
            writes: Mutex::new(None),
        };
        tenant.sync()?;
        if wiring.watch {
            let watcher = tenant.manager.watch(wiring.debounce).map_err(|e| {
                Diagnostic::new(
                    Code::HostSetup,
                    format!("cannot watch the plugin folders: {e}"),
                )
            })?;
            *lock(&tenant.watcher) = Some(watcher);
        }
        Ok(tenant)
    }

    /// The tenant's name as labels and JSON show it (`""` for the main home).
    pub(crate) fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The state section, read without writing.
    pub(crate) fn section(&self) -> Result<PluginsSection, ApiError> {
        Ok(self.state.load()?.section)
    }

    /// Reads the state file and applies it.
    pub(crate) fn sync(&self) -> Result<ApplyReport, Diagnostic> {
        let mut seen = lock(&self.writes);
        self.apply_locked(&mut seen)
    }

    /// [`Tenant::sync`] when the state file changed since the last apply (a `plinth`
    /// command edited it).
    pub(crate) fn sync_if_changed(&self) -> Result<Option<ApplyReport>, Diagnostic> {
        let mut seen = lock(&self.writes);
        if *seen == stamp(self.state.path()) {
            return Ok(None);
        }
        self.apply_locked(&mut seen).map(Some)
    }

    /// Runs `edit` (a state file change), then reads the state and applies it, with no
    /// other edit in between.
    pub(crate) fn edit<T>(
        &self,
        edit: impl FnOnce(&StateFile) -> Result<T, ApiError>,
    ) -> Result<(T, ApplyReport), ApiError> {
        let mut seen = lock(&self.writes);
        let done = edit(&self.state)?;
        let report = self.apply_locked(&mut seen)?;
        Ok((done, report))
    }

    fn apply_locked(
        &self,
        seen: &mut MutexGuard<'_, Option<Stamp>>,
    ) -> Result<ApplyReport, Diagnostic> {
        let before = stamp(self.state.path());
        let section = self.state.load().map_err(|e| e.to_diagnostic())?.section;
        let report = self.manager.apply(&section);
        **seen = before;
        Ok(report)
    }

    /// Stops watching.
    pub(crate) fn close(&self) {
        drop(lock(&self.watcher).take());
    }
}

fn build_host(
    wiring: &Wiring,
    config: &HostConfig,
    home: &Home,
    name: Option<&str>,
) -> Result<Host, Diagnostic> {
    let logs = wiring.logs.clone();
    let tenant = name.map(str::to_owned);
    let sink = Arc::new(move |record: &LogRecord| {
        tracing::info!(
            target: "plinth_serve::plugin",
            plugin = %record.plugin,
            tenant = tenant.as_deref().unwrap_or(""),
            "{}",
            record.message
        );
        let _ = logs.send(LogEvent {
            tenant: tenant.clone(),
            plugin: record.plugin.clone(),
            level: record.level,
            source: record.source,
            message: record.message.clone(),
        });
    });
    config
        .host_builder()
        .cache_dir(wiring.main_home.join("cache"))
        .function_cache_dir(wiring.main_home.join("cache").join("functions"))
        .consent_file(home.root().join("consent.toml"))
        // `[dirs]` may not hand plugins write access to the home (docs/design/0032).
        .protected_dir(&wiring.main_home)
        .data_dir(home.root().join("data"))
        .log_sink(sink)
        .build()
        .map_err(|e| e.to_diagnostic())
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
