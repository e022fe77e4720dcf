//! The trust store, `<home>/trusted_keys.toml`: the named Ed25519 public keys whose
//! signatures this machine accepts, and the verification of a signature against it.
//!
//! ```toml
//! # Plinth trust store: `plinth trust add/list/remove` edits it.
//! [keys]
//! alice = "ed25519:9a3f…"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{PackageError, io_error};
use crate::fsutil::write_atomic;
use crate::names::check_key_name;
use crate::signature::{PublicKey, Signature, Subject};

/// The trust store's file name inside the home directory.
pub const TRUST_FILE: &str = "trusted_keys.toml";

/// Whether a package without a signature may be installed. A signature that is present must
/// always verify with a trusted key, whatever the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignaturePolicy {
    /// A signature by a trusted key is required (`unsigned` otherwise).
    Require,
    /// An unsigned package is accepted.
    AllowUnsigned,
}

/// How a verification succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Signed by the trusted key of this name.
    Trusted {
        /// The key's name in the trust store.
        name: String,
        /// The key.
        key: PublicKey,
    },
    /// Not signed, and the policy allows that.
    Unsigned,
}

impl Verification {
    /// The trusted key's name, when signed.
    pub fn signer(&self) -> Option<&str> {
        match self {
            Verification::Trusted { name, .. } => Some(name),
            Verification::Unsigned => None,
        }
    }

    /// The trusted key, when signed.
    pub fn key(&self) -> Option<PublicKey> {
        match self {
            Verification::Trusted { key, .. } => Some(*key),
            Verification::Unsigned => None,
        }
    }
}

/// Named public keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustStore {
    keys: BTreeMap<String, PublicKey>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustFile {
    #[serde(default)]
    keys: BTreeMap<String, String>,
}

impl TrustStore {
    /// Parses the file text; `path` is used in messages only.
    pub fn parse(text: &str, path: &Path) -> Result<TrustStore, PackageError> {
        let invalid = |reason: String| PackageError::InvalidFile {
            path: path.to_path_buf(),
            reason,
        };
        let file: TrustFile = toml::from_str(text).map_err(|e| invalid(e.message().to_owned()))?;
        let mut keys = BTreeMap::new();
        for (name, text) in file.keys {
            check_key_name(&name).map_err(|e| invalid(e.to_string()))?;
            let key = text
                .parse::<PublicKey>()
                .map_err(|e| invalid(format!("keys.{name}: {e}")))?;
            keys.insert(name, key);
        }
        Ok(TrustStore { keys })
    }

    /// Reads the trust store; a missing file is an empty store.
    pub fn load(path: &Path) -> Result<TrustStore, PackageError> {
        match std::fs::read_to_string(path) {
            Ok(text) => TrustStore::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TrustStore::default()),
            Err(e) => Err(io_error("read", path, e)),
        }
    }

    /// The file text.
    pub fn to_toml(&self) -> String {
        let mut text = String::from(
            "# Plinth trust store: `plinth trust add/list/remove` edits it.\n[keys]\n",
        );
        for (name, key) in &self.keys {
            text.push_str(&format!("{name} = \"{key}\"\n"));
        }
        text
    }

    /// Writes the trust store atomically.
    pub fn save(&self, path: &Path) -> Result<(), PackageError> {
        write_atomic(path, self.to_toml().as_bytes())
    }

    /// Adds `key` as `name`. Refuses a name already used for another key and a key already
    /// trusted under another name; adding the same pair again changes nothing.
    pub fn add(&mut self, name: &str, key: PublicKey) -> Result<(), PackageError> {
        check_key_name(name)?;
        if let Some(existing) = self.keys.get(name) {
            if *existing == key {
                return Ok(());
            }
            return Err(PackageError::BadInput(format!(
                "the trust store already has a key named `{name}`; remove it first or choose another name"
            )));
        }
        if let Some(other) = self.name_of(&key) {
            return Err(PackageError::BadInput(format!(
                "this key is already trusted as `{other}`"
            )));
        }
        self.keys.insert(name.to_owned(), key);
        Ok(())
    }

    /// Removes the key named `name`; returns it, or `None` if there was none.
    pub fn remove(&mut self, name: &str) -> Option<PublicKey> {
        self.keys.remove(name)
    }

    /// The keys by name, sorted.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &PublicKey)> {
        self.keys.iter().map(|(n, k)| (n.as_str(), k))
    }

    /// The name under which `key` is trusted.
    pub fn name_of(&self, key: &PublicKey) -> Option<&str> {
        self.keys
            .iter()
            .find(|(_, k)| *k == key)
            .map(|(n, _)| n.as_str())
    }

    /// Checks a (possibly absent) signature of `subject` under `policy`:
    ///
    /// - no signature → `unsigned`, unless the policy allows it;
    /// - a signature whose file names another subject (id, version or digest) →
    ///   `bad-signature`;
    /// - a signature that names its key: it must verify with that key (`bad-signature`
    ///   otherwise: the bytes, id or version differ from what was signed), and the key must be
    ///   in the store (`untrusted-key`);
    /// - a bare signature (no key named): it must verify with one of the trusted keys
    ///   (`untrusted-key` otherwise, since a changed file and an unknown signer look alike).
    ///
    /// `expected` names where the signature was looked for, for the `unsigned` message.
    pub fn verify(
        &self,
        subject: &Subject,
        signature: Option<&Signature>,
        policy: SignaturePolicy,
        expected: &str,
    ) -> Result<Verification, PackageError> {
        let id = subject.id.as_str().to_owned();
        let version = subject.version.to_string();
        let Some(signature) = signature else {
            return match policy {
                SignaturePolicy::AllowUnsigned => Ok(Verification::Unsigned),
                SignaturePolicy::Require => Err(PackageError::Unsigned {
                    id,
                    version,
                    expected: expected.to_owned(),
                }),
            };
        };
        if let Some(claimed) = &signature.subject
            && claimed != subject
        {
            return Err(PackageError::BadSignature {
                id,
                version,
                reason: claim_mismatch(claimed, subject),
            });
        }
        match &signature.key {
            Some(key) => {
                if !key.verifies(subject, signature) {
                    return Err(PackageError::BadSignature {
                        id,
                        version,
                        reason: format!(
                            "the signature by {key} does not match this package's digest {}, id and version",
                            subject.digest
                        ),
                    });
                }
                match self.name_of(key) {
                    Some(name) => Ok(Verification::Trusted {
                        name: name.to_owned(),
                        key: *key,
                    }),
                    None => Err(PackageError::UntrustedKey {
                        id,
                        version,
                        key: Some(key.to_string()),
                    }),
                }
            }
            None => self
                .keys
                .iter()
                .find(|(_, key)| key.verifies(subject, signature))
                .map(|(name, key)| Verification::Trusted {
                    name: name.clone(),
                    key: *key,
                })
                .ok_or(PackageError::UntrustedKey {
                    id,
                    version,
                    key: None,
                }),
        }
    }
}

