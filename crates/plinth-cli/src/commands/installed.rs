//! What the commands about installed plugins share: the plugin directories, the
//! inventory, the state file.

use plinth_manager::discovery::{Inventory, PluginDirs, discover};
use plinth_manager::state::{PluginsSection, StateFile};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};

use crate::context::Context;

/// The user and system plugin directories of this home.
pub fn plugin_dirs(ctx: &Context) -> PluginDirs {
    PluginDirs::from_config(&ctx.home, &ctx.config.paths)
}

/// A read-only scan of the plugin directories.
pub fn inventory(ctx: &Context) -> Inventory {
    discover(&plugin_dirs(ctx))
}

/// `<home>/plugins.toml`.
pub fn state_file(ctx: &Context) -> StateFile {
    StateFile::in_home(&ctx.home)
}

/// The state section, read without writing.
pub fn read_state(ctx: &Context) -> Result<PluginsSection, Diagnostic> {
    state_file(ctx)
        .load()
        .map(|loaded| loaded.section)
        .map_err(|e| e.to_diagnostic())
}

/// Whether `target` names an installed plugin rather than a path.
pub fn is_installed_id(ctx: &Context, target: &str) -> bool {
    !std::path::Path::new(target).exists()
        && (inventory(ctx).get(target).is_some()
            || read_state(ctx).is_ok_and(|s| s.entry(target).is_some()))
}

/// `missing-package` for an id that is neither discovered nor in the state.
pub fn not_installed(ctx: &Context, id: &str) -> Diagnostic {
    Diagnostic::new(
        Code::MissingPackage,
        format!(
            "no installed plugin `{id}` in {}",
            plugin_dirs(ctx).user.display()
        ),
    )
    .with_plugin(id)
    .with_hint("`plinth list` shows the installed plugins")
}
