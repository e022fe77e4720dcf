//! `plinth check PATH`: a dry run that executes no plugin code (`--state FILE`: a whole state
//! file, in `check_state`).

use clap::Args;
use plinth_host::{Checked, Host, LoadOptions};
use plinth_manifest::Manifest;
use plinth_manifest::diagnostic::ToDiagnostic;
use plinth_manifest::diagnostic::{Code, Diagnostic, Severity};
use serde_json::json;

use crate::commands::load_target;
use crate::commands::package_support::unpack_package;
use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Validate a plugin without running it: manifest, component, imports, exported world,
/// kinds and version, digest, settings. Read from the component's type: nothing is
/// compiled unless `--compile` is given.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Plugin directory, plugin.toml, .wasm component or .plinth package.
    #[arg(required_unless_present = "state", conflicts_with = "state")]
    path: Option<String>,
    /// Check a whole state file instead: the `[plugins]` table of plugins.toml or of a
    /// larger TOML file (ids, grants, artifacts, settings, watch seeds).
    #[arg(long, value_name = "FILE")]
    state: Option<std::path::PathBuf>,
    /// Also compile the component (through the compile cache) and link it, as a load does.
    #[arg(long)]
    compile: bool,
}

impl CheckArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.check(ctx))
    }

    /// Reports every finding; only a host that cannot start ends it early.
    fn check(self, ctx: &Context) -> Result<Outcome, Failure> {
        if let Some(state) = &self.state {
            return crate::commands::check_state::check_state(ctx, state);
        }
        let target = self.path.clone().unwrap_or_default();
        let printer = &ctx.printer;
        let host = ctx.host(None)?;
        // Manifest warnings (unknown keys) are reported even when the rest passes.
        let path = std::path::Path::new(&target);
        let is_wasm = path.extension().is_some_and(|e| e == "wasm");
        let mut diagnostics: Vec<Diagnostic> = Vec::new();
        if !is_wasm
            && path.exists()
            && let Ok(parsed) = Manifest::load(path)
        {
            diagnostics.extend(parsed.warnings);
        }
        let mut checked = check_target(&host, &target);
        if self.compile && checked.is_ok() {
            // Compiling finds what the type cannot show: the engine's own limits.
            if let Err(diagnostic) = load_target(&host, &target, LoadOptions::default()) {
                checked = Err(diagnostic);
            }
        }
        let plugin_id = match &checked {
            Ok(checked) => Some(checked.id().to_string()),
            Err(diagnostic) => diagnostic.plugin.clone(),
        };
        match &checked {
            Ok(checked) => diagnostics.extend(installed_settings_violation(ctx, checked)),
            // One diagnostic per missing or mistyped function of every declared kind.
            Err(diagnostic) if diagnostic.code == Code::KindMismatch => {
                let detailed = kind_problems(path, diagnostic.plugin.clone());
                if detailed.is_empty() {
                    diagnostics.push(diagnostic.clone());
                } else {
                    diagnostics.extend(detailed);
                }
            }
            Err(diagnostic) => diagnostics.push(diagnostic.clone()),
        }
        let signature = crate::commands::package_support::signature_status(ctx, path);
        if let Some((_, Some(bad))) = &signature {
            diagnostics.push(bad.clone());
        }
        let ok = !diagnostics.iter().any(|d| d.severity == Severity::Error);
        if printer.json {
            printer.json_doc(&json!({
                "ok": ok,
                "plugin": plugin_id,
                "digest": checked.as_ref().ok().map(|c| c.inspection().digest.to_string()),
                "kinds": checked.as_ref().ok().map(|c| c.kinds()),
                "signature": signature.as_ref().map(|(status, _)| status),
                "diagnostics": diagnostics,
            }));
        } else {
            printer.diagnostics_text(&diagnostics);
            if let (true, Ok(checked)) = (ok, &checked) {
                printer.line(format!(
                    "ok: {} ({}) — component valid, imports supported, {} export(s)",
                    checked.id(),
                    checked.inspection().digest,
                    checked.inspection().exports.len()
                ));
                let kinds: Vec<&str> = checked.kinds().iter().map(|k| k.as_str()).collect();
                if !kinds.is_empty() {
                    printer.line(format!("provides: {}", kinds.join(", ")));
                }
                if let Some((status, _)) = &signature {
                    printer.line(format!(
                        "signature: {}",
                        status["status"].as_str().unwrap_or_default()
                    ));
                }
            }
        }
        Ok(if ok { Outcome::Ok } else { Outcome::Failed })
    }
}

