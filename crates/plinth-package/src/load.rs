//! Reading an installed plugin for a load (docs/design/0034): the folder is read once into
//! memory, checked against its `plinth.lock` entry, its key pin and its signature, and the
//! host is handed exactly the manifest and component bytes that were checked, so nothing
//! changed on disk between the check and the load can run.

use std::path::Path;

use plinth_manifest::Manifest;

use crate::archive::{Package, Packed, pack};
use crate::error::PackageError;
use crate::install::INSTALLED_SIGNATURE;
use crate::lockfile::Lockfile;
use crate::signature::Subject;
use crate::trust::{SignaturePolicy, TrustStore, Verification};
use crate::verify::{bad_signature, parse_signature_bytes, read_optional};

/// A plugin folder read once and verified by [`verify_dir`]: load [`VerifiedDir::manifest`]
/// with [`VerifiedDir::component`] (`plinth_host::Host::load_manifest_bytes`), never the
/// files again.
#[derive(Debug, Clone)]
pub struct VerifiedDir {
    packed: Packed,
    manifest: Manifest,
    verification: Verification,
    locked: bool,
}

impl VerifiedDir {
    /// The manifest that was checked, its `dir` the plugin folder (the settings schema it
    /// names is read from there).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The component bytes that were checked.
    pub fn component(&self) -> &[u8] {
        self.packed.package.component()
    }

    /// The package the folder packs to (what `plinth.lock` pins and `package.sig` covers).
    pub fn package(&self) -> &Package {
        &self.packed.package
    }

    /// How the signature checked out.
    pub fn verification(&self) -> &Verification {
        &self.verification
    }

    /// Whether a lock entry pinned the folder's digest (the plugin is installed).
    pub fn locked(&self) -> bool {
        self.locked
    }
}

/// Reads the plugin folder `dir` once (it is packed: the package format is deterministic,
/// so an untouched installed folder packs to the installed package) and checks, in order:
///
/// 1. its signature: `package.sig` over the package, else `x.sig` over the component `x.wasm`
///    with the manifest's id and version (`bad-signature`, `untrusted-key`, `unsigned`).
///    A plugin installed signed, or whose id has a key pin, must be signed whatever
///    `policy` says; one installed unsigned (its lock entry names no signer) is vouched for
///    by its digest pin; one without a lock entry follows `policy`;
/// 2. with a `lock` entry for its id, the digest (`digest-mismatch`: a file changed, or
///    another version, even a validly signed one, was copied over the installed one);
/// 3. the signer against the id's key pin (`identity-changed`), or, for an old lock entry
///    without a pin, against the signer it names.
pub fn verify_dir(
    dir: &Path,
    lock: &Lockfile,
    trust: &TrustStore,
    policy: SignaturePolicy,
) -> Result<VerifiedDir, PackageError> {
    let packed = pack(dir)?;
    let package = &packed.package;
    let id = package.id();
    let entry = lock.get(id);
    let pinned = lock.pinned_key(id);
    let signed_install = pinned.is_some() || entry.is_some_and(|e| e.signer.is_some());
    let policy = match entry {
        _ if signed_install => SignaturePolicy::Require,
        Some(_) => SignaturePolicy::AllowUnsigned,
        None => policy,
    };
    let verification = signature_of(dir, package, trust, policy)?;
    if let Some(entry) = entry
        && entry.digest != package.digest()
    {
        return Err(PackageError::DigestMismatch {
            id: id.to_string(),
            expected: entry.digest,
            actual: package.digest(),
        });
    }
    let signer_matches = match (pinned, entry.and_then(|e| e.signer.as_deref())) {
        (Some(key), _) => verification.key() == Some(key),
        (None, Some(name)) => verification.signer() == Some(name),
        (None, None) => true,
    };
    if !signer_matches {
        let expected = match pinned {
            Some(key) => key.to_string(),
            None => format!(
                "`{}`",
                entry.and_then(|e| e.signer.clone()).unwrap_or_default()
            ),
        };
        return Err(PackageError::IdentityChanged {
            id: id.to_string(),
            installed: format!("pinned to the key {expected}"),
            offered: format!(
                "signed by {} on disk",
                verification
                    .key()
                    .map_or_else(|| "no key".to_owned(), |k| k.to_string())
            ),
        });
    }
    let mut manifest = package.manifest().clone();
    manifest.dir = dir.to_path_buf();
    Ok(VerifiedDir {
        manifest,
        verification,
        locked: entry.is_some(),
        packed,
    })
}

/// The folder's signature: `package.sig` (a package install) over the package, else the
/// component signature `x.sig` over the component with the manifest's id and version.
fn signature_of(
    dir: &Path,
    package: &Package,
    trust: &TrustStore,
    policy: SignaturePolicy,
) -> Result<Verification, PackageError> {
    let package_sig = dir.join(INSTALLED_SIGNATURE);
    if let Some(bytes) = read_optional(&package_sig)? {
        let subject = package.subject();
        let signature = parse_signature_bytes(&bytes).map_err(|r| bad_signature(&subject, r))?;
        return trust.verify(
            &subject,
            Some(&signature),
            policy,
            &package_sig.display().to_string(),
        );
    }
    let sig_path = dir.join(package.signature_member());
    let subject = Subject {
        id: package.id().clone(),
        version: package.version().clone(),
        digest: package.payload_digest(),
    };
    let signature = read_optional(&sig_path)?
        .map(|bytes| parse_signature_bytes(&bytes))
        .transpose()
        .map_err(|r| bad_signature(&subject, r))?;
    trust.verify(
        &subject,
        signature.as_ref(),
        policy,
        &sig_path.display().to_string(),
    )
}
