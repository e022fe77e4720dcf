//! Python and JavaScript plugin projects: detecting them and building them with the
//! pinned component toolchains (componentize-py, componentize-js). See
//! docs/authoring/python.md, docs/authoring/javascript.md and docs/design/0018.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use plinth_manifest::Manifest;
use plinth_manifest::diagnostic::{Code, Diagnostic};

/// The toolchain versions Plinth is tested with (`scripts/install-lang-tools`).
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";
/// See [`COMPONENTIZE_PY_VERSION`].
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";

/// The entry module of a Python project.
pub const PY_ENTRY: &str = "app.py";
/// The entry module of a JavaScript project.
pub const JS_ENTRY: &str = "app.js";

/// The JavaScript PDK's file name in a project.
const JS_PDK_FILE: &str = "plinth-pdk.js";

/// The WIT package whose worlds plugins implement, relative to a `wit/` folder.
const PLUGIN_WIT: &str = "plinth-plugin@0.1.0";

/// The embedded copies written by `plinth new`, as (relative path, text).
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/vendored.rs"));
}

/// What a plugin project is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectLang {
    /// `Cargo.toml`.
    Rust,
    /// `app.py`.
    Python,
    /// `app.js`.
    JavaScript,
}

/// The project's language from its files, if it is one `plinth build` knows.
pub fn detect(dir: &Path) -> Option<ProjectLang> {
    if dir.join("Cargo.toml").is_file() {
        Some(ProjectLang::Rust)
    } else if dir.join(PY_ENTRY).is_file() {
        Some(ProjectLang::Python)
    } else if dir.join(JS_ENTRY).is_file() {
        Some(ProjectLang::JavaScript)
    } else {
        None
    }
}

/// The install command shown when a toolchain is missing.
pub fn install_hint(lang: ProjectLang) -> String {
    match lang {
        ProjectLang::Python => format!(
            "install it with `pip install componentize-py=={COMPONENTIZE_PY_VERSION}` \
             (or `scripts/install-lang-tools` in a Plinth checkout), or set PLINTH_COMPONENTIZE_PY"
        ),
        ProjectLang::JavaScript => format!(
            "install it with `npm install --prefix ~/.local/share/plinth/node \
             @bytecodealliance/componentize-js@{COMPONENTIZE_JS_VERSION}` \
             (or `scripts/install-lang-tools` in a Plinth checkout), or set PLINTH_COMPONENTIZE_JS"
        ),
        ProjectLang::Rust => {
            "install Rust from https://rustup.rs, then `rustup target add wasm32-wasip2`".into()
        }
    }
}

/// The toolchain program for `lang`: `$PLINTH_COMPONENTIZE_PY` / `$PLINTH_COMPONENTIZE_JS`,
/// else the program on PATH, else (JS) the `scripts/install-lang-tools` prefix.
pub fn toolchain(lang: ProjectLang) -> Result<PathBuf, Diagnostic> {
    let (variable, program) = match lang {
        ProjectLang::Python => ("PLINTH_COMPONENTIZE_PY", "componentize-py"),
        ProjectLang::JavaScript => ("PLINTH_COMPONENTIZE_JS", "componentize-js"),
        ProjectLang::Rust => ("CARGO", "cargo"),
    };
    let missing = |detail: String| {
        Diagnostic::new(
            Code::MissingPackage,
            format!("{program} is needed to build this plugin: {detail}"),
        )
        .with_hint(install_hint(lang))
    };
    if let Some(path) = std::env::var_os(variable) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(missing(format!(
                "{variable}={} is not a file",
                path.display()
            )))
        };
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(program))
                .collect()
        })
        .unwrap_or_default();
    if lang == ProjectLang::JavaScript {
        candidates.push(node_prefix().join("node_modules/.bin").join(program));
    }
    candidates
        .into_iter()
        .find(|path| path.is_file())
        .ok_or_else(|| missing("not found on PATH".into()))
}

/// Where `scripts/install-lang-tools` puts npm packages.
fn node_prefix() -> PathBuf {
    if let Some(prefix) = std::env::var_os("PLINTH_NODE_PREFIX") {
        return prefix.into();
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| OsString::from("."));
    PathBuf::from(home).join(".local/share/plinth/node")
}

