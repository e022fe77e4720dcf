//! The one error type of this crate, and the diagnostic codes it maps to.

use std::path::PathBuf;

use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_manifest::plugin_file::PluginFileError;

/// Why WIT or a component could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WitError {
    /// Nothing at the path (`missing-package`).
    #[error("no WIT package directory, .wit file or component at `{}`", path.display())]
    Missing {
        /// The path given.
        path: PathBuf,
    },
    /// The file could not be read, or is not a regular file (its own code).
    #[error(transparent)]
    File(#[from] PluginFileError),
    /// The WIT does not parse or does not resolve (`invalid-wit`).
    #[error("`{}` is not valid WIT: {message}", path.display())]
    InvalidWit {
        /// The directory or file.
        path: PathBuf,
        /// The parser's message, with the file and line it names.
        message: String,
    },
    /// The bytes are not a WebAssembly component whose type can be decoded
    /// (`not-a-component`).
    #[error("{what} is not a component: {message}")]
    NotAComponent {
        /// The file, or `the component` for bytes.
        what: String,
        /// The decoder's message.
        message: String,
    },
    /// No interface of that name (`runtime-mismatch`).
    #[error("no interface `{name}` in {place}")]
    UnknownInterface {
        /// The name asked for, e.g. `plinth:tool/tool@0.1.0`.
        name: String,
        /// Where it was looked for: `the WIT this host serves`, or a path.
        place: String,
    },
}

impl WitError {
    /// The diagnostic code of this error.
    pub fn code(&self) -> Code {
        match self {
            WitError::Missing { .. } => Code::MissingPackage,
            WitError::File(error) => error.code(),
            WitError::InvalidWit { .. } => Code::InvalidWit,
            WitError::NotAComponent { .. } => Code::NotAComponent,
            WitError::UnknownInterface { .. } => Code::RuntimeMismatch,
        }
    }

    fn hint(&self) -> &'static str {
        match self {
            WitError::Missing { .. } => {
                "pass a WIT package directory (its dependencies in `deps/`), a .wit file or a \
                 .wasm component"
            }
            WitError::File(_) => "pass a readable regular file",
            WitError::InvalidWit { .. } => {
                "fix the WIT at the place named; a package's dependencies go in its `deps/` folder"
            }
            WitError::NotAComponent { .. } => {
                "pass a WebAssembly component (a core module is not one), or a WIT package"
            }
            WitError::UnknownInterface { .. } => {
                "name an interface of the served packages with its version, e.g. \
                 `plinth:tool/tool@0.1.0`"
            }
        }
    }
}

impl ToDiagnostic for WitError {
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(self.code(), self.to_string()).with_hint(self.hint())
    }
}
