//! Discovery (DESIGN §1.2, §3): a read-only inventory of the plugin directories.
//!
//! Each directory holds one folder per plugin with a `plugin.toml`. Discovery reads the
//! manifests and checks that each component file exists, nothing more: it never reads the
//! component, compiles, instantiates or opens the network, and finding a plugin never
//! enables it. Every problem is a diagnostic; the scan always goes on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plinth_host::Paths;
use plinth_manifest::diagnostic::{Code, Diagnostic, Severity, ToDiagnostic};
use plinth_manifest::{MANIFEST_FILE, Manifest};
use serde::Serialize;

/// The system plugin directory when host config `[paths] system_dir` is not set.
pub const DEFAULT_SYSTEM_DIR: &str = "/usr/share/plinth/plugins";

/// Where plugins are looked for, in order of precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginDirs {
    /// The user plugin directory; wins every id clash.
    pub user: PathBuf,
    /// System plugin directories (read-only to Plinth), earlier ones first.
    pub system: Vec<PathBuf>,
}

impl PluginDirs {
    /// The directories of a home and its host config `[paths]`: `user_dir` or
    /// `<home>/plugins`, and `system_dir` or [`DEFAULT_SYSTEM_DIR`].
    pub fn from_config(home: &Path, paths: &Paths) -> Self {
        Self {
            user: paths
                .user_dir
                .clone()
                .unwrap_or_else(|| home.join("plugins")),
            system: vec![
                paths
                    .system_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_SYSTEM_DIR)),
            ],
        }
    }

    /// Only a user directory.
    pub fn user_only(user: impl Into<PathBuf>) -> Self {
        Self {
            user: user.into(),
            system: Vec::new(),
        }
    }

    /// Every directory, the user directory first.
    pub fn all(&self) -> impl Iterator<Item = &PathBuf> {
        self.in_order().map(|(_, dir)| dir)
    }

    fn in_order(&self) -> impl Iterator<Item = (Origin, &PathBuf)> {
        std::iter::once((Origin::User, &self.user))
            .chain(self.system.iter().map(|d| (Origin::System, d)))
    }
}

/// Which directory a plugin came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The user plugin directory.
    User,
    /// A system plugin directory.
    System,
}

/// One plugin found on disk.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// Its manifest.
    pub manifest: Manifest,
    /// Its folder.
    pub dir: PathBuf,
    /// User or system.
    pub origin: Origin,
    /// Whether the component file named by the manifest exists.
    pub component_present: bool,
}

impl Discovered {
    /// The plugin id.
    pub fn id(&self) -> &str {
        self.manifest.plugin.id.as_str()
    }

    /// The file the plugin loads from: its component, or its `plugin.toml` for a plugin
    /// without one (themes alone).
    pub fn component(&self) -> PathBuf {
        self.manifest
            .component_path()
            .unwrap_or_else(|| self.dir.join(MANIFEST_FILE))
    }
}

/// What a scan found: the plugins by id, and every diagnostic on the way.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Plugins by id (the winner of any clash).
    pub plugins: BTreeMap<String, Discovered>,
    /// Invalid manifests, missing components, shadowed plugins.
    pub diagnostics: Vec<Diagnostic>,
}

impl Inventory {
    /// The plugin `id`.
    pub fn get(&self, id: &str) -> Option<&Discovered> {
        self.plugins.get(id)
    }

    /// The diagnostics about `id`.
    pub fn diagnostics_for<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Diagnostic> {
        self.diagnostics
            .iter()
            .filter(move |d| d.plugin.as_deref() == Some(id))
    }
}

/// How the inventory changed between two scans, as [`crate::Manager::subscribe_inventory`]
/// reports it. Finding a plugin never enables it: an added plugin runs only once the state
/// enables it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InventoryEvent {
    /// Ids found now that were not found before.
    pub added: Vec<String>,
    /// Ids no longer found.
    pub removed: Vec<String>,
    /// Ids found in another folder or with another manifest version than before.
    pub changed: Vec<String>,
    /// Every diagnostic of the new scan (invalid manifests, missing components, clashes).
    pub diagnostics: Vec<Diagnostic>,
}

