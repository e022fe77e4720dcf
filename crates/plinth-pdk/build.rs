//! Writes `$OUT_DIR/world_bindings.rs`: the `__world_bindings!` macro that `export_command!`
//! and `export_tool!` expand to in a plugin's crate, and the `__kind_bindings!` macro that
//! `export!` expands to, one arm pair per kind.
//!
//! `wit_bindgen::generate!` reads its `path` as a literal relative to the crate being
//! compiled, and a plugin crate lives anywhere, so the absolute path of the repository's
//! `wit/` folder is written into the macro here. The WIT is read in place: there is no copy.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The package folder whose worlds plugins export; `deps/` inside it holds the host package.
/// `src/bindings.rs` reads the same folder for the PDK's own imports.
const PLUGIN_PACKAGE: &str = "plinth-plugin@0.1.0";

/// The kinds `export!` knows: (name, package folder in `wit/`, package id). Each package has
/// a world `plugin` (the host imports, `plinth:plugin/lifecycle` and the kind's interface)
/// and an interface named like the kind (the macro's `file_loader` is the WIT's
/// `file-loader`). A new kind is a row here and an arm of
/// `__impl_kind!` in `src/macros.rs`.
const KINDS: &[(&str, &str, &str)] = &[
    ("command", "plinth-command@0.1.0", "plinth:command@0.1.0"),
    ("hook", "plinth-hook@0.1.0", "plinth:hook@0.1.0"),
    ("tool", "plinth-tool@0.1.0", "plinth:tool@0.1.0"),
    (
        "file_loader",
        "plinth-file-loader@0.1.0",
        "plinth:file-loader@0.1.0",
    ),
    (
        "file_viewer",
        "plinth-file-viewer@0.1.0",
        "plinth:file-viewer@0.1.0",
    ),
    ("exporter", "plinth-exporter@0.1.0", "plinth:exporter@0.1.0"),
    (
        "data_source",
        "plinth-data-source@0.1.0",
        "plinth:data-source@0.1.0",
    ),
    (
        "theme_provider",
        "plinth-theme-provider@0.1.0",
        "plinth:theme-provider@0.1.0",
    ),
    ("service", "plinth-service@0.1.0", "plinth:service@0.1.0"),
    (
        "event_handler",
        "plinth-event-handler@0.1.0",
        "plinth:event-handler@0.1.0",
    ),
    (
        "auth_provider",
        "plinth-auth-provider@0.1.0",
        "plinth:auth-provider@0.1.0",
    ),
    (
        "policy_hook",
        "plinth-policy-hook@0.1.0",
        "plinth:policy-hook@0.1.0",
    ),
    (
        "search_analyzer",
        "plinth-search-analyzer@0.1.0",
        "plinth:search-analyzer@0.1.0",
    ),
    ("preview", "plinth-preview@0.1.0", "plinth:preview@0.1.0"),
    (
        "content_transform",
        "plinth-content-transform@0.1.0",
        "plinth:content-transform@0.1.0",
    ),
    (
        "storage_provider",
        "plinth-storage-provider@0.1.0",
        "plinth:storage-provider@0.1.0",
    ),
];

/// The kinds whose interface uses `wasi:io` streams (docs/design/0046): their bindings
/// reuse the PDK's, so `plinth_pdk::streams` reads the handles they are lent.
const STREAMING: &[&str] = &["content_transform", "storage_provider"];

/// The `with` entries that map `wasi:io` onto the PDK's own bindings.
const IO_WITH: &str = r#"
                "wasi:io/error@0.2.0": ::plinth_pdk::__rt::io::error,
                "wasi:io/poll@0.2.0": ::plinth_pdk::__rt::io::poll,
                "wasi:io/streams@0.2.0": ::plinth_pdk::__rt::io::streams,"#;