/// The static check of a path target: a plugin directory, `plugin.toml`, `.wasm`, or a
/// `.plinth` package unpacked into a temporary folder.
fn check_target(host: &Host, target: &str) -> Result<Checked, Diagnostic> {
    let path = std::path::Path::new(target);
    if !path.exists() {
        return Err(Diagnostic::new(
            Code::MissingPackage,
            format!("no plugin directory, plugin.toml, .wasm or .plinth file at `{target}`"),
        )
        .with_hint("pass a plugin directory or a component file"));
    }
    let checked = if path.extension().is_some_and(|e| e == "plinth") && path.is_file() {
        let unpacked = unpack_package(path)?;
        host.check(unpacked.dir())
    } else {
        host.check(path)
    };
    checked.map_err(|e| e.to_diagnostic())
}

/// One `kind-mismatch` per missing or mistyped item of the kinds the manifest at `path`
/// declares, from the component's type alone (`plinth_wit::check_exports`); none when
/// that cannot be read.
fn kind_problems(path: &std::path::Path, plugin: Option<String>) -> Vec<Diagnostic> {
    let Ok(parsed) = Manifest::load(path) else {
        return Vec::new();
    };
    let manifest = parsed.manifest;
    let Some(component) = manifest.component_path() else {
        return Vec::new();
    };
    let Ok(bytes) = plinth_manifest::plugin_file::read(
        &component,
        plinth_manifest::plugin_file::COMPONENT_MAX_BYTES,
    ) else {
        return Vec::new();
    };
    let Ok(component) = plinth_wit::Component::decode(&bytes) else {
        return Vec::new();
    };
    let exported: Vec<String> = component.exports().into_iter().map(|e| e.name).collect();
    // A kind served through its 0.1.0 interface is the host's adapter's to check.
    let required: Vec<String> = manifest
        .provides
        .kinds()
        .iter()
        .filter(|kind| {
            kind.legacy_interface()
                .is_none_or(|legacy| !exported.iter().any(|e| e == legacy))
        })
        .filter_map(|kind| kind.versioned_interface())
        .collect();
    let required: Vec<&str> = required.iter().map(String::as_str).collect();
    let Ok(problems) = component.check_exports(plinth_wit::served(), &required) else {
        return Vec::new();
    };
    problems
        .iter()
        .map(|problem| {
            let mut diagnostic = Diagnostic::new(Code::KindMismatch, problem.to_string())
                .with_hint("build the plugin against the kind's WIT (`plinth new --kind KIND` scaffolds one), or remove its `[[provides.KIND]]` entries");
            if let Some(plugin) = &plugin {
                diagnostic = diagnostic.with_plugin(plugin.clone());
            }
            diagnostic
        })
        .collect()
}

/// `rejected-schema` when the plugin is in plugins.toml with settings (`config`) that break
/// its manifest's schema: the manager would refuse to load it with them.
fn installed_settings_violation(ctx: &Context, checked: &Checked) -> Option<Diagnostic> {
    let state = crate::commands::installed::read_state(ctx).ok()?;
    let entry = state.entry(checked.id())?;
    let settings = serde_json::Value::Object(entry.config.clone());
    let error = checked.validate_settings(&settings).err()?;
    let mut diagnostic = error.to_diagnostic();
    diagnostic.message = format!("plugins.toml: {}", diagnostic.message);
    Some(diagnostic)
}
