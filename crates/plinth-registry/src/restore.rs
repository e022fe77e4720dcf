//! Restoring a home from its lockfile: every plugin `plinth.lock` pins is installed again
//! from the source it records (a plugin directory, a `.plinth` file, an `http(s)://` URL or
//! an `oci://` reference), verified like any install, and accepted only with the pinned
//! version and digest.
//!
//! A plugin whose directory still packs to the pinned digest is left alone. Every other entry
//! is fetched, then checked against its pin *before* its signature (a swapped package is
//! `digest-mismatch` or `version-mismatch`, whatever its signature says), then verified and
//! installed with `plinth-package`, which checks the pin once more before it writes. A refused
//! entry leaves that plugin's directory and its lockfile entry exactly as they were.

use std::path::PathBuf;

use bytes::Bytes;
use plinth_manifest::PluginId;
use plinth_package::{
    Home, InstallOptions, Installed, LockEntry, PackageError, check_installed, install_bytes,
    install_dir, pack, package_signature_path,
};
use reqwest::Url;

use crate::SizeCaps;
use crate::download::{RegistryClient, read_file};
use crate::error::RegistryError;
use crate::install::InstallError;
use crate::net::{NetworkOptions, PrivateAddresses};
use crate::oci::OciClient;
use crate::progress::{Progress, Silent};
use crate::reference::{OCI_SCHEME, OciReference, Transport};

/// What was in the home before a plugin was restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Previous {
    /// The plugin directory did not exist.
    Missing,
    /// The plugin directory existed but no longer packed to the pinned digest (a file was
    /// changed, added or removed since the install); the restore replaced it.
    Changed,
}

/// What a restore did for one lockfile entry.
#[derive(Debug)]
pub enum RestoreOutcome {
    /// The plugin is installed and matches its pin; nothing was done.
    UpToDate,
    /// The pinned package was installed from the entry's source.
    Restored {
        /// What the install did.
        installed: Box<Installed>,
        /// What it replaced.
        previous: Previous,
    },
    /// The restore was refused; this plugin's directory and lock entry are unchanged.
    Failed(InstallError),
}

/// One lockfile entry's restore.
#[derive(Debug)]
pub struct RestoreReport {
    /// The plugin.
    pub id: PluginId,
    /// Its lockfile entry (version, digest, source and signer pinned).
    pub entry: LockEntry,
    /// What happened.
    pub outcome: RestoreOutcome,
}

/// Where a lockfile entry's package comes from.
#[derive(Debug)]
enum Origin {
    Path(PathBuf),
    Url(Url),
    Oci(OciReference),
}

impl Origin {
    fn parse(source: &str) -> Result<Origin, RegistryError> {
        if source.starts_with(OCI_SCHEME) {
            return source.parse().map(Origin::Oci);
        }
        if source.starts_with("http://") || source.starts_with("https://") {
            return Url::parse(source)
                .map(Origin::Url)
                .map_err(|e| RegistryError::BadReference {
                    reference: source.to_owned(),
                    reason: e.to_string(),
                });
        }
        let path = source.strip_prefix("file://").unwrap_or(source);
        if path.is_empty() || path.contains("://") {
            return Err(RegistryError::BadReference {
                reference: source.to_owned(),
                reason: "a lockfile source is a path, an http(s):// URL or an oci:// reference"
                    .into(),
            });
        }
        Ok(Origin::Path(PathBuf::from(path)))
    }
}

/// Restores the plugins of one home from its lockfile.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use plinth_package::{Home, InstallOptions, SignaturePolicy};
/// use plinth_registry::{RestoreOutcome, Restorer, Silent};
///
/// let home = Home::new("/var/lib/app/plinth");
/// let restorer = Restorer::new(&home, InstallOptions::new(SignaturePolicy::Require));
/// for report in restorer.restore_all(&Silent).await? {
///     if let RestoreOutcome::Failed(error) = &report.outcome {
///         eprintln!("{}: {error}", report.id);
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Restorer<'a> {
    home: &'a Home,
    options: InstallOptions,
    transport: Transport,
    caps: SizeCaps,
    network: NetworkOptions,
}

