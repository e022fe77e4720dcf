//! The typed view of a `[plugins]` table (DESIGN §3.2), what [`crate::Manager::apply`]
//! replays.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `schema_version` this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole `[plugins]` table: what the operator enabled, granted and configured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PluginsSection {
    /// The schema version (always [`SCHEMA_VERSION`] once read: older ones are migrated).
    pub schema_version: u32,
    /// One entry per plugin, in file order.
    #[serde(default)]
    pub entries: Vec<PluginEntry>,
}

impl PluginsSection {
    /// An empty section of the current version.
    pub fn new() -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            entries: Vec::new(),
        }
    }

    /// The entry for `id`.
    pub fn entry(&self, id: &str) -> Option<&PluginEntry> {
        self.entries.iter().find(|e| e.id == id)
    }
}

/// One `[[plugins.entries]]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginEntry {
    /// The plugin id.
    pub id: String,
    /// Whether the plugin runs. Absent means `false`: presence never enables.
    #[serde(default)]
    pub enabled: bool,
    /// The component, relative to the state file's directory (or absolute). When absent,
    /// discovery finds the plugin by id.
    #[serde(default)]
    pub artifact_path: Option<PathBuf>,
    /// Grant strings (DESIGN §3.3), as written.
    #[serde(default)]
    pub grants: Vec<String>,
    /// The plugin's settings, a JSON object.
    #[serde(default)]
    pub config: Map<String, Value>,
    /// Directories to watch for the plugin, with a debounce.
    #[serde(default)]
    pub watch: Option<WatchSeed>,
    /// Whether calls share one long-lived instance or get a fresh one each.
    #[serde(default)]
    pub instance: InstanceMode,
}

impl PluginEntry {
    /// A disabled entry for `id` with nothing granted.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            enabled: false,
            artifact_path: None,
            grants: Vec::new(),
            config: Map::new(),
            watch: None,
            instance: InstanceMode::default(),
        }
    }
}

/// `[plugins.entries.watch]`: watcher seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchSeed {
    /// Directory names from host config `[dirs]`, or absolute paths an operator wrote.
    #[serde(default)]
    pub directories: Vec<String>,
    /// Debounce in milliseconds.
    #[serde(default = "default_debounce_ms")]
    pub debounce_ms: u64,
}

fn default_debounce_ms() -> u64 {
    250
}

/// How calls reach a plugin (`instance = "per-call" | "long-lived"` in an entry).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceMode {
    /// A fresh instance per call (the default): nothing survives a call.
    #[default]
    PerCall,
    /// One instance kept between calls, with `on-load`, `on-setting-change` and `on-close`.
    LongLived,
}
