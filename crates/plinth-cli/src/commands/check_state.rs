//! `plinth check --state FILE`: a whole state file checked without running anything: the
//! `[plugins]` table of `plugins.toml` or of a larger TOML file (NovyWave's `.novywave`),
//! each entry's id, grants, artifact (statically, as `plinth check PATH` does), settings
//! against the plugin's schema, and watch seeds against host config `[dirs]`.

use std::path::{Path, PathBuf};

use plinth_host::{Checked, Host};
use plinth_manager::state::{PluginEntry, StateFile};
use plinth_manifest::diagnostic::{Code, Diagnostic, Severity, ToDiagnostic};
use plinth_manifest::{Grant, Manifest, PluginId};
use serde_json::{Value, json};

use crate::commands::installed::inventory;
use crate::context::Context;
use crate::output::{Failure, Outcome};

/// What one entry's check found.
struct EntryReport {
    id: String,
    artifact: Option<PathBuf>,
    digest: Option<String>,
    diagnostics: Vec<Diagnostic>,
}

impl EntryReport {
    fn ok(&self) -> bool {
        !self
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Checks every entry of the state file at `file`.
pub(crate) fn check_state(ctx: &Context, file: &Path) -> Result<Outcome, Failure> {
    let printer = &ctx.printer;
    if !file.is_file() {
        return Err(Diagnostic::new(
            Code::MissingPackage,
            format!("no state file at {}", file.display()),
        )
        .with_hint("pass plugins.toml, or a TOML file with a [plugins] table")
        .into());
    }
    let state = StateFile::new(file);
    let loaded = state.load().map_err(|e| e.to_diagnostic())?;
    let host = ctx.host(None)?;
    let found = inventory(ctx);
    let base = state.base_dir();
    // The loader refuses what the manager would (one plugin twice, a newer schema).
    let reports: Vec<EntryReport> = loaded
        .section
        .entries
        .iter()
        .map(|entry| check_entry(ctx, &host, &found, &base, entry))
        .collect();
    let ok = reports.iter().all(EntryReport::ok);
    if printer.json {
        printer.json_doc(&json!({
            "ok": ok,
            "state": file,
            "migrated_from": loaded.migrated_from,
            "entries": reports.iter().map(|r| json!({
                "id": r.id,
                "ok": r.ok(),
                "artifact": r.artifact,
                "digest": r.digest,
                "diagnostics": r.diagnostics,
            })).collect::<Vec<Value>>(),
        }));
    } else {
        for report in &reports {
            printer.diagnostics_text(&report.diagnostics);
            if report.ok() {
                printer.line(format!(
                    "ok: {} ({})",
                    report.id,
                    report
                        .artifact
                        .as_ref()
                        .map(|a| a.display().to_string())
                        .unwrap_or_else(|| "not installed".into())
                ));
            }
        }
        printer.line(format!(
            "{}: {} of {} entries ok",
            file.display(),
            reports.iter().filter(|r| r.ok()).count(),
            reports.len()
        ));
    }
    Ok(if ok { Outcome::Ok } else { Outcome::Failed })
}

fn check_entry(
    ctx: &Context,
    host: &Host,
    found: &plinth_manager::discovery::Inventory,
    base: &Path,
    entry: &PluginEntry,
) -> EntryReport {
    let id = entry.id.clone();
    let mut diagnostics = Vec::new();
    if let Err(e) = PluginId::new(id.clone()) {
        diagnostics.push(
            Diagnostic::new(Code::InvalidManifest, format!("`{id}`: {e}"))
                .with_plugin(&id)
                .with_hint("ids are lowercase reverse-DNS names such as `org.example.scanner`"),
        );
    }
    for grant in &entry.grants {
        if let Err(e) = grant.parse::<Grant>() {
            diagnostics.push(e.to_diagnostic().with_plugin(&id));
        }
    }
    if let Some(seed) = &entry.watch {
        for dir in &seed.directories {
            let named = ctx.config.dirs.contains_key(dir);
            let absolute = Path::new(dir).is_absolute();
            let problem = match (named, absolute) {
                (true, _) => None,
                (false, true) if !Path::new(dir).is_dir() => {
                    Some(format!("watch directory {dir} does not exist"))
                }
                (false, true) => None,
                (false, false) => Some(format!(
                    "watch directory `{dir}` is neither a host config [dirs] name nor an absolute path"
                )),
            };
            if let Some(problem) = problem {
                diagnostics.push(
                    Diagnostic::new(Code::FsDenied, format!("{id}: {problem}"))
                        .with_severity(Severity::Warning)
                        .with_plugin(&id)
                        .with_hint(
                            "name a directory of host config [dirs], and grant `watch:NAME`",
                        ),
                );
            }
        }
    }
    let artifact = match &entry.artifact_path {
        Some(path) if path.is_absolute() => Some(path.clone()),
        Some(path) => Some(base.join(path)),
        None => found.get(&id).map(|f| f.source()),
    };
    let Some(artifact) = artifact else {
        if entry.enabled {
            diagnostics.push(
                Diagnostic::new(
                    Code::MissingPackage,
                    format!(
                        "{id}: enabled, but no artifact_path and no installed plugin with this id"
                    ),
                )
                .with_plugin(&id)
                .with_hint("install the plugin, or set artifact_path"),
            );
        }
        return EntryReport {
            id,
            artifact: None,
            digest: None,
            diagnostics,
        };
    };
    // A component beside a plugin.toml is the plugin folder's.
    let target = match artifact.parent() {
        Some(dir) if artifact.is_file() && dir.join(plinth_manifest::MANIFEST_FILE).is_file() => {
            dir.to_path_buf()
        }
        _ => artifact.clone(),
    };
    let checked = if target.exists() {
        host.check(&target).map_err(|e| e.to_diagnostic())
    } else {
        Err(Diagnostic::new(
            Code::MissingPackage,
            format!("{id}: artifact {} does not exist", artifact.display()),
        )
        .with_hint("build the plugin, or fix artifact_path (relative to the state file)"))
    };
    let digest = match checked {
        Ok(checked) => {
            diagnostics.extend(identity(&checked, &target, entry));
            diagnostics.extend(settings(&checked, entry));
            Some(checked.inspection().digest.to_string())
        }
        Err(diagnostic) => {
            diagnostics.push(diagnostic.with_plugin(&id));
            None
        }
    };
    EntryReport {
        id,
        artifact: Some(artifact),
        digest,
        diagnostics,
    }
}

/// The plugin must carry the entry's id: a folder's `plugin.toml`, or the manifest beside a
/// flat component (a bare component has none to compare).
fn identity(checked: &Checked, target: &Path, entry: &PluginEntry) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let named = if target.is_dir() {
        Some(checked.id().to_owned())
    } else {
        match plinth_manifest::manifest_beside(target).map(|m| Manifest::load_flat(&m)) {
            Some(Ok(parsed)) => {
                found.extend(parsed.warnings);
                Some(parsed.manifest.plugin.id.to_string())
            }
            Some(Err(e)) => {
                found.push(e.to_diagnostic().with_plugin(&entry.id));
                None
            }
            None => None,
        }
    };
    if let Some(named) = named.filter(|named| *named != entry.id) {
        found.push(
            Diagnostic::new(
                Code::InvalidManifest,
                format!("{}: the artifact is the plugin `{named}`", entry.id),
            )
            .with_plugin(&entry.id)
            .with_hint("point artifact_path at this plugin's component, or fix the entry's id"),
        );
    }
    found
}

/// The entry's settings must pass the plugin's schema.
fn settings(checked: &Checked, entry: &PluginEntry) -> Option<Diagnostic> {
    let error = checked
        .validate_settings(&Value::Object(entry.config.clone()))
        .err()?;
    let mut diagnostic = error.to_diagnostic().with_plugin(&entry.id);
    diagnostic.message = format!("[plugins.entries.config]: {}", diagnostic.message);
    Some(diagnostic)
}
