//! The state file (DESIGN §3.2): `plugins.toml`, or the `[plugins]` table of a larger
//! host-owned TOML file such as NovyWave's `.novywave`.
//!
//! Reads never write. Every write takes an exclusive lock on the sidecar
//! `<file>.lock`, re-reads the file under the lock, edits the `toml_edit` document (so
//! comments, key order and unknown keys survive, and a replaced value keeps its decor),
//! and replaces the file atomically (temp file in the same directory, fsync, rename,
//! fsync of the directory). Only the `[plugins]` table is touched.

mod edit;
mod migrate;
mod model;
mod review;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use plinth_manifest::FileMode;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use toml_edit::{DocumentMut, Item, Table};

pub use edit::{ReviewReset, StateDoc};
pub use model::{InstanceMode, PluginEntry, PluginsSection, SCHEMA_VERSION, WatchSeed};
pub use review::{ResetCell, reset_review, review_hook};

use migrate::Migration;

/// Reading or writing the state file failed. Nothing on disk changed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file (or its lock) could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{}: not valid TOML: {reason}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// The `[plugins]` table has a bad shape or value.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `schema_version` is newer than this build knows; the file is left untouched.
    #[error("{}: `plugins.schema_version` is {found}, this Plinth knows up to {known}", path.display())]
    TooNew {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
}

impl ToDiagnostic for StateError {
    fn to_diagnostic(&self) -> Diagnostic {
        match self {
            StateError::TooNew { .. } => Diagnostic::new(Code::StateTooNew, self.to_string())
                .with_hint("upgrade Plinth; the file was left as it is"),
            StateError::Io { source, .. } => {
                // Writing or reading the home failed: `io-error`; a file that is not there is
                // still `missing-package`.
                let code = if source.kind() == std::io::ErrorKind::NotFound {
                    Code::MissingPackage
                } else {
                    Code::IoError
                };
                Diagnostic::new(code, self.to_string())
                    .with_hint("check the permissions of the state file and its directory")
            }
            StateError::Syntax { .. } | StateError::Invalid { .. } => {
                Diagnostic::new(Code::InvalidManifest, self.to_string()).with_hint(
                    "fix the `[plugins]` table of the state file (DESIGN §3.2 shows its keys)",
                )
            }
        }
    }
}

/// A section as read, and whether it was migrated in memory on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The section, at [`SCHEMA_VERSION`].
    pub section: PluginsSection,
    /// `Some(v)` when the file holds the older version `v` (the next write upgrades it).
    pub migrated_from: Option<u32>,
}

/// A state file on disk: `plugins.toml`, or any TOML file with a `[plugins]` table.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// The state file at `path` (it need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `<home>/plugins.toml`.
    pub fn in_home(home: &Path) -> Self {
        Self::new(home.join("plugins.toml"))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory `artifact_path`s are relative to.
    pub fn base_dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// The sidecar lock file, `<file>.lock`.
    pub fn lock_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    /// Reads the `[plugins]` table without locking or writing. A missing file or table is
    /// an empty section; an older version is migrated in memory.
    pub fn load(&self) -> Result<Loaded, StateError> {
        let text = self.read_text()?;
        let mut doc = self.parse(&text)?;
        let migration = prepare(&mut doc, &self.path)?;
        let section = StateDoc::new(&mut doc, &self.path).section()?;
        Ok(Loaded {
            section,
            migrated_from: match migration {
                Migration::Current => None,
                Migration::From(v) => Some(v),
            },
        })
    }

    /// Edits the file under its lock: re-reads it, migrates it, runs `edit`, and writes it
    /// back atomically when the text changed. When `edit` fails nothing is written.
    pub fn update<T>(
        &self,
        edit: impl FnOnce(&mut StateDoc<'_>) -> Result<T, StateError>,
    ) -> Result<T, StateError> {
        let _lock = self.lock()?;
        let text = self.read_text()?;
        let mut doc = self.parse(&text)?;
        prepare(&mut doc, &self.path)?;
        let mut state = StateDoc::new(&mut doc, &self.path);
        // An invalid file is reported, never edited; nor is one an edit would invalidate.
        state.section()?;
        let result = edit(&mut state)?;
        state.section()?;
        let new_text = doc.to_string();
        if new_text != text {
            self.write_atomically(&new_text)?;
        }
        Ok(result)
    }

    fn io(&self, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
        let path = path.to_path_buf();
        move |source| StateError::Io { path, source }
    }

    fn read_text(&self) -> Result<String, StateError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(self.io(&self.path)(e)),
        }
    }

    fn parse(&self, text: &str) -> Result<DocumentMut, StateError> {
        text.parse::<DocumentMut>().map_err(|e| StateError::Syntax {
            path: self.path.clone(),
            reason: e.to_string().trim_end().to_string(),
        })
    }

    /// An exclusive lock on the sidecar; released when the returned file is dropped.
    fn lock(&self) -> Result<File, StateError> {
        let lock_path = self.lock_path();
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(self.io(dir))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(self.io(&lock_path))?;
        file.lock().map_err(self.io(&lock_path))?;
        Ok(file)
    }

    /// Replaces the file atomically (plinth-manifest's helper), keeping the mode an operator
    /// gave it.
    fn write_atomically(&self, text: &str) -> Result<(), StateError> {
        plinth_manifest::write_atomic(&self.path, text.as_bytes(), FileMode::KeepExisting)
            .map_err(|e| self.io(&e.path)(e.source))
    }
}

/// Ensures a `[plugins]` table exists and is at the current version.
fn prepare(doc: &mut DocumentMut, path: &Path) -> Result<Migration, StateError> {
    let plugins = doc
        .entry("plugins")
        .or_insert_with(|| {
            let mut table = Table::new();
            table.insert(
                "schema_version",
                toml_edit::value(i64::from(SCHEMA_VERSION)),
            );
            Item::Table(table)
        })
        .as_table_mut()
        .ok_or_else(|| StateError::Invalid {
            path: path.into(),
            reason: "`plugins` must be a table (`[plugins]`)".into(),
        })?;
    migrate::migrate(plugins, path)
}

#[cfg(test)]
mod tests;
