//! `plinth enable ID`: persist `enabled = true` (and the component's `artifact_path`).

use clap::Args;
use plinth_manifest::diagnostic::ToDiagnostic;
use serde_json::json;

use crate::commands::installed::{inventory, not_installed, read_state, state_file};
use crate::context::Context;
use crate::output::{Outcome, fail};

/// Enable an installed plugin (persisted in plugins.toml).
#[derive(Debug, Args)]
pub struct EnableArgs {
    /// Plugin id.
    id: String,
}

impl EnableArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        set_enabled(ctx, &self.id, true)
    }
}

/// Shared by `enable` and `disable`.
pub fn set_enabled(ctx: &Context, id: &str, enabled: bool) -> Outcome {
    let printer = &ctx.printer;
    let found = inventory(ctx).get(id).cloned();
    let in_state = match read_state(ctx) {
        Ok(state) => state.entry(id).is_some(),
        Err(d) => return fail(printer, d, Outcome::Failed),
    };
    if found.is_none() && !in_state {
        return fail(printer, not_installed(ctx, id), Outcome::Failed);
    }
    let result = state_file(ctx).update(|doc| {
        let before = doc.set_enabled(id, enabled)?;
        if let Some(found) = &found {
            doc.set_artifact_path(id, &found.component())?;
        }
        Ok(before)
    });
    match result {
        Ok(before) => {
            let word = if enabled { "enabled" } else { "disabled" };
            if printer.json {
                printer
                    .json_doc(&json!({"id": id, "enabled": enabled, "changed": before != enabled}));
            } else if before == enabled {
                printer.line(format!("{id} was already {word}"));
            } else {
                printer.line(format!("{id} {word}"));
            }
            Outcome::Ok
        }
        Err(e) => fail(printer, e.to_diagnostic(), Outcome::Failed),
    }
}