impl InventoryEvent {
    /// The changes from `before` to `after`; `None` when the scans agree.
    pub fn between(before: &Inventory, after: &Inventory) -> Option<InventoryEvent> {
        let mut event = InventoryEvent {
            diagnostics: after.diagnostics.clone(),
            ..InventoryEvent::default()
        };
        for (id, found) in &after.plugins {
            match before.plugins.get(id) {
                None => event.added.push(id.clone()),
                Some(old)
                    if old.dir != found.dir
                        || old.manifest.plugin.version != found.manifest.plugin.version =>
                {
                    event.changed.push(id.clone());
                }
                Some(_) => {}
            }
        }
        event.removed = before
            .plugins
            .keys()
            .filter(|id| !after.plugins.contains_key(*id))
            .cloned()
            .collect();
        let same = event.added.is_empty()
            && event.removed.is_empty()
            && event.changed.is_empty()
            && before.diagnostics == after.diagnostics;
        (!same).then_some(event)
    }
}

/// Scans `dirs`. A directory that does not exist is skipped silently (a fresh home has
/// none); one that cannot be read is a diagnostic.
pub fn discover(dirs: &PluginDirs) -> Inventory {
    let mut inventory = Inventory::default();
    for (origin, dir) in dirs.in_order() {
        scan(dir, origin, &mut inventory);
    }
    inventory
}

fn scan(dir: &Path, origin: Origin, inventory: &mut Inventory) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            inventory.diagnostics.push(
                Diagnostic::new(
                    Code::MissingPackage,
                    format!("cannot read plugin directory {}: {e}", dir.display()),
                )
                .with_severity(Severity::Warning),
            );
            return;
        }
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !is_hidden(p))
        .collect();
    folders.sort();
    for folder in folders {
        look_at(&folder, origin, inventory);
    }
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn look_at(folder: &Path, origin: Origin, inventory: &mut Inventory) {
    let manifest_file = folder.join(MANIFEST_FILE);
    if !manifest_file.is_file() {
        inventory.diagnostics.push(
            Diagnostic::new(
                Code::MissingPackage,
                format!("{} has no {MANIFEST_FILE}; skipped", folder.display()),
            )
            .with_severity(Severity::Warning)
            .with_hint("each plugin folder holds a plugin.toml; remove stray folders"),
        );
        return;
    }
    let parsed = match Manifest::load(&manifest_file) {
        Ok(parsed) => parsed,
        Err(e) => {
            inventory.diagnostics.push(e.to_diagnostic());
            return;
        }
    };
    inventory.diagnostics.extend(parsed.warnings);
    let manifest = parsed.manifest;
    let id = manifest.plugin.id.to_string();
    if let Some(winner) = inventory.plugins.get(&id) {
        let why = match (winner.origin, origin) {
            (Origin::User, Origin::System) => "the user directory wins",
            _ => "the first folder in name order wins",
        };
        inventory.diagnostics.push(
            Diagnostic::new(
                Code::Shadowed,
                format!(
                    "{} is shadowed by {} ({why})",
                    folder.display(),
                    winner.dir.display()
                ),
            )
            .with_plugin(&id)
            .with_hint("remove one of the two folders, or give one plugin another id"),
        );
        return;
    }
    let component = manifest.component_path();
    let component_present = component.as_ref().is_none_or(|c| c.is_file());
    if let (false, Some(component)) = (component_present, component) {
        inventory.diagnostics.push(
            Diagnostic::new(
                Code::MissingPackage,
                format!("component {} does not exist", component.display()),
            )
            .with_plugin(&id)
            .with_hint("build the plugin (`plinth build`) or fix `runtime.component`"),
        );
    }
    inventory.plugins.insert(
        id,
        Discovered {
            manifest,
            dir: folder.to_path_buf(),
            origin,
            component_present,
        },
    );
}
