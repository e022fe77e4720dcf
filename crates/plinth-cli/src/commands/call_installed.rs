//! `plinth call ID EXPORT …` for an installed plugin: requires it enabled, and runs it
//! through the manager with the grants and settings of its `plugins.toml` entry.

use plinth_host::Limits;
use plinth_manager::state::PluginsSection;
use plinth_manager::{Manager, ManagerError};
use plinth_manifest::diagnostic::ToDiagnostic;
use serde_json::{Value, json};

use crate::commands::installed::{inventory, read_state, state_file};
use crate::context::Context;
use crate::output::{Outcome, fail};

pub fn call_installed(
    ctx: &Context,
    id: &str,
    export: &str,
    args: &[Value],
    limits: Limits,
    argv: &[String],
) -> Outcome {
    let printer = &ctx.printer;
    let state = match read_state(ctx) {
        Ok(state) => state,
        Err(d) => return fail(printer, d, Outcome::Failed),
    };
    let Some(entry) = state.entry(id).filter(|e| e.enabled).cloned() else {
        let error = ManagerError::Disabled { id: id.into() };
        return fail(printer, error.to_diagnostic(), Outcome::Failed);
    };
    let host = if entry.grants.iter().any(|g| g == "kv") {
        ctx.host_with_data(Some(limits))
    } else {
        ctx.host(Some(limits))
    };
    let host = match host {
        Ok(host) => host,
        Err(e) => return fail(printer, e.to_diagnostic(), Outcome::Failed),
    };
    let mut builder = Manager::builder(host)
        .base_dir(state_file(ctx).base_dir())
        .inventory(inventory(ctx));
    if let Some(tenant) = &ctx.tenant {
        builder = builder.tenant(tenant.clone());
    }
    builder = builder.program_args(argv.iter().cloned());
    let manager = builder.build();
    manager.apply(&PluginsSection {
        entries: vec![entry],
        ..PluginsSection::new()
    });
    match manager.call_json(id, export, args) {
        Ok(result) => {
            if printer.json {
                printer.json_doc(&json!({ "result": result }));
            } else {
                println!("{result}");
            }
            Outcome::Ok
        }
        Err(error) => {
            let outcome = match &error {
                ManagerError::Call(e) if e.exit_status().is_some() => Outcome::Failed,
                ManagerError::Call(e) if e.is_guest_failure() => Outcome::GuestFailed,
                ManagerError::Call(_) => Outcome::Usage,
                _ => Outcome::Failed,
            };
            fail(printer, error.to_diagnostic(), outcome)
        }
    }
}
