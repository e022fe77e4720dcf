//! Which WIT world a Python or JavaScript project is componentized for: the kinds its
//! manifest provides (`[[provides.KIND]]`), or the `plinth:plugin@0.1.0` world it names
//! (`runtime.world`, the 0.1.0 form).
//!
//! One kind is its package's world, `plinth:KIND/plugin`. Several kinds are a world
//! generated for the build that `include`s each kind's world, in a WIT folder of its own
//! with every package it needs under `deps/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::BuildError;

/// The WIT package of the 0.1.0 worlds, relative to a `wit/` folder.
const PLUGIN_WIT: &str = "plinth-plugin@0.1.0";

/// The world a Python or JavaScript project implements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum World {
    /// The kinds of the manifest's `[[provides.KIND]]` entries, sorted: `plinth:KIND/plugin`
    /// for one, a world that includes each kind's world for several.
    Kinds(Vec<String>),
    /// A world of `plinth:plugin@0.1.0` by name (`plugin`, `tool`): the manifest's
    /// `runtime.world`.
    Legacy(String),
}

impl From<&str> for World {
    /// A `plinth:plugin@0.1.0` world by name.
    fn from(world: &str) -> World {
        World::Legacy(world.to_string())
    }
}

impl From<String> for World {
    /// A `plinth:plugin@0.1.0` world by name.
    fn from(world: String) -> World {
        World::Legacy(world)
    }
}

impl World {
    /// The world of the project in `dir`: the kinds its `plugin.toml` provides; without
    /// `[[provides.*]]` entries, `legacy_world` (the manifest's `runtime.world`), else the
    /// 0.1.0 `tool` world.
    pub fn for_project(dir: &Path, legacy_world: Option<&str>) -> Result<World, BuildError> {
        let path = dir.join("plugin.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| BuildError::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        let kinds = provided_kinds(&text).map_err(|reason| BuildError::Manifest {
            path: path.clone(),
            reason,
        })?;
        Ok(if kinds.is_empty() {
            World::Legacy(legacy_world.unwrap_or("tool").to_string())
        } else {
            World::Kinds(kinds)
        })
    }

    /// The world's name as the toolchains' `-w`/`-n` takes it, for the WIT folder
    /// [`Self::wit_folder`] returns.
    pub(crate) fn name(&self) -> &str {
        match self {
            World::Legacy(name) => name,
            World::Kinds(_) => "plugin",
        }
    }

    /// The WIT folder to hand the toolchain, given the `wit/` folder with every package:
    /// a package folder of `wit`, or for several kinds a generated folder kept alive in
    /// `scratch` until the toolchain has run.
    pub(crate) fn wit_folder(
        &self,
        wit: &Path,
        scratch: &mut Vec<TempDir>,
    ) -> Result<PathBuf, BuildError> {
        match self {
            World::Legacy(_) => Ok(wit.join(PLUGIN_WIT)),
            World::Kinds(kinds) => match kinds.as_slice() {
                [kind] => kind_package(wit, kind),
                _ => {
                    let folder = crate::componentize::temp_folder()?;
                    write_combined_world(wit, kinds, folder.path())?;
                    let path = folder.path().to_path_buf();
                    scratch.push(folder);
                    Ok(path)
                }
            },
        }
    }

    /// The package folders (relative to `wit/`) the build reads: a project's own `wit/`
    /// serves only if it has all of them.
    pub(crate) fn needs(&self, wit: &Path) -> bool {
        match self {
            World::Legacy(_) => wit.join(PLUGIN_WIT).is_dir(),
            World::Kinds(kinds) => kinds.iter().all(|kind| kind_package(wit, kind).is_ok()),
        }
    }
}

/// The keys of the manifest's `provides` table, sorted.
fn provided_kinds(manifest: &str) -> Result<Vec<String>, String> {
    let table: toml::Table = manifest
        .parse()
        .map_err(|e: toml::de::Error| e.to_string())?;
    match table.get("provides") {
        None => Ok(Vec::new()),
        Some(toml::Value::Table(provides)) => Ok(provides.keys().cloned().collect()),
        Some(_) => Err("`provides` must be a table of `[[provides.KIND]]` entries".into()),
    }
}

/// `wit/plinth-KIND@VERSION` with the highest version present.
fn kind_package(wit: &Path, kind: &str) -> Result<PathBuf, BuildError> {
    let prefix = format!("plinth-{kind}@");
    let newest = package_folders(wit)
        .into_iter()
        .filter_map(|name| {
            let version = version_key(name.strip_prefix(&prefix)?)?;
            Some((version, name))
        })
        .max();
    match newest {
        Some((_, name)) if !matches!(kind, "host" | "plugin") => Ok(wit.join(name)),
        _ => Err(BuildError::UnknownKind {
            kind: kind.to_string(),
            known: known_kinds(wit),
        }),
    }
}

/// The kinds with a package in `wit`: every `plinth-NAME@VERSION` but the host's and the
/// 0.1.0 plugin package.
fn known_kinds(wit: &Path) -> Vec<String> {
    let kinds: BTreeSet<String> = package_folders(wit)
        .iter()
        .filter_map(|name| name.strip_prefix("plinth-")?.split_once('@'))
        .map(|(kind, _)| kind.to_string())
        .filter(|kind| kind != "host" && kind != "plugin")
        .collect();
    kinds.into_iter().collect()
}

fn package_folders(wit: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(wit) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect()
}

/// `1.2.3` as numbers, for ordering; `None` for anything else.
fn version_key(version: &str) -> Option<Vec<u64>> {
    version.split('.').map(|part| part.parse().ok()).collect()
}

