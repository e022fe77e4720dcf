//! `plinth list`: discovered plugins and their state; read-only, runs no plugin code.

use clap::Args;
use plinth_manifest::diagnostic::Diagnostic;
use plinth_manifest::grant::Grant;
use serde_json::{Value, json};

use crate::commands::installed::{inventory, read_state};
use crate::context::Context;
use crate::output::{Failure, Outcome, finish, terminal_safe};

/// List installed plugins: id, version, source, enabled, status, kinds, capabilities.
#[derive(Debug, Args)]
pub struct ListArgs {}

impl ListArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.list(ctx))
    }

    fn list(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let inventory = inventory(ctx);
        let state = read_state(ctx)?;
        let mut rows: Vec<Value> = Vec::new();
        for (id, found) in &inventory.plugins {
            let entry = state.entry(id);
            let enabled = entry.is_some_and(|e| e.enabled);
            let errors: Vec<&Diagnostic> = inventory
                .diagnostics_for(id)
                .filter(|d| d.is_error())
                .collect();
            let status = match (errors.first(), enabled) {
                (Some(d), _) => format!("invalid ({})", d.code),
                (None, true) => "enabled".into(),
                (None, false) => "disabled".into(),
            };
            let requested: Vec<String> = found
                .manifest
                .requested_grants()
                .iter()
                .map(Grant::to_string)
                .collect();
            rows.push(json!({
                "id": id,
                "version": found.manifest.plugin.version.to_string(),
                "source": found.dir,
                "origin": found.origin,
                "enabled": enabled,
                "status": status,
                "requested": requested,
                "granted": entry.map(|e| e.grants.clone()).unwrap_or_default(),
                "kinds": crate::commands::kinds::summary(&found.manifest),
                "provides": crate::commands::kinds::provides_json(&found.manifest),
            }));
        }
        for entry in &state.entries {
            if inventory.get(&entry.id).is_none() {
                rows.push(json!({
                    "id": entry.id,
                    "version": Value::Null,
                    "source": entry.artifact_path,
                    "origin": "state",
                    "enabled": entry.enabled,
                    "status": if entry.artifact_path.is_some() { "not discovered (artifact_path)" } else { "missing" },
                    "requested": Vec::<String>::new(),
                    "granted": entry.grants,
                    "kinds": Value::Null,
                    "provides": Value::Null,
                }));
            }
        }
        if printer.json {
            printer.json_doc(&json!({ "plugins": rows, "diagnostics": inventory.diagnostics }));
            return Ok(Outcome::Ok);
        }
        printer.diagnostics_text(&inventory.diagnostics);
        if rows.is_empty() {
            printer.line("no plugins installed");
            return Ok(Outcome::Ok);
        }
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Null => "-".into(),
            Value::Array(items) if items.is_empty() => "-".into(),
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        let header = [
            "ID",
            "VERSION",
            "ENABLED",
            "STATUS",
            "KINDS",
            "REQUESTED",
            "GRANTED",
            "SOURCE",
        ];
        let keys = [
            "id",
            "version",
            "enabled",
            "status",
            "kinds",
            "requested",
            "granted",
            "source",
        ];
        // Escaped before the widths are measured: a path is the plugin folder's name, which
        // whoever made the folder chose (docs/design/0035).
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                keys.iter()
                    .map(|k| terminal_safe(&text(&row[*k])).into_owned())
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = (0..keys.len())
            .map(|i| {
                cells
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let render = |cols: Vec<&str>| {
            cols.iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        printer.line(render(header.to_vec()));
        for row in &cells {
            printer.line(render(row.iter().map(String::as_str).collect()));
        }
        Ok(Outcome::Ok)
    }
}
