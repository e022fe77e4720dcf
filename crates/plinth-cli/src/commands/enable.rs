//! `plinth enable ID`: persist `enabled = true` (and the component's `artifact_path`).

use clap::Args;
use serde_json::json;

use crate::commands::installed::{inventory, not_installed, read_state, state_file};
use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Enable an installed plugin (persisted in plugins.toml).
#[derive(Debug, Args)]
pub struct EnableArgs {
    /// Plugin id.
    id: String,
}

impl EnableArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, set_enabled(ctx, &self.id, true))
    }
}

/// Shared by `enable` and `disable`.
pub fn set_enabled(ctx: &Context, id: &str, enabled: bool) -> Result<Outcome, Failure> {
    let printer = &ctx.printer;
    let found = inventory(ctx).get(id).cloned();
    let in_state = read_state(ctx)?.entry(id).is_some();
    if found.is_none() && !in_state {
        return Err(not_installed(ctx, id).into());
    }
    let before = state_file(ctx).update(|doc| {
        let before = doc.set_enabled(id, enabled)?;
        if let Some(found) = &found {
            doc.set_artifact_path(id, &found.component())?;
        }
        Ok(before)
    })?;
    let word = if enabled { "enabled" } else { "disabled" };
    if printer.json {
        printer.json_doc(&json!({"id": id, "enabled": enabled, "changed": before != enabled}));
    } else if before == enabled {
        printer.line(format!("{id} was already {word}"));
    } else {
        printer.line(format!("{id} {word}"));
    }
    Ok(Outcome::Ok)
}
