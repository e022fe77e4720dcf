//! The one error type of this crate, and the diagnostic code each failure maps to.

use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};

/// Why a registry operation failed. Each variant names the stage and the thing involved, and
/// maps to one stable diagnostic code ([`ToDiagnostic`]).
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// An `oci://` reference or index location is malformed (a usage error).
    #[error("bad reference `{reference}`: {reason}")]
    BadReference {
        /// The text given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The index is not valid JSON of the index format, or breaks one of its rules.
    #[error("invalid index {location}: {reason}")]
    InvalidIndex {
        /// Where the index came from.
        location: String,
        /// What is wrong, with the JSON path when known.
        reason: String,
    },
    /// Nothing matches: an unknown plugin id, no version matching the request, a missing file.
    #[error("{what}")]
    NotFound {
        /// What was looked for and where.
        what: String,
        /// The plugin id, when known.
        plugin: Option<String>,
    },
    /// Downloaded bytes do not have the digest the index or manifest promised.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The blob or download.
        what: String,
        /// The promised digest.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// A blob, manifest, index or download is larger than its cap (or than it announced).
    #[error("{what} is too large: {size} bytes, the limit is {cap}")]
    TooLarge {
        /// The blob or download.
        what: String,
        /// Its announced or received size (at least this many bytes).
        size: u64,
        /// The cap.
        cap: u64,
    },
    /// The OCI artifact is not a Plinth plugin, or breaks the Plinth artifact layout.
    #[error("{reference} is not a Plinth plugin artifact: {reason}")]
    NotAPlugin {
        /// The reference pulled.
        reference: String,
        /// What is wrong with its manifest.
        reason: String,
    },
    /// A registry operation ran past its deadline: the server is too slow, trickles bytes
    /// or never answers.
    #[error("{location} did not finish within {} s", limit.as_secs_f64())]
    Deadline {
        /// The registry, URL or reference involved.
        location: String,
        /// The deadline.
        limit: std::time::Duration,
    },
    /// An index, a registry or a redirect steered a request to a loopback, private,
    /// link-local or otherwise non-public address the operator did not name.
    #[error("refused to connect for {location}: {reason}")]
    PrivateAddress {
        /// The URL or host involved.
        location: String,
        /// The address and why it is refused.
        reason: String,
    },
    /// The registry or index server could not be reached, or refused the request.
    #[error("registry request to {location} failed: {reason}")]
    Transport {
        /// The registry, URL or reference involved.
        location: String,
        /// The underlying error.
        reason: String,
    },
}

impl RegistryError {
    /// The stable diagnostic code of this error.
    pub fn code(&self) -> Code {
        match self {
            RegistryError::BadReference { .. } => Code::BadArgument,
            RegistryError::InvalidIndex { .. } => Code::InvalidIndex,
            RegistryError::NotFound { .. } => Code::MissingPackage,
            RegistryError::DigestMismatch { .. } => Code::DigestMismatch,
            RegistryError::TooLarge { .. } => Code::TooLarge,
            RegistryError::NotAPlugin { .. } => Code::PackageRejected,
            RegistryError::Deadline { .. } | RegistryError::Transport { .. } => Code::RegistryError,
            RegistryError::PrivateAddress { .. } => Code::HttpDenied,
        }
    }

    pub(crate) fn transport(location: impl Into<String>, reason: impl ToString) -> Self {
        RegistryError::Transport {
            location: location.into(),
            reason: reason.to_string(),
        }
    }

    /// A transport failure whose reason lists the error and its sources (reqwest's top-level
    /// message alone rarely says what went wrong).
    pub(crate) fn transport_error(
        location: impl Into<String>,
        error: &(dyn std::error::Error + 'static),
    ) -> Self {
        let mut reason = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !reason.contains(&text) {
                reason.push_str(": ");
                reason.push_str(&text);
            }
            source = cause.source();
        }
        RegistryError::transport(location, reason)
    }

    fn hint(&self) -> Option<&'static str> {
        Some(match self {
            RegistryError::BadReference { .. } => {
                "write oci://HOST[:PORT]/REPO:TAG or oci://HOST[:PORT]/REPO@sha256:DIGEST"
            }
            RegistryError::InvalidIndex { .. } => {
                "fix the index file; docs/registries.md describes its format"
            }
            RegistryError::NotFound { .. } => {
                "check the id, version, tag or path; `plinth search` lists what an index offers"
            }
            RegistryError::DigestMismatch { .. } => {
                "the bytes were altered in transit or on the server; nothing was written"
            }
            RegistryError::TooLarge { .. } => "nothing was written; the download was stopped",
            RegistryError::NotAPlugin { .. } => {
                "push plugins with `plinth push`; docs/registries.md describes the layout"
            }
            RegistryError::Deadline { .. } => {
                "the server is too slow or stopped answering; nothing was written, try again later"
            }
            RegistryError::PrivateAddress { .. } => {
                "an index or registry named that address, not you; if you trust it to, pass --allow-private"
            }
            RegistryError::Transport { .. } => {
                "check the address; for a registry without TLS pass --plain-http"
            }
        })
    }
}

impl ToDiagnostic for RegistryError {
    fn to_diagnostic(&self) -> Diagnostic {
        let mut diagnostic = Diagnostic::new(self.code(), self.to_string());
        if let RegistryError::NotFound {
            plugin: Some(id), ..
        } = self
        {
            diagnostic = diagnostic.with_plugin(id.clone());
        }
        match self.hint() {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;
