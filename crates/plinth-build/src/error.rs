//! The one error type of this crate: each variant names the build stage that failed and maps
//! to a diagnostic code (`missing-package`, `build-failed`, `io-error`) with a hint.

use std::io;
use std::path::PathBuf;

use plinth_manifest::WriteError;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};

use crate::Language;

/// Why building a plugin project failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The folder has no `Cargo.toml`, `app.py` or `app.js` (`missing-package`).
    #[error(
        "{}: no Cargo.toml, {} or {}; `plinth build` builds Rust, Python and JavaScript plugins",
        dir.display(),
        crate::PY_ENTRY,
        crate::JS_ENTRY
    )]
    NotAProject {
        /// The folder given.
        dir: PathBuf,
    },
    /// The language's toolchain is not installed where Plinth looks (`build-failed`).
    #[error("{program} is needed to build this plugin: {detail}")]
    ToolchainMissing {
        /// The project's language.
        language: Language,
        /// The program looked for (`cargo`, `componentize-py`, `componentize-js`).
        program: String,
        /// Where it was looked for.
        detail: String,
    },
    /// The toolchain was found but could not be started (`build-failed`).
    #[error("cannot run {program}: {source}")]
    ToolchainNotRunnable {
        /// The project's language.
        language: Language,
        /// The program's file name.
        program: String,
        /// Why it did not start.
        #[source]
        source: io::Error,
    },
    /// The toolchain ran and failed (`build-failed`). cargo's own output went to stderr as it
    /// ran; for componentize-py/js the end of theirs is kept.
    #[error("{}", failed_message(*language, program, status, stderr_tail))]
    ToolchainFailed {
        /// The project's language.
        language: Language,
        /// The program's file name.
        program: String,
        /// How it exited.
        status: String,
        /// The last lines of its error output (up to 40, without a native backtrace).
        stderr_tail: String,
    },
    /// The toolchain succeeded but left no component where expected (`build-failed`).
    #[error("{}", output_missing_message(*language, program))]
    OutputMissing {
        /// The project's language.
        language: Language,
        /// The program's file name.
        program: String,
    },
    /// `plugin.toml` cannot be read for the world to build (`invalid-manifest`).
    #[error("{}: {reason}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The manifest provides a kind with no WIT world in this `plinth` (`invalid-manifest`).
    #[error(
        "`[[provides.{kind}]]`: no WIT world for the kind `{kind}`; the kinds with one are {}",
        known.join(", ")
    )]
    UnknownKind {
        /// The kind.
        kind: String,
        /// The kinds that have a world.
        known: Vec<String>,
    },
    /// Reading or writing a file or folder failed (`io-error`).
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`write`, `create a temp folder in`, …).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

fn failed_message(language: Language, program: &str, status: &str, tail: &str) -> String {
    match language {
        Language::Rust => "cargo build failed".to_string(),
        _ => format!("{program} failed ({status}):\n{tail}"),
    }
}

fn output_missing_message(language: Language, program: &str) -> String {
    match language {
        Language::Rust => "cargo built no cdylib .wasm".to_string(),
        _ => format!("{program} succeeded but wrote no component"),
    }
}

impl From<WriteError> for BuildError {
    fn from(e: WriteError) -> BuildError {
        BuildError::Io {
            action: e.action,
            path: e.path,
            source: e.source,
        }
    }
}

impl BuildError {
    /// The diagnostic code of this error.
    pub fn code(&self) -> Code {
        match self {
            BuildError::NotAProject { .. } => Code::MissingPackage,
            BuildError::ToolchainMissing { .. }
            | BuildError::ToolchainNotRunnable { .. }
            | BuildError::ToolchainFailed { .. }
            | BuildError::OutputMissing { .. } => Code::BuildFailed,
            BuildError::Manifest { .. } | BuildError::UnknownKind { .. } => Code::InvalidManifest,
            BuildError::Io { .. } => Code::IoError,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            BuildError::NotAProject { .. } => {
                Some("create a project with `plinth new NAME [--lang rust|python|js]`".into())
            }
            BuildError::ToolchainMissing { language, .. }
            | BuildError::ToolchainNotRunnable { language, .. } => Some(language.install_hint()),
            BuildError::ToolchainFailed { language, .. } => Some(
                match language {
                    Language::Rust => "if the target is missing: `rustup target add wasm32-wasip2`",
                    Language::Python => {
                        "check app.py; `plinth_pdk` comes from the project or, without a copy, \
                         from plinth"
                    }
                    Language::JavaScript => {
                        "check app.js and that `plinth-pdk.js` is in the project (written by \
                         `plinth new`)"
                    }
                }
                .into(),
            ),
            BuildError::OutputMissing { language, .. } => match language {
                Language::Rust => {
                    Some("set `crate-type = [\"cdylib\"]` under [lib] in Cargo.toml".into())
                }
                _ => None,
            },
            BuildError::UnknownKind { .. } => Some(
                "correct the kind's name, or use a `plinth` whose WIT has the kind's package"
                    .into(),
            ),
            BuildError::Manifest { .. } | BuildError::Io { .. } => None,
        }
    }
}

impl ToDiagnostic for BuildError {
    fn to_diagnostic(&self) -> Diagnostic {
        let diagnostic = Diagnostic::new(self.code(), self.to_string());
        match self.hint() {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        }
    }
}
