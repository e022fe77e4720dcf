//! `plinth install PATH|FILE [--allow-unsigned]`: verify and install a plugin directory or a
//! `.plinth` package into the user plugin directory. Never enables or grants anything.

use std::path::PathBuf;

use clap::Args;
use plinth_package::{InstallOptions, Installed, Verification, install_path};
use serde_json::json;

use crate::commands::package_support::{fail_with, home, policy};
use crate::context::Context;
use crate::output::Outcome;

/// Install a plugin directory or .plinth package (verifying its signature), record it in
/// plinth.lock, and print what it asks for. Installing does not enable it.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// A plugin directory or a .plinth file (its signature: FILE.sig, or x.sig beside x.wasm).
    path: PathBuf,
    /// Install even without a signature (a signature that is present must still verify).
    #[arg(long)]
    allow_unsigned: bool,
}

impl InstallArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        let printer = &ctx.printer;
        let home = home(ctx);
        let opts = InstallOptions::new(policy(ctx, self.allow_unsigned));
        let installed = match install_path(&home, &self.path, &opts) {
            Ok(installed) => installed,
            Err(e) => return fail_with(printer, &e),
        };
        let requested: Vec<String> = installed.requested.iter().map(|g| g.to_string()).collect();
        let grant_command = grant_command(&installed, &requested);
        if printer.json {
            printer.json_doc(&json!({
                "ok": true,
                "id": installed.id.as_str(),
                "version": installed.version.to_string(),
                "digest": installed.digest.to_string(),
                "dir": installed.dir,
                "signer": installed.verification.signer(),
                "replaced": installed.replaced.as_ref().map(|e| e.version.to_string()),
                "requested_capabilities": requested,
                "enabled": false,
                "grant_command": grant_command,
                "diagnostics": installed.warnings,
            }));
            return Outcome::Ok;
        }
        printer.diagnostics_text(&installed.warnings);
        let signed = match &installed.verification {
            Verification::Trusted { name, .. } => format!("signed by `{name}`"),
            Verification::Unsigned => "UNSIGNED".to_owned(),
        };
        let replaced = installed
            .replaced
            .as_ref()
            .map(|e| format!(", replacing {}", e.version))
            .unwrap_or_default();
        printer.line(format!(
            "installed {} {} ({}, {signed}{replaced}) into {}",
            installed.id,
            installed.version,
            installed.digest,
            installed.dir.display()
        ));
        match &grant_command {
            None => printer.line("it requests no capabilities."),
            Some(command) => {
                printer.line("it requests these capabilities (none is granted yet):");
                for grant in &requested {
                    printer.line(format!("  {grant}"));
                }
                printer.line("review them, then grant what you accept:");
                printer.line(format!("  {command}"));
            }
        }
        printer.line(format!(
            "it is not enabled: `plinth enable {}`",
            installed.id
        ));
        Outcome::Ok
    }
}

/// The exact `plinth grant` command that would grant everything requested.
fn grant_command(installed: &Installed, requested: &[String]) -> Option<String> {
    if requested.is_empty() {
        return None;
    }
    let quoted: Vec<String> = requested.iter().map(|g| shell_quote(g)).collect();
    Some(format!(
        "plinth grant {} {}",
        installed.id,
        quoted.join(" ")
    ))
}

/// Quotes a word for a POSIX shell when it has characters the shell would interpret.
fn shell_quote(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/' | '@' | '='));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
