//! `plinth consent list | approve ID HOST | deny ID HOST`: per-domain consent decisions in
//! `<home>/consent.toml` (docs/design/0020). A running host reads the file on each request
//! that needs consent, so a decision takes effect without a restart. Writes take the
//! file's sidecar lock and re-read it, so a host's pending entry and a person's decision
//! never overwrite each other; with `--tenant T` the decisions are tenant T's.

mod approve;
mod deny;
mod list;

use clap::{Args, Subcommand};
use plinth_host::{ConsentError, ConsentState, ConsentStore};
use plinth_manifest::diagnostic::{Code, Diagnostic};
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome};

/// Approve or deny the hosts plugins asked to reach (<home>/consent.toml).
#[derive(Debug, Args)]
pub struct ConsentArgs {
    #[command(subcommand)]
    command: ConsentCommand,
}

#[derive(Debug, Subcommand)]
enum ConsentCommand {
    List(list::ListArgs),
    Approve(approve::ApproveArgs),
    Deny(deny::DenyArgs),
}

impl ConsentArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        match self.command {
            ConsentCommand::List(args) => args.run(ctx),
            ConsentCommand::Approve(args) => args.run(ctx),
            ConsentCommand::Deny(args) => args.run(ctx),
        }
    }
}

/// The plugin and host a decision is about.
#[derive(Debug, Args)]
struct Decision {
    /// The plugin id.
    id: String,
    /// The host as `plinth consent list` shows it (`api.example.com`, `host:port`).
    host: String,
}

/// The consent store of the home directory.
fn store(ctx: &Context) -> Result<ConsentStore, ConsentError> {
    ConsentStore::open(ctx.home.join("consent.toml"))
}

/// `invalid-manifest`: the consent file cannot be read or written.
fn consent_failure(error: ConsentError) -> Failure {
    Diagnostic::new(Code::InvalidManifest, error.to_string())
        .with_hint("fix or remove the consent file; `plinth consent list` reads it")
        .into()
}

impl Decision {
    /// Records `state` for this plugin and host, and says so.
    fn record(&self, ctx: &Context, state: ConsentState) -> Result<Outcome, Failure> {
        // With `--tenant`, the decision is the tenant's: the host asks with the tenant the
        // plugin was loaded for (docs/design/0032).
        let tenant = ctx.tenant.as_deref();
        store(ctx)
            .and_then(|store| store.decide(tenant, &self.id, &self.host, state))
            .map_err(consent_failure)?;
        let printer = &ctx.printer;
        if printer.json {
            printer.json_doc(&json!({
                "ok": true,
                "plugin": self.id,
                "host": self.host,
                "state": state.to_string(),
            }));
        } else {
            printer.line(format!("{}: {} {state}", self.id, self.host));
        }
        Ok(Outcome::Ok)
    }
}
