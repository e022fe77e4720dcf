//! Per-domain consent (docs/design/0020): hosts a plugin's manifest asks for but the
//! operator has not granted wait for a person's decision, kept in `<home>/consent.toml`.
//!
//! The file is the truth: every lookup reads it again, so an approval given by
//! `plinth consent approve` in another process takes effect on the next request without
//! a restart. Writes replace the file atomically (temporary file, then rename).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

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
    /// The plugin id.
    pub plugin: String,
    /// The host as an `http:` grant names it: `api.example.com` or `host:port`.
    pub host: String,
    /// The decision, or `pending`.
    pub state: ConsentState,
}

/// The consent file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("consent store {}: {reason}", path.display())]
pub struct ConsentError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    consent: Vec<ConsentEntry>,
}

type Entries = BTreeMap<(String, String), ConsentState>;

/// The consent decisions of every plugin, on disk or (without a file) in memory.
#[derive(Debug, Default)]
pub struct ConsentStore {
    path: Option<PathBuf>,
    /// The entries of an in-memory store; for a file store, serialises writers.
    memory: Mutex<Entries>,
}

impl ConsentStore {
    /// A store kept in `path` (created on the first write). Reads it once to check it.
    pub fn open(path: impl Into<PathBuf>) -> Result<ConsentStore, ConsentError> {
        let store = ConsentStore {
            path: Some(path.into()),
            memory: Mutex::default(),
        };
        store.list()?;
        Ok(store)
    }

    /// A store that lives as long as the host.
    pub fn in_memory() -> ConsentStore {
        ConsentStore::default()
    }

    /// The file, for a store on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Every entry, by plugin then host.
    pub fn list(&self) -> Result<Vec<ConsentEntry>, ConsentError> {
        let guard = self.lock();
        let entries = self.read(&guard)?;
        Ok(entries
            .into_iter()
            .map(|((plugin, host), state)| ConsentEntry {
                plugin,
                host,
                state,
            })
            .collect())
    }

    /// The decision for `plugin` and `host`, if any was asked for.
    pub fn state(&self, plugin: &str, host: &str) -> Result<Option<ConsentState>, ConsentError> {
        let guard = self.lock();
        Ok(self
            .read(&guard)?
            .get(&(plugin.to_owned(), host.to_owned()))
            .copied())
    }

    /// Approves `plugin`'s requests to `host` (whether or not they were asked for yet).
    pub fn approve(&self, plugin: &str, host: &str) -> Result<(), ConsentError> {
        self.set(plugin, host, ConsentState::Approved)
    }

    /// Refuses `plugin`'s requests to `host`, for good.
    pub fn deny(&self, plugin: &str, host: &str) -> Result<(), ConsentError> {
        self.set(plugin, host, ConsentState::Denied)
    }

    /// The decision for a request, recording it as pending when nobody was asked yet.
    pub(crate) fn ask(&self, plugin: &str, host: &str) -> Result<ConsentState, ConsentError> {
        let mut guard = self.lock();
        let mut entries = self.read(&guard)?;
        let key = (plugin.to_owned(), host.to_owned());
        if let Some(state) = entries.get(&key) {
            return Ok(*state);
        }
        entries.insert(key, ConsentState::Pending);
        self.write(&mut guard, entries)?;
        tracing::info!(target: "plinth::audit", plugin, host, "consent requested");
        Ok(ConsentState::Pending)
    }

    fn set(&self, plugin: &str, host: &str, state: ConsentState) -> Result<(), ConsentError> {
        let mut guard = self.lock();
        let mut entries = self.read(&guard)?;
        entries.insert((plugin.to_owned(), host.to_owned()), state);
        self.write(&mut guard, entries)?;
        tracing::info!(target: "plinth::audit", plugin, host, %state, "consent decided");
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
            .map(|e| ((e.plugin, e.host), e.state))
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
                .map(|((plugin, host), state)| ConsentEntry {
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
mod tests {
    use super::*;

    #[test]
    fn asks_once_and_keeps_decisions_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("consent.toml");
        let store = ConsentStore::open(&path).unwrap();
        assert_eq!(
            store.ask("thoth", "api.example.com").unwrap(),
            ConsentState::Pending
        );
        assert_eq!(
            store.ask("thoth", "api.example.com").unwrap(),
            ConsentState::Pending
        );
        store.approve("thoth", "api.example.com").unwrap();
        store.deny("thoth", "evil.example.com").unwrap();
        let again = ConsentStore::open(&path).unwrap();
        assert_eq!(
            again.state("thoth", "api.example.com").unwrap(),
            Some(ConsentState::Approved)
        );
        assert_eq!(
            again.ask("thoth", "evil.example.com").unwrap(),
            ConsentState::Denied
        );
        assert_eq!(again.state("other", "api.example.com").unwrap(), None);
        assert_eq!(again.list().unwrap().len(), 2);
    }

    #[test]
    fn a_broken_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("consent.toml");
        std::fs::write(&path, "consent = 3").unwrap();
        let err = ConsentStore::open(&path).unwrap_err();
        assert!(err.to_string().contains("consent.toml"), "{err}");
    }

    #[test]
    fn in_memory_store() {
        let store = ConsentStore::in_memory();
        assert_eq!(store.ask("p", "h").unwrap(), ConsentState::Pending);
        store.deny("p", "h").unwrap();
        assert_eq!(store.state("p", "h").unwrap(), Some(ConsentState::Denied));
    }
}
