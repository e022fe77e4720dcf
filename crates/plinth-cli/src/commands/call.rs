//! `plinth call TARGET EXPORT [ARG_JSON…] [-- ARG…]`: run one export of a plugin.

use clap::Args;
use plinth_host::{CallError, Limits, LoadOptions};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_manifest::grant::Grant;
use serde_json::{Value, json};

use crate::commands::load_target;
use crate::context::Context;
use crate::output::{Failure, Outcome, finish, json_text};

/// Call an export of a plugin with JSON arguments; print the result as JSON.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Installed plugin id, plugin directory, plugin.toml or .wasm component.
    target: String,
    /// Export: `func`, `iface#func` or `ns:pkg/iface@version#func`.
    export: String,
    /// One JSON value per parameter, in order. A negative number is an argument; any other
    /// word that starts with `-` is an option, also after the arguments (docs/design/0035).
    #[arg(allow_negative_numbers = true, value_name = "ARG_JSON")]
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
        finish(&ctx.printer, self.call(ctx))
    }

    fn call(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let args = parse_args(&self.args)?;
        let grants = parse_grants(&self.grants)?;
        let limits = self.limits(ctx);
        if crate::commands::installed::is_installed_id(ctx, &self.target) {
            no_grants_for_installed(&self.target, &self.grants)?;
            return crate::commands::call_installed::call_installed(
                ctx,
                &self.target,
                &self.export,
                &args,
                limits,
                &self.argv,
            );
        }
        // A path target never shares an installed plugin's key-value store.
        let host = if grants.contains(&Grant::Kv) {
            ctx.host_with_path_data(Some(limits), std::path::Path::new(&self.target))?
        } else {
            ctx.host(Some(limits))?
        };
        let options = LoadOptions::default()
            .with_grants(grants)
            .with_args(self.argv);
        let plugin = load_target(&host, &self.target, options)?;
        let result = plugin
            .call_json(&self.export, &args)
            .map_err(|e| call_failure(&e))?;
        if printer.json {
            printer.json_doc(&json!({ "result": result }));
        } else {
            printer.line(json_text(&result));
        }
        Ok(Outcome::Ok)
    }

    /// The host's limits, with the ones given on the command line.
    fn limits(&self, ctx: &Context) -> Limits {
        let host_limits = ctx.config.limits;
        Limits {
            fuel_units: self.fuel.unwrap_or(host_limits.fuel_units),
            mem_bytes: self
                .memory_mib
                .map_or(host_limits.mem_bytes, |mib| mib.saturating_mul(1024 * 1024)),
            wall_timeout_ms: self.timeout_ms.unwrap_or(host_limits.wall_timeout_ms),
            ..host_limits
        }
    }
}

/// One JSON value per argument; one that is not JSON is a usage error.
fn parse_args(texts: &[String]) -> Result<Vec<Value>, Diagnostic> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            serde_json::from_str::<Value>(text).map_err(|e| {
                Diagnostic::new(
                    Code::BadArgument,
                    format!("argument {} is not JSON ({e}): {text}", i + 1),
                )
                .with_hint("quote strings as JSON: '\"text\"'")
            })
        })
        .collect()
}

/// `--grant` is for path targets: an installed plugin runs with the grants of its entry.
pub fn no_grants_for_installed(target: &str, grants: &[String]) -> Result<(), Diagnostic> {
    if grants.is_empty() {
        return Ok(());
    }
    Err(Diagnostic::new(
        Code::BadArgument,
        "`--grant` is for path targets; an installed plugin uses its granted capabilities",
    )
    .with_hint(format!("grant it: `plinth grant {target} G…`")))
}

/// The `--grant` values; a malformed one is a usage error.
pub fn parse_grants(texts: &[String]) -> Result<Vec<Grant>, Diagnostic> {
    texts
        .iter()
        .map(|text| {
            text.parse::<Grant>()
                .map_err(|e| Diagnostic::new(Code::BadArgument, e.to_string()))
        })
        .collect()
}

/// A failed call and its exit code. The outcome is chosen here, not from the code: a
/// `missing-grant` the guest ran into ends with 3 like a trap (its code's class would say 1),
/// as it did before `Failure`; an explicit exit is 1; an unknown export or bad argument 2.
pub fn call_failure(error: &CallError) -> Failure {
    let outcome = if error.exit_status().is_some() {
        // The plugin ended the call itself: a failure, not a trap.
        Outcome::Failed
    } else if error.is_guest_failure() {
        Outcome::GuestFailed
    } else {
        Outcome::Usage
    };
    Failure::with_outcome(error.to_diagnostic(), outcome)
}
