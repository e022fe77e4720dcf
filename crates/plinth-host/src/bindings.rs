//! Bindings for Plinth's own WIT, generated once here (STYLE §3).
//!
//! `tool` is generated first and owns the `plinth:host` interfaces; `plugin` reuses them.

#![allow(missing_docs)]

/// The `plinth:plugin/tool@0.1.0` world.
pub mod tool {
    wasmtime::component::bindgen!({
        path: "../../wit/plinth-plugin@0.1.0",
        world: "plinth:plugin/tool",
        // Network waits are async (they make the call pending, which arms its wall-clock
        // timer, docs/design/0014, 0061); every other import stays sync, keeping its warm
        // cost. `publish` may fail the call: a payload the host's checks refuse has no case
        // in the 0.1.0 `events-error` (docs/design/0066).
        imports: {
            "plinth:host/http": async,
            "plinth:host/kv": async,
            "plinth:host/events.publish": trappable,
        },
        exports: { default: async },
    });
}

/// The `plinth:plugin/plugin@0.1.0` world.
pub mod plugin {
    wasmtime::component::bindgen!({
        path: "../../wit/plinth-plugin@0.1.0",
        world: "plinth:plugin/plugin",
        exports: { default: async },
        with: {
            "plinth:host/log@0.1.0": super::tool::plinth::host::log,
            "plinth:host/config@0.1.0": super::tool::plinth::host::config,
            "plinth:host/http@0.1.0": super::tool::plinth::host::http,
            "plinth:host/fs@0.1.0": super::tool::plinth::host::fs,
            "plinth:host/watch@0.1.0": super::tool::plinth::host::watch,
            "plinth:host/kv@0.1.0": super::tool::plinth::host::kv,
            "plinth:host/events@0.1.0": super::tool::plinth::host::events,
            "plinth:plugin/lifecycle@0.1.0": super::tool::exports::plinth::plugin::lifecycle,
        },
    });
}

pub use tool::plinth::host::{config, events, fs, http, kv, log, watch};

/// The host interfaces and the lifecycle, shared by every kind world below.
macro_rules! kind_world {
    ($path:literal, $world:literal) => {
        wasmtime::component::bindgen!({
            path: $path,
            world: $world,
            exports: { default: async },
            with: {
                "plinth:host/log@0.1.0": crate::bindings::tool::plinth::host::log,
                "plinth:host/config@0.1.0": crate::bindings::tool::plinth::host::config,
                "plinth:host/http@0.1.0": crate::bindings::tool::plinth::host::http,
                "plinth:host/fs@0.1.0": crate::bindings::tool::plinth::host::fs,
                "plinth:host/watch@0.1.0": crate::bindings::tool::plinth::host::watch,
                "plinth:host/kv@0.1.0": crate::bindings::tool::plinth::host::kv,
                "plinth:host/events@0.1.0": crate::bindings::tool::plinth::host::events,
                "plinth:plugin/lifecycle@0.1.0": crate::bindings::tool::exports::plinth::plugin::lifecycle,
            },
        });
    };
}

/// The `plinth:command/plugin@0.1.0` world (the `command` kind).
pub mod command_v0_1 {
    kind_world!("../../wit/plinth-command@0.1.0", "plinth:command/plugin");
}

/// The `plinth:tool/plugin@0.1.0` world (the `tool` kind).
pub mod tool_v0_1 {
    kind_world!("../../wit/plinth-tool@0.1.0", "plinth:tool/plugin");
}

/// The `plinth:hook/plugin@0.1.0` world (the `hook` kind).
pub mod hook_v0_1 {
    kind_world!("../../wit/plinth-hook@0.1.0", "plinth:hook/plugin");
}

/// The `plinth:file-loader/plugin@0.1.0` world (the `file-loader` kind).
pub mod file_loader_v0_1 {
    kind_world!(
        "../../wit/plinth-file-loader@0.1.0",
        "plinth:file-loader/plugin"
    );
}

/// The `plinth:file-viewer/plugin@0.1.0` world (the `file-viewer` kind).
pub mod file_viewer_v0_1 {
    kind_world!(
        "../../wit/plinth-file-viewer@0.1.0",
        "plinth:file-viewer/plugin"
    );
}

