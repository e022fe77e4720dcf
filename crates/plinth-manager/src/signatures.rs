//! Signature checks before a version serves (docs/design/0027).
//!
//! A plugin folder can carry a signature in two forms, both written by `plinth-package`:
//!
//! - `package.sig`, kept by an install from a `.plinth` package: it covers the package the
//!   folder packs to, so every file of the package;
//! - `x.sig` beside the component `x.wasm`: it covers the component's digest with the id and
//!   version of `plugin.toml` (or of `x.toml`, the Stack Composer layout).
//!
//! A signature that is present must verify with a key of the trust store; with
//! [`SignaturePolicy::Require`] one must be present. A plugin folder is read once
//! (`plinth_package::verify_dir`), checked, and loaded from the bytes that were checked;
//! with a lockfile ([`SignatureCheck::in_home`]) an installed plugin must also be the
//! package `plinth.lock` pins and be signed by the key its id is pinned to
//! (docs/design/0034). A bare component is checked first and its load refused when its
//! bytes differ from the ones the check vouched for.

use std::path::{Path, PathBuf};

use plinth_manifest::Digest;
use plinth_package::{
    LOCK_FILE, LayoutEntry, Lockfile, PackageError, SignaturePolicy, Subject, TRUST_FILE,
    TrustStore, Verification, VerifiedDir, component_signature_path,
};

/// How the manager checks signatures on every load and reload: the trust store to read
/// (again on every check, so a `plinth trust add` counts at the next reload) and whether
/// an unsigned plugin may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    trust_store: PathBuf,
    lockfile: Option<PathBuf>,
    policy: SignaturePolicy,
}

impl SignatureCheck {
    /// Checks against the trust store file `trust_store` under `policy`.
    /// No lockfile: plugins are checked by their signatures only.
    pub fn new(trust_store: impl Into<PathBuf>, policy: SignaturePolicy) -> Self {
        Self {
            trust_store: trust_store.into(),
            lockfile: None,
            policy,
        }
    }

    /// Checks against `<home>/trusted_keys.toml` under `policy` (map host config
    /// `[security] require_signatures = true` to [`SignaturePolicy::Require`]), and every
    /// plugin `<home>/plinth.lock` pins against its entry and key pin.
    pub fn in_home(home: &Path, policy: SignaturePolicy) -> Self {
        Self::new(home.join(TRUST_FILE), policy).with_lockfile(home.join(LOCK_FILE))
    }

    /// Also checks each plugin the lockfile at `path` pins: its folder must pack to the
    /// pinned digest (`digest-mismatch`), and be signed by the key its id is pinned to
    /// (`identity-changed`) whatever the policy; a plugin installed unsigned is vouched for
    /// by its digest. The file is read again on every check.
    #[must_use]
    pub fn with_lockfile(mut self, path: impl Into<PathBuf>) -> Self {
        self.lockfile = Some(path.into());
        self
    }

    /// The lockfile, when plugins are checked against one.
    pub fn lockfile(&self) -> Option<&Path> {
        self.lockfile.as_deref()
    }

    /// The trust store file.
    pub fn trust_store(&self) -> &Path {
        &self.trust_store
    }

    /// Whether unsigned plugins may run.
    pub fn policy(&self) -> SignaturePolicy {
        self.policy
    }

    /// Reads the plugin folder `dir` once and checks it (`plinth_package::verify_dir`):
    /// signature, and with a lockfile its pinned digest and key. Load what it returns.
    pub(crate) fn verify_dir(&self, dir: &Path) -> Result<VerifiedDir, PackageError> {
        let trust = TrustStore::load(&self.trust_store)?;
        let lock = match &self.lockfile {
            Some(path) => Lockfile::load(path)?,
            None => Lockfile::default(),
        };
        plinth_package::verify_dir(dir, &lock, &trust, self.policy)
    }

    /// Checks the signature of a bare component `source`: `x.wasm` with `x.sig` and the
    /// `x.toml` naming its id and version (the Stack Composer layout). `Ok(None)`: unsigned,
    /// and the policy allows it. Plugin folders go through [`Self::verify_dir`].
    pub(crate) fn check_component(&self, source: &Path) -> Result<Option<Vouched>, PackageError> {
        let trust = TrustStore::load(&self.trust_store)?;
        match LayoutEntry::for_component(source) {
            Ok(unit) => self.check_unit(&unit, &trust),
            // A bare component without a manifest has no id and version to sign.
            Err(_) if component_signature_path(source).exists() => Err(PackageError::Missing {
                what: "manifest naming the signed component (x.toml or plugin.toml)",
                path: source.display().to_string(),
            }),
            Err(_) => match self.policy {
                SignaturePolicy::AllowUnsigned => Ok(None),
                SignaturePolicy::Require => Err(PackageError::Unsigned {
                    id: bare_id(source),
                    version: "0.0.0".into(),
                    expected: component_signature_path(source).display().to_string(),
                }),
            },
        }
    }

    fn check_unit(
        &self,
        unit: &LayoutEntry,
        trust: &TrustStore,
    ) -> Result<Option<Vouched>, PackageError> {
        let (subject, verification) = unit.verify(trust, self.policy)?;
        Ok(match verification {
            Verification::Unsigned => None,
            Verification::Trusted { name, .. } => Some(Vouched {
                subject,
                signer: Some(name),
            }),
        })
    }
}

/// What a signature check vouched for: the component bytes (by digest), id and version the
/// loaded version must have.
#[derive(Debug, Clone)]
pub(crate) struct Vouched {
    pub(crate) subject: Subject,
    pub(crate) signer: Option<String>,
}

impl Vouched {
    /// Whether a load read the bytes that were checked.
    pub(crate) fn covers(&self, digest: &Digest) -> bool {
        self.subject.digest == *digest
    }
}

fn bare_id(component: &Path) -> String {
    component
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
