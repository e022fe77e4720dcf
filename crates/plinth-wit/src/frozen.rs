//! Released WIT stays as released: `wit/RELEASED` lists the sha256 of every released
//! `.wit` file, and [`check`] compares the folder with it (docs/design/0038).
//!
//! The list is `sha256sum`'s format (`HEX  PATH`, paths under `wit/`), so
//! `cd wit && sha256sum -c RELEASED` checks it too; `scripts/wit-release` appends the files
//! of a new package version.

use std::fmt;
use std::path::{Path, PathBuf};

use plinth_manifest::Digest;
use plinth_manifest::plugin_file::{self, PluginFileError};

use crate::WitError;

/// The list's name in the `wit/` folder.
pub const RELEASED: &str = "RELEASED";

/// The largest `.wit` file or list read: 1 MiB.
const MAX_BYTES: u64 = 1 << 20;

/// A way the `wit/` folder departs from its list of released files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrozenProblem {
    /// A released file's content changed.
    Changed {
        /// The path under `wit/`.
        path: String,
    },
    /// A released file is gone.
    Vanished {
        /// The path under `wit/`.
        path: String,
    },
    /// A `.wit` file in a versioned package folder is not in the list.
    Unlisted {
        /// The path under `wit/`.
        path: String,
    },
    /// A line of the list is not `HEX  PATH`.
    BadLine {
        /// The line number, from 1.
        line: usize,
    },
}

impl fmt::Display for FrozenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrozenProblem::Changed { path } => write!(
                f,
                "wit/{path} changed after its release: never edit a released WIT file; undo the \
                 edit and make the change in a new version folder (copy the package to \
                 `NAME@NEXT-VERSION/`, change it there, serve it, then run scripts/wit-release)"
            ),
            FrozenProblem::Vanished { path } => write!(
                f,
                "wit/{path} is released but gone: plugins built on it still need it; restore it"
            ),
            FrozenProblem::Unlisted { path } => write!(
                f,
                "wit/{path} is not in wit/{RELEASED}: a released package version takes no new \
                 files (add a new version folder instead); if the package or version is new, \
                 release it with scripts/wit-release"
            ),
            FrozenProblem::BadLine { line } => write!(
                f,
                "wit/{RELEASED} line {line} is not `SHA256  PATH`; scripts/wit-release writes it"
            ),
        }
    }
}

/// Compares the `.wit` files of every versioned package folder (`NAME@VERSION/`, `deps/`
/// not included) under `wit_dir` with the list `wit_dir/RELEASED`.
pub fn check(wit_dir: &Path) -> Result<Vec<FrozenProblem>, WitError> {
    let list = read_text(&wit_dir.join(RELEASED))?;
    let mut problems = Vec::new();
    let mut listed = Vec::new();
    for (number, line) in list.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((hex, path)) = line.split_once("  ") else {
            problems.push(FrozenProblem::BadLine { line: number + 1 });
            continue;
        };
        let path = path.to_string();
        match plugin_file::read(&wit_dir.join(&path), MAX_BYTES) {
            Ok(bytes) if Digest::of(&bytes).to_hex() == hex => {}
            Ok(_) => problems.push(FrozenProblem::Changed { path: path.clone() }),
            Err(PluginFileError::Missing { .. }) => {
                problems.push(FrozenProblem::Vanished { path: path.clone() });
            }
            Err(error) => return Err(error.into()),
        }
        listed.push(path);
    }
    for path in versioned_wit_files(wit_dir)? {
        if !listed.contains(&path) {
            problems.push(FrozenProblem::Unlisted { path });
        }
    }
    Ok(problems)
}

/// `NAME@VERSION/FILE.wit` for every such file under `wit_dir`, sorted.
pub fn versioned_wit_files(wit_dir: &Path) -> Result<Vec<String>, WitError> {
    let mut files = Vec::new();
    for folder in read_dir(wit_dir)? {
        let Some(name) = folder
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
        else {
            continue;
        };
        if !name.contains('@') || !folder.is_dir() {
            continue;
        }
        for file in read_dir(&folder)? {
            if file.extension().is_some_and(|e| e == "wit")
                && let Some(file_name) = file.file_name().and_then(|n| n.to_str())
            {
                files.push(format!("{name}/{file_name}"));
            }
        }
    }
    files.sort();
    Ok(files)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, WitError> {
    let io = |source| PluginFileError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let entries = std::fs::read_dir(dir).map_err(io)?;
    let mut paths = Vec::new();
    for entry in entries {
        paths.push(entry.map_err(io)?.path());
    }
    Ok(paths)
}

fn read_text(path: &Path) -> Result<String, WitError> {
    Ok(plugin_file::read_to_string(path, MAX_BYTES)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, path: &str, text: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn listing(entries: &[(&str, &str)]) -> String {
        entries
            .iter()
            .map(|(path, text)| format!("{}  {path}\n", Digest::of(text.as_bytes()).to_hex()))
            .collect()
    }

    #[test]
    fn changed_vanished_and_unlisted_files_are_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wit = dir.path();
        write(wit, "a@0.1.0/a.wit", "package x:a@0.1.0;\n");
        write(wit, "a@0.1.0/deps/b/b.wit", "not checked");
        write(wit, "b@0.1.0/b.wit", "package x:b@0.1.0;\n");
        write(
            wit,
            RELEASED,
            &listing(&[
                ("a@0.1.0/a.wit", "package x:a@0.1.0;\n"),
                ("b@0.1.0/b.wit", "package x:b@0.1.0;\n"),
            ]),
        );
        assert_eq!(check(wit).expect("check"), []);

        write(wit, "a@0.1.0/a.wit", "package x:a@0.1.0;\ninterface i {}\n");
        std::fs::remove_file(wit.join("b@0.1.0/b.wit")).expect("rm");
        write(wit, "a@0.1.0/more.wit", "interface j {}\n");
        let problems = check(wit).expect("check");
        assert_eq!(
            problems,
            [
                FrozenProblem::Changed {
                    path: "a@0.1.0/a.wit".into()
                },
                FrozenProblem::Vanished {
                    path: "b@0.1.0/b.wit".into()
                },
                FrozenProblem::Unlisted {
                    path: "a@0.1.0/more.wit".into()
                },
            ]
        );
        assert!(problems[0].to_string().contains("new version folder"));
        assert!(problems[2].to_string().contains("scripts/wit-release"));
    }

    /// CI's guard: a released WIT file is never edited, removed, or joined by another.
    #[test]
    fn the_repository_wit_is_as_released() {
        let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
        let problems = check(&wit).expect("wit/RELEASED is readable");
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(problems.is_empty(), "{}", text.join("\n"));
    }

    #[test]
    fn a_missing_list_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(check(dir.path()).is_err());
    }
}
