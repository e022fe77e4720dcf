//! `plinth update [ID]`: install the newest compatible version of installed plugins from the
//! index, each verified like `plinth install`. A refused update changes nothing.

use clap::Args;
use plinth_manifest::PluginId;
use plinth_manifest::diagnostic::{Diagnostic, ToDiagnostic};
use plinth_package::InstallOptions;
use plinth_registry::{
    PreReleases, PrivateAddresses, RegistryClient, SizeCaps, Transport, UpdateOutcome,
    UpdateReport, Updater,
};
use serde_json::{Value, json};

use crate::commands::package_support::{home, policy};
use crate::commands::search::index_location;
use crate::context::Context;
use crate::output::{Failure, Outcome, Printer, finish};
use crate::progress::{Bar, block_on, runtime_failure};

/// Update installed plugins (or one) to the newest compatible version in the index.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The plugin to update [default: every installed plugin].
    id: Option<String>,
    /// The index [default: host config `[registry] index`].
    #[arg(long, value_name = "URL|PATH")]
    index: Option<String>,
    /// Let an update pick a pre-release.
    #[arg(long)]
    pre: bool,
    /// Accept unsigned packages (a signature that is present must still verify).
    #[arg(long)]
    allow_unsigned: bool,
    /// Talk plain HTTP to OCI registries the index points at.
    #[arg(long)]
    plain_http: bool,
    /// Let the index or registry send requests to loopback, private or link-local
    /// addresses on other hosts than the one you named.
    #[arg(long)]
    allow_private: bool,
}

impl UpdateArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.update(ctx))
    }

    fn update(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let id = self
            .id
            .as_deref()
            .map(PluginId::new)
            .transpose()
            .map_err(|e| plinth_package::PackageError::BadInput(e.to_string()))?;
        let location = index_location(ctx, self.index.as_deref())?;
        let transport = Transport::plain_if(self.plain_http);
        let pre = if self.pre {
            PreReleases::Include
        } else {
            PreReleases::Exclude
        };
        let home = home(ctx);
        let options = InstallOptions::new(policy(ctx, self.allow_unsigned));
        let bar = Bar::new(printer);
        let result = block_on(async {
            let client = RegistryClient::new(SizeCaps::default(), transport)?
                .private_addresses(PrivateAddresses::allow_if(self.allow_private));
            let index = client.load_index(&location).await?;
            printer.diagnostics_text(&index.parsed.warnings);
            let updater = Updater::new(&client, &home, &index, options).pre_releases(pre);
            let reports = match &id {
                Some(id) => vec![updater.update(id, &bar).await],
                None => match updater.update_all(&bar).await {
                    Ok(reports) => reports,
                    Err(e) => return Ok(Err(e)),
                },
            };
            Ok::<_, plinth_registry::RegistryError>(Ok(reports))
        });
        let reports = result.map_err(runtime_failure)???;
        Ok(print_reports(printer, &reports))
    }
}

/// Prints what was updated, what was skipped and why, and the refusals (exit 1 if any).
fn print_reports(printer: &Printer, reports: &[UpdateReport]) -> Outcome {
    let mut updated = Vec::new();
    let mut skipped = Vec::new();
    let mut failed: Vec<Diagnostic> = Vec::new();
    for report in reports {
        let id = report.id.as_str();
        match &report.outcome {
            UpdateOutcome::Updated {
                from, installed, ..
            } => {
                printer.line(format!(
                    "updated {id} {from} -> {} ({}, {})",
                    installed.version,
                    installed.digest,
                    installed
                        .verification
                        .signer()
                        .map_or_else(|| "UNSIGNED".to_owned(), |s| format!("signed by `{s}`"))
                ));
                updated.push(json!({
                    "id": id,
                    "from": from.to_string(),
                    "to": installed.version.to_string(),
                    "digest": installed.digest.to_string(),
                    "signer": installed.verification.signer(),
                }));
            }
            UpdateOutcome::UpToDate { version } => {
                printer.line(format!("{id} {version} is up to date"));
                skipped.push(skip(id, version, "up-to-date"));
            }
            UpdateOutcome::NotListed { version } => {
                printer.line(format!("{id} {version}: not in the index, skipped"));
                skipped.push(skip(id, version, "not-in-index"));
            }
            UpdateOutcome::Failed(error) => failed.push(error.to_diagnostic()),
        }
    }
    if printer.json {
        printer.json_doc(&json!({
            "ok": failed.is_empty(),
            "updated": updated,
            "skipped": skipped,
            "diagnostics": failed,
        }));
    } else {
        printer.diagnostics_text(&failed);
    }
    if failed.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Failed
    }
}

fn skip(id: &str, version: &impl std::fmt::Display, reason: &str) -> Value {
    json!({"id": id, "version": version.to_string(), "reason": reason})
}
