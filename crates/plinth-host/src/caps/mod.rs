//! One module per `plinth:host` capability beyond `log` and `config` (those live in
//! `host_api.rs`). Each checks the plugin's grant on every call: an ungranted call is
//! answered with the interface's `missing-grant` case and recorded for a diagnostic.

mod events;
mod fs;
mod http;
mod kv;
mod watch;

/// Records one grant decision on the `plinth::audit` tracing target. Every capability
/// check goes through here, so an operator can see what each plugin was allowed or denied.
pub(crate) fn audit(plugin: &str, grant: &plinth_manifest::Grant, allowed: bool) {
    tracing::info!(target: "plinth::audit", plugin, grant = %grant, allowed, "grant decision");
}

/// The text of a capability that this build links but does not serve yet.
pub(crate) fn unavailable(capability: &str) -> String {
    format!("the `{capability}` capability is not available in this build of the host")
}
