//! Write [Plinth](https://example.org/plinth) plugins in Rust.
//!
//! A plugin is a `cdylib` crate built with `cargo build --release --target wasm32-wasip2`
//! (or `plinth build`). It implements [`Plugin`] (lifecycle, all optional) and the trait of
//! each kind it provides, then names its type and its kinds in [`export!`]:
//!
//! | kind | trait | macro | WIT world |
//! | --- | --- | --- | --- |
//! | tool | [`Tool`] | `export!(T: tool)` | `plinth:tool/plugin@0.1.0` |
//! | hook | [`Hook`] | `export!(T: hook)` | `plinth:hook/plugin@0.1.0` |
//! | command | [`Command`] | `export!(T: command)` | `plinth:command/plugin@0.1.0` |
//! | file-loader | [`FileLoader`] | `export!(T: file_loader)` | `plinth:file-loader/plugin@0.1.0` |
//! | file-viewer | [`FileViewer`] | `export!(T: file_viewer)` | `plinth:file-viewer/plugin@0.1.0` |
//! | data-source | [`DataSource`] | `export!(T: data_source)` | `plinth:data-source/plugin@0.1.0` |
//! | exporter | [`Exporter`] | `export!(T: exporter)` | `plinth:exporter/plugin@0.1.0` |
//! | theme-provider | [`ThemeProvider`] | `export!(T: theme_provider)` | `plinth:theme-provider/plugin@0.1.0` |
//! | service | [`Service`] | `export!(T: service)` | `plinth:service/plugin@0.1.0` |
//!
//! One component may provide several kinds: `export!(T: tool, hook)`. The kinds are the
//! ones its `plugin.toml` declares with `[[provides.KIND]]` entries.
//!
//! ```no_run
//! use plinth_pdk::prelude::*;
//! use serde::Deserialize;
//!
//! struct WordCount;
//!
//! impl Plugin for WordCount {}
//!
//! #[derive(Deserialize)]
//! struct Input {
//!     text: String,
//! }
//!
//! impl Tool for WordCount {
//!     fn tools() -> Vec<ToolInfo> {
//!         vec![ToolInfo::new(
//!             "word_count",
//!             "Counts the words in `text`.",
//!             json!({
//!                 "type": "object",
//!                 "properties": { "text": { "type": "string" } },
//!                 "required": ["text"],
//!             }),
//!         )]
//!     }
//!
//!     fn call(name: &str, input: Value) -> Result<Value, ToolError> {
//!         match name {
//!             "word_count" => typed(input, |input: Input| {
//!                 Ok(json!({ "words": input.text.split_whitespace().count() }))
//!             }),
//!             other => Err(ToolError::UnknownTool(other.to_string())),
//!         }
//!     }
//! }
//!
//! plinth_pdk::export!(WordCount: tool);
//! # fn main() {}
//! ```
//!
//! ## The 0.1.0 form
//!
//! Plugins whose manifest names `runtime.world` (`plugin` or `tool`) implement the worlds of
//! `plinth:plugin@0.1.0` with [`export_command!`] and [`export_tool!`], which hosts keep
//! serving:
//!
//! | world | trait | macro |
//! | --- | --- | --- |
//! | `plinth:plugin/plugin@0.1.0` (`lifecycle`, `command`) | [`Command`] | [`export_command!`] |
//! | `plinth:plugin/tool@0.1.0` (`lifecycle`, `tools`) | [`Tool`] | [`export_tool!`] |
//!
//! ```no_run
//! use plinth_pdk::prelude::*;
//!
//! struct Hello;
//!
//! impl Plugin for Hello {}
//!
//! impl Command for Hello {
//!     fn run(args: Vec<String>) -> Result<String, String> {
//!         log::info("greeting");
//!         Ok(format!("Hello, {}!", args.join(" ")))
//!     }
//! }
//!
//! plinth_pdk::export_command!(Hello);
//! # fn main() {}
//! ```
//!
//! ## Host APIs
//!
//! Host APIs are plain functions: [`log`], [`config`], [`http`], [`fs`], [`kv`], [`events`]
//! and [`watch`]. Each needs its capability to be requested in `plugin.toml` and granted by
//! the host.
//!
//! The bindings come from the repository's `wit/` folder, read in place when this crate is
//! built; a plugin crate contains no WIT and no ABI code.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod bindings;
pub mod config;
pub mod events;
mod files;
pub mod fs;
mod hook;
pub mod http;
pub mod kv;
pub mod log;
mod macros;
mod plugin;
mod schema;
mod service;
mod source;
mod storage;
mod streaming;
pub mod stream;
pub mod streams;
mod table;
mod theme;
pub mod watch;

pub use files::{
    ExportError, Exporter, FileLoader, FileViewer, LinePage, LoadError, ViewError, csv_field,
    csv_fields, read_lines, read_records,
};
pub use hook::{Decision, Hook, HookEvent};
pub use plugin::{Command, Event, Plugin, Settings, Tool, ToolError, ToolInfo, typed};
pub use serde_json;
pub use service::{
    Command as ServiceCommand, Frame, Handled, IngressEvent, Outcome, Reply, Service,
};
pub use source::{DataSource, PluginError, UiEvent, UiEventKind};
pub use storage::{
    AuthDenial, AuthProvider, EventHandler, EventOutcome, Identity, ObjectAction, ObjectEvent,
    PolicyDecision, PolicyHook, PolicyRequest, Preview, PreviewError, PreviewOutput,
    SearchAnalyzer, Token, constant_time_eq, png_gray, words,
};
pub use streaming::{
    ContentTransform, ListPage, MAX_KEY_BYTES, ObjectMeta, StorageError, StorageProvider,
    TransformError, TransformOutput, TransformRequest, check_key, page_of,
};
pub use table::{
    Cell, Column, ColumnType, Page, ReadSeek, Row, Source, Table, TableInfo, UiOutput,
};
pub use theme::{Appearance, Theme, ThemeProvider};

/// Everything a plugin usually needs: `use plinth_pdk::prelude::*;`.
pub mod prelude {
    pub use crate::config::{self, ConfigError};
    pub use crate::log;
    pub use crate::{
        Appearance, Cell, Column, ColumnType, Command, DataSource, Decision, Event, ExportError,
        Exporter, FileLoader, FileViewer, Frame, Handled, Hook, HookEvent, IngressEvent, LoadError,
        Outcome, Page, Plugin, PluginError, Reply, Row, Service, ServiceCommand, Settings, Source,
        Table, TableInfo, Theme, ThemeProvider, Tool, ToolError, ToolInfo, UiEvent, UiEventKind,
        UiOutput, ViewError, csv_field, csv_fields, read_lines, read_records, typed,
    };
    pub use crate::{
        AuthDenial, AuthProvider, EventHandler, EventOutcome, Identity, ObjectAction, ObjectEvent,
        PolicyDecision, PolicyHook, PolicyRequest, Preview, PreviewError, PreviewOutput,
        SearchAnalyzer, Token, constant_time_eq, png_gray, words,
    };
    pub use crate::{
        ContentTransform, ListPage, ObjectMeta, StorageError, StorageProvider, TransformError,
        TransformOutput, TransformRequest, check_key, page_of,
    };
    pub use crate::{events, fs, http, kv, streams, watch};
    pub use serde_json::{self, Value, json};
}

#[doc(hidden)]
#[path = "rt.rs"]
pub mod __rt;

include!(concat!(env!("OUT_DIR"), "/world_bindings.rs"));
