//! Per-domain consent (docs/design/0020, 0032): hosts a plugin's manifest asks for but the
//! operator has not granted wait for a person's decision, kept in `<home>/consent.toml`.
//!
//! The file is the truth: every lookup reads it again, so an approval given by
//! `plinth consent approve` in another process takes effect on the next request without
//! a restart. Every write takes an exclusive lock on the sidecar `consent.toml.lock`
//! (as the manager does for `plugins.toml`), re-reads the file under that lock, changes
//! the one entry it is about, and replaces the file atomically (temporary file, fsync,
//! rename): a writer never puts back a stale copy over another process's decision.
//!
//! Decisions are kept per tenant: an entry carries the tenant the plugin was loaded for
//! (none for a host without tenants), and a lookup only matches its own tenant's entries.
//! New `pending` entries are bounded before anything is written ([`ConsentLimits`]).

use std::collections::{BTreeMap, HashMap};
use std::fs::{File as StdFile, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::caps::events::RateLimiter;

/// Where a request for consent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentState {
    /// Asked for, no decision yet: requests are `consent-pending`.
    Pending,
    /// A person approved: requests proceed as if `http:HOST` were granted.
    Approved,
    /// A person refused: requests are `denied`, without asking again.
    Denied,
}

impl std::fmt::Display for ConsentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConsentState::Pending => "pending",
            ConsentState::Approved => "approved",
            ConsentState::Denied => "denied",
        })
    }
}

/// One plugin's consent for one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEntry {
    /// The embedder's tenant the plugin was loaded for; `None` for a host without tenants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The plugin id.
    pub plugin: String,
    /// The host as an `http:` grant names it: `api.example.com` or `host:port`.
    pub host: String,
    /// The decision, or `pending`.
    pub state: ConsentState,
}

/// A request for consent or a decision, as it happens (docs/design/0042): what an
/// application shows its consent prompt from, instead of polling the store.
///
/// A `pending` notice is sent each time a request is refused or held because its host
/// awaits a decision (so an application deduplicates by plugin and host); `approved` and
/// `denied` notices are sent by [`ConsentStore::decide`] and wake the `submit` requests
/// held for that plugin and host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentNotice {
    /// The embedder's tenant the plugin was loaded for; `None` for a host without tenants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The plugin id.
    pub plugin: String,
    /// The host as an `http:` grant names it.
    pub host: String,
    /// The `submit` request held for the decision (its id, as the plugin got it); `None`
    /// for `fetch`, `wasi:http` (refused at once) and for decisions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<u64>,
    /// `pending` for a request, the decision otherwise.
    pub state: ConsentState,
}

/// Notices kept for a subscriber that has not read them; a slower subscriber misses the
/// oldest (`RecvError::Lagged`) and can read the store's [`ConsentStore::list`] instead.
pub const CONSENT_NOTICE_CAPACITY: usize = 256;

/// The consent file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("consent store {}: {reason}", path.display())]
pub struct ConsentError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// Bounds on what plugins can add to the consent file by asking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConsentLimits {
    /// Pending hosts one plugin (of one tenant) may have at once; a request for another
    /// host is `consent-pending` without being recorded.
    pub max_pending_per_plugin: usize,
    /// New pending entries per second, per plugin, sustained.
    pub new_per_second: f64,
    /// New pending entries a plugin may add at once before the rate applies.
    pub burst: u32,
}

impl Default for ConsentLimits {
    fn default() -> Self {
        Self {
            max_pending_per_plugin: 32,
            new_per_second: 1.0,
            burst: 8,
        }
    }
}

/// What asking for consent found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asked {
    /// The recorded decision (or `pending`, recorded now or earlier).
    State(ConsentState),
    /// The plugin already has [`ConsentLimits::max_pending_per_plugin`] pending hosts:
    /// nothing was recorded.
    TooManyPending,
    /// The plugin asked for new hosts faster than [`ConsentLimits::new_per_second`]:
    /// nothing was recorded.
    RateLimited,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    consent: Vec<ConsentEntry>,
}

/// `(tenant, plugin, host)`.
type Key = (Option<String>, String, String);
type Entries = BTreeMap<Key, ConsentState>;

