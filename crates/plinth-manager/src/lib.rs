//! Plinth's plugin manager: what turns the `plinth-host` runtime into something an
//! application and an operator can live with (DESIGN §3).
//!
//! - [`discovery`]: a read-only inventory of the user and system plugin directories;
//! - [`state`]: the `plugins.toml` state file (or a `[plugins]` table inside a larger
//!   file), format-preserving, locked and atomic, with schema migrations;
//! - [`Manager`]: replays a `[plugins]` section (an identical replay touches nothing),
//!   publishes [`StatusEvent`]s, calls plugins with their grants and settings, retries
//!   crashing plugins with bounded exponential backoff, swaps new versions in atomically,
//!   and [`Manager::watch`]es the plugin folders and directories for hot reload and
//!   discovery;
//! - [`SignatureCheck`]: every load and reload checked against the trust store first.
//!
//! ```
//! use plinth_host::Host;
//! use plinth_manager::Manager;
//! use plinth_manager::state::{PluginEntry, PluginsSection};
//! use serde_json::json;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let hello = test_programs::HELLO;
//! let manager = Manager::builder(Host::new()?).build();
//! let mut events = manager.subscribe();
//! let mut entry = PluginEntry::new("hello");
//! entry.enabled = true;
//! entry.artifact_path = Some(hello.into());
//! let section = PluginsSection { entries: vec![entry], ..PluginsSection::new() };
//! manager.apply(&section);
//! assert_eq!(events.try_recv()?.status.name(), "loading");
//! assert_eq!(events.try_recv()?.status.name(), "ready");
//! let said = manager.call_json("hello", "run", &[json!(["Ada"])])?;
//! assert_eq!(said, json!({"ok": "Hello, Ada!"}));
//! assert!(manager.apply(&section).unchanged); // nothing reloaded
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]
#![deny(clippy::unwrap_used)]

mod clock;
pub mod discovery;
mod manager;
mod signatures;
pub mod state;
mod status;
mod watch;

pub use clock::{Backoff, Clock, MockClock, SystemClock};
pub use manager::{
    Answer, ApplyReport, Counters, Manager, ManagerBuilder, ManagerError, ManagerStats, Provider,
    ServiceNotice,
};
pub use plinth_package::SignaturePolicy;
pub use signatures::SignatureCheck;
pub use status::{Status, StatusEvent};
pub use watch::Watcher;
