//! `plinth call TARGET EXPORT [ARG_JSON…] [-- ARG…]`: run one export of a plugin.

use clap::Args;
use plinth_host::{CallError, Limits, LoadOptions};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_manifest::grant::Grant;
use serde_json::{Value, json};

use crate::commands::load_target;
use crate::context::Context;
use crate::output::{Outcome, fail};

/// Call an export of a plugin with JSON arguments; print the result as JSON.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Installed plugin id, plugin directory, plugin.toml or .wasm component.
    target: String,
    /// Export: `func`, `iface#func` or `ns:pkg/iface@version#func`.
    export: String,
    /// One JSON value per parameter, in order (a negative number is an argument).
    #[arg(allow_hyphen_values = true, value_name = "ARG_JSON")]
    args: Vec<String>,
    /// Program arguments after `--`: the guest's `argv[1..]` (`wasi:cli/environment`;
    /// `argv[0]` is the plugin id, or the file name of a `.wasm`).
    #[arg(last = true, value_name = "ARG")]
    argv: Vec<String>,
    /// Fuel budget for the call.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Memory limit in MiB.
    #[arg(long, value_name = "N")]
    memory_mib: Option<u64>,
    /// Wall-clock limit in milliseconds.
    #[arg(long, value_name = "N")]
    timeout_ms: Option<u64>,
    /// Grant a capability to the plugin for this call (repeatable), e.g. `log`.
    #[arg(long = "grant", value_name = "G")]
    grants: Vec<String>,
}

impl CallArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        let printer = &ctx.printer;
        let mut args = Vec::with_capacity(self.args.len());
        for (i, text) in self.args.iter().enumerate() {
            match serde_json::from_str::<Value>(text) {
                Ok(value) => args.push(value),
                Err(e) => {
                    return fail(
                        printer,
                        Diagnostic::new(
                            Code::BadArgument,
                            format!("argument {} is not JSON ({e}): {text}", i + 1),
                        )
                        .with_hint("quote strings as JSON: '\"text\"'"),
                        Outcome::Usage,
                    );
                }
            }
        }
        let mut grants = Vec::new();
        for text in &self.grants {
            match text.parse::<Grant>() {
                Ok(grant) => grants.push(grant),
                Err(e) => {
                    return fail(
                        printer,
                        Diagnostic::new(Code::BadArgument, e.to_string()),
                        Outcome::Usage,
                    );
                }
            }
        }
        let host_limits = ctx.config.limits;
        let limits = Limits {
            fuel_units: self.fuel.unwrap_or(host_limits.fuel_units),
            mem_bytes: self
                .memory_mib
                .map_or(host_limits.mem_bytes, |mib| mib.saturating_mul(1024 * 1024)),
            wall_timeout_ms: self.timeout_ms.unwrap_or(host_limits.wall_timeout_ms),
            ..host_limits
        };
        if crate::commands::installed::is_installed_id(ctx, &self.target) {
            if !self.grants.is_empty() {
                return fail(
                    printer,
                    Diagnostic::new(
                        Code::BadArgument,
                        "`--grant` is for path targets; an installed plugin uses its granted capabilities",
                    )
                    .with_hint(format!("grant it: `plinth grant {} G…`", self.target)),
                    Outcome::Usage,
                );
            }
            return crate::commands::call_installed::call_installed(
                ctx,
                &self.target,
                &self.export,
                &args,
                limits,
                &self.argv,
            );
        }
        let host = if grants.contains(&Grant::Kv) {
            ctx.host_with_data(Some(limits))
        } else {
            ctx.host(Some(limits))
        };
        let host = match host {
            Ok(host) => host,
            Err(e) => return fail(printer, e.to_diagnostic(), Outcome::Failed),
        };
        let options = LoadOptions::default()
            .with_grants(grants)
            .with_args(self.argv);
        let plugin = match load_target(&host, &self.target, options) {
            Ok(plugin) => plugin,
            Err(diagnostic) => return fail(printer, diagnostic, Outcome::Failed),
        };
        match plugin.call_json(&self.export, &args) {
            Ok(result) => {
                if printer.json {
                    printer.json_doc(&json!({ "result": result }));
                } else {
                    println!("{result}");
                }
                Outcome::Ok
            }
            Err(error) => call_failed(ctx, &error),
        }
    }
}

fn call_failed(ctx: &Context, error: &CallError) -> Outcome {
    let outcome = if error.exit_status().is_some() {
        // The plugin ended the call itself: a failure, not a trap.
        Outcome::Failed
    } else if error.is_guest_failure() {
        Outcome::GuestFailed
    } else {
        Outcome::Usage
    };
    fail(&ctx.printer, error.to_diagnostic(), outcome)
}
