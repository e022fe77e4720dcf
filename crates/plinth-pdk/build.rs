//! Writes `$OUT_DIR/world_bindings.rs`, the `__world_bindings!` macro that `export_command!`
//! and `export_tool!` expand to in a plugin's crate.
//!
//! `wit_bindgen::generate!` reads its `path` as a literal relative to the crate being
//! compiled, and a plugin crate lives anywhere, so the absolute path of the repository's
//! `wit/` folder is written into the macro here. The WIT is read in place: there is no copy.

use std::env;
use std::fs;
use std::path::PathBuf;

/// The package folder whose worlds plugins export; `deps/` inside it holds the host package.
/// `src/bindings.rs` reads the same folder for the PDK's own imports.
const PLUGIN_PACKAGE: &str = "plinth-plugin@0.1.0";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let relative = manifest_dir.join("../../wit").join(PLUGIN_PACKAGE);
    let package = relative.canonicalize().unwrap_or_else(|err| {
        panic!(
            "plinth-pdk reads its WIT from {} (the repository's `wit/` folder): {err}",
            relative.display()
        )
    });
    let package = package
        .to_str()
        .unwrap_or_else(|| panic!("the WIT path {} is not UTF-8", package.display()));

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("world_bindings.rs"), world_bindings_macro(package))
        .expect("write world_bindings.rs");
}

/// The macro text. `{package:?}` renders the path as an escaped Rust string literal.
fn world_bindings_macro(package: &str) -> String {
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
            with: {{
                "plinth:host/log@0.1.0": ::plinth_pdk::__rt::host::log,
                "plinth:host/config@0.1.0": ::plinth_pdk::__rt::host::config,
                "plinth:host/http@0.1.0": ::plinth_pdk::__rt::host::http,
                "plinth:host/fs@0.1.0": ::plinth_pdk::__rt::host::fs,
                "plinth:host/watch@0.1.0": ::plinth_pdk::__rt::host::watch,
                "plinth:host/kv@0.1.0": ::plinth_pdk::__rt::host::kv,
                "plinth:host/events@0.1.0": ::plinth_pdk::__rt::host::events,
            }},
        }});
    }};
}}
"#
    )
}
