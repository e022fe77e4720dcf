//! `plinth restore`: install every plugin `plinth.lock` pins again from the source it records,
//! verified like `plinth install` and refused unless it has the pinned version and digest.
//! Plugins already installed with their pinned digest are left alone. Never enables anything.

use clap::Args;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_package::{InstallOptions, LOCK_FILE};
use plinth_registry::{
    Previous, PrivateAddresses, RestoreOutcome, RestoreReport, Restorer, Transport,
};
use serde_json::{Value, json};

use crate::commands::package_support::{home, policy};
use crate::context::Context;
use crate::output::{Failure, Outcome, Printer, finish};
use crate::progress::{Bar, block_on, runtime_failure};

/// Re-install every plugin pinned in plinth.lock from its recorded source (path, URL or
/// oci:// reference), verifying it like `plinth install`; a package whose version or digest
/// differs from the pin is refused. Plugins already installed as pinned are skipped.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Accept unsigned packages (a signature that is present must still verify).
    #[arg(long)]
    allow_unsigned: bool,
    /// Talk plain HTTP to OCI registries (implied for 127.0.0.1 and localhost).
    #[arg(long)]
    plain_http: bool,
    /// Let the index or registry send requests to loopback, private or link-local
    /// addresses on other hosts than the one you named.
    #[arg(long)]
    allow_private: bool,
}

impl RestoreArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.restore(ctx))
    }

    fn restore(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let home = home(ctx);
        let lock_path = home.lockfile_path();
        if !lock_path.is_file() {
            let diagnostic = Diagnostic::new(
                Code::MissingPackage,
                format!("no lockfile at {}", lock_path.display()),
            )
            .with_hint(format!(
                "copy the {LOCK_FILE} to restore into the home (or pass --home DIR)"
            ));
            return Err(diagnostic.into());
        }
        let transport = Transport::plain_if(self.plain_http);
        let options = InstallOptions::new(policy(ctx, self.allow_unsigned));
        let restorer = Restorer::new(&home, options)
            .transport(transport)
            .private_addresses(PrivateAddresses::allow_if(self.allow_private));
        let bar = Bar::new(printer);
        let reports = block_on(restorer.restore_all(&bar)).map_err(runtime_failure)??;
        Ok(print_reports(printer, &reports))
    }
}

/// Prints each entry's outcome and a summary line; exit 1 when any entry was refused.
fn print_reports(printer: &Printer, reports: &[RestoreReport]) -> Outcome {
    let mut restored = Vec::new();
    let mut skipped = Vec::new();
    let mut failed: Vec<Diagnostic> = Vec::new();
    for report in reports {
        let id = report.id.as_str();
        let entry = &report.entry;
        match &report.outcome {
            RestoreOutcome::UpToDate => {
                printer.line(format!(
                    "{id} {} is installed as pinned ({}), skipped",
                    entry.version, entry.digest
                ));
                skipped.push(json!({
                    "id": id,
                    "version": entry.version.to_string(),
                    "digest": entry.digest.to_string(),
                    "reason": "installed",
                }));
            }
            RestoreOutcome::Restored {
                installed,
                previous,
            } => {
                let signed = installed
                    .verification
                    .signer()
                    .map_or_else(|| "UNSIGNED".to_owned(), |s| format!("signed by `{s}`"));
                let was = match previous {
                    Previous::Missing => "it was missing",
                    Previous::Changed => "its files had changed",
                };
                printer.line(format!(
                    "restored {id} {} ({}, {signed}; {was}) from {}",
                    installed.version, installed.digest, entry.source
                ));
                restored.push(json!({
                    "id": id,
                    "version": installed.version.to_string(),
                    "digest": installed.digest.to_string(),
                    "source": entry.source,
                    "signer": installed.verification.signer(),
                    "previous": previous_name(*previous),
                    "dir": installed.dir,
                }));
            }
            RestoreOutcome::Failed(error) => {
                let mut diagnostic = error.to_diagnostic();
                if diagnostic.plugin.is_none() {
                    diagnostic = diagnostic.with_plugin(id);
                }
                let message = std::mem::take(&mut diagnostic.message);
                diagnostic.message = format!("restoring {id} from {}: {message}", entry.source);
                failed.push(diagnostic);
            }
        }
    }
    let summary = format!(
        "restore: {} restored, {} already installed, {} refused",
        restored.len(),
        skipped.len(),
        failed.len()
    );
    if printer.json {
        printer.json_doc(&json!({
            "ok": failed.is_empty(),
            "restored": restored,
            "skipped": skipped,
            "summary": summary_counts(restored.len(), skipped.len(), failed.len()),
            "diagnostics": failed,
        }));
    } else {
        printer.diagnostics_text(&failed);
        printer.line(&summary);
        if !restored.is_empty() {
            printer.line(
                "enablement and grants are plugins.toml's and unchanged: `plinth enable ID` to run one",
            );
        }
    }
    if failed.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Failed
    }
}

fn previous_name(previous: Previous) -> &'static str {
    match previous {
        Previous::Missing => "missing",
        Previous::Changed => "changed",
    }
}

fn summary_counts(restored: usize, skipped: usize, refused: usize) -> Value {
    json!({"restored": restored, "skipped": skipped, "refused": refused})
}
