//! `plinth consent list [--pending]`.

use clap::Args;
use plinth_host::ConsentState;
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// List the hosts plugins asked for, and the decisions.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the requests still waiting for a decision.
    #[arg(long)]
    pending: bool,
}

impl ListArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.list(ctx))
    }

    fn list(self, ctx: &Context) -> Result<Outcome, Failure> {
        let entries = super::store(ctx)
            .and_then(|s| s.list())
            .map_err(super::consent_failure)?;
        let entries: Vec<_> = entries
            .into_iter()
            .filter(|e| e.tenant == ctx.tenant)
            .filter(|e| !self.pending || e.state == ConsentState::Pending)
            .collect();
        let printer = &ctx.printer;
        if printer.json {
            let rows: Vec<_> = entries
                .iter()
                .map(|e| json!({"plugin": e.plugin, "host": e.host, "state": e.state.to_string()}))
                .collect();
            printer.json_doc(&json!({ "consent": rows }));
        } else if entries.is_empty() {
            printer.note("no consent requests");
        } else {
            for e in &entries {
                printer.line(format!("{}\t{}\t{}", e.plugin, e.host, e.state));
            }
        }
        Ok(Outcome::Ok)
    }
}
