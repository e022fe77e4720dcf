//! `plinth show ID|PATH`: what a plugin is, asks for and offers, and who signed it, read
//! without running it.

use std::path::{Path, PathBuf};

use clap::Args;
use plinth_manifest::Manifest;
use plinth_manifest::diagnostic::Diagnostic;
use serde_json::{Value, json};

use crate::commands::package_support::{signature_status, unpack_package};
use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Show a plugin's manifest, requested capabilities, digest, signature, imports and exports.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Installed plugin id, plugin directory, plugin.toml, .plinth package or .wasm component.
    path: String,
}

impl ShowArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.show(ctx))
    }

    fn show(self, ctx: &Context) -> Result<Outcome, Failure> {
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
        // What the signature is checked on: the installed folder, or the path as given (a
        // package's signature is `FILE.sig` beside it, not inside).
        let target = installed
            .clone()
            .unwrap_or_else(|| PathBuf::from(&self.path));
        let signature = signature_status(ctx, &target);
        let is_package = installed.is_none()
            && target.is_file()
            && target.extension().is_some_and(|e| e == "plinth");
        let unpacked = if is_package {
            Some(unpack_package(&target)?)
        } else {
            None
        };
        let path = unpacked.as_ref().map_or(target.as_path(), |u| u.dir());
        let (manifest, component_path): (Option<Manifest>, Option<PathBuf>) =
            if path.extension().is_some_and(|e| e == "wasm") {
                (None, Some(path.to_path_buf()))
            } else {
                let parsed = Manifest::load(path)?;
                printer.diagnostics_text(&parsed.warnings);
                let component = parsed.manifest.component_path();
                (Some(parsed.manifest), component)
            };
        let inspection = match (&component_path, &manifest) {
            // Themes alone: nothing to inspect; the digest covers the files.
            (None, Some(m)) => plinth_host::Inspection {
                digest: plinth_host::componentless_digest(m)?,
                imports: Vec::new(),
                exports: Vec::new(),
            },
            (component, _) => {
                let bytes = read_component(component.as_deref().unwrap_or(path))?;
                ctx.host(None)?.inspect(&bytes)?
            }
        };
        let requested: Vec<String> = manifest
            .as_ref()
            .map(|m| m.requested_grants().iter().map(|g| g.to_string()).collect())
            .unwrap_or_default();
        let exports: Vec<String> = inspection.exports.iter().map(|f| f.signature()).collect();
        // A package's component is named by its member path, not the temporary directory.
        let component_path = component_path.map(|component| match &unpacked {
            Some(u) => component
                .strip_prefix(u.dir())
                .map_or(component.clone(), Path::to_path_buf),
            None => component,
        });
        let (signature_json, bad_signature) = match signature {
            Some((status, bad)) => (status, bad),
            None => (Value::Null, None),
        };
        let diagnostics: Vec<Diagnostic> = bad_signature.into_iter().collect();
        if printer.json {
            printer.json_doc(&json!({
                "id": manifest.as_ref().map(|m| m.plugin.id.to_string()),
                "version": manifest.as_ref().map(|m| m.plugin.version.to_string()),
                "name": manifest.as_ref().and_then(|m| m.plugin.name.clone()),
                "description": manifest.as_ref().and_then(|m| m.plugin.description.clone()),
                "component": component_path,
                "digest": inspection.digest.to_string(),
                "api": manifest.as_ref().and_then(|m| m.api().map(|v| v.to_string())),
                "world": manifest.as_ref().and_then(|m| m.world()),
                "package": is_package.then_some(&target),
                "signature": signature_json,
                "provides": manifest.as_ref().map(crate::commands::kinds::provides_json),
                "requested_capabilities": requested,
                "granted_capabilities": granted.clone().unwrap_or_default(),
                "imports": inspection.imports,
                "exports": exports,
                "diagnostics": diagnostics,
            }));
            return Ok(Outcome::Ok);
        }
        if let Some(m) = &manifest {
            printer.line(format!("{} {}", m.plugin.id, m.plugin.version));
            if let Some(name) = &m.plugin.name {
                printer.line(format!("  name:        {name}"));
            }
            if let Some(description) = &m.plugin.description {
                printer.line(format!("  description: {description}"));
            }
            if let Some(world) = m.world() {
                printer.line(format!("  world:       plinth:plugin/{world}"));
            }
            if let Some(api) = m.api() {
                printer.line(format!("  api:         {api}"));
            }
        }
        printer.diagnostics_text(&diagnostics);
        match &component_path {
            None => printer.line("  component:   (none: themes alone)"),
            Some(component) if is_package => printer.line(format!(
                "  component:   {} (in {})",
                component.display(),
                target.display()
            )),
            Some(component) => printer.line(format!("  component:   {}", component.display())),
        }
        printer.line(format!("  digest:      {}", inspection.digest));
        printer.line(format!(
            "  signature:   {}",
            describe_signature(&signature_json)
        ));
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
        if let Some(m) = &manifest
            && !m.provides.is_empty()
        {
            printer.line("provides:");
            for line in crate::commands::kinds::lines(m) {
                printer.line(line);
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
        Ok(Outcome::Ok)
    }
}

/// The component's bytes, read as a bounded regular file (docs/design/0032); a missing file
/// means the plugin is not built yet.
fn read_component(path: &Path) -> Result<Vec<u8>, Diagnostic> {
    use plinth_manifest::plugin_file::{COMPONENT_MAX_BYTES, read};
    read(path, COMPONENT_MAX_BYTES).map_err(|e| {
        Diagnostic::new(e.code(), e.to_string()).with_hint(
            "build the plugin first (`plinth build`); a component is a regular file of at most 256 MiB",
        )
    })
}

/// The signature status of [`signature_status`] in words.
fn describe_signature(status: &Value) -> String {
    let field = |key: &str| status[key].as_str().unwrap_or_default();
    match field("status") {
        "trusted" => format!("signed by trusted key `{}`", field("signer")),
        "unsigned" => "unsigned".to_owned(),
        "untrusted-key" => match status["key"].as_str() {
            Some(key) => format!("signed by a key not in the trust store ({key})"),
            None => "signed by a key not in the trust store".to_owned(),
        },
        "bad-signature" => "BAD SIGNATURE: the files changed since they were signed".to_owned(),
        _ => "(no manifest beside the component to check a signature against)".to_owned(),
    }
}
