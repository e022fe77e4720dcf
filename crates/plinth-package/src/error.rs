//! The one error type of this crate: each variant names the stage that failed and maps to a
//! diagnostic code (DESIGN §6) with a hint.

use std::io;
use std::path::PathBuf;

use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_manifest::{Digest, ManifestError};

/// Why packing, verifying, installing or reading a Plinth file failed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The archive breaks a rule of the format: traversal, an absolute path, a link or device,
    /// a duplicate, too many entries, an entry or the whole over its size cap
    /// (`package-rejected`).
    #[error("package rejected: {entry}: {reason}")]
    Rejected {
        /// The entry at fault (`<archive>` for the archive as a whole).
        entry: String,
        /// What rule it breaks.
        reason: String,
    },
    /// The package's or directory's `plugin.toml` is not a valid manifest.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A file the manifest names, or a plugin the command names, is not there
    /// (`missing-package`).
    #[error("{what} not found: {path}")]
    Missing {
        /// What was looked for (`component`, `settings schema`, `package`, …).
        what: &'static str,
        /// Where it was looked for.
        path: String,
    },
    /// The component is a core module or not WebAssembly at all (`not-a-component`).
    #[error("{path} is not a WebAssembly component")]
    NotAComponent {
        /// The component's path (inside the package or on disk).
        path: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `write`, `rename`, …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A signature was required and there is none (`unsigned`).
    #[error("{id} {version} is not signed: no signature at {expected}")]
    Unsigned {
        /// The plugin id.
        id: String,
        /// The plugin version.
        version: String,
        /// Where the signature was looked for.
        expected: String,
    },
    /// The signature is valid for a key that is not in the trust store, or (for a signature
    /// that names no key) for none of the trusted keys (`untrusted-key`).
    #[error("{id} {version} is signed by {}, which is not in the trust store", key.as_ref().map_or_else(|| "an unnamed key that matches no trusted key".to_owned(), |k| format!("key {k}")))]
    UntrustedKey {
        /// The plugin id.
        id: String,
        /// The plugin version.
        version: String,
        /// The signing key (`ed25519:<hex>`), when the signature names it.
        key: Option<String>,
    },
    /// The signature does not verify: the bytes changed, the signature belongs to another
    /// package, id or version, or the signature file is malformed (`bad-signature`).
    #[error("bad signature for {id} {version}: {reason}")]
    BadSignature {
        /// The plugin id.
        id: String,
        /// The plugin version.
        version: String,
        /// Why.
        reason: String,
    },
    /// A package's digest differs from the one pinned in the lockfile (`digest-mismatch`).
    #[error("{id}: package digest {actual} differs from the locked {expected}")]
    DigestMismatch {
        /// The plugin id.
        id: String,
        /// The locked digest.
        expected: Digest,
        /// The digest of the package offered.
        actual: Digest,
    },
    /// A package's version differs from the one pinned in the lockfile (`version-mismatch`).
    #[error("{id}: package version {actual} differs from the locked {expected}")]
    VersionMismatch {
        /// The plugin id.
        id: String,
        /// The locked version.
        expected: semver::Version,
        /// The version of the package offered.
        actual: semver::Version,
    },
    /// A Plinth file (trust store, lockfile) is malformed (`invalid-manifest`).
    #[error("{}: {reason}", path.display())]
    InvalidFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A key file, key name or other input given by the user is unusable (`bad-argument`).
    #[error("{0}")]
    BadInput(String),
    /// A package claims the id of a plugin installed from another origin or signed by
    /// another key, or an installed plugin is signed by another key than its pin
    /// (`identity-changed`; docs/design/0034).
    #[error("{id} is {installed}, but this package is {offered}")]
    IdentityChanged {
        /// The plugin id.
        id: String,
        /// What is installed (or pinned): version, origin, signer.
        installed: String,
        /// What is offered: origin and signer.
        offered: String,
    },
    /// An install's [`BeforeWrite`](crate::BeforeWrite) step failed; nothing was written.
    #[error("{}", .0.message)]
    BeforeWrite(Box<Diagnostic>),
}

