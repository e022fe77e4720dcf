//! `plinth call ID EXPORT …` for an installed plugin: requires it enabled, and runs it
//! through the manager with the grants and settings of its `plugins.toml` entry. The
//! manager reads the plugin's folder once and checks it before anything runs: its signature
//! (under `[security] require_signatures`), and for an installed plugin the digest
//! `plinth.lock` pins and the key its id is pinned to (docs/design/0034).

use plinth_host::Limits;
use plinth_manager::state::PluginsSection;
use plinth_manager::{Manager, ManagerError, SignatureCheck};
use plinth_manifest::diagnostic::ToDiagnostic;
use serde_json::{Value, json};

use crate::commands::call::call_failure;
use crate::commands::installed::{inventory, read_state, state_file};
use crate::commands::package_support::policy;
use crate::context::Context;
use crate::output::{Failure, Outcome, json_text};

pub fn call_installed(
    ctx: &Context,
    id: &str,
    export: &str,
    args: &[Value],
    limits: Limits,
    argv: &[String],
) -> Result<Outcome, Failure> {
    let printer = &ctx.printer;
    let manager = installed_manager(ctx, id, limits, argv)?;
    let result = manager
        .call_json(id, export, args)
        .map_err(|e| manager_failure(&e))?;
    if printer.json {
        printer.json_doc(&json!({ "result": result }));
    } else {
        printer.line(json_text(&result));
    }
    Ok(Outcome::Ok)
}

/// A manager running only the enabled installed plugin `id`, with the grants and settings
/// of its entry.
pub fn installed_manager(
    ctx: &Context,
    id: &str,
    limits: Limits,
    argv: &[String],
) -> Result<Manager, Failure> {
    let state = read_state(ctx)?;
    let Some(entry) = state.entry(id).filter(|e| e.enabled).cloned() else {
        let error = ManagerError::Disabled { id: id.into() };
        return Err(error.to_diagnostic().into());
    };
    let host = if entry.grants.iter().any(|g| g == "kv") {
        ctx.host_with_data(Some(limits))?
    } else {
        ctx.host(Some(limits))?
    };
    let mut builder = Manager::builder(host)
        .base_dir(state_file(ctx).base_dir())
        .inventory(inventory(ctx))
        .signatures(SignatureCheck::in_home(&ctx.home, policy(ctx, false)));
    if let Some(tenant) = &ctx.tenant {
        builder = builder.tenant(tenant.clone());
    }
    builder = builder.program_args(argv.iter().cloned());
    let manager = builder.build();
    manager.apply(&PluginsSection {
        entries: vec![entry],
        ..PluginsSection::new()
    });
    Ok(manager)
}

/// The serving version of installed plugin `id`, or why it does not serve.
pub fn installed_plugin(
    ctx: &Context,
    id: &str,
    limits: Limits,
) -> Result<plinth_host::Plugin, Failure> {
    let manager = installed_manager(ctx, id, limits, &[])?;
    manager.plugin(id).ok_or_else(|| {
        let diagnostic = match manager.status(id) {
            Some(plinth_manager::Status::Error(diagnostic)) => diagnostic,
            _ => ManagerError::Disabled { id: id.into() }.to_diagnostic(),
        };
        Failure::with_outcome(diagnostic, Outcome::Failed)
    })
}

/// A failed call through the manager: a call failure ends as in `plinth call`; any other
/// error exits 1, whatever its code: a plugin that is down (`Unavailable`) carries its load
/// diagnostic, which can be `trap` (on-load refused its settings), and that was exit 1 before.
fn manager_failure(error: &ManagerError) -> Failure {
    match error {
        ManagerError::Call(e) => call_failure(e),
        _ => Failure::with_outcome(error.to_diagnostic(), Outcome::Failed),
    }
}
