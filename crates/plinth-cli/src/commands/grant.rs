//! `plinth grant ID G…`: persist grants; warn about ones the manifest did not request.

use clap::Args;
use plinth_manifest::diagnostic::{Code, Diagnostic, Severity, ToDiagnostic};
use plinth_manifest::grant::Grant;
use serde_json::json;

use crate::commands::installed::{inventory, not_installed, read_state, state_file};
use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Grant capabilities to a plugin (persisted in plugins.toml).
#[derive(Debug, Args)]
pub struct GrantArgs {
    /// Plugin id.
    id: String,
    /// Grants, e.g. `log`, `http:api.example.com`, `fs.read:data`.
    #[arg(required = true, value_name = "G")]
    grants: Vec<String>,
}

/// Parses grant strings; a malformed one is a usage error.
pub fn parse_grants(texts: &[String]) -> Result<Vec<Grant>, Diagnostic> {
    texts
        .iter()
        .map(|t| t.parse::<Grant>().map_err(|e| e.to_diagnostic()))
        .collect()
}

impl GrantArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.grant(ctx))
    }

    fn grant(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        // A malformed grant is `bad-argument`: a usage error (exit 2).
        let grants = parse_grants(&self.grants)?;
        let found = inventory(ctx).get(&self.id).cloned();
        let in_state = read_state(ctx)?.entry(&self.id).is_some();
        if found.is_none() && !in_state {
            return Err(not_installed(ctx, &self.id).into());
        }
        let mut warnings = Vec::new();
        if let Some(found) = &found {
            let requested = found.manifest.requested_grants();
            for grant in grants.iter().filter(|g| !g.is_requested(&requested)) {
                warnings.push(
                    Diagnostic::new(
                        Code::MissingGrant,
                        format!("the manifest of {} does not request `{grant}`; the grant has no effect until it does", self.id),
                    )
                    .with_severity(Severity::Warning)
                    .with_plugin(&self.id),
                );
            }
        }
        // App-defined capabilities reach a plugin only in an app that registers them.
        for grant in grants.iter().filter(|g| matches!(g, Grant::Custom { .. })) {
            warnings.push(
                Diagnostic::new(
                    Code::UnsupportedHostApi,
                    format!(
                        "`{}` is an app-defined capability: it takes effect in a host that registers it (`HostBuilder::host_interface`), not in `plinth call`",
                        grant.capability_name()
                    ),
                )
                .with_severity(Severity::Note)
                .with_plugin(&self.id),
            );
        }
        // Written in canonical form, so `revoke` finds them again.
        let texts: Vec<String> = grants.iter().map(Grant::to_string).collect();
        let added = state_file(ctx).update(|doc| {
            if let Some(found) = &found {
                doc.set_artifact_path(&self.id, &found.component())?;
            }
            doc.add_grants(&self.id, &texts)
        })?;
        if printer.json {
            printer.json_doc(&json!({"id": self.id, "added": added, "diagnostics": warnings}));
        } else {
            printer.diagnostics_text(&warnings);
            printer.line(format!("{}: granted {}", self.id, texts.join(", ")));
        }
        Ok(Outcome::Ok)
    }
}
