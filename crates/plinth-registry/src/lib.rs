//! Plinth's registries: static JSON indexes and OCI artifact registries.
//!
//! This crate moves `.plinth` package bytes and their detached signatures, and hands them to
//! `plinth-package` to verify and install (it never unpacks or checks signatures itself).
//! What it guarantees is that the bytes it returns are the bytes that were promised: every OCI
//! blob matches its manifest digest and size, every index download matches the index digest,
//! and nothing larger than its [`SizeCaps`] is accepted.
//!
//! - [`index`]: the index format, [`Index::search`] and semver [`Index::resolve`].
//! - [`RegistryClient`]: load an index from a file or URL, [`RegistryClient::fetch`] a package.
//! - [`OciClient`]: [`OciClient::push`] and [`OciClient::pull`] plugin artifacts.
//! - [`install_from_index`] and [`install_from_oci`]: download, then verify and install with
//!   `plinth-package`; [`Updater`]: newer compatible versions, installed and swapped into a
//!   running `plinth-manager` [`Manager`](plinth_manager::Manager).
//! - [`Restorer`]: install every plugin `plinth.lock` pins again from its recorded source,
//!   refusing a package of another version or digest.
//! - [`net`]: the rules every request follows: a deadline per operation
//!   ([`NetworkOptions`]), no loopback, private or link-local address the operator did not
//!   name ([`PrivateAddresses`]), checked again on what names resolve to, capped bodies.
//!
//! ```
//! use plinth_registry::{Index, PreReleases};
//! use semver::VersionReq;
//!
//! let json = br#"{
//!   "schema_version": 1,
//!   "plugins": [{
//!     "id": "example.hello",
//!     "name": "Hello",
//!     "versions": [
//!       { "version": "1.0.0", "url": "hello-1.0.0.plinth",
//!         "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000" },
//!       { "version": "1.1.0-beta.1", "url": "hello-1.1.0-beta.1.plinth",
//!         "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111" }
//!     ]
//!   }]
//! }"#;
//! let parsed = Index::parse(json, "index.json")?;
//! assert_eq!(parsed.index.search("HELLO").len(), 1);
//! let (_, v) = parsed.index.resolve("example.hello", &VersionReq::STAR, PreReleases::Exclude)?;
//! assert_eq!(v.version.to_string(), "1.0.0");
//! let (_, v) = parsed.index.resolve("example.hello", &VersionReq::STAR, PreReleases::Include)?;
//! assert_eq!(v.version.to_string(), "1.1.0-beta.1");
//! # Ok::<(), plinth_registry::RegistryError>(())
//! ```
#![deny(missing_docs)]
#![deny(clippy::unwrap_used)]

mod download;
pub mod error;
pub mod index;
mod install;
pub mod net;
pub mod oci;
pub mod progress;
pub mod reference;
mod restore;
mod update;

pub use download::{Fetched, IndexLocation, LoadedIndex, RegistryClient};
pub use error::{RegistryError, Result};
pub use index::{Index, IndexPlugin, IndexVersion, ParsedIndex, PreReleases, parse_spec};
pub use install::{InstallError, install_fetched, install_from_index, install_from_oci};
pub use net::{DEFAULT_DEADLINE, NetworkOptions, PrivateAddresses};
pub use oci::{OciClient, PluginArtifact, Pulled, Pushed};
pub use progress::{Progress, Silent};
pub use reference::{OciReference, Target, Transport};
pub use restore::{Previous, RestoreOutcome, RestoreReport, Restorer};
pub use update::{UpdateOutcome, UpdateReport, Updater};

/// Size limits for everything downloaded. A blob over its cap is refused before or while it
/// downloads (`too-large`), never written anywhere, and never buffered past its cap: an
/// announced length over the cap is refused before the first byte, and a body without one
/// is cut off as soon as it passes the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeCaps {
    /// An OCI manifest (default 4 MiB, the size the OCI distribution spec says registries
    /// should accept).
    pub manifest: u64,
    /// An OCI config blob, the `plugin.toml` (default 1 MiB).
    pub config: u64,
    /// A `.plinth` package (default 64 MiB).
    pub package: u64,
    /// A detached signature (default 64 KiB).
    pub signature: u64,
    /// An index document (default 16 MiB).
    pub index: u64,
}

impl Default for SizeCaps {
    fn default() -> Self {
        SizeCaps {
            manifest: 4 << 20,
            config: 1 << 20,
            package: 64 << 20,
            signature: 64 << 10,
            index: 16 << 20,
        }
    }
}