/// The `with` entries that map the host imports onto the PDK's own bindings.
const HOST_WITH: &str = r#"
                "plinth:host/log@0.1.0": ::plinth_pdk::__rt::host::log,
                "plinth:host/config@0.1.0": ::plinth_pdk::__rt::host::config,
                "plinth:host/http@0.1.0": ::plinth_pdk::__rt::host::http,
                "plinth:host/fs@0.1.0": ::plinth_pdk::__rt::host::fs,
                "plinth:host/watch@0.1.0": ::plinth_pdk::__rt::host::watch,
                "plinth:host/kv@0.1.0": ::plinth_pdk::__rt::host::kv,
                "plinth:host/events@0.1.0": ::plinth_pdk::__rt::host::events,"#;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let wit = manifest_dir.join("../../wit");
    let mut text = world_bindings_macro(&package_path(&wit, PLUGIN_PACKAGE));
    text.push_str(&kind_bindings_macro(&wit));

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("world_bindings.rs"), text).expect("write world_bindings.rs");
}

/// The absolute path of `wit/<folder>`, as UTF-8.
fn package_path(wit: &Path, folder: &str) -> String {
    let relative = wit.join(folder);
    let package = relative.canonicalize().unwrap_or_else(|err| {
        panic!(
            "plinth-pdk reads its WIT from {} (the repository's `wit/` folder): {err}",
            relative.display()
        )
    });
    package
        .to_str()
        .unwrap_or_else(|| panic!("the WIT path {} is not UTF-8", package.display()))
        .to_string()
}

/// `__kind_bindings!(KIND, world)` generates the kind's whole world (imports, lifecycle and
/// the kind's interface); `__kind_bindings!(KIND, exports)` only the kind's interface, for
/// the second and later kinds of one component. `wit-component` merges the worlds of all
/// the sections it finds, so the component exports lifecycle once and every kind's
/// interface.
fn kind_bindings_macro(wit: &Path) -> String {
    let mut arms = String::new();
    for (kind, folder, package) in KINDS {
        let path = package_path(wit, folder);
        let (namespace, version) = package.split_once('@').expect("a versioned package id");
        let wit_name = kind.replace('_', "-");
        let interface = format!("{namespace}/{wit_name}@{version}");
        let pdk_package = format!("plinth:pdk-{wit_name}");
        let io_with = if STREAMING.contains(kind) {
            IO_WITH
        } else {
            ""
        };
        arms.push_str(&format!(
            r#"    ({kind}, world) => {{
        ::plinth_pdk::__rt::wit_bindgen::generate!({{
            path: {path:?},
            world: {world:?},
            runtime_path: "::plinth_pdk::__rt::wit_bindgen::rt",
            with: {{{HOST_WITH}{io_with}
            }},
        }});
    }};
    ({kind}, exports) => {{
        ::plinth_pdk::__rt::wit_bindgen::generate!({{
            path: {path:?},
            inline: {inline:?},
            world: {exports_world:?},
            runtime_path: "::plinth_pdk::__rt::wit_bindgen::rt",
            with: {{{io_with}
            }},
        }});
    }};
"#,
            world = format!("{namespace}/plugin@{version}"),
            inline = format!("package {pdk_package};\nworld exports {{ export {interface}; }}\n"),
            exports_world = format!("{pdk_package}/exports"),
        ));
    }
    let known: Vec<&str> = KINDS.iter().map(|(kind, ..)| *kind).collect();
    format!(
        r#"
/// Generates, in the calling crate, the bindings of one kind's world (`world`) or of its
/// interface alone (`exports`).
#[doc(hidden)]
#[macro_export]
macro_rules! __kind_bindings {{
{arms}    ($other:ident, $_part:ident) => {{
        ::core::compile_error!(::core::concat!(
            "plinth-pdk knows no kind `", ::core::stringify!($other), "`; the kinds are {known}"
        ));
    }};
}}
"#,
        known = known.join(", ")
    )
}

/// The macro text. `{package:?}` renders the path as an escaped Rust string literal.
fn world_bindings_macro(package: &str) -> String {
    let host_with = HOST_WITH;
    format!(
        r#"/// Generates the bindings of one `plinth:plugin` world in the calling crate: its exports,
/// and its imports mapped onto the PDK's own import bindings.
#[doc(hidden)]
#[macro_export]
macro_rules! __world_bindings {{
    ($world:literal) => {{
        ::plinth_pdk::__rt::wit_bindgen::generate!({{
            path: {package:?},
            world: $world,
            runtime_path: "::plinth_pdk::__rt::wit_bindgen::rt",
            with: {{{host_with}
            }},
        }});
    }};
}}
"#
    )
}
