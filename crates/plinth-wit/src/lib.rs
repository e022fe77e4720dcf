//! Plinth's WIT, read with `wit-parser`: the packages this host serves ([`served()`]),
//! what changed between two versions of WIT and whom each change breaks ([`diff()`]), and
//! the imports and exports of a component checked from its type alone
//! ([`check_exports`]). Nothing here compiles or runs WebAssembly.
//!
//! ```
//! use plinth_wit::{ChangeKind, Compatibility, Direction, WitSet, diff};
//!
//! let old = WitSet::from_wit("old.wit", r#"
//!     package example:greeter@0.1.0;
//!     interface greet { hello: func(name: string) -> string; }
//!     world plugin { export greet; }
//! "#)?;
//! let new = WitSet::from_wit("new.wit", r#"
//!     package example:greeter@0.1.1;
//!     interface greet {
//!         hello: func(name: string) -> string;
//!         bye: func(name: string) -> string;
//!     }
//!     world plugin { export greet; }
//! "#)?;
//!
//! let changes = diff(&old, &new).changes;
//! let bye = changes.iter().find(|c| c.item == "example:greeter/greet#bye").unwrap();
//! assert_eq!(bye.change, ChangeKind::Added);
//! // The plugin exports `greet`: an old plugin lacks `bye`, which a new host calls ...
//! let old_on_new = bye.verdict(Direction::OldPluginsOnNewHost);
//! assert_eq!(old_on_new.compatibility, Compatibility::Breaking);
//! // ... while an old host ignores the extra export of a new plugin.
//! let new_on_old = bye.verdict(Direction::NewPluginsOnOldHost);
//! assert_eq!(new_on_old.compatibility, Compatibility::Compatible);
//!
//! // The packages this host serves, compiled in.
//! let served = plinth_wit::served();
//! assert!(served.interface("plinth:tool/tool@0.1.0").is_ok());
//! # Ok::<(), plinth_wit::WitError>(())
//! ```
#![deny(missing_docs)]
#![deny(clippy::unwrap_used)]

mod component;
mod diff;
mod error;
pub mod frozen;
mod print;
mod served;
mod source;

pub use component::{
    Component, Entry, EntryKind, FunctionSignature, Problem, TypeDifference, check_exports,
    component_exports, component_imports,
};
pub use diff::{
    Change, ChangeKind, Compatibility, Diff, Direction, ItemKind, Verdict, diff, diff_interfaces,
};
pub use error::WitError;
pub use served::{PACKAGES, Served, WitFile, served};
pub use source::{Origin, WitSet};
pub use wit_parser;
