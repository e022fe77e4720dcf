//! The one Linker that defines every interface Plinth knows, and the import check that
//! turns an unknown import into `unsupported-host-api` before anything is instantiated.

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceType};

use crate::bindings;
use crate::caps;
use crate::caps::custom::HostInterfaces;
use crate::error::HostError;
use crate::interface_name::split_name;
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
    ("wasi:http", &["types", "outgoing-handler"], "0.2"),
    (
        "plinth:host",
        &["log", "config", "http", "fs", "watch", "kv", "events"],
        "0.1",
    ),
];

/// Whether Plinth itself provides the import named `name` (`wasi:cli/stdout@0.2.3`).
pub(crate) fn provides(name: &str) -> bool {
    let Some((package, interface, track)) = split_name(name) else {
        return false;
    };
    PROVIDED
        .iter()
        .any(|(p, ifaces, t)| *p == package && *t == track && ifaces.contains(&interface))
}

/// Whether the import `name` is Plinth's or one of the embedder's `custom` interfaces.
pub(crate) fn provided(name: &str, custom: &HostInterfaces) -> bool {
    provides(name) || custom.provides(name)
}

/// The component's imports the host does not provide, in the component's order.
pub(crate) fn unsupported_imports(
    component: &Component,
    engine: &Engine,
    custom: &HostInterfaces,
) -> Vec<String> {
    import_support(component, engine, custom)
        .into_iter()
        .filter(|(_, provided)| !provided)
        .map(|(name, _)| name)
        .collect()
}

/// Every import of the component, in its order, and whether the host provides it.
///
/// Interfaces are matched by name and version track. A type imported at world level
/// (`use wasi:io/streams@0.2.x.{output-stream};` in a world) is checked the way Wasmtime's
/// linker checks it, by its type: a resource type that is one of the resources of an
/// interface the host provides is an `(eq …)` alias the linker needs nothing for, and
/// other (non-resource) types are resolved inside the component. A resource type of its
/// own (not an alias) would need a host definition, which Plinth has none of.
pub(crate) fn import_support(
    component: &Component,
    engine: &Engine,
    custom: &HostInterfaces,
) -> Vec<(String, bool)> {
    let ty = component.component_type();
    let mut provided_resources: Vec<ResourceType> = Vec::new();
    for (name, item) in ty.imports(engine) {
        if let ComponentItem::ComponentInstance(instance) = item.ty
            && provided(name, custom)
        {
            provided_resources.extend(instance.exports(engine).filter_map(|(_, export)| {
                match export.ty {
                    ComponentItem::Resource(resource) => Some(resource),
                    _ => None,
                }
            }));
        }
    }
    ty.imports(engine)
        .map(|(name, item)| {
            let ok = match item.ty {
                ComponentItem::Type(_) => true,
                ComponentItem::Resource(resource) => provided_resources.contains(&resource),
                _ => provided(name, custom),
            };
            (name.to_string(), ok)
        })
        .collect()
}

/// Builds the Linker: WASI p2 (deny-by-default context), `plinth:host`, and the
/// embedder's own interfaces.
pub(crate) fn build(
    engine: &Engine,
    custom: &HostInterfaces,
) -> Result<Linker<StoreState>, HostError> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| link_error("WASI", e))?;
    link_sockets(&mut linker).map_err(|e| link_error("wasi:sockets", e))?;
    // Behind the same gate as `plinth:host/http` (`caps::http::wasi`).
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(|e| link_error("wasi:http", e))?;
    link_plinth_host(&mut linker).map_err(|e| link_error("plinth:host", e))?;
    custom.define(&mut linker)?;
    Ok(linker)
}

fn link_error(interface: &'static str, e: wasmtime::Error) -> HostError {
    HostError::Link {
        interface,
        reason: format!("{e:#}"),
    }
}

/// Plinth's `wasi:sockets/tcp`, `tcp-create-socket`, `udp-create-socket` and
/// `ip-name-lookup` in place of Wasmtime's (which they call once they allow a use): the
/// same names and resource types, defined over them (`caps::sockets`).
fn link_sockets(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    use caps::sockets::wasi::Sockets;
    use wasmtime_wasi::p2::bindings::sockets::{
        ip_name_lookup, tcp, tcp_create_socket, udp_create_socket,
    };
    linker.allow_shadowing(true);
    tcp::add_to_linker::<_, Sockets>(linker, StoreState::sockets_view)?;
    tcp_create_socket::add_to_linker::<_, Sockets>(linker, StoreState::sockets_view)?;
    udp_create_socket::add_to_linker::<_, Sockets>(linker, StoreState::sockets_view)?;
    ip_name_lookup::add_to_linker::<_, Sockets>(linker, StoreState::sockets_view)?;
    linker.allow_shadowing(false);
    Ok(())
}

/// `plinth:host`, one interface per capability, each given its own view of the Store.
fn link_plinth_host(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    use bindings::{config, events, fs, http, kv, log, watch};
    log::add_to_linker::<_, caps::log::Log>(linker, StoreState::log_view)?;
    config::add_to_linker::<_, caps::config::Config>(linker, StoreState::config_view)?;
    http::add_to_linker::<_, caps::http::Http>(linker, StoreState::http_view)?;
    fs::add_to_linker::<_, caps::fs::Fs>(linker, StoreState::fs_view)?;
    watch::add_to_linker::<_, caps::watch::Watch>(linker, StoreState::watch_view)?;
    kv::add_to_linker::<_, caps::kv::KvLink>(linker, StoreState::kv_view)?;
    events::add_to_linker::<_, caps::events::Events>(linker, StoreState::events_view)?;
    Ok(())
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
            ("wasi:http/outgoing-handler@0.2.3", true),
            ("wasi:http/types@0.2.0", true),
            ("wasi:http/incoming-handler@0.2.0", false),
            ("acme:secret/vault@1.0.0", false),
            ("run", false),
        ] {
            assert_eq!(provides(name), expected, "{name}");
        }
    }
}
