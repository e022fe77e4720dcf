//! The `plugin.toml` model of Plinth: parse and validate manifests, parse and intersect
//! grants, and the coded diagnostics every Plinth crate reports through.
//!
//! This crate is pure Rust and touches no WebAssembly: reading a manifest never compiles or
//! runs a plugin, which is what lets discovery stay a read-only inventory.
//!
//! ```
//! use std::path::Path;
//! use plinth_manifest::{Code, GrantSet, Manifest};
//!
//! let text = r#"
//! [plugin]
//! id = "example.hello"
//! version = "0.1.0"
//! homepage = "https://example.org"   # not a known key: a warning, not an error
//!
//! [runtime]
//! kind = "wasm-component"
//! component = "hello.wasm"
//!
//! [capabilities]
//! log = true
//! http = { allow = ["*.example.com"] }
//! "#;
//!
//! let parsed = Manifest::parse(text, Path::new("plugins/hello/plugin.toml"))?;
//! let manifest = &parsed.manifest;
//! assert_eq!(manifest.plugin.id.as_str(), "example.hello");
//! assert_eq!(manifest.component_path().as_deref(), Some(Path::new("plugins/hello/hello.wasm")));
//! assert_eq!(parsed.warnings[0].code, Code::UnknownKey);
//!
//! // Access is two-sided: only what the manifest requested *and* the operator granted.
//! let granted = GrantSet::parse_all(["log", "http:api.example.com", "kv"])?;
//! let effective = GrantSet::effective(&manifest.requested_grants(), &granted);
//! let names: Vec<String> = effective.iter().map(|g| g.to_string()).collect();
//! assert_eq!(names, ["log", "http:api.example.com"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![deny(clippy::unwrap_used)]

pub mod address;
pub mod atomic;
pub mod diagnostic;
pub mod digest;
pub mod grant;
pub mod kind;
pub mod manifest;
pub mod plugin_file;

pub use atomic::{
    FileMode, WriteError, copy_atomic, parent_of, replace_with, sync_dir, write_atomic,
};
pub use diagnostic::{Code, Diagnostic, ExitClass, Severity, ToDiagnostic};
pub use digest::Digest;
pub use grant::{Grant, GrantError, GrantSet};
pub use kind::Kind;
pub use manifest::{
    Capabilities, CommandDecl, DataSourceDecl, EventHandlerDecl, ExportFormatDecl, FLAT_DATA_DIR,
    FileFormatDecl, FileQuery, HookDecl, LimitOverrides, MANIFEST_FILE, Manifest, ManifestError,
    MediaTypesDecl, NamedDecl, ObjectAction, Parsed, PluginId, PluginIdError, PluginMeta, Provides,
    Runtime, SettingsDecl, ThemeDecl, ThemeProviderDecl, ToolDecl, TransformDecl, component_beside,
    manifest_beside,
};
pub use manifest::{
    DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, MAX_ATTEMPTS, MAX_CONCURRENCY, MAX_QUEUE, Overflow,
    ServiceDecl,
};
