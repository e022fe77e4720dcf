//! `plinth uninstall ID`: remove an installed plugin and its lockfile entry, then take back
//! its enablement and grants in `plugins.toml` (its settings stay): whatever is installed
//! under the id later is reviewed again (docs/design/0034). The key pin of the id stays in
//! `plinth.lock`.

use clap::Args;
use plinth_manifest::{Code, Diagnostic, PluginId};
use plinth_package::uninstall;
use serde_json::json;

use crate::commands::installed::state_file;
use crate::commands::package_support::home;
use crate::context::Context;
use crate::output::{Failure, Outcome, finish};
use plinth_manager::state::reset_review;

/// Remove an installed plugin's directory and its plinth.lock entry; disable it and remove
/// its grants.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// The plugin id.
    id: String,
}

impl UninstallArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.uninstall(ctx))
    }

    fn uninstall(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let id = PluginId::new(self.id.clone())
            .map_err(|e| Diagnostic::new(Code::BadArgument, e.to_string()))?;
        let entry = uninstall(&home(ctx), &id)?;
        let version = entry.as_ref().map(|e| e.version.to_string());
        // After the files are gone: a refused uninstall changes nothing.
        let reset = reset_review(&state_file(ctx), id.as_str())?;
        if printer.json {
            printer.json_doc(&json!({
                "ok": true,
                "id": id.as_str(),
                "version": version,
                "review_reset": reset,
            }));
        } else {
            let version = version.map(|v| format!(" {v}")).unwrap_or_default();
            printer.line(format!("uninstalled {id}{version}"));
            if let Some(reset) = reset.filter(|r| r.was_enabled || !r.grants.is_empty()) {
                printer.line(format!(
                    "it is disabled and its grants ({}) are removed from plugins.toml",
                    if reset.grants.is_empty() {
                        "none".to_owned()
                    } else {
                        reset.grants.join(", ")
                    }
                ));
            }
        }
        Ok(Outcome::Ok)
    }
}
