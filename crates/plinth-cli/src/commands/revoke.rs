//! `plinth revoke ID G…`: remove grants from the state.

use clap::Args;
use plinth_manifest::grant::Grant;
use serde_json::json;

use crate::commands::grant::parse_grants;
use crate::commands::installed::state_file;
use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Revoke capabilities from a plugin (persisted in plugins.toml).
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Plugin id.
    id: String,
    /// Grants to remove.
    #[arg(required = true, value_name = "G")]
    grants: Vec<String>,
}

impl RevokeArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.revoke(ctx))
    }

    fn revoke(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        // A malformed grant is `bad-argument`: a usage error (exit 2).
        let grants = parse_grants(&self.grants)?;
        let texts: Vec<String> = grants.iter().map(Grant::to_string).collect();
        let removed = state_file(ctx).update(|doc| doc.remove_grants(&self.id, &texts))?;
        if printer.json {
            printer.json_doc(&json!({"id": self.id, "removed": removed}));
        } else if removed.is_empty() {
            printer.line(format!("{}: none of these were granted", self.id));
        } else {
            printer.line(format!("{}: revoked {}", self.id, removed.join(", ")));
        }
        Ok(Outcome::Ok)
    }
}
