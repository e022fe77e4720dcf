//! The Plinth runtime: run untrusted WebAssembly components as plugins, each under fuel,
//! memory, wall-clock and stack limits, with capabilities granted one by one.
//!
//! One [`Host`] compiles each component once (in memory and, with
//! [`HostBuilder::cache_dir`], on disk), checks its imports against what the host
//! provides, and pre-instantiates it. Every call then runs in a fresh instance; a trap,
//! a panic or a limit hit comes back as a [`CallError`] with a diagnostic code, and the
//! next call starts clean.
//!
//! ```
//! use plinth_host::{Host, Limits, LoadOptions};
//! use plinth_manifest::grant::Grant;
//! use serde_json::json;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let hello = test_programs::HELLO; // examples/hello, built for wasm32-wasip2
//! // Stack Composer's `load_plugin(path)` + `call_plugin("run", ["hello"])`, in one line:
//! let said = Host::new()?.load(hello)?.call_json("run", &[json!(["hello"])])?;
//! assert_eq!(said, json!({"ok": "Hello, hello!"}));
//!
//! // With limits, a compile cache, grants and settings, and a typed call:
//! # let cache = tempfile::tempdir()?;
//! let host = Host::builder()
//!     .limits(Limits::default().with_fuel(10_000_000).with_timeout_ms(500))
//!     .cache_dir(cache.path())
//!     .build()?;
//! let plugin = host.load_with(
//!     hello,
//!     LoadOptions::default()
//!         .with_grants([Grant::Log, Grant::Config])
//!         .with_settings(json!({"greeting": "Hi"})),
//! )?;
//! let (greeting,): (Result<String, String>,) =
//!     plugin.call("run", (vec!["Ada".to_string()],))?;
//! assert_eq!(greeting, Ok("Hello, Ada!".to_string()));
//!
//! // A long-lived instance keeps state between calls; `on-load` receives the settings.
//! let mut instance = plugin.instantiate()?;
//! instance.call_json("on-load", &[json!(r#"{"greeting":"Hi"}"#)])?;
//! assert_eq!(instance.call_json("run", &[json!(["Ada"])])?, json!({"ok": "Hi, Ada!"}));
//! # Ok(())
//! # }
//! ```
//!
//! The async API (`call_json_async`, `call_async`) runs on the caller's tokio runtime;
//! the blocking API runs on the host's own and refuses to run inside another runtime.

#![deny(missing_docs)]
#![deny(clippy::unwrap_used)]

mod bindings;
mod cache;
mod call;
mod caps;
mod capture;
mod config;
pub mod conformance;
mod digest_index;
mod engine;
mod error;
mod exit;
mod exports;
mod function_cache;
mod host;
pub mod inbox;
mod incoming;
mod inspect;
mod instance;
mod interface_name;
pub mod json;
mod json_plan;
mod json_text;
pub mod kinds;
mod limits;
mod linker;
pub mod log;
mod outbound;
mod outcome;
mod plugin;
mod result_budget;
mod runtime;
mod schemas;
mod scope;
mod settings;
mod state;
mod sync_io;
pub mod telemetry;
mod usage;
mod world;

pub use cache::CacheOutcome;
pub use caps::custom::{HostCallContext, HostFnError, HostInterface};
pub use caps::custom_stream::{STREAM_BUFFER, StreamClosed, StreamSender};
pub use caps::events::{
    EventBackendKind, EventLimits, EventRejected, EventSettings, EventSubscription, EventValidator,
    NATS_CONFIRM, NATS_HEARTBEAT, PublishedEvent, channel_matches,
};
pub use caps::fs::MAX_READ_BYTES;
pub use caps::http::consent::{
    CONSENT_NOTICE_CAPACITY, ConsentEntry, ConsentError, ConsentLimits, ConsentNotice,
    ConsentState, ConsentStore,
};
pub use caps::http::resolve::{Resolve, ResolveFuture, SystemResolver};
pub use caps::http::settings::{ConsentMode, DEFAULT_MAX_BODY_BYTES, NetworkMode, NetworkSettings};
pub use caps::kv::{
    Kv, KvBackend, KvBackendKind, KvError, KvFuture, KvLimits, KvSettings, KvStore,
    Namespace as KvNamespace, OpId as KvOpId, PostgresKv, RedisKv,
};
pub use caps::sockets::settings::{DEFAULT_MAX_SOCKET_BYTES, SocketSettings};
pub use config::{ConfigError, HostConfig, Paths, RegistrySettings, Security};
pub use engine::EngineSettings;
pub use error::{CallError, CallFailure, HostError, SchemaViolation};
pub use exports::{ExportedFunc, Exports};
pub use function_cache::FunctionCacheStats;
pub use host::{Host, HostBuilder, componentless_digest};
pub use inbox::{Inbox, PluginEvent};
pub use incoming::{INCOMING_HANDLER, IncomingResponse};
pub use inspect::{Checked, ExportInfo, ImportInfo, Inspection};
pub use instance::PluginInstance;
pub use limits::Limits;
pub use outbound::{OutboundError, OutboundResponse};
pub use plinth_manifest as manifest;
pub use plugin::{LoadOptions, Plugin, SERVED_API_VERSIONS};
pub use scope::InvocationScope;
pub use telemetry::{CallObserver, CallReport, TelemetrySettings};
pub use usage::Usage;
pub use world::WORLDS;

/// Bindings of Plinth's own WIT, for embedders that call plugins through them.
pub mod wit {
    pub use crate::bindings::plugin::Plugin as PluginWorld;
    pub use crate::bindings::tool::Tool as ToolWorld;
    pub use crate::bindings::tool::exports::plinth::plugin::tools::{ToolError, ToolInfo};
}
