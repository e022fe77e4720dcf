//! How a plugin's signature stands, as listings report it (`plinth show`, `plinth check`,
//! `plinth serve`): read without running anything.

use plinth_manifest::diagnostic::{Diagnostic, ToDiagnostic};
use serde::Serialize;

use crate::{PackageError, Verification};

/// A signature's standing: `trusted`, `unsigned`, `untrusted-key` or `bad-signature`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum SignatureState {
    /// Signed by a key of the trust store.
    Trusted {
        /// The key's name in the trust store.
        signer: String,
    },
    /// No signature.
    Unsigned,
    /// Signed by a key the trust store does not hold.
    UntrustedKey {
        /// The signing key (`ed25519:<hex>`), when the signature names it.
        key: Option<String>,
    },
    /// The signature does not cover these bytes, this id or this version.
    BadSignature {
        /// Why.
        diagnostic: Diagnostic,
    },
}

impl SignatureState {
    /// The standing a verification under [`SignaturePolicy::Require`] ended in; `None` when
    /// it failed for another reason than the signature (a missing file, a broken layout).
    ///
    /// [`SignaturePolicy::Require`]: crate::SignaturePolicy::Require
    pub fn of(outcome: Result<Verification, PackageError>) -> Option<SignatureState> {
        match outcome {
            Ok(Verification::Trusted { name, .. }) => {
                Some(SignatureState::Trusted { signer: name })
            }
            Ok(Verification::Unsigned) | Err(PackageError::Unsigned { .. }) => {
                Some(SignatureState::Unsigned)
            }
            Err(e @ PackageError::BadSignature { .. }) => Some(SignatureState::BadSignature {
                diagnostic: e.to_diagnostic(),
            }),
            Err(PackageError::UntrustedKey { key, .. }) => {
                Some(SignatureState::UntrustedKey { key })
            }
            Err(_) => None,
        }
    }

    /// `trusted`, `unsigned`, `untrusted-key` or `bad-signature`.
    pub fn name(&self) -> &'static str {
        match self {
            SignatureState::Trusted { .. } => "trusted",
            SignatureState::Unsigned => "unsigned",
            SignatureState::UntrustedKey { .. } => "untrusted-key",
            SignatureState::BadSignature { .. } => "bad-signature",
        }
    }
}