/// Writes, into `out`, a package `plinth:kinds` whose world `plugin` includes the `plugin`
/// world of every kind, and under `out/deps/` each kind's package and the packages those
/// depend on (one copy each).
fn write_combined_world(wit: &Path, kinds: &[String], out: &Path) -> Result<(), BuildError> {
    let mut includes = String::new();
    let deps = out.join("deps");
    for kind in kinds {
        let package = kind_package(wit, kind)?;
        let version = package
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.split_once('@'))
            .map(|(_, version)| version.to_string())
            .unwrap_or_default();
        includes.push_str(&format!("    include plinth:{kind}/plugin@{version};\n"));
        copy_package(&package, &deps.join(folder_name(&package)))?;
        for dependency in subfolders(&package.join("deps")) {
            let target = deps.join(folder_name(&dependency));
            if !target.exists() {
                copy_package(&dependency, &target)?;
            }
        }
    }
    let world = format!(
        "// Generated by `plinth build`: the kinds of this plugin's `[[provides.*]]` entries.\n\
         package plinth:kinds;\n\nworld plugin {{\n{includes}}}\n"
    );
    let file = out.join("plugin.wit");
    std::fs::write(&file, world).map_err(|source| BuildError::Io {
        action: "write",
        path: file,
        source,
    })
}

fn folder_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    folders
}

/// Copies the `.wit` files of the package folder `from` (following links) into `to`.
fn copy_package(from: &Path, to: &Path) -> Result<(), BuildError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Io {
            action,
            path,
            source,
        }
    };
    std::fs::create_dir_all(to).map_err(io("create", to))?;
    for entry in std::fs::read_dir(from).map_err(io("read", from))? {
        let path = entry.map_err(io("read", from))?.path();
        if path.is_file() && path.extension().is_some_and(|ext| ext == "wit") {
            let target = to.join(folder_name(&path));
            std::fs::copy(&path, &target).map_err(io("copy a WIT file to", &target))?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The repository's `wit/`.
    fn wit() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit")
    }

    fn project(manifest: &str) -> TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
        dir
    }

    #[test]
    fn provides_picks_the_kinds_and_runtime_world_the_legacy_world() {
        let kinds =
            project("[[provides.tool]]\nname = \"x\"\n\n[[provides.hook]]\npoint = \"p\"\n");
        assert_eq!(
            World::for_project(kinds.path(), Some("plugin")).unwrap(),
            World::Kinds(vec!["hook".into(), "tool".into()])
        );
        let legacy = project("[runtime]\nworld = \"plugin\"\n");
        assert_eq!(
            World::for_project(legacy.path(), Some("plugin")).unwrap(),
            World::Legacy("plugin".into())
        );
        assert_eq!(
            World::for_project(legacy.path(), None).unwrap(),
            World::Legacy("tool".into())
        );
        let bad = project("provides = 1\n");
        assert!(matches!(
            World::for_project(bad.path(), None),
            Err(BuildError::Manifest { .. })
        ));
    }

    #[test]
    fn one_kind_is_its_package_and_an_unknown_kind_names_the_known_ones() {
        let mut scratch = Vec::new();
        let world = World::Kinds(vec!["hook".into()]);
        assert_eq!(world.name(), "plugin");
        let folder = world.wit_folder(&wit(), &mut scratch).unwrap();
        assert!(
            folder.ends_with("plinth-hook@0.1.0"),
            "{}",
            folder.display()
        );
        assert!(scratch.is_empty());
        assert!(world.needs(&wit()));

        let unknown = World::Kinds(vec!["theme".into()]);
        assert!(!unknown.needs(&wit()));
        let Err(BuildError::UnknownKind { kind, known }) = unknown.wit_folder(&wit(), &mut scratch)
        else {
            panic!("an unknown kind builds");
        };
        assert_eq!(kind, "theme");
        assert_eq!(
            known,
            [
                "auth-provider",
                "command",
                "content-transform",
                "data-source",
                "event-handler",
                "exporter",
                "file-loader",
                "file-viewer",
                "hook",
                "policy-hook",
                "preview",
                "search-analyzer",
                "service",
                "storage-provider",
                "theme-provider",
                "tool"
            ]
        );
        assert!(
            World::Kinds(vec!["host".into()])
                .wit_folder(&wit(), &mut scratch)
                .is_err()
        );
    }

    #[test]
    fn several_kinds_are_a_generated_world_with_flat_deps() {
        let mut scratch = Vec::new();
        let world = World::Kinds(vec!["hook".into(), "tool".into()]);
        let folder = world.wit_folder(&wit(), &mut scratch).unwrap();
        assert_eq!(scratch.len(), 1);
        let text = std::fs::read_to_string(folder.join("plugin.wit")).unwrap();
        assert!(text.contains("package plinth:kinds;"), "{text}");
        assert!(text.contains("include plinth:hook/plugin@0.1.0;"), "{text}");
        assert!(text.contains("include plinth:tool/plugin@0.1.0;"), "{text}");
        for package in [
            "plinth-hook@0.1.0",
            "plinth-tool@0.1.0",
            "plinth-host",
            "plinth-plugin",
        ] {
            let dir = folder.join("deps").join(package);
            assert!(dir.is_dir() && !dir.is_symlink(), "{package}");
            assert!(!dir.join("deps").exists(), "{package} keeps no nested deps");
        }
        assert!(folder.join("deps/plinth-host/log.wit").is_file());
    }
}
