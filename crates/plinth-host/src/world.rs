//! Checks that a component exports what its manifest declares: the `plinth:plugin` world
//! (`runtime.world`) and the WIT version (`runtime.api`).

use plinth_manifest::Manifest;
use plinth_manifest::diagnostic::Code;
use wasmtime::component::InstancePre;

use crate::bindings;
use crate::error::HostError;
use crate::exports::Exports;
use crate::state::StoreState;

/// Worlds of `plinth:plugin` a manifest may name.
pub const WORLDS: &[&str] = &["plugin", "tool"];

const PLUGIN_PACKAGE: &str = "plinth:plugin/";

pub(crate) fn check(
    manifest: &Manifest,
    pre: &InstancePre<StoreState>,
    exports: &Exports,
    id: &str,
) -> Result<(), HostError> {
    check_names(manifest, &exports.interfaces(), id)?;
    let Some(world) = manifest.world() else {
        return Ok(());
    };
    let checked = match world {
        "tool" => bindings::tool::ToolPre::new(pre.clone()).map(drop),
        "plugin" => bindings::plugin::PluginPre::new(pre.clone()).map(drop),
        other => return Err(unknown_world(other, id)),
    };
    checked.map_err(|e| not_implemented(world, &format!("{e:#}"), id))
}

/// Checks that every exported `plinth:plugin` interface (among `exported`, named with their
/// versions) is on the semver track of `runtime.api`.
pub(crate) fn check_names(
    manifest: &Manifest,
    exported: &[&str],
    id: &str,
) -> Result<(), HostError> {
    let Some(api) = manifest.api() else {
        return Ok(());
    };
    for interface in exported.iter().filter(|i| i.starts_with(PLUGIN_PACKAGE)) {
        let version = interface
            .split_once('@')
            .and_then(|(_, v)| semver::Version::parse(v).ok());
        let same_track = version
            .as_ref()
            .is_some_and(|v| v.major == api.major && (v.major != 0 || v.minor == api.minor));
        if !same_track {
            return Err(HostError::WorldMismatch {
                plugin: id.into(),
                reason: format!("`runtime.api` is {api} but the component exports `{interface}`"),
                code: Code::VersionMismatch,
            });
        }
    }
    Ok(())
}

/// The interfaces the `plinth:plugin@0.1.0` world `world` exports; `None` for a world this
/// host does not know.
pub(crate) fn exported_interfaces(world: &str) -> Option<Vec<String>> {
    if !WORLDS.contains(&world) {
        return None;
    }
    plinth_wit::served().world_exports("plinth:plugin@0.1.0", world)
}

/// `runtime.world` names a world this host does not know.
pub(crate) fn unknown_world(world: &str, id: &str) -> HostError {
    HostError::WorldMismatch {
        plugin: id.into(),
        reason: format!(
            "`runtime.world` is `{world}`; this host knows the worlds {}",
            WORLDS.join(", ")
        ),
        code: Code::RuntimeMismatch,
    }
}

/// The component lacks something of the world `runtime.world` declares.
pub(crate) fn not_implemented(world: &str, reason: &str, id: &str) -> HostError {
    HostError::WorldMismatch {
        plugin: id.into(),
        reason: format!(
            "does not implement the `plinth:plugin/{world}` world it declares: {reason}"
        ),
        code: Code::RuntimeMismatch,
    }
}