fn key(tenant: Option<&str>, plugin: &str, host: &str) -> Key {
    (
        tenant.map(str::to_owned),
        plugin.to_owned(),
        host.to_owned(),
    )
}

/// The consent decisions of every plugin, on disk or (without a file) in memory.
#[derive(Debug)]
pub struct ConsentStore {
    path: Option<PathBuf>,
    /// The entries of an in-memory store; for a file store, serialises this process's writers.
    memory: Mutex<Entries>,
    limits: ConsentLimits,
    /// Per `(tenant, plugin)`: the rate of new pending entries.
    rates: Mutex<HashMap<(Option<String>, String), RateLimiter>>,
    /// Requests and decisions as they happen.
    notices: broadcast::Sender<ConsentNotice>,
}

impl Default for ConsentStore {
    fn default() -> Self {
        ConsentStore {
            path: None,
            memory: Mutex::default(),
            limits: ConsentLimits::default(),
            rates: Mutex::default(),
            notices: broadcast::channel(CONSENT_NOTICE_CAPACITY).0,
        }
    }
}

impl ConsentStore {
    /// A store kept in `path` (created on the first write). Reads it once to check it.
    pub fn open(path: impl Into<PathBuf>) -> Result<ConsentStore, ConsentError> {
        let store = ConsentStore {
            path: Some(path.into()),
            ..ConsentStore::default()
        };
        store.list()?;
        Ok(store)
    }

    /// A store that lives as long as the host.
    pub fn in_memory() -> ConsentStore {
        ConsentStore::default()
    }

    /// The same store with other bounds on pending entries.
    pub fn with_limits(mut self, limits: ConsentLimits) -> ConsentStore {
        self.limits = limits;
        self
    }

    /// Notices of consent requests and decisions from now on: an application shows its
    /// prompt on a `pending` notice ([`ConsentNotice`]).
    pub fn subscribe(&self) -> broadcast::Receiver<ConsentNotice> {
        self.notices.subscribe()
    }

    /// Sends `notice` to every subscriber (none is fine).
    pub(crate) fn notify(&self, notice: ConsentNotice) {
        let _ = self.notices.send(notice);
    }

    /// The file, for a store on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The sidecar lock file, `<file>.lock`, for a store on disk.
    pub fn lock_path(&self) -> Option<PathBuf> {
        let path = self.path.as_ref()?;
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        Some(path.with_file_name(name))
    }

    /// Every entry of every tenant, by tenant, plugin, then host.
    pub fn list(&self) -> Result<Vec<ConsentEntry>, ConsentError> {
        let guard = self.lock();
        let entries = self.read(&guard)?;
        Ok(entries
            .into_iter()
            .map(|((tenant, plugin, host), state)| ConsentEntry {
                tenant,
                plugin,
                host,
                state,
            })
            .collect())
    }

    /// The decision for `plugin` and `host` (no tenant), if any was asked for.
    pub fn state(&self, plugin: &str, host: &str) -> Result<Option<ConsentState>, ConsentError> {
        self.state_for(None, plugin, host)
    }

    /// The decision for `plugin` of `tenant` and `host`, if any was asked for.
    pub fn state_for(
        &self,
        tenant: Option<&str>,
        plugin: &str,
        host: &str,
    ) -> Result<Option<ConsentState>, ConsentError> {
        let guard = self.lock();
        Ok(self.read(&guard)?.get(&key(tenant, plugin, host)).copied())
    }

    /// Approves `plugin`'s requests to `host` (no tenant), asked for yet or not.
    pub fn approve(&self, plugin: &str, host: &str) -> Result<(), ConsentError> {
        self.decide(None, plugin, host, ConsentState::Approved)
    }

    /// Refuses `plugin`'s requests to `host` (no tenant), for good.
    pub fn deny(&self, plugin: &str, host: &str) -> Result<(), ConsentError> {
        self.decide(None, plugin, host, ConsentState::Denied)
    }

