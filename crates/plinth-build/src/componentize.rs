//! Python and JavaScript projects: componentize-py and componentize-js with the arguments
//! docs/authoring/python.md and javascript.md show.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

use crate::{BuildError, JS_ENTRY, Language, World, find_toolchain, vendored};

/// The JavaScript PDK's file name in a project.
const JS_PDK_FILE: &str = "plinth-pdk.js";
/// The lines of a failed toolchain's output kept in the error.
const TAIL_LINES: usize = 40;

/// Builds the Python or JavaScript project in `dir`, implementing `world`, into the file
/// `output` (written by the toolchain; use [`crate::build`] to replace a component
/// atomically). The project's own `wit/` and PDK copy (written by `plinth new`) come first;
/// the copies embedded in this crate are the fallback.
pub fn componentize(
    language: Language,
    dir: &Path,
    world: &World,
    output: &Path,
) -> Result<(), BuildError> {
    let program = find_toolchain(language)?;
    let output = std::path::absolute(output).unwrap_or_else(|_| output.to_path_buf());
    // Held until the toolchain has run: the embedded WIT and PDK copies live in them.
    let mut scratch: Vec<TempDir> = Vec::new();
    // Absolute: the toolchain runs in the project (or a staged copy), not in the caller's
    // directory.
    let project_wit = std::path::absolute(dir.join("wit")).unwrap_or_else(|_| dir.join("wit"));
    let wit_root = if world.needs(&project_wit) {
        project_wit
    } else {
        let folder = temp_folder()?;
        vendored::write_files(folder.path(), vendored::WIT)
            .map_err(io("write the embedded WIT into", folder.path()))?;
        let root = folder.path().to_path_buf();
        scratch.push(folder);
        root
    };
    let wit = world.wit_folder(&wit_root, &mut scratch)?;
    let world = world.name();
    let mut workdir = dir.to_path_buf();
    let mut command = Command::new(&program);
    match language {
        Language::Python => {
            let pdk = temp_folder()?;
            vendored::write_files(pdk.path(), vendored::PY_PDK)
                .map_err(io("write the embedded Python PDK into", pdk.path()))?;
            // `-p .` first: the project's own `plinth_pdk/` wins over the embedded one.
            command
                .arg("-d")
                .arg(&wit)
                .args(["-w", world, "componentize", "-p", ".", "-p"])
                .arg(pdk.path())
                .arg("app")
                .arg("-o")
                .arg(&output);
            scratch.push(pdk);
        }
        Language::JavaScript => {
            // Without its own `plinth-pdk.js`, the project is built from a staged copy that
            // has the embedded one.
            if !dir.join(JS_PDK_FILE).is_file() {
                let staged = temp_folder()?;
                stage(dir, staged.path())
                    .and_then(|()| vendored::write_files(staged.path(), vendored::JS_PDK))
                    .map_err(io("stage a copy of the project in", staged.path()))?;
                workdir = staged.path().to_path_buf();
                scratch.push(staged);
            }
            // Until the host serves wasi:http, the JS runtime's fetch and incoming-handler
            // support stay out (docs/design/0018).
            command
                .arg(JS_ENTRY)
                .arg("--wit")
                .arg(&wit)
                .args(["-n", world, "-d", "http", "fetch-event", "-o"])
                .arg(&output);
        }
        Language::Rust => {
            return Err(BuildError::ToolchainNotRunnable {
                language,
                program: language.toolchain_name().into(),
                source: std::io::Error::other("Rust projects are built with cargo"),
            });
        }
    }
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ran = command
        .current_dir(&workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| BuildError::ToolchainNotRunnable {
            language,
            program: name.clone(),
            source,
        })?;
    drop(scratch);
    if !ran.status.success() {
        return Err(BuildError::ToolchainFailed {
            language,
            program: name,
            status: ran.status.to_string(),
            stderr_tail: tail(&ran),
        });
    }
    if !output.is_file() || output.metadata().is_ok_and(|m| m.len() == 0) {
        return Err(BuildError::OutputMissing {
            language,
            program: name,
        });
    }
    Ok(())
}

/// The end of a failed run's output: stderr, else stdout, up to the native backtrace
/// componentize-py appends after the Python error, without blank lines.
fn tail(ran: &Output) -> String {
    let mut text = String::from_utf8_lossy(&ran.stderr).trim().to_string();
    if text.is_empty() {
        text = String::from_utf8_lossy(&ran.stdout).trim().to_string();
    }
    text.lines()
        .take_while(|line| !line.starts_with("Stack backtrace:"))
        .filter(|line| !line.trim().is_empty())
        .take(TAIL_LINES)
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn temp_folder() -> Result<TempDir, BuildError> {
    tempfile::Builder::new()
        .prefix("plinth-build-")
        .tempdir()
        .map_err(io("create a temp folder in", &std::env::temp_dir()))
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BuildError {
    let path: PathBuf = path.to_path_buf();
    move |source| BuildError::Io {
        action,
        path,
        source,
    }
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
