//! `plinth build [DIR]`: build a plugin project into a component next to its manifest,
//! then validate it like `plinth check`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Args;
use plinth_host::LoadOptions;
use plinth_manifest::Manifest;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use serde_json::{Value, json};

use super::lang::{self, ProjectLang};
use crate::context::Context;
use crate::output::{Outcome, fail};

/// The target every Rust plugin builds for.
const TARGET: &str = "wasm32-wasip2";

/// Build the plugin in DIR (a Rust crate, or a Python `app.py` / JavaScript `app.js`
/// project, with a plugin.toml) into its component.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The plugin project [default: .].
    #[arg(default_value = ".")]
    dir: PathBuf,
}

impl BuildArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        let printer = &ctx.printer;
        let manifest = match Manifest::load(&self.dir) {
            Ok(parsed) => parsed.manifest,
            Err(e) => return fail(printer, e.to_diagnostic(), Outcome::Failed),
        };
        let destination = manifest.component_path();
        let built = match lang::detect(&self.dir) {
            None => Err(Diagnostic::new(
                Code::MissingPackage,
                format!(
                    "{}: no Cargo.toml, {} or {}; `plinth build` builds Rust, Python and \
                     JavaScript plugins",
                    self.dir.display(),
                    lang::PY_ENTRY,
                    lang::JS_ENTRY
                ),
            )
            .with_hint("create a project with `plinth new NAME [--lang rust|python|js]`")),
            Some(ProjectLang::Rust) => {
                printer.note(format!("building {} for {TARGET}", manifest.plugin.id));
                cargo_build(&self.dir).and_then(|built| {
                    copy_atomically(&built, &destination).map_err(|e| {
                        Diagnostic::new(
                            Code::MissingPackage,
                            format!("cannot write {}: {e}", destination.display()),
                        )
                    })
                })
            }
            Some(language) => {
                printer.note(format!(
                    "building {} with {}",
                    manifest.plugin.id,
                    match language {
                        ProjectLang::Python => "componentize-py",
                        _ => "componentize-js",
                    }
                ));
                componentize_atomically(language, &self.dir, &manifest, &destination)
            }
        };
        if let Err(diagnostic) = built {
            return fail(
                printer,
                diagnostic.with_plugin(manifest.plugin.id.to_string()),
                Outcome::Failed,
            );
        }
        let host = match ctx.host(None) {
            Ok(host) => host,
            Err(e) => return fail(printer, e.to_diagnostic(), Outcome::Failed),
        };
        match host.load_with(&self.dir, LoadOptions::default()) {
            Ok(plugin) => {
                if printer.json {
                    printer.json_doc(&json!({
                        "plugin": plugin.id(),
                        "component": destination,
                        "digest": plugin.digest().to_string(),
                    }));
                } else {
                    printer.line(format!(
                        "built {} → {} ({})",
                        plugin.id(),
                        destination.display(),
                        plugin.digest()
                    ));
                }
                Outcome::Ok
            }
            Err(e) => fail(printer, e.to_diagnostic(), Outcome::Failed),
        }
    }
}

/// Runs cargo and returns the built `.wasm` of the crate's cdylib.
fn cargo_build(dir: &Path) -> Result<PathBuf, Diagnostic> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(&cargo)
        .current_dir(dir)
        .args(["build", "--release", "--target", TARGET])
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            Diagnostic::new(Code::MissingPackage, format!("cannot run cargo: {e}")).with_hint(
                "install Rust from https://rustup.rs, then `rustup target add wasm32-wasip2`",
            )
        })?;
    let mut artifact = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if message["reason"] != "compiler-artifact" {
                continue;
            }
            let is_cdylib = message["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
            let wasm = message["filenames"].as_array().and_then(|files| {
                files
                    .iter()
                    .filter_map(Value::as_str)
                    .find(|f| f.ends_with(".wasm"))
                    .map(PathBuf::from)
            });
            if is_cdylib && wasm.is_some() {
                artifact = wasm;
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| Diagnostic::new(Code::MissingPackage, format!("cargo failed: {e}")))?;
    if !status.success() {
        return Err(
            Diagnostic::new(Code::MissingPackage, "cargo build failed".to_string())
                .with_hint("if the target is missing: `rustup target add wasm32-wasip2`"),
        );
    }
    artifact.ok_or_else(|| {
        Diagnostic::new(
            Code::MissingPackage,
            "cargo built no cdylib .wasm".to_string(),
        )
        .with_hint("set `crate-type = [\"cdylib\"]` under [lib] in Cargo.toml")
    })
}

/// Copies through a temp file in the destination directory, so a reader never sees a
/// half-written component.
fn copy_atomically(from: &Path, to: &Path) -> std::io::Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::copy(from, temp.path())?;
    temp.persist(to).map_err(|e| e.error)?;
    Ok(())
}

/// Runs componentize-py / componentize-js into a temp file beside `to`, then renames it
/// into place, so a failed build leaves the previous component as it was.
fn componentize_atomically(
    language: ProjectLang,
    dir: &Path,
    manifest: &Manifest,
    to: &Path,
) -> Result<(), Diagnostic> {
    let failure = |e: std::io::Error| {
        Diagnostic::new(
            Code::MissingPackage,
            format!("cannot write {}: {e}", to.display()),
        )
    };
    let folder = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(failure)?;
    let temp = tempfile::Builder::new()
        .prefix(".plinth-build")
        .suffix(".wasm")
        .tempfile_in(folder)
        .map_err(failure)?;
    lang::componentize(language, dir, manifest, temp.path())?;
    temp.as_file().sync_all().map_err(failure)?;
    temp.persist(to).map_err(|e| failure(e.error))?;
    Ok(())
}
