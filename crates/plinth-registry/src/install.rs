//! Installing from a registry: resolve and download (digest-checked, size-capped) with this
//! crate, then verify the signature and install atomically with `plinth-package`.
//!
//! Nothing is written before the download, its digest, the package's id and version, and
//! its signature have all checked out; a refusal leaves the home (plugin directory and
//! lockfile) exactly as it was. Installing never enables a plugin or grants anything.

use plinth_manifest::diagnostic::{Diagnostic, ToDiagnostic};
use plinth_manifest::{Digest, PluginId};
use plinth_package::{Home, InstallOptions, Installed, LockEntry, PackageError, install_bytes};
use semver::{Version, VersionReq};

use crate::download::{Fetched, LoadedIndex, RegistryClient};
use crate::error::RegistryError;
use crate::index::PreReleases;
use crate::oci::OciClient;
use crate::progress::Progress;
use crate::reference::{OciReference, Target};

/// Why an install or update from a registry failed: the download (a [`RegistryError`]) or
/// the verification and install (a [`PackageError`]). Either maps to its own diagnostic
/// code.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// Resolving or downloading failed (`missing-package`, `digest-mismatch`, …).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Verifying or installing failed (`bad-signature`, `untrusted-key`, `unsigned`, …).
    #[error(transparent)]
    Package(#[from] PackageError),
}

impl ToDiagnostic for InstallError {
    fn to_diagnostic(&self) -> Diagnostic {
        match self {
            InstallError::Registry(e) => e.to_diagnostic(),
            InstallError::Package(e) => e.to_diagnostic(),
        }
    }
}

/// Resolves `id@request` in `index`, downloads it and installs it into `home`.
///
/// `options.policy` decides about unsigned packages (registry installs should require
/// signatures); the package must have the id and the version the index lists for it, and the
/// digest it promises. `options.source` defaults to where the package was downloaded from.
#[allow(clippy::too_many_arguments)]
pub async fn install_from_index(
    client: &RegistryClient,
    home: &Home,
    index: &LoadedIndex,
    id: &str,
    request: &VersionReq,
    pre_releases: PreReleases,
    options: &InstallOptions,
    progress: &dyn Progress,
) -> Result<Installed, InstallError> {
    let fetched = client
        .fetch(index, id, request, pre_releases, progress)
        .await?;
    install_fetched(home, &fetched, options)
}

/// Installs what [`RegistryClient::fetch`] returned, checking the package against the
/// index's id, version and digest.
pub fn install_fetched(
    home: &Home,
    fetched: &Fetched,
    options: &InstallOptions,
) -> Result<Installed, InstallError> {
    let options = pinned(
        options,
        &fetched.id,
        &fetched.version,
        &fetched.digest,
        &fetched.source,
    )?;
    let signature = fetched.signature.as_deref().map(str::as_bytes);
    Ok(install_bytes(home, &fetched.package, signature, &options)?)
}

/// Pulls `reference` from an OCI registry and installs it into `home`, with the signature
/// layer of the artifact (if any).
pub async fn install_from_oci(
    client: &OciClient,
    home: &Home,
    reference: &OciReference,
    options: &InstallOptions,
    progress: &dyn Progress,
) -> Result<Installed, InstallError> {
    let pulled = client.pull(reference, progress).await?;
    let mut options = options.clone();
    // The lockfile records the manifest digest, so the pin names these exact bytes even if
    // the tag moves later.
    options.source.get_or_insert_with(|| {
        reference
            .with_target(Target::Digest(pulled.manifest_digest.clone()))
            .to_string()
    });
    let signature = pulled.signature.as_deref().map(str::as_bytes);
    Ok(install_bytes(home, &pulled.package, signature, &options)?)
}

/// `options` with the pins of an index entry: its id, version and digest.
fn pinned(
    options: &InstallOptions,
    id: &str,
    version: &Version,
    digest: &Digest,
    source: &str,
) -> Result<InstallOptions, InstallError> {
    let id = PluginId::new(id).map_err(|e| RegistryError::BadReference {
        reference: id.to_owned(),
        reason: e.to_string(),
    })?;
    let mut options = options.clone();
    let source = options.source.clone().unwrap_or_else(|| source.to_owned());
    options.expect = Some(LockEntry {
        version: version.clone(),
        digest: *digest,
        source: source.clone(),
        signer: None,
    });
    options.expect_id = Some(id);
    options.source = Some(source);
    Ok(options)
}
