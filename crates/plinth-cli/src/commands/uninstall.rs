//! `plinth uninstall ID`: remove an installed plugin and its lockfile entry.

use clap::Args;
use plinth_manifest::{Code, Diagnostic, PluginId};
use plinth_package::uninstall;
use serde_json::json;

use crate::commands::package_support::home;
use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Remove an installed plugin's directory and its plinth.lock entry.
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
        if printer.json {
            printer.json_doc(&json!({"ok": true, "id": id.as_str(), "version": version}));
        } else {
            let version = version.map(|v| format!(" {v}")).unwrap_or_default();
            printer.line(format!("uninstalled {id}{version}"));
        }
        Ok(Outcome::Ok)
    }
}