    /// Records a decision for `plugin` of `tenant` and `host`. The decision applies to
    /// that tenant only: the same plugin loaded for another tenant is asked again.
    pub fn decide(
        &self,
        tenant: Option<&str>,
        plugin: &str,
        host: &str,
        state: ConsentState,
    ) -> Result<(), ConsentError> {
        let mut guard = self.lock();
        let _file_lock = self.lock_file()?;
        let mut entries = self.read(&guard)?;
        entries.insert(key(tenant, plugin, host), state);
        self.write(&mut guard, entries)?;
        drop(guard);
        tracing::info!(target: "plinth::audit", tenant, plugin, host, %state, "consent decided");
        self.notify(ConsentNotice {
            tenant: tenant.map(str::to_owned),
            plugin: plugin.to_owned(),
            host: host.to_owned(),
            request: None,
            state,
        });
        Ok(())
    }

    /// The decision for a request, recording it as pending when nobody was asked yet and
    /// the plugin is within [`ConsentLimits`]. The file is read and written under its lock.
    pub(crate) fn ask(
        &self,
        tenant: Option<&str>,
        plugin: &str,
        host: &str,
    ) -> Result<Asked, ConsentError> {
        let mut guard = self.lock();
        let _file_lock = self.lock_file()?;
        let mut entries = self.read(&guard)?;
        let wanted = key(tenant, plugin, host);
        if let Some(state) = entries.get(&wanted) {
            return Ok(Asked::State(*state));
        }
        let pending = entries
            .iter()
            .filter(|((t, p, _), state)| {
                t.as_deref() == tenant && p == plugin && **state == ConsentState::Pending
            })
            .count();
        if pending >= self.limits.max_pending_per_plugin {
            return Ok(Asked::TooManyPending);
        }
        if !self.take_new_entry_token(tenant, plugin) {
            return Ok(Asked::RateLimited);
        }
        entries.insert(wanted, ConsentState::Pending);
        self.write(&mut guard, entries)?;
        tracing::info!(target: "plinth::audit", tenant, plugin, host, "consent requested");
        Ok(Asked::State(ConsentState::Pending))
    }

    fn take_new_entry_token(&self, tenant: Option<&str>, plugin: &str) -> bool {
        let mut rates = self
            .rates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rates
            .entry((tenant.map(str::to_owned), plugin.to_owned()))
            .or_insert_with(|| {
                RateLimiter::with_rate(self.limits.new_per_second, self.limits.burst)
            })
            .try_take()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An exclusive lock on the sidecar, held across read, change and rename; released
    /// when the returned file is dropped. `None` for an in-memory store.
    fn lock_file(&self) -> Result<Option<StdFile>, ConsentError> {
        let Some(lock_path) = self.lock_path() else {
            return Ok(None);
        };
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| self.error(e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| self.error(format!("{}: {e}", lock_path.display())))?;
        file.lock()
            .map_err(|e| self.error(format!("{}: {e}", lock_path.display())))?;
        Ok(Some(file))
    }

    fn error(&self, reason: impl ToString) -> ConsentError {
        ConsentError {
            path: self.path.clone().unwrap_or_default(),
            reason: reason.to_string(),
        }
    }

    fn read(&self, memory: &Entries) -> Result<Entries, ConsentError> {
        let Some(path) = &self.path else {
            return Ok(memory.clone());
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Entries::new()),
            Err(e) => return Err(self.error(e)),
        };
        let file: File = toml::from_str(&text).map_err(|e| self.error(e))?;
        Ok(file
            .consent
            .into_iter()
            .map(|e| ((e.tenant, e.plugin, e.host), e.state))
            .collect())
    }

    fn write(&self, memory: &mut Entries, entries: Entries) -> Result<(), ConsentError> {
        let Some(path) = &self.path else {
            *memory = entries;
            return Ok(());
        };
        let file = File {
            consent: entries
                .into_iter()
                .map(|((tenant, plugin, host), state)| ConsentEntry {
                    tenant,
                    plugin,
                    host,
                    state,
                })
                .collect(),
        };
        let text = toml::to_string(&file).map_err(|e| self.error(e))?;
        plinth_manifest::write_atomic(path, text.as_bytes(), plinth_manifest::FileMode::Private)
            .map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests;