impl PackageError {
    /// The diagnostic code of this error.
    pub fn code(&self) -> Code {
        match self {
            PackageError::Rejected { .. } => Code::PackageRejected,
            PackageError::Manifest(e) => e.code(),
            PackageError::Missing { .. } => Code::MissingPackage,
            PackageError::NotAComponent { .. } => Code::NotAComponent,
            PackageError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                Code::MissingPackage
            }
            // A failed read of a Plinth file stays `invalid-manifest`; a failed write, rename
            // or removal in the home or a project is `io-error`.
            PackageError::Io { action, .. } if !matches!(*action, "read" | "list" | "open") => {
                Code::IoError
            }
            PackageError::Io { .. } | PackageError::InvalidFile { .. } => Code::InvalidManifest,
            PackageError::Unsigned { .. } => Code::Unsigned,
            PackageError::UntrustedKey { .. } => Code::UntrustedKey,
            PackageError::BadSignature { .. } => Code::BadSignature,
            PackageError::DigestMismatch { .. } => Code::DigestMismatch,
            PackageError::VersionMismatch { .. } => Code::VersionMismatch,
            PackageError::BadInput(_) => Code::BadArgument,
            PackageError::IdentityChanged { .. } => Code::IdentityChanged,
            PackageError::BeforeWrite(d) => d.code,
        }
    }

    /// The plugin id the error is about, when known.
    pub fn plugin(&self) -> Option<&str> {
        match self {
            PackageError::Unsigned { id, .. }
            | PackageError::UntrustedKey { id, .. }
            | PackageError::BadSignature { id, .. }
            | PackageError::DigestMismatch { id, .. }
            | PackageError::VersionMismatch { id, .. }
            | PackageError::IdentityChanged { id, .. } => Some(id),
            PackageError::BeforeWrite(d) => d.plugin.as_deref(),
            _ => None,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            PackageError::Rejected { .. } => {
                "do not install this file: it was not made by `plinth pack` or has been tampered with; ask the author for a package made with `plinth pack`".into()
            }
            PackageError::Manifest(e) => return e.to_diagnostic().hint,
            PackageError::Missing { what, .. } => match *what {
                "installed plugin" => "`plinth list` shows what is installed".into(),
                "lockfile entry" => {
                    "install the plugin first; the lockfile records installs".into()
                }
                _ => "every file plugin.toml names must exist in the plugin directory".into(),
            },
            PackageError::NotAComponent { .. } => {
                "build the plugin as a WebAssembly component (`plinth build`)".into()
            }
            PackageError::Io { .. } => {
                "check that the path exists and its permissions allow the operation".into()
            }
            PackageError::Unsigned { .. } => {
                "ask the author for the detached .sig file, or install anyway with `--allow-unsigned` (or `[security] require_signatures = false` in config.toml)".into()
            }
            PackageError::UntrustedKey { key, .. } => match key {
                Some(key) => format!(
                    "if you trust the author, add their public key: `plinth trust add AUTHOR.pub` (key {key})"
                ),
                None => "add the author's public key with `plinth trust add AUTHOR.pub`".into(),
            },
            PackageError::BadSignature { .. } => {
                "do not install it: the package or its signature was changed after signing; download both again from the author".into()
            }
            PackageError::DigestMismatch { .. } => {
                "the package differs from the one recorded in plinth.lock: fetch the exact locked package (`plinth restore` reinstalls it), or reinstall deliberately to update the lock".into()
            }
            PackageError::VersionMismatch { expected, .. } => format!(
                "plinth.lock pins version {expected}: fetch that version, or reinstall deliberately to update the lock"
            ),
            PackageError::InvalidFile { .. } => {
                "fix the file by hand, or move it away to start from an empty one".into()
            }
            PackageError::BadInput(_) => return None,
            PackageError::IdentityChanged { id, .. } => format!(
                "another source or key publishes a plugin under the id `{id}`; if you mean to replace the installed plugin with it, run `plinth install --replace` (it is then disabled and its grants are reset for review); otherwise find out where the package came from"
            ),
            PackageError::BeforeWrite(d) => return d.hint.clone(),
        })
    }
}

impl ToDiagnostic for PackageError {
    fn to_diagnostic(&self) -> Diagnostic {
        if let PackageError::Manifest(e) = self {
            return e.to_diagnostic();
        }
        if let PackageError::BeforeWrite(d) = self {
            return (**d).clone();
        }
        let mut diagnostic = Diagnostic::new(self.code(), self.to_string());
        if let Some(id) = self.plugin() {
            diagnostic = diagnostic.with_plugin(id);
        }
        if let Some(hint) = self.hint() {
            diagnostic = diagnostic.with_hint(hint);
        }
        diagnostic
    }
}

/// Shorthand for a [`PackageError::Rejected`].
pub(crate) fn rejected(entry: impl Into<String>, reason: impl Into<String>) -> PackageError {
    PackageError::Rejected {
        entry: entry.into(),
        reason: reason.into(),
    }
}

/// Shorthand for a [`PackageError::Io`].
pub(crate) fn io_error(
    action: &'static str,
    path: impl Into<PathBuf>,
    source: io::Error,
) -> PackageError {
    PackageError::Io {
        action,
        path: path.into(),
        source,
    }
}
