//! One module per subcommand, each a clap struct with a `run()` over library code.

pub mod build;
pub mod call;
pub mod check;
pub mod lang;
pub mod new;
pub mod show;

use std::path::Path;

use plinth_host::{Host, HostError, LoadOptions, Plugin};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};

/// Loads a path target (plugin dir, `plugin.toml` or `.wasm`), or explains why not.
pub fn load_target(host: &Host, target: &str, options: LoadOptions) -> Result<Plugin, Diagnostic> {
    let path = Path::new(target);
    if !path.exists() {
        return Err(Diagnostic::new(
            Code::MissingPackage,
            format!("no plugin directory, plugin.toml or .wasm file at `{target}`"),
        )
        .with_hint("pass a plugin directory or a component file"));
    }
    host.load_with(path, options)
        .map_err(|e: HostError| e.to_diagnostic())
}
