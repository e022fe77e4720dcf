//! The PDK's own bindings: the `plinth:host` imports, and nothing exported.
//!
//! The world is defined here, not in `wit/`: it is the union of the host interfaces the PDK
//! wraps. Its custom section describes imports only, which `wit-component` merges with the
//! world the plugin exports (or drops when unused), so linking the PDK never makes a
//! component owe an export. The exported world's bindings are generated in the plugin's own
//! crate by `export_command!` / `export_tool!` (see `docs/design/0002-pdk-world-selection.md`).

// Documented by the WIT; reachable only through the hidden `__rt` module.
#![allow(missing_docs)]

wit_bindgen::generate!({
    path: "../../wit/plinth-plugin@0.1.0",
    inline: "
        package plinth:pdk;

        world imports {
            import plinth:host/log@0.1.0;
            import plinth:host/config@0.1.0;
            import plinth:host/http@0.1.0;
            import plinth:host/fs@0.1.0;
            import plinth:host/watch@0.1.0;
            import plinth:host/kv@0.1.0;
            import plinth:host/events@0.1.0;
        }
    ",
    world: "plinth:pdk/imports",
    generate_all,
});

/// `wasi:io` streams, which the streaming kinds' worlds reuse (`with`) so that
/// [`crate::streams`] reads and writes the very handles a plugin is lent.
pub mod io {
    wit_bindgen::generate!({
        path: "../../wit/wasi-io@0.2.0",
        inline: "
            package plinth:pdk-io;

            world imports {
                import wasi:io/streams@0.2.0;
            }
        ",
        world: "plinth:pdk-io/imports",
        generate_all,
    });
}
