//! Linkers: each defines the interfaces one set of imports needs (docs/design/0075), in
//! the async or the sync flavour; and the import check that turns an unknown import into
//! `unsupported-host-api` before anything is instantiated.

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, HasData, Linker, ResourceTable, ResourceType};
use wasmtime_wasi::WasiView;

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
    index_of(name).is_some()
}

/// Whether the import `name` is Plinth's or one of the embedder's `custom` interfaces.
pub(crate) fn provided(name: &str, custom: &HostInterfaces) -> bool {
    provides(name) || custom.provides(name)
}

/// What the host makes of a component's imports, read in one pass over its type: each
/// import's name is matched once (matching parses its version).
pub(crate) struct ImportCheck {
    /// Every import, in the component's order, and whether the host provides it.
    support: Vec<(String, bool)>,
    /// The interfaces a Linker for the component must define.
    pub(crate) set: ImportSet,
}

impl ImportCheck {
    /// The component's imports the host does not provide, in the component's order.
    pub(crate) fn unsupported(&self) -> Vec<String> {
        self.support
            .iter()
            .filter(|(_, provided)| !provided)
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// Every import of the component, in its order, whether the host provides it, and the set
/// of interfaces it needs.
///
/// Interfaces are matched by name and version track. A type imported at world level
/// (`use wasi:io/streams@0.2.x.{output-stream};` in a world) is checked the way Wasmtime's
/// linker checks it, by its type: a resource type that is one of the resources of an
/// interface the host provides is an `(eq …)` alias the linker needs nothing for, and
/// other (non-resource) types are resolved inside the component. A resource type of its
/// own (not an alias) would need a host definition, which Plinth has none of.
pub(crate) fn check_imports(
    component: &Component,
    engine: &Engine,
    custom: &HostInterfaces,
) -> ImportCheck {
    let ty = component.component_type();
    // The bit of the interface each import names, if the host provides it.
    let bits: Vec<Option<u64>> = ty
        .imports(engine)
        .map(|(name, item)| match item.ty {
            ComponentItem::Type(_) | ComponentItem::Resource(_) => None,
            _ => ImportSet::bit(name, custom),
        })
        .collect();
    let mut provided_resources: Vec<ResourceType> = Vec::new();
    for ((_, item), bit) in ty.imports(engine).zip(&bits) {
        if let (ComponentItem::ComponentInstance(instance), Some(_)) = (item.ty, bit) {
            provided_resources.extend(instance.exports(engine).filter_map(|(_, export)| {
                match export.ty {
                    ComponentItem::Resource(resource) => Some(resource),
                    _ => None,
                }
            }));
        }
    }
    let mut set = 0;
    let support = ty
        .imports(engine)
        .zip(&bits)
        .map(|((name, item), bit)| {
            set |= bit.unwrap_or(0);
            let ok = match item.ty {
                ComponentItem::Type(_) => true,
                ComponentItem::Resource(resource) => provided_resources.contains(&resource),
                _ => bit.is_some(),
            };
            (name.to_string(), ok)
        })
        .collect();
    ImportCheck {
        support,
        set: ImportSet(set),
    }
}

/// The interfaces a component imports, one bit per interface of [`PROVIDED`] (in its
/// order) and one for the embedder's own: what a Linker for it must define
/// (docs/design/0075). Two components with the same set share a Linker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct ImportSet(u64);

impl ImportSet {
    /// The bit for the embedder's interfaces ([`HostInterfaces`]), defined all together.
    const CUSTOM: u64 = 1 << 63;

    /// The bit of the interface the import `name` matches: one of [`PROVIDED`], or the
    /// embedder's; `None` when the host provides neither.
    fn bit(name: &str, custom: &HostInterfaces) -> Option<u64> {
        match index_of(name) {
            Some(index) => Some(1 << index),
            None => custom.provides(name).then_some(Self::CUSTOM),
        }
    }

    /// Whether `package/interface` (`wasi:io`, `poll`) is in the set.
    fn has(self, package: &str, interface: &str) -> bool {
        flat()
            .position(|(p, i, _)| p == package && i == interface)
            .is_some_and(|index| self.0 & (1 << index) != 0)
    }

    /// Whether any interface of `package` is in the set.
    fn has_any(self, package: &str) -> bool {
        flat()
            .enumerate()
            .any(|(index, (p, _, _))| p == package && self.0 & (1 << index) != 0)
    }

    /// Whether every import of the set is one a call can never wait in, so that the
    /// plugin may be called synchronously and still end at its deadline (docs/design/0075):
    /// the CLI's environment, exit and standard streams (captured or closed, so never
    /// pending), `wasi:io` (whose only pollables are then those streams), the wall clock,
    /// random numbers, Plinth's log and configuration; the monotonic clock unless `poll`
    /// can sleep on it; and `wasi:filesystem` when the plugin has no preopened directory
    /// (`preopens` false), since then it has no descriptor to wait on. Sockets, HTTP,
    /// key-value, events, files and watches wait on the world, the embedder's functions may
    /// be async: any of those keeps the async path.
    pub(crate) fn cannot_block(self, preopens: bool) -> bool {
        self.0 & Self::CUSTOM == 0
            && flat().enumerate().all(|(index, (package, interface, _))| {
                self.0 & (1 << index) == 0
                    || match (package, interface) {
                        ("wasi:clocks", "monotonic-clock") => !self.has("wasi:io", "poll"),
                        ("wasi:cli" | "wasi:clocks" | "wasi:random" | "wasi:io", _) => true,
                        ("wasi:filesystem", _) => !preopens,
                        ("plinth:host", "log" | "config") => true,
                        _ => false,
                    }
            })
    }
}

/// How a Linker defines the interfaces that can wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Flavour {
    /// Async host functions where WASI has them: calls run on a fiber, under the timer.
    Async,
    /// Only sync host functions, for a set that [`ImportSet::cannot_block`]: calls may run
    /// on the caller's stack.
    Sync,
}

/// [`PROVIDED`] flattened: (package, interface, track), each at its bit's position.
fn flat() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    PROVIDED.iter().flat_map(|(package, interfaces, track)| {
        interfaces
            .iter()
            .map(move |interface| (*package, *interface, *track))
    })
}

