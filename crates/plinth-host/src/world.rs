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
    let mismatch = |reason: String, code: Code| HostError::WorldMismatch {
        plugin: id.into(),
        reason,
        code,
    };
    if let Some(api) = &manifest.runtime.api {
        for interface in exports
            .interfaces()
            .into_iter()
            .filter(|i| i.starts_with(PLUGIN_PACKAGE))
        {
            let version = interface
                .split_once('@')
                .and_then(|(_, v)| semver::Version::parse(v).ok());
            let same_track = version
                .as_ref()
                .is_some_and(|v| v.major == api.major && (v.major != 0 || v.minor == api.minor));
            if !same_track {
                return Err(mismatch(
                    format!("`runtime.api` is {api} but the component exports `{interface}`"),
                    Code::VersionMismatch,
                ));
            }
        }
    }
    let Some(world) = manifest.runtime.world.as_deref() else {
        return Ok(());
    };
    let checked = match world {
        "tool" => bindings::tool::ToolPre::new(pre.clone()).map(drop),
        "plugin" => bindings::plugin::PluginPre::new(pre.clone()).map(drop),
        other => {
            return Err(mismatch(
                format!(
                    "`runtime.world` is `{other}`; this host knows the worlds {}",
                    WORLDS.join(", ")
                ),
                Code::RuntimeMismatch,
            ));
        }
    };
    checked.map_err(|e| {
        mismatch(
            format!("does not implement the `plinth:plugin/{world}` world it declares: {e:#}"),
            Code::RuntimeMismatch,
        )
    })
}
