//! `plinth consent deny ID HOST`.

use clap::Args;
use plinth_host::ConsentState;

use super::Decision;
use crate::context::Context;
use crate::output::{Outcome, finish};

/// Refuse plugin ID's requests to HOST for good (it is not asked again).
#[derive(Debug, Args)]
pub struct DenyArgs {
    #[command(flatten)]
    decision: Decision,
}

impl DenyArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(
            &ctx.printer,
            self.decision.record(ctx, ConsentState::Denied),
        )
    }
}