/// Builds the Python or JavaScript project in `dir` into `output` (a path in the
/// destination folder; the caller renames it into place).
pub fn componentize(
    lang: ProjectLang,
    dir: &Path,
    manifest: &Manifest,
    output: &Path,
) -> Result<(), Diagnostic> {
    let program = toolchain(lang)?;
    let world = manifest.runtime.world.as_deref().unwrap_or("tool");
    // The project's own WIT (written by `plinth new`), else the copy embedded in plinth.
    let scratch;
    let wit = if dir.join("wit").join(PLUGIN_WIT).is_dir() {
        dir.join("wit").join(PLUGIN_WIT)
    } else {
        scratch = tempfile::tempdir().map_err(|e| io_failure("a temp folder", &e))?;
        write_files(scratch.path(), embedded::WIT)
            .map_err(|e| io_failure("the embedded WIT", &e))?;
        scratch.path().join(PLUGIN_WIT)
    };
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let pdk_scratch;
    let mut workdir = dir.to_path_buf();
    let mut command = Command::new(&program);
    match lang {
        ProjectLang::Python => {
            // The project's own `plinth_pdk/` (written by `plinth new`) comes first on the
            // path; the copy embedded in plinth is the fallback.
            pdk_scratch = tempfile::tempdir().map_err(|e| io_failure("a temp folder", &e))?;
            write_files(pdk_scratch.path(), embedded::PY_PDK)
                .map_err(|e| io_failure("the embedded Python PDK", &e))?;
            command
                .arg("-d")
                .arg(&wit)
                .args(["-w", world, "componentize", "-p", ".", "-p"])
                .arg(pdk_scratch.path())
                .arg("app")
                .arg("-o")
                .arg(absolute(output));
        }
        ProjectLang::JavaScript => {
            // Without its own `plinth-pdk.js` (written by `plinth new`), the project is built
            // from a staged copy that has the one embedded in plinth.
            if !dir.join(JS_PDK_FILE).is_file() {
                pdk_scratch = tempfile::tempdir().map_err(|e| io_failure("a temp folder", &e))?;
                stage(dir, pdk_scratch.path())
                    .and_then(|()| write_files(pdk_scratch.path(), embedded::JS_PDK))
                    .map_err(|e| io_failure("a staged copy of the project", &e))?;
                workdir = pdk_scratch.path().to_path_buf();
            }
            // Until the host serves wasi:http, the JS runtime's fetch and incoming-handler
            // support stay out (docs/design/0018).
            command
                .arg(JS_ENTRY)
                .arg("--wit")
                .arg(&wit)
                .args(["-n", world, "-d", "http", "fetch-event", "-o"])
                .arg(absolute(output));
        }
        ProjectLang::Rust => {
            return Err(Diagnostic::new(
                Code::MissingPackage,
                "Rust projects are built with cargo".to_string(),
            ));
        }
    }
    let result = command
        .current_dir(&workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output();
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ran = result.map_err(|e| {
        Diagnostic::new(Code::MissingPackage, format!("cannot run {name}: {e}"))
            .with_hint(install_hint(lang))
    })?;
    if !ran.status.success() || !output.is_file() {
        let mut text = String::from_utf8_lossy(&ran.stderr).trim().to_string();
        if text.is_empty() {
            text = String::from_utf8_lossy(&ran.stdout).trim().to_string();
        }
        // componentize-py appends a long native backtrace after the Python error.
        let tail: Vec<&str> = text
            .lines()
            .take_while(|line| !line.starts_with("Stack backtrace:"))
            .filter(|line| !line.trim().is_empty())
            .take(40)
            .collect();
        return Err(Diagnostic::new(
            Code::MissingPackage,
            format!("{name} failed ({}):\n{}", ran.status, tail.join("\n")),
        )
        .with_hint(match lang {
            ProjectLang::Python => {
                "check app.py; `plinth_pdk` comes from the project or, without a copy, from plinth"
            }
            _ => {
                "check app.js and that `plinth-pdk.js` is in the project (written by `plinth new`)"
            }
        }));
    }
    Ok(())
}

fn io_failure(what: &str, e: &std::io::Error) -> Diagnostic {
    Diagnostic::new(Code::MissingPackage, format!("cannot write {what}: {e}"))
}

/// Writes (relative path, text) pairs under `root`.
pub fn write_files(root: &Path, files: &[(&str, &str)]) -> std::io::Result<()> {
    for (path, text) in files {
        let target = root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, text)?;
    }
    Ok(())
}

/// Copies the project's files (not components, hidden files or `wit/`) into `to`.
fn stage(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let text = name.to_string_lossy();
        let path = entry.path();
        if text.starts_with('.') || text.ends_with(".wasm") || text == "wit" {
            continue;
        }
        if path.is_dir() {
            std::fs::create_dir_all(to.join(&name))?;
            stage(&path, &to.join(&name))?;
        } else {
            std::fs::copy(&path, to.join(&name))?;
        }
    }
    Ok(())
}
