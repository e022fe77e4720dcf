//! `plinth consent approve ID HOST`.

use clap::Args;
use plinth_host::ConsentState;

use super::Decision;
use crate::context::Context;
use crate::output::{Outcome, finish};

/// Let plugin ID reach HOST (as if `http:HOST` were granted).
#[derive(Debug, Args)]
pub struct ApproveArgs {
    #[command(flatten)]
    decision: Decision,
}

impl ApproveArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(
            &ctx.printer,
            self.decision.record(ctx, ConsentState::Approved),
        )
    }
}
