//! Errors of reading a `plugin.toml`, each naming the file (and key or line where it applies)
//! and mapping to a diagnostic code with a hint.

use std::io;
use std::path::PathBuf;

use crate::diagnostic::{Code, Diagnostic, ToDiagnostic};
use crate::digest::Digest;

/// Why a manifest could not be read or accepted.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest exists but could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The manifest file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// There is no manifest at the path (`missing-package`).
    #[error("no plugin manifest at {}", path.display())]
    Missing {
        /// Where the manifest was expected.
        path: PathBuf,
    },
    /// The file is not valid TOML (`invalid-manifest`).
    #[error("{}:{line}:{column}: TOML syntax error: {message}", file.display())]
    Syntax {
        /// The manifest file.
        file: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// A key is missing or has a bad value (`invalid-manifest`).
    #[error("{}: {key}: {reason}", file.display())]
    Invalid {
        /// The manifest file.
        file: PathBuf,
        /// The dotted key path, e.g. `plugin.id` or `tools[1].name`.
        key: String,
        /// What is wrong, quoting the value.
        reason: String,
    },
    /// `runtime.kind` is not `wasm-component` (`legacy-runtime`).
    #[error(
        "{}: runtime.kind = {kind:?} is a legacy runtime; Plinth only runs WebAssembly components (kind = \"wasm-component\")",
        file.display()
    )]
    LegacyRuntime {
        /// The manifest file.
        file: PathBuf,
        /// The kind as written.
        kind: String,
    },
    /// The manifest is not a regular file (`not-a-regular-file`) or is over its cap
    /// (`too-large`).
    #[error(transparent)]
    Refused(#[from] crate::plugin_file::PluginFileError),
    /// The component's bytes do not hash to the pinned `runtime.digest` (`digest-mismatch`).
    #[error("component digest {actual} does not match the pinned runtime.digest {expected}")]
    DigestMismatch {
        /// The digest pinned in the manifest.
        expected: Digest,
        /// The digest of the bytes actually found.
        actual: Digest,
    },
}

impl ManifestError {
    /// The diagnostic code of this error.
    pub fn code(&self) -> Code {
        match self {
            ManifestError::Missing { .. } => Code::MissingPackage,
            ManifestError::Io { .. }
            | ManifestError::Syntax { .. }
            | ManifestError::Invalid { .. } => Code::InvalidManifest,
            ManifestError::LegacyRuntime { .. } => Code::LegacyRuntime,
            ManifestError::DigestMismatch { .. } => Code::DigestMismatch,
            ManifestError::Refused(refused) => refused.code(),
        }
    }

    fn hint(&self) -> String {
        match self {
            ManifestError::Io { .. } => {
                "check that the file is readable UTF-8 text and its permissions allow reading"
                    .into()
            }
            ManifestError::Missing { .. } => {
                "a plugin directory needs a plugin.toml; `plinth new NAME` scaffolds one".into()
            }
            ManifestError::Syntax { line, column, .. } => {
                format!("fix the TOML at line {line}, column {column}")
            }
            ManifestError::Invalid { key, .. } => hint_for_key(key).into(),
            ManifestError::LegacyRuntime { .. } => {
                "rebuild the plugin as a WebAssembly component (`cargo build --target wasm32-wasip2`, or `plinth build`) and set runtime.kind = \"wasm-component\"".into()
            }
            ManifestError::Refused(_) => {
                "a plugin file must be a regular file within its size cap (manifest and schema 1 MiB, component 256 MiB); replace it".into()
            }
            ManifestError::DigestMismatch { actual, .. } => format!(
                "the component changed since its digest was pinned: rebuild or reinstall the plugin, or, if the change is intended, set runtime.digest = \"{actual}\""
            ),
        }
    }
}

/// A fix-it hint for a bad key, by the key's place in the manifest.
fn hint_for_key(key: &str) -> &'static str {
    let section = key.split(['.', '[']).next().unwrap_or_default();
    match key {
        "plugin.id" => {
            "use lowercase letters, digits, '.', '_' and '-', at most 64 characters, e.g. id = \"example.hello\""
        }
        "plugin.version" => "use a semver version, e.g. version = \"0.1.0\"",
        "runtime.kind" => "set kind = \"wasm-component\"",
        "runtime.component" | "settings.schema" => {
            "give a path relative to plugin.toml that stays inside the plugin directory, e.g. \"hello.wasm\""
        }
        "runtime.api" => "name the Plinth WIT version the plugin targets, e.g. api = \"0.1.0\"",
        "runtime.world" => "name a plinth:plugin world in kebab-case, e.g. world = \"tool\"",
        "runtime.digest" => {
            "write \"sha256:\" followed by 64 hex digits; `plinth show DIR` prints the component's digest"
        }
        _ => match section {
            "capabilities" => {
                "see the [capabilities] forms: log = true, http = { allow = [\"api.example.com\"] }, fs = { read = [\"data\"] }, kv = true, events = { publish = [\"channel\"] }"
            }
            "limits" => {
                "limits are positive integers and may only lower the host's: fuel_units, mem_bytes, wall_timeout_ms"
            }
            "tools" => {
                "each [[tools]] entry needs a unique name; input_schema is a path relative to plugin.toml"
            }
            "provides" => {
                "each [[provides.tool]] entry needs a unique name, a description and an input_schema (a path relative to plugin.toml); each [[provides.hook]] entry a unique point"
            }
            _ => {
                "only plugin.id, plugin.version, runtime.kind and runtime.component are required; see the plugin.toml reference"
            }
        },
    }
}

impl ToDiagnostic for ManifestError {
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(self.code(), self.to_string()).with_hint(self.hint())
    }
}