/// The position in [`flat`] of the provided interface the import `name` matches.
fn index_of(name: &str) -> Option<usize> {
    let (package, interface, track) = split_name(name)?;
    flat().position(|(p, i, t)| p == package && i == interface && t == track)
}

/// Builds a Linker defining the interfaces of `imports` (and nothing else): WASI p2 over a
/// deny-by-default context, `plinth:host`, the embedder's own interfaces.
pub(crate) fn build(
    engine: &Engine,
    custom: &HostInterfaces,
    imports: ImportSet,
    flavour: Flavour,
) -> Result<Linker<StoreState>, HostError> {
    let mut linker = Linker::new(engine);
    link_wasi(&mut linker, imports, flavour).map_err(|e| link_error("WASI", e))?;
    if imports.has_any("wasi:sockets") {
        link_sockets(&mut linker).map_err(|e| link_error("wasi:sockets", e))?;
    }
    if imports.has_any("wasi:http") {
        // Behind the same gate as `plinth:host/http` (`caps::http::wasi`).
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| link_error("wasi:http", e))?;
    }
    link_plinth_host(&mut linker, imports).map_err(|e| link_error("plinth:host", e))?;
    if imports.0 & ImportSet::CUSTOM != 0 {
        custom.define(&mut linker)?;
    }
    Ok(linker)
}

/// Defines the embedder's interfaces in a Linker of their own, to check them.
pub(crate) fn check_custom(engine: &Engine, custom: &HostInterfaces) -> Result<(), HostError> {
    if custom.is_empty() {
        return Ok(());
    }
    custom.define(&mut Linker::new(engine))
}

fn link_error(interface: &'static str, e: wasmtime::Error) -> HostError {
    HostError::Link {
        interface,
        reason: format!("{e:#}"),
    }
}

/// The resource table, for `wasi:io`.
struct Io;

impl HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}

fn table(state: &mut StoreState) -> &mut ResourceTable {
    state.ctx().table
}