/// The `plinth:exporter/plugin@0.1.0` world (the `exporter` kind).
pub mod exporter_v0_1 {
    kind_world!("../../wit/plinth-exporter@0.1.0", "plinth:exporter/plugin");
}

/// The `plinth:data-source/plugin@0.1.0` world (the `data-source` kind).
pub mod data_source_v0_1 {
    kind_world!(
        "../../wit/plinth-data-source@0.1.0",
        "plinth:data-source/plugin"
    );
}

/// The `plinth:theme-provider/plugin@0.1.0` world (the `theme-provider` kind).
pub mod theme_provider_v0_1 {
    kind_world!(
        "../../wit/plinth-theme-provider@0.1.0",
        "plinth:theme-provider/plugin"
    );
}

/// The `plinth:service/plugin@0.1.0` world (the `service` kind).
pub mod service_v0_1 {
    kind_world!("../../wit/plinth-service@0.1.0", "plinth:service/plugin");
}

/// The `plinth:event-handler/plugin@0.1.0` world (the `event-handler` kind).
pub mod event_handler_v0_1 {
    kind_world!(
        "../../wit/plinth-event-handler@0.1.0",
        "plinth:event-handler/plugin"
    );
}

/// The `plinth:auth-provider/plugin@0.1.0` world (the `auth-provider` kind).
pub mod auth_provider_v0_1 {
    kind_world!(
        "../../wit/plinth-auth-provider@0.1.0",
        "plinth:auth-provider/plugin"
    );
}

/// The `plinth:policy-hook/plugin@0.1.0` world (the `policy-hook` kind).
pub mod policy_hook_v0_1 {
    kind_world!(
        "../../wit/plinth-policy-hook@0.1.0",
        "plinth:policy-hook/plugin"
    );
}

/// The `plinth:search-analyzer/plugin@0.1.0` world (the `search-analyzer` kind).
pub mod search_analyzer_v0_1 {
    kind_world!(
        "../../wit/plinth-search-analyzer@0.1.0",
        "plinth:search-analyzer/plugin"
    );
}

/// The `plinth:preview/plugin@0.1.0` world (the `preview` kind).
pub mod preview_v0_1 {
    kind_world!("../../wit/plinth-preview@0.1.0", "plinth:preview/plugin");
}

/// The host interfaces, the lifecycle and `wasi:io` (its streams are Wasmtime-WASI's), for
/// the kinds whose bytes flow through streams (docs/design/0046).
macro_rules! streaming_kind_world {
    ($path:literal, $world:literal) => {
        wasmtime::component::bindgen!({
            path: $path,
            world: $world,
            exports: { default: async },
            with: {
                "wasi:io": wasmtime_wasi::p2::bindings::io,
                "plinth:host/log@0.1.0": crate::bindings::tool::plinth::host::log,
                "plinth:host/config@0.1.0": crate::bindings::tool::plinth::host::config,
                "plinth:host/http@0.1.0": crate::bindings::tool::plinth::host::http,
                "plinth:host/fs@0.1.0": crate::bindings::tool::plinth::host::fs,
                "plinth:host/watch@0.1.0": crate::bindings::tool::plinth::host::watch,
                "plinth:host/kv@0.1.0": crate::bindings::tool::plinth::host::kv,
                "plinth:host/events@0.1.0": crate::bindings::tool::plinth::host::events,
                "plinth:plugin/lifecycle@0.1.0": crate::bindings::tool::exports::plinth::plugin::lifecycle,
            },
        });
    };
}

/// The `plinth:content-transform/plugin@0.1.0` world (the `content-transform` kind).
pub mod content_transform_v0_1 {
    streaming_kind_world!(
        "../../wit/plinth-content-transform@0.1.0",
        "plinth:content-transform/plugin"
    );
}

/// The `plinth:storage-provider/plugin@0.1.0` world (the `storage-provider` kind).
pub mod storage_provider_v0_1 {
    streaming_kind_world!(
        "../../wit/plinth-storage-provider@0.1.0",
        "plinth:storage-provider/plugin"
    );
}
