//! One module per subcommand, each a clap struct with a `run()` over library code.

pub mod build;
pub mod call;
pub mod call_installed;
pub mod check;
pub mod check_state;
pub mod consent;
pub mod disable;
pub mod enable;
pub mod grant;
pub mod install;
pub mod installed;
pub mod keygen;
pub mod kinds;
pub mod list;
pub mod new;
pub mod pack;
pub mod package_support;
pub mod pull;
pub mod push;
pub mod restore;
pub mod revoke;
pub mod search;
pub mod serve;
pub mod show;
pub mod sign;
pub mod test;
pub mod tool;
pub mod trust;
pub mod uninstall;
pub mod update;
pub mod verify;
pub mod wit;

use std::path::Path;

use plinth_host::{Host, HostError, LoadOptions, Plugin};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};

/// Loads a path target (plugin dir, `plugin.toml` or `.wasm`), or explains why not.
pub fn load_target(host: &Host, target: &str, options: LoadOptions) -> Result<Plugin, Diagnostic> {
    let path = Path::new(target);
    if !path.exists() {
        return Err(Diagnostic::new(
            Code::MissingPackage,
            format!("no plugin directory, plugin.toml, .wasm or .plinth file at `{target}`"),
        )
        .with_hint("pass a plugin directory or a component file"));
    }
    if path.extension().is_some_and(|e| e == "plinth") && path.is_file() {
        return package_support::load_package(host, path, options);
    }
    host.load_with(path, options)
        .map_err(|e: HostError| e.to_diagnostic())
}
