//! `plinth disable ID`: persist `enabled = false`.

use clap::Args;

use crate::commands::enable::set_enabled;
use crate::context::Context;
use crate::output::{Outcome, finish};

/// Disable a plugin (persisted in plugins.toml).
#[derive(Debug, Args)]
pub struct DisableArgs {
    /// Plugin id.
    id: String,
}

impl DisableArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, set_enabled(ctx, &self.id, false))
    }
}