/// WASI's `io`, `clocks`, `filesystem`, `random` and `cli` interfaces of `imports`.
fn link_wasi(
    l: &mut Linker<StoreState>,
    imports: ImportSet,
    flavour: Flavour,
) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
    use wasmtime_wasi::p2::bindings::io;
    use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random, sync};
    use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

    let has = |package, interface| imports.has(package, interface);
    if has("wasi:io", "error") {
        io::error::add_to_linker::<_, Io>(l, table)?;
    }
    if has("wasi:io", "poll") {
        match flavour {
            Flavour::Async => io::poll::add_to_linker::<_, Io>(l, table)?,
            Flavour::Sync => crate::sync_io::add_poll_to_linker(l)?,
        }
    }
    if has("wasi:io", "streams") {
        match flavour {
            Flavour::Async => io::streams::add_to_linker::<_, Io>(l, table)?,
            Flavour::Sync => crate::sync_io::add_streams_to_linker(l)?,
        }
    }
    if has("wasi:clocks", "wall-clock") {
        clocks::wall_clock::add_to_linker::<_, WasiClocks>(l, StoreState::clocks)?;
    }
    if has("wasi:clocks", "monotonic-clock") {
        clocks::monotonic_clock::add_to_linker::<_, WasiClocks>(l, StoreState::clocks)?;
    }
    if has("wasi:filesystem", "types") {
        // Sync only without preopened directories (`ImportSet::cannot_block`): no
        // descriptor exists to call a method on.
        match flavour {
            Flavour::Async => {
                filesystem::types::add_to_linker::<_, WasiFilesystem>(l, StoreState::filesystem)?
            }
            Flavour::Sync => sync::filesystem::types::add_to_linker::<_, WasiFilesystem>(
                l,
                StoreState::filesystem,
            )?,
        }
    }
    if has("wasi:filesystem", "preopens") {
        filesystem::preopens::add_to_linker::<_, WasiFilesystem>(l, StoreState::filesystem)?;
    }
    let rng = StoreState::random;
    if has("wasi:random", "random") {
        random::random::add_to_linker::<_, WasiRandom>(l, rng)?;
    }
    if has("wasi:random", "insecure") {
        random::insecure::add_to_linker::<_, WasiRandom>(l, rng)?;
    }
    if has("wasi:random", "insecure-seed") {
        random::insecure_seed::add_to_linker::<_, WasiRandom>(l, rng)?;
    }
    type AddCli = fn(&mut Linker<StoreState>) -> wasmtime::Result<()>;
    let cli_interfaces: [(&str, AddCli); 10] = [
        ("environment", |l| {
            cli::environment::add_to_linker::<_, WasiCli>(l, StoreState::cli)
        }),
        ("exit", |l| {
            cli::exit::add_to_linker::<_, WasiCli>(l, StoreState::cli)
        }),
        ("stdin", |l| {
            cli::stdin::add_to_linker::<_, WasiCli>(l, StoreState::cli)
        }),
        ("stdout", |l| {
            cli::stdout::add_to_linker::<_, WasiCli>(l, StoreState::cli)
        }),
        ("stderr", |l| {
            cli::stderr::add_to_linker::<_, WasiCli>(l, StoreState::cli)
        }),
        ("terminal-input", |l| {
            cli::terminal_input::add_to_linker::<_, WasiCli>(l, StoreState::cli)
        }),
        ("terminal-output", |l| {
            cli::terminal_output::add_to_linker::<_, WasiCli>(l, StoreState::cli)
        }),
        ("terminal-stdin", |l| {
            cli::terminal_stdin::add_to_linker::<_, WasiCli>(l, StoreState::cli)
        }),
        ("terminal-stdout", |l| {
            cli::terminal_stdout::add_to_linker::<_, WasiCli>(l, StoreState::cli)
        }),
        ("terminal-stderr", |l| {
            cli::terminal_stderr::add_to_linker::<_, WasiCli>(l, StoreState::cli)
        }),
    ];
    for (interface, add) in cli_interfaces {
        if has("wasi:cli", interface) {
            add(l)?;
        }
    }
    Ok(())
}

/// `wasi:sockets`, every interface (they share resource types): Wasmtime's `network`,
/// `instance-network` and `udp`, and Plinth's `tcp`, `tcp-create-socket`,
/// `udp-create-socket` and `ip-name-lookup` in place of Wasmtime's (which they call once
/// they allow a use): the same names and resource types, defined over them
/// (`caps::sockets`).
fn link_sockets(l: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    use caps::sockets::wasi::Sockets;
    use wasmtime_wasi::p2::bindings::sockets::{
        instance_network, ip_name_lookup, network, tcp, tcp_create_socket, udp, udp_create_socket,
    };
    use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};
    let options = network::LinkOptions::default();
    network::add_to_linker::<_, WasiSockets>(l, &options, StoreState::sockets)?;
    instance_network::add_to_linker::<_, WasiSockets>(l, StoreState::sockets)?;
    udp::add_to_linker::<_, WasiSockets>(l, StoreState::sockets)?;
    tcp::add_to_linker::<_, Sockets>(l, StoreState::sockets_view)?;
    tcp_create_socket::add_to_linker::<_, Sockets>(l, StoreState::sockets_view)?;
    udp_create_socket::add_to_linker::<_, Sockets>(l, StoreState::sockets_view)?;
    ip_name_lookup::add_to_linker::<_, Sockets>(l, StoreState::sockets_view)?;
    Ok(())
}