impl<'a> Restorer<'a> {
    /// A restorer installing with `options` (its policy decides about unsigned packages; its
    /// pins and source are set per entry).
    pub fn new(home: &'a Home, options: InstallOptions) -> Restorer<'a> {
        Restorer {
            home,
            options,
            transport: Transport::Auto,
            caps: SizeCaps::default(),
            network: NetworkOptions::default(),
        }
    }

    /// How long restoring one entry's download may take (default
    /// [`DEFAULT_DEADLINE`](crate::net::DEFAULT_DEADLINE)).
    #[must_use]
    pub fn deadline(mut self, deadline: std::time::Duration) -> Self {
        self.network.deadline = deadline;
        self
    }

    /// Whether redirects from a lockfile source may lead to non-public addresses on other
    /// hosts (default [`PrivateAddresses::Refuse`]). The source's own host counts as named:
    /// the lockfile records what the operator installed.
    #[must_use]
    pub fn private_addresses(mut self, rule: PrivateAddresses) -> Self {
        self.network.private_addresses = rule;
        self
    }

    /// How to reach OCI registries and URLs (default [`Transport::Auto`]).
    #[must_use]
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The download caps (default [`SizeCaps::default`]).
    #[must_use]
    pub fn caps(mut self, caps: SizeCaps) -> Self {
        self.caps = caps;
        self
    }

    /// Restores every entry of the home's lockfile, in id order. Fails only when the
    /// lockfile cannot be read; each entry's refusal is in its report.
    pub async fn restore_all(
        &self,
        progress: &dyn Progress,
    ) -> Result<Vec<RestoreReport>, PackageError> {
        let lock = self.home.lockfile()?;
        let mut reports = Vec::new();
        for (id, entry) in lock.entries() {
            reports.push(self.restore(id, entry, progress).await);
        }
        Ok(reports)
    }

    /// Restores one entry: nothing when the installed directory matches the pin, else the
    /// package from `entry.source`, refused unless it has the pinned version and digest.
    pub async fn restore(
        &self,
        id: &PluginId,
        entry: &LockEntry,
        progress: &dyn Progress,
    ) -> RestoreReport {
        let outcome = match self.previous(id, entry) {
            None => RestoreOutcome::UpToDate,
            Some(previous) => match self.install(id, entry, progress).await {
                Ok(installed) => RestoreOutcome::Restored {
                    installed: Box::new(installed),
                    previous,
                },
                Err(error) => RestoreOutcome::Failed(error),
            },
        };
        RestoreReport {
            id: id.clone(),
            entry: entry.clone(),
            outcome,
        }
    }

    /// `None` when the installed plugin matches `entry`, else what is there instead.
    fn previous(&self, id: &PluginId, entry: &LockEntry) -> Option<Previous> {
        let dir = self.home.plugin_dir(id);
        if std::fs::symlink_metadata(&dir).is_err() {
            return Some(Previous::Missing);
        }
        match check_installed(self.home, id) {
            Ok(locked) if locked == *entry => None,
            _ => Some(Previous::Changed),
        }
    }

    async fn install(
        &self,
        id: &PluginId,
        entry: &LockEntry,
        progress: &dyn Progress,
    ) -> Result<Installed, InstallError> {
        let mut options = self.options.clone();
        options.expect = Some(entry.clone());
        options.expect_id = Some(id.clone());
        options.source = Some(entry.source.clone());
        let label = format!("{id} {}", entry.version);
        match Origin::parse(&entry.source)? {
            Origin::Path(path) if path.is_dir() => {
                // The directory is packed once here for the pin check, and again by the
                // install, which checks the pin on what it packed.
                let packed = pack(&path)?;
                entry.check_bytes(id, &packed.bytes, &options.limits)?;
                Ok(install_dir(self.home, &path, &options)?)
            }
            Origin::Path(path) => {
                let cap = self.caps.package.min(options.limits.max_archive_bytes);
                let bytes = read_file(&path, &label, cap, progress)?;
                entry.check_bytes(id, &bytes, &options.limits)?;
                let sig_path = package_signature_path(&path);
                let signature = if sig_path.exists() {
                    Some(read_file(
                        &sig_path,
                        "the signature",
                        self.caps.signature,
                        &Silent,
                    )?)
                } else {
                    None
                };
                Ok(install_bytes(
                    self.home,
                    &bytes,
                    signature.as_deref(),
                    &options,
                )?)
            }
            Origin::Url(url) => {
                let bytes = self
                    .http()?
                    .download(&url, &label, self.caps.package, progress)
                    .await?;
                entry.check_bytes(id, &bytes, &options.limits)?;
                let signature = self.url_signature(&url).await?;
                Ok(install_bytes(
                    self.home,
                    &bytes,
                    signature.as_deref(),
                    &options,
                )?)
            }
            Origin::Oci(reference) => {
                let pulled = OciClient::new(self.transport, self.caps)
                    .deadline(self.network.deadline)
                    .private_addresses(self.network.private_addresses)
                    .pull(&reference, progress)
                    .await?;
                entry.check_bytes(id, &pulled.package, &options.limits)?;
                let signature = pulled.signature.as_deref().map(str::as_bytes);
                Ok(install_bytes(
                    self.home,
                    &pulled.package,
                    signature,
                    &options,
                )?)
            }
        }
    }

    fn http(&self) -> Result<RegistryClient, RegistryError> {
        Ok(RegistryClient::new(self.caps, self.transport)?
            .deadline(self.network.deadline)
            .private_addresses(self.network.private_addresses))
    }

    /// The detached signature of a package at `url`: `url` + `.sig`, `None` when the server
    /// has none (the install policy then decides).
    async fn url_signature(&self, url: &Url) -> Result<Option<Bytes>, RegistryError> {
        let sig_url =
            Url::parse(&format!("{url}.sig")).map_err(|e| RegistryError::BadReference {
                reference: url.to_string(),
                reason: e.to_string(),
            })?;
        match self
            .http()?
            .download(&sig_url, "the signature", self.caps.signature, &Silent)
            .await
        {
            Ok(bytes) => Ok(Some(bytes)),
            Err(RegistryError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockfile_sources_are_paths_urls_or_oci_references() {
        let cases: [(&str, Option<&str>); 7] = [
            ("/srv/hello.plinth", Some("path")),
            ("relative/dir", Some("path")),
            ("file:///srv/hello.plinth", Some("path")),
            ("https://cdn.example.org/hello.plinth", Some("url")),
            (
                "oci://127.0.0.1:5000/plugins/hello@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                Some("oci"),
            ),
            ("ftp://example.org/hello.plinth", None),
            ("", None),
        ];
        for (source, expected) in cases {
            let got = Origin::parse(source).ok().map(|origin| match origin {
                Origin::Path(_) => "path",
                Origin::Url(_) => "url",
                Origin::Oci(_) => "oci",
            });
            assert_eq!(got, expected, "{source}");
        }
    }
}
