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
//! [`SignaturePolicy::Require`] one must be present. The check names the digest it vouched
//! for, and the manager refuses a load whose bytes differ from it (a file changed between
//! the check and the load).

use std::io::Read;
use std::path::{Path, PathBuf};

use plinth_manifest::Digest;
use plinth_package::{
    INSTALLED_SIGNATURE, LayoutEntry, PackageError, SignaturePolicy, Subject, TRUST_FILE,
    TrustStore, UnpackLimits, Verification, component_signature_path,
};

/// Signature files are small: reading stops past this many bytes (the parser refuses
/// anything over 4 KiB).
const MAX_SIGNATURE_READ: u64 = 8192;

/// How the manager checks signatures on every load and reload: the trust store to read
/// (again on every check, so a `plinth trust add` counts at the next reload) and whether
/// an unsigned plugin may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    trust_store: PathBuf,
    policy: SignaturePolicy,
}

impl SignatureCheck {
    /// Checks against the trust store file `trust_store` under `policy`.
    pub fn new(trust_store: impl Into<PathBuf>, policy: SignaturePolicy) -> Self {
        Self {
            trust_store: trust_store.into(),
            policy,
        }
    }

    /// Checks against `<home>/trusted_keys.toml` under `policy` (map host config
    /// `[security] require_signatures = true` to [`SignaturePolicy::Require`]).
    pub fn in_home(home: &Path, policy: SignaturePolicy) -> Self {
        Self::new(home.join(TRUST_FILE), policy)
    }

    /// The trust store file.
    pub fn trust_store(&self) -> &Path {
        &self.trust_store
    }

    /// Whether unsigned plugins may run.
    pub fn policy(&self) -> SignaturePolicy {
        self.policy
    }

    /// Checks the signature of the plugin at `source` (a plugin folder or a component
    /// file). `Ok(None)`: unsigned, and the policy allows it.
    pub(crate) fn check(&self, source: &Path) -> Result<Option<Vouched>, PackageError> {
        let trust = TrustStore::load(&self.trust_store)?;
        if source.is_dir() {
            let package_sig = source.join(INSTALLED_SIGNATURE);
            if package_sig.is_file() {
                return self.check_package(source, &package_sig, &trust).map(Some);
            }
            let unit = LayoutEntry::for_plugin_dir(source)?;
            return self.check_unit(&unit, &trust);
        }
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

    /// `package.sig`: the folder packs again to the installed package (the format is
    /// deterministic) and the signature must cover that package.
    fn check_package(
        &self,
        dir: &Path,
        signature: &Path,
        trust: &TrustStore,
    ) -> Result<Vouched, PackageError> {
        let packed = plinth_package::pack(dir)?;
        let sig = read_signature(signature)?;
        let verified = plinth_package::verify(
            &packed.bytes,
            Some(&sig),
            trust,
            self.policy,
            &UnpackLimits::default(),
        )?;
        let package = &verified.package;
        Ok(Vouched {
            subject: Subject {
                id: package.id().clone(),
                version: package.version().clone(),
                digest: Digest::of(package.component()),
            },
            signer: verified.verification.signer().map(str::to_owned),
        })
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

fn read_signature(path: &Path) -> Result<Vec<u8>, PackageError> {
    let io = |source| PackageError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_SIGNATURE_READ)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}

fn bare_id(component: &Path) -> String {
    component
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