/// `plinth:host`, one interface per capability, each given its own view of the Store.
fn link_plinth_host(l: &mut Linker<StoreState>, imports: ImportSet) -> wasmtime::Result<()> {
    use bindings::{config, events, fs, http, kv, log, watch};
    let has = |interface| imports.has("plinth:host", interface);
    if has("log") {
        log::add_to_linker::<_, caps::log::Log>(l, StoreState::log_view)?;
    }
    if has("config") {
        config::add_to_linker::<_, caps::config::Config>(l, StoreState::config_view)?;
    }
    if has("http") {
        http::add_to_linker::<_, caps::http::Http>(l, StoreState::http_view)?;
    }
    if has("fs") {
        fs::add_to_linker::<_, caps::fs::Fs>(l, StoreState::fs_view)?;
    }
    if has("watch") {
        watch::add_to_linker::<_, caps::watch::Watch>(l, StoreState::watch_view)?;
    }
    if has("kv") {
        kv::add_to_linker::<_, caps::kv::KvLink>(l, StoreState::kv_view)?;
    }
    if has("events") {
        events::add_to_linker::<_, caps::events::Events>(l, StoreState::events_view)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        Engine::new(&config).unwrap()
    }

    /// A component importing each of `names` as an instance that needs nothing of it:
    /// the Linker only has to define the name.
    fn importing(engine: &Engine, names: &[String]) -> Component {
        let imports: String = names
            .iter()
            .map(|name| format!("(import \"{name}\" (instance))"))
            .collect();
        let bytes = wat::parse_str(format!("(component {imports})")).unwrap();
        Component::from_binary(engine, &bytes).unwrap()
    }

    fn provided_names() -> Vec<String> {
        flat()
            .map(|(package, interface, track)| format!("{package}/{interface}@{track}.0"))
            .collect()
    }

    #[test]
    fn every_provided_interface_is_linked_alone_and_together() {
        let engine = engine();
        let custom = HostInterfaces::default();
        let names = provided_names();
        let all = importing(&engine, &names);
        let imports = check_imports(&all, &engine, &custom).set;
        assert_eq!(imports.0.count_ones() as usize, names.len());
        let linker = build(&engine, &custom, imports, Flavour::Async).unwrap();
        linker.instantiate_pre(&all).unwrap();
        for name in &names {
            let one = importing(&engine, std::slice::from_ref(name));
            let imports = check_imports(&one, &engine, &custom).set;
            assert_eq!(imports.0.count_ones(), 1, "{name}");
            let linker = build(&engine, &custom, imports, Flavour::Async).unwrap();
            linker
                .instantiate_pre(&one)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
            if imports.cannot_block(false) {
                let linker = build(&engine, &custom, imports, Flavour::Sync).unwrap();
                linker
                    .instantiate_pre(&one)
                    .unwrap_or_else(|e| panic!("{name}, sync: {e:#}"));
            }
        }
    }

    #[test]
    fn only_imports_no_call_can_wait_in_allow_the_sync_path() {
        let engine = engine();
        let custom = HostInterfaces::default();
        let set = |names: &[&str]| {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            check_imports(&importing(&engine, &names), &engine, &custom).set
        };
        let pure = set(&[
            "wasi:cli/environment@0.2.3",
            "wasi:cli/stdout@0.2.3",
            "wasi:io/error@0.2.3",
            "wasi:io/poll@0.2.3",
            "wasi:io/streams@0.2.3",
            "wasi:clocks/wall-clock@0.2.3",
            "wasi:random/random@0.2.3",
            "plinth:host/log@0.1.0",
            "plinth:host/config@0.1.0",
        ]);
        assert!(pure.cannot_block(false));
        assert!(
            pure.cannot_block(true),
            "no filesystem import: preopens do not matter"
        );
        // A monotonic clock to read is fine; with `poll`, a guest can sleep on it.
        assert!(set(&["wasi:clocks/monotonic-clock@0.2.3"]).cannot_block(false));
        let sleeps = set(&["wasi:clocks/monotonic-clock@0.2.3", "wasi:io/poll@0.2.3"]);
        assert!(!sleeps.cannot_block(false));
        let files = set(&[
            "wasi:filesystem/types@0.2.3",
            "wasi:filesystem/preopens@0.2.3",
        ]);
        assert!(files.cannot_block(false));
        assert!(!files.cannot_block(true));
        for waits in [
            "wasi:sockets/tcp@0.2.3",
            "wasi:http/outgoing-handler@0.2.3",
            "plinth:host/http@0.1.0",
            "plinth:host/kv@0.1.0",
            "plinth:host/events@0.1.0",
            "plinth:host/fs@0.1.0",
        ] {
            assert!(!set(&[waits]).cannot_block(false), "{waits}");
        }
    }

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
