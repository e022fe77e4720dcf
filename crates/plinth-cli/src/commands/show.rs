//! `plinth show PATH`: what a plugin is, asks for and offers, read without running it.

use std::path::{Path, PathBuf};

use clap::Args;
use plinth_manifest::Manifest;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use serde_json::json;

use crate::context::Context;
use crate::output::{Outcome, fail};

/// Show a plugin's manifest, requested capabilities, digest, imports and exports.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Installed plugin id, plugin directory, plugin.toml or .wasm component.
    path: String,
}

impl ShowArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        let printer = &ctx.printer;
        let installed = crate::commands::installed::inventory(ctx)
            .get(&self.path)
            .filter(|_| !Path::new(&self.path).exists())
            .map(|found| found.dir.clone());
        let granted: Option<Vec<String>> = installed.as_ref().map(|_| {
            crate::commands::installed::read_state(ctx)
                .ok()
                .and_then(|s| s.entry(&self.path).map(|e| e.grants.clone()))
                .unwrap_or_default()
        });
        let path = installed.as_deref().unwrap_or(Path::new(&self.path));
        let (manifest, component_path): (Option<Manifest>, PathBuf) =
            if path.extension().is_some_and(|e| e == "wasm") {
                (None, path.to_path_buf())
            } else {
                match Manifest::load(path) {
                    Ok(parsed) => {
                        printer.diagnostics_text(&parsed.warnings);
                        let component = parsed.manifest.component_path();
                        (Some(parsed.manifest), component)
                    }
                    Err(e) => return fail(printer, e.to_diagnostic(), Outcome::Failed),
                }
            };
        let bytes = match std::fs::read(&component_path) {
            Ok(bytes) => bytes,
            Err(e) => {
                return fail(
                    printer,
                    Diagnostic::new(
                        Code::MissingPackage,
                        format!("{}: {e}", component_path.display()),
                    )
                    .with_hint("build the plugin first (`plinth build`)"),
                    Outcome::Failed,
                );
            }
        };
        let host = match ctx.host(None) {
            Ok(host) => host,
            Err(e) => return fail(printer, e.to_diagnostic(), Outcome::Failed),
        };
        let inspection = match host.inspect(&bytes) {
            Ok(inspection) => inspection,
            Err(e) => return fail(printer, e.to_diagnostic(), Outcome::Failed),
        };
        let requested: Vec<String> = manifest
            .as_ref()
            .map(|m| m.requested_grants().iter().map(|g| g.to_string()).collect())
            .unwrap_or_default();
        let exports: Vec<String> = inspection.exports.iter().map(|f| f.signature()).collect();
        if printer.json {
            printer.json_doc(&json!({
                "id": manifest.as_ref().map(|m| m.plugin.id.to_string()),
                "version": manifest.as_ref().map(|m| m.plugin.version.to_string()),
                "name": manifest.as_ref().and_then(|m| m.plugin.name.clone()),
                "description": manifest.as_ref().and_then(|m| m.plugin.description.clone()),
                "component": component_path,
                "digest": inspection.digest.to_string(),
                "api": manifest.as_ref().and_then(|m| m.runtime.api.as_ref().map(|v| v.to_string())),
                "world": manifest.as_ref().and_then(|m| m.runtime.world.clone()),
                "requested_capabilities": requested,
                "granted_capabilities": granted.clone().unwrap_or_default(),
                "imports": inspection.imports,
                "exports": exports,
            }));
            return Outcome::Ok;
        }
        if let Some(m) = &manifest {
            printer.line(format!("{} {}", m.plugin.id, m.plugin.version));
            if let Some(name) = &m.plugin.name {
                printer.line(format!("  name:        {name}"));
            }
            if let Some(description) = &m.plugin.description {
                printer.line(format!("  description: {description}"));
            }
            if let Some(world) = &m.runtime.world {
                printer.line(format!("  world:       plinth:plugin/{world}"));
            }
            if let Some(api) = &m.runtime.api {
                printer.line(format!("  api:         {api}"));
            }
        }
        printer.line(format!("  component:   {}", component_path.display()));
        printer.line(format!("  digest:      {}", inspection.digest));
        if manifest.is_some() {
            let list = if requested.is_empty() {
                "(none)".to_string()
            } else {
                requested.join(", ")
            };
            printer.line(format!("  requests:    {list}"));
            match &granted {
                Some(g) if g.is_empty() => printer.line("  granted:     (none)"),
                Some(g) => printer.line(format!("  granted:     {}", g.join(", "))),
                None => printer.line("  granted:     (none; path targets run with `--grant` only)"),
            }
        }
        printer.line("imports:");
        for import in &inspection.imports {
            let mark = if import.provided {
                ""
            } else {
                "   <- not provided by this host"
            };
            printer.line(format!("  {}{mark}", import.name));
        }
        printer.line("exports:");
        for export in exports {
            printer.line(format!("  {export}"));
        }
        Outcome::Ok
    }
}
