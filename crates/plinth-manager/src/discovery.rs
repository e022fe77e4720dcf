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

/// How a plugin sits in its plugin directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A folder of its own with a `plugin.toml`.
    Folder,
    /// Flat files in the plugin directory: `x.wasm`, its manifest `x.toml` (Plinth's or
    /// Stack Composer's) and signature `x.sig` (docs/design/0052).
    Flat,
}

/// One plugin found on disk.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// Its manifest.
    pub manifest: Manifest,
    /// Its folder; for a [`Layout::Flat`] plugin, the plugin directory holding its files.
    pub dir: PathBuf,
    /// User or system.
    pub origin: Origin,
    /// Whether the component file named by the manifest exists.
    pub component_present: bool,
    /// A folder of its own, or flat files.
    pub layout: Layout,
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

    /// What the manager loads: the folder, or a flat plugin's component `x.wasm`.
    pub fn source(&self) -> PathBuf {
        match self.layout {
            Layout::Folder => self.dir.clone(),
            Layout::Flat => self.component(),
        }
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
                    if old.source() != found.source()
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
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| !is_hidden(p))
        .collect();
    paths.sort();
    for path in &paths {
        if path.is_dir() {
            look_at(path, origin, inventory);
        }
    }
    // The flat layout: `x.wasm` with its manifest `x.toml`; other files (a readme) are not
    // plugins.
    for path in paths.iter().filter(|p| p.is_file()) {
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") if plinth_manifest::component_beside(path).is_file() => {
                look_at_flat(path, origin, inventory);
            }
            Some("wasm") if plinth_manifest::manifest_beside(path).is_none() => {
                inventory.diagnostics.push(
                    Diagnostic::new(
                        Code::MissingPackage,
                        format!("{} has no manifest beside it; skipped", path.display()),
                    )
                    .with_severity(Severity::Warning)
                    .with_hint("a flat plugin is x.wasm with its manifest x.toml (and x.sig)"),
                );
            }
            _ => {}
        }
    }
}

fn look_at_flat(manifest_file: &Path, origin: Origin, inventory: &mut Inventory) {
    let parsed = match Manifest::load_flat(manifest_file) {
        Ok(parsed) => parsed,
        Err(e) => {
            inventory.diagnostics.push(e.to_diagnostic());
            return;
        }
    };
    inventory.diagnostics.extend(parsed.warnings);
    let dir = manifest_file.parent().unwrap_or(Path::new("."));
    admit(
        parsed.manifest,
        dir,
        manifest_file,
        origin,
        Layout::Flat,
        inventory,
    );
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
    admit(
        parsed.manifest,
        folder,
        folder,
        origin,
        Layout::Folder,
        inventory,
    );
}

/// Adds a plugin found at `place` (its folder, or a flat manifest) unless an earlier one
/// has its id.
fn admit(
    manifest: Manifest,
    dir: &Path,
    place: &Path,
    origin: Origin,
    layout: Layout,
    inventory: &mut Inventory,
) {
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
                    place.display(),
                    winner.source().display()
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
            dir: dir.to_path_buf(),
            origin,
            component_present,
            layout,
        },
    );
}
