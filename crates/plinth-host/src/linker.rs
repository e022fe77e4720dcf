//! The one Linker that defines every interface Plinth knows, and the import check that
//! turns an unknown import into `unsupported-host-api` before anything is instantiated.

use wasmtime::Engine;
use wasmtime::component::{Component, HasSelf, Linker};

use crate::bindings;
use crate::error::HostError;
use crate::state::StoreState;

/// Interfaces the host provides, by `namespace:package/interface` and the version track
/// it serves (semver-compatible versions match, as Wasmtime's linker matches them).
const PROVIDED: &[(&str, &[&str], &str)] = &[
    ("wasi:io", &["error", "poll", "streams"], "0.2"),
    ("wasi:clocks", &["monotonic-clock", "wall-clock"], "0.2"),
    ("wasi:filesystem", &["types", "preopens"], "0.2"),
    (
        "wasi:random",
        &["random", "insecure", "insecure-seed"],
        "0.2",
    ),
    (
        "wasi:sockets",
        &[
            "network",
            "instance-network",
            "udp",
            "udp-create-socket",
            "tcp",
            "tcp-create-socket",
            "ip-name-lookup",
        ],
        "0.2",
    ),
    (
        "wasi:cli",
        &[
            "environment",
            "exit",
            "stdin",
            "stdout",
            "stderr",
            "terminal-input",
            "terminal-output",
            "terminal-stdin",
            "terminal-stdout",
            "terminal-stderr",
        ],
        "0.2",
    ),
    (
        "plinth:host",
        &["log", "config", "http", "fs", "watch", "kv", "events"],
        "0.1",
    ),
];

/// The version track of `version`: `major` for 1.0 and later, `0.minor` before.
fn track(version: &semver::Version) -> String {
    if version.major == 0 {
        format!("0.{}", version.minor)
    } else {
        version.major.to_string()
    }
}

/// Whether the host provides the import named `name` (`wasi:cli/stdout@0.2.3`).
pub(crate) fn provides(name: &str) -> bool {
    let Some((path, version)) = name.split_once('@') else {
        return false;
    };
    let Some((package, interface)) = path.split_once('/') else {
        return false;
    };
    let Ok(version) = semver::Version::parse(version) else {
        return false;
    };
    let track = track(&version);
    PROVIDED
        .iter()
        .any(|(p, ifaces, t)| *p == package && *t == track && ifaces.contains(&interface))
}

/// The component's imports the host does not provide, in the component's order.
pub(crate) fn unsupported_imports(component: &Component, engine: &Engine) -> Vec<String> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name)
        .filter(|name| !provides(name))
        .map(str::to_string)
        .collect()
}

/// Builds the Linker: WASI p2 (deny-by-default context) and `plinth:host`.
pub(crate) fn build(engine: &Engine) -> Result<Linker<StoreState>, HostError> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(|e| HostError::Engine(format!("linking WASI: {e}")))?;
    bindings::tool::Tool::add_to_linker::<StoreState, HasSelf<StoreState>>(&mut linker, |s| s)
        .map_err(|e| HostError::Engine(format!("linking plinth:host: {e}")))?;
    Ok(linker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provided_names_match_by_track() {
        for (name, expected) in [
            ("wasi:cli/stdout@0.2.0", true),
            ("wasi:cli/stdout@0.2.12", true),
            ("wasi:cli/stdout@0.3.0", false),
            ("wasi:cli/stdout", false),
            ("plinth:host/log@0.1.0", true),
            ("plinth:host/log@0.1.7", true),
            ("plinth:host/log@0.2.0", false),
            ("plinth:host/kv@0.1.0", true),
            ("plinth:host/kv@0.2.0", false),
            ("acme:secret/vault@1.0.0", false),
            ("run", false),
        ] {
            assert_eq!(provides(name), expected, "{name}");
        }
    }
}
