//! Write [Plinth](https://example.org/plinth) plugins in Rust.
//!
//! A plugin is a `cdylib` crate built with `cargo build --release --target wasm32-wasip2`
//! (or `plinth build`). It implements [`Plugin`] (lifecycle, all optional) and one
//! extension point, then names its type in that extension point's export macro:
//!
//! | extension point | trait | macro | WIT world |
//! | --- | --- | --- | --- |
//! | command | [`Command`] | [`export_command!`] | `plinth:plugin/plugin@0.1.0` |
//! | tools | [`Tool`] | [`export_tool!`] | `plinth:plugin/tool@0.1.0` |
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
//! A tool provider:
//!
//! ```no_run
//! use plinth_pdk::prelude::*;
//!
//! struct Echo;
//!
//! impl Plugin for Echo {}
//!
//! impl Tool for Echo {
//!     fn tools() -> Vec<ToolInfo> {
//!         vec![ToolInfo::new("echo", "Returns its input.", json!({"type": "object"}))]
//!     }
//!
//!     fn call(name: &str, input: Value) -> Result<Value, ToolError> {
//!         match name {
//!             "echo" => Ok(input),
//!             other => Err(ToolError::UnknownTool(other.to_string())),
//!         }
//!     }
//! }
//!
//! plinth_pdk::export_tool!(Echo);
//! # fn main() {}
//! ```
//!
//! Host APIs are plain functions: [`log`], [`config`], [`http`], [`fs`], [`kv`], [`events`]
//! and [`watch`]. Each needs its capability to be
//! requested in `plugin.toml` and granted by the host.
//!
//! The bindings come from the repository's `wit/` folder, read in place when this crate is
//! built; a plugin crate contains no WIT and no ABI code.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod bindings;
pub mod config;
pub mod events;
pub mod fs;
pub mod http;
pub mod kv;
pub mod log;
pub mod watch;
mod macros;
mod plugin;

pub use plugin::{Command, Event, Plugin, Settings, Tool, ToolError, ToolInfo};
pub use serde_json;

/// Everything a plugin usually needs: `use plinth_pdk::prelude::*;`.
pub mod prelude {
    pub use crate::config::{self, ConfigError};
    pub use crate::log;
    pub use crate::{events, fs, http, kv, watch};
    pub use crate::{Command, Event, Plugin, Settings, Tool, ToolError, ToolInfo};
    pub use serde_json::{self, Value, json};
}

#[doc(hidden)]
#[path = "rt.rs"]
pub mod __rt;

include!(concat!(env!("OUT_DIR"), "/world_bindings.rs"));
