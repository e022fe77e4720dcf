//! `plinth uninstall ID`: remove an installed plugin and its lockfile entry.

use clap::Args;
use plinth_manifest::{Code, Diagnostic, PluginId};
use plinth_package::uninstall;
use serde_json::json;

use crate::commands::package_support::{fail_with, home};
use crate::context::Context;
use crate::output::{Outcome, fail};

/// Remove an installed plugin's directory and its plinth.lock entry.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// The plugin id.
    id: String,
}

impl UninstallArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        let printer = &ctx.printer;
        let id = match PluginId::new(self.id.clone()) {
            Ok(id) => id,
            Err(e) => {
                return fail(
                    printer,
                    Diagnostic::new(Code::BadArgument, e.to_string()),
                    Outcome::Usage,
                );
            }
        };
        let home = home(ctx);
        match uninstall(&home, &id) {
            Ok(entry) => {
                let version = entry.as_ref().map(|e| e.version.to_string());
                if printer.json {
                    printer.json_doc(&json!({"ok": true, "id": id.as_str(), "version": version}));
                } else {
                    let version = version.map(|v| format!(" {v}")).unwrap_or_default();
                    printer.line(format!("uninstalled {id}{version}"));
                }
                Outcome::Ok
            }
            Err(e) => fail_with(printer, &e),
        }
    }
}