/// Why a signature's claimed subject is not the subject at hand.
fn claim_mismatch(claimed: &Subject, actual: &Subject) -> String {
    if claimed.digest != actual.digest {
        format!(
            "the signature covers {} ({} {}) but these bytes are {}: they changed after signing, or the signature belongs to another package",
            claimed.digest, claimed.id, claimed.version, actual.digest
        )
    } else {
        format!(
            "the signature is for {} {}, not for this package",
            claimed.id, claimed.version
        )
    }
}

#[cfg(test)]
mod tests {
    use plinth_manifest::{Code, Digest, PluginId};

    use super::*;
    use crate::signature::SecretKey;

    fn subject(bytes: &[u8]) -> Subject {
        Subject {
            id: PluginId::new("example.hello").unwrap(),
            version: "0.1.0".parse().unwrap(),
            digest: Digest::of(bytes),
        }
    }

    #[test]
    fn verification_outcomes_table() {
        let alice = SecretKey::from_seed([1; 32]);
        let mallory = SecretKey::from_seed([2; 32]);
        let mut store = TrustStore::default();
        store.add("alice", alice.public_key()).unwrap();
        let good = alice.sign(&subject(b"pkg"));
        let bare_good = good.to_bare();
        let by_mallory = mallory.sign(&subject(b"pkg"));
        let bare_mallory = by_mallory.to_bare();
        let require = SignaturePolicy::Require;
        let allow = SignaturePolicy::AllowUnsigned;
        type Case<'a> = (
            &'a str,
            &'a [u8],
            Option<&'a Signature>,
            SignaturePolicy,
            Result<(), Code>,
        );
        let cases: Vec<Case> = vec![
            ("trusted", b"pkg", Some(&good), require, Ok(())),
            ("bare trusted", b"pkg", Some(&bare_good), require, Ok(())),
            (
                "tampered",
                b"pkh",
                Some(&good),
                require,
                Err(Code::BadSignature),
            ),
            (
                "tampered, allow",
                b"pkh",
                Some(&good),
                allow,
                Err(Code::BadSignature),
            ),
            (
                "untrusted",
                b"pkg",
                Some(&by_mallory),
                require,
                Err(Code::UntrustedKey),
            ),
            (
                "untrusted, allow",
                b"pkg",
                Some(&by_mallory),
                allow,
                Err(Code::UntrustedKey),
            ),
            (
                "bare untrusted",
                b"pkg",
                Some(&bare_mallory),
                require,
                Err(Code::UntrustedKey),
            ),
            ("unsigned", b"pkg", None, require, Err(Code::Unsigned)),
            ("unsigned, allow", b"pkg", None, allow, Ok(())),
        ];
        for (name, bytes, sig, policy, expected) in cases {
            let got = store
                .verify(&subject(bytes), sig, policy, "x.sig")
                .map(|_| ())
                .map_err(|e| e.code());
            assert_eq!(got, expected, "{name}");
        }
        let signer = store
            .verify(&subject(b"pkg"), Some(&good), require, "x.sig")
            .unwrap();
        assert_eq!(signer.signer(), Some("alice"));
    }

    #[test]
    fn add_remove_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRUST_FILE);
        assert_eq!(TrustStore::load(&path).unwrap(), TrustStore::default());
        let a = SecretKey::from_seed([1; 32]).public_key();
        let b = SecretKey::from_seed([2; 32]).public_key();
        let mut store = TrustStore::default();
        store.add("alice", a).unwrap();
        store.add("alice", a).unwrap();
        assert!(store.add("alice", b).is_err());
        assert!(store.add("alias", a).is_err());
        assert!(store.add("../x", b).is_err());
        store.add("bob", b).unwrap();
        store.save(&path).unwrap();
        let loaded = TrustStore::load(&path).unwrap();
        assert_eq!(loaded, store);
        assert_eq!(
            loaded.keys().map(|(n, _)| n).collect::<Vec<_>>(),
            ["alice", "bob"]
        );
        store.remove("alice").unwrap();
        assert!(store.remove("alice").is_none());
        assert_eq!(store.name_of(&b), Some("bob"));
    }

    #[test]
    fn malformed_files_are_invalid() {
        for text in [
            "keys = 1",
            "[keys]\nalice = \"ed25519:00\"",
            "[keys]\n\"a b\" = \"ed25519:00\"",
            "[other]\n",
            "[keys",
        ] {
            let err = TrustStore::parse(text, Path::new("t.toml")).unwrap_err();
            assert_eq!(err.code(), Code::InvalidManifest, "{text}");
        }
    }
}
