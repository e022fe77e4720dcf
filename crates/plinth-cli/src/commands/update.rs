//! `plinth update [ID]`: install the newest compatible version of installed plugins from the
//! index, each verified like `plinth install`. A refused update changes nothing.
//!
//! An update follows the plugin's lock entry (docs/design/0034): a plugin whose newer
//! version the index would download from another origin than the one `plinth.lock` records
//! (another server, OCI repository or folder) is skipped (`other-source`), and the new
//! version must be signed by the key the id is pinned to (`identity-changed` otherwise).
//! An update keeps the plugin's enablement and grants.

use clap::Args;
use std::path::Path;

use plinth_manager::state::review_hook;
use plinth_manifest::PluginId;
use plinth_manifest::diagnostic::{Diagnostic, ToDiagnostic};
use plinth_package::{InstallOptions, Lockfile, origin};
use plinth_registry::{
    IndexLocation, LoadedIndex, PreReleases, PrivateAddresses, RegistryClient, SizeCaps, Transport,
    UpdateOutcome, UpdateReport, Updater,
};
use serde_json::{Value, json};

use crate::commands::installed::state_file;
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
        let mut options = InstallOptions::new(policy(ctx, self.allow_unsigned));
        // An update is the same plugin (or refused); the hook only guards a race with an
        // uninstall.
        options.before_write = Some(review_hook(state_file(ctx)).0);
        let bar = Bar::new(printer);
        let result = block_on(async {
            let client = RegistryClient::new(SizeCaps::default(), transport)?
                .private_addresses(PrivateAddresses::allow_if(self.allow_private));
            let index = client.load_index(&location).await?;
            printer.diagnostics_text(&index.parsed.warnings);
            let updater = Updater::new(&client, &home, &index, options).pre_releases(pre);
            let lock = match home.lockfile() {
                Ok(lock) => lock,
                Err(e) => return Ok(Err(e)),
            };
            let ids: Vec<PluginId> = match &id {
                Some(id) => vec![id.clone()],
                None => lock.entries().map(|(id, _)| id.clone()).collect(),
            };
            let mut reports = Vec::new();
            let mut elsewhere = Vec::new();
            for id in ids {
                match installed_elsewhere(&updater, &index, &lock, &id) {
                    Some(skip) => elsewhere.push(skip),
                    None => reports.push(updater.update(&id, &bar).await),
                }
            }
            Ok::<_, plinth_registry::RegistryError>(Ok((reports, elsewhere)))
        });
        let (reports, elsewhere) = result.map_err(runtime_failure)???;
        Ok(print_reports(printer, &reports, &elsewhere))
    }
}

/// A plugin the index has a newer version of, but from another origin than its lock entry
/// records: not updated from this index.
struct Elsewhere {
    id: PluginId,
    version: String,
    installed_from: String,
    offered_from: String,
}

/// `Some` when the index's candidate for `id` comes from another origin than the lock
/// entry's source.
fn installed_elsewhere(
    updater: &Updater<'_>,
    index: &LoadedIndex,
    lock: &Lockfile,
    id: &PluginId,
) -> Option<Elsewhere> {
    let entry = lock.get(id)?;
    let candidate = updater.candidate(id, &entry.version)?;
    let offered = candidate_source(&index.location, &candidate.url);
    let (installed_from, offered_from) = (origin(&entry.source), origin(&offered));
    (installed_from != offered_from).then(|| Elsewhere {
        id: id.clone(),
        version: entry.version.to_string(),
        installed_from,
        offered_from,
    })
}

/// Where the index would download a package listed at `url` from, written as the lockfile
/// records it (an absolute URL or `oci://` reference, or a path beside a file index).
fn candidate_source(location: &IndexLocation, url: &str) -> String {
    if ["oci://", "http://", "https://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        return url.to_owned();
    }
    match location {
        IndexLocation::Url(base) => base
            .join(url)
            .map_or_else(|_| url.to_owned(), |joined| joined.to_string()),
        IndexLocation::File(index) => {
            let path = Path::new(url.strip_prefix("file://").unwrap_or(url));
            let dir = index.parent().unwrap_or(Path::new("."));
            dir.join(path).display().to_string()
        }
    }
}

/// Prints what was updated, what was skipped and why, and the refusals (exit 1 if any).
fn print_reports(printer: &Printer, reports: &[UpdateReport], elsewhere: &[Elsewhere]) -> Outcome {
    let mut updated = Vec::new();
    let mut skipped = Vec::new();
    let mut failed: Vec<Diagnostic> = Vec::new();
    for other in elsewhere {
        printer.line(format!(
            "{} {}: installed from {}, and the index offers it from {}; skipped (install it with `--replace` to switch)",
            other.id, other.version, other.installed_from, other.offered_from
        ));
        let mut row = skip(other.id.as_str(), &other.version, "other-source");
        row["installed_from"] = json!(other.installed_from);
        row["offered_from"] = json!(other.offered_from);
        skipped.push(row);
    }
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
