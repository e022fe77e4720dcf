//! Plinth plugins as OCI artifacts: push to and pull from any OCI distribution registry.
//!
//! One plugin version is one OCI image manifest (docs/design/0013-oci-artifacts.md):
//!
//! | part | media type | content |
//! | --- | --- | --- |
//! | manifest `artifactType` | [`ARTIFACT_TYPE`] | identifies a Plinth plugin |
//! | config | [`CONFIG_MEDIA_TYPE`] | the package's `plugin.toml` (informational, unsigned) |
//! | layer 1 | [`PACKAGE_MEDIA_TYPE`] | the `.plinth` package bytes |
//! | layer 2 (optional) | [`SIGNATURE_MEDIA_TYPE`] | the detached hex signature (`FILE.sig`) |
//!
//! Manifest annotations carry the id ([`ANNOTATION_ID`]) and version; each layer's
//! `org.opencontainers.image.title` names its file, so generic clients (ORAS) pull it under
//! that name.
//!
//! The protocol itself (manifests, blobs, uploads, anonymous tokens) is spoken by the private
//! `wire` module on the crate's own HTTP client, under the rules of [`crate::net`]: the
//! manifest is read under its cap as it streams, a layer's foreign `urls` are never fetched,
//! and the registry's token never goes to another scheme, host or port.

mod wire;

use std::collections::BTreeMap;

use bytes::Bytes;
use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciDescriptor, OciImageManifest};
use plinth_manifest::Digest;
use reqwest::Url;
use sha2::{Digest as _, Sha256};

use crate::SizeCaps;
use crate::error::{RegistryError, Result};
use crate::net::{Guard, Http, NetworkOptions, PrivateAddresses, within};
use crate::progress::{Progress, Silent};
use crate::reference::{OciReference, Target, Transport};
use wire::{Access, Session, registry_url};

/// The manifest `artifactType` of a Plinth plugin.
pub const ARTIFACT_TYPE: &str = "application/vnd.plinth.plugin.v1";
/// The media type of the config blob: the package's `plugin.toml`.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.plinth.plugin.config.v1+toml";
/// The media type of the package layer: the `.plinth` archive.
pub const PACKAGE_MEDIA_TYPE: &str = "application/vnd.plinth.package.v1.tar+gzip";
/// The media type of the signature layer: the detached hex signature.
pub const SIGNATURE_MEDIA_TYPE: &str = "application/vnd.plinth.signature.v1+hex";
/// The manifest annotation holding the plugin id.
pub const ANNOTATION_ID: &str = "dev.plinth.id";
/// The standard title annotation (manifest: the plugin's name; layer: its file name).
pub const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
/// The standard version annotation (the plugin's version).
pub const ANNOTATION_VERSION: &str = "org.opencontainers.image.version";

/// One plugin version to push: the package, its metadata and its signature.
#[derive(Debug, Clone)]
pub struct PluginArtifact {
    /// The plugin id (from the package's `plugin.toml`).
    pub id: String,
    /// The plugin version.
    pub version: semver::Version,
    /// The human-readable name, when the manifest has one.
    pub name: Option<String>,
    /// The text of the package's `plugin.toml`, pushed as the config blob.
    pub manifest_toml: String,
    /// The `.plinth` package bytes.
    pub package: Bytes,
    /// The package's file name (the package layer's title), e.g. `hello-1.0.0.plinth`.
    pub file_name: String,
    /// The detached hex signature (the contents of `FILE.sig`), when the package is signed.
    pub signature: Option<String>,
}

/// What a push produced.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The reference pushed to (a tag).
    pub reference: OciReference,
    /// The manifest digest, `sha256:…`.
    pub manifest_digest: String,
    /// The same manifest addressed by digest: pull this to get exactly these bytes.
    pub pinned: OciReference,
    /// The package digest.
    pub package_digest: Digest,
}

/// A verified plugin artifact pulled from a registry. Every blob's size and digest were
/// checked against the manifest before this value was returned.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The manifest digest, `sha256:…` (pin it to get the same bytes again).
    pub manifest_digest: String,
    /// The id annotation, when present.
    pub id: Option<String>,
    /// The version annotation, when present.
    pub version: Option<String>,
    /// The config blob (`plugin.toml`), when the artifact has one. Unsigned: trust only the
    /// `plugin.toml` inside the verified package.
    pub manifest_toml: Option<String>,
    /// The package layer's title, when it is a plain file name ending in `.plinth`.
    pub file_name: Option<String>,
    /// The `.plinth` package bytes.
    pub package: Bytes,
    /// The package digest (equal to the package layer's digest).
    pub package_digest: Digest,
    /// The detached hex signature, when the artifact carries one.
    pub signature: Option<String>,
}

/// Pushes and pulls Plinth plugin artifacts, each operation under the deadline and the
/// private-address rule of its [`NetworkOptions`] ([`crate::net`]).
#[derive(Debug, Clone, Default)]
pub struct OciClient {
    transport: Transport,
    caps: SizeCaps,
    network: NetworkOptions,
}

impl OciClient {
    /// A client using `transport` (plain HTTP rule) and `caps` (blob size limits), with the
    /// default [`NetworkOptions`].
    pub fn new(transport: Transport, caps: SizeCaps) -> OciClient {
        OciClient {
            transport,
            caps,
            network: NetworkOptions::default(),
        }
    }

    /// How long one push or pull may take in all (default
    /// [`DEFAULT_DEADLINE`](crate::net::DEFAULT_DEADLINE)).
    #[must_use]
    pub fn deadline(mut self, deadline: std::time::Duration) -> Self {
        self.network.deadline = deadline;
        self
    }

    /// Whether redirects and token realms may lead to non-public addresses other than the
    /// registry's own host (default [`PrivateAddresses::Refuse`]).
    #[must_use]
    pub fn private_addresses(mut self, rule: PrivateAddresses) -> Self {
        self.network.private_addresses = rule;
        self
    }

    /// The network options in use.
    pub fn network(&self) -> NetworkOptions {
        self.network
    }

    /// A session with `reference`'s repository in which the hosts of `named` (and nothing
    /// else) were named by the operator.
    fn session(&self, reference: &OciReference, named: &[Url], access: Access) -> Result<Session> {
        let http = Http::new(Guard::new(self.network.private_addresses, named))?;
        Session::new(http, reference, self.transport, access)
    }

    /// Pushes `artifact` to `reference` (which must name a tag). Pushing the same artifact
    /// twice produces the same manifest digest: nothing time-dependent is recorded.
    pub async fn push(
        &self,
        reference: &OciReference,
        artifact: &PluginArtifact,
    ) -> Result<Pushed> {
        let location = reference.to_string();
        within(
            self.network.deadline,
            &location,
            self.push_now(reference, artifact),
        )
        .await
    }

    async fn push_now(
        &self,
        reference: &OciReference,
        artifact: &PluginArtifact,
    ) -> Result<Pushed> {
        let Target::Tag(tag) = reference.target() else {
            return Err(RegistryError::BadReference {
                reference: reference.to_string(),
                reason: "push to a tag; the digest is computed from what is pushed".into(),
            });
        };
        let registry = registry_url(reference, self.transport)?;
        let mut session = self.session(reference, &[registry], Access::Push)?;
        let location = reference.to_string();

        let config = Bytes::from(artifact.manifest_toml.clone().into_bytes());
        let mut blobs = vec![(descriptor(CONFIG_MEDIA_TYPE, &config, None), config.clone())];
        let package_descriptor = descriptor(
            PACKAGE_MEDIA_TYPE,
            &artifact.package,
            Some(&artifact.file_name),
        );
        blobs.push((package_descriptor.clone(), artifact.package.clone()));
        if let Some(signature) = &artifact.signature {
            let data = Bytes::from(signature.clone().into_bytes());
            let title = format!("{}.sig", artifact.file_name);
            blobs.push((descriptor(SIGNATURE_MEDIA_TYPE, &data, Some(&title)), data));
        }

        let mut annotations = BTreeMap::new();
        annotations.insert(ANNOTATION_ID.to_owned(), artifact.id.clone());
        annotations.insert(
            ANNOTATION_TITLE.to_owned(),
            artifact.name.clone().unwrap_or_else(|| artifact.id.clone()),
        );
        annotations.insert(ANNOTATION_VERSION.to_owned(), artifact.version.to_string());
        let manifest = OciImageManifest {
            schema_version: 2,
            media_type: Some(OCI_IMAGE_MEDIA_TYPE.to_owned()),
            config: blobs[0].0.clone(),
            layers: blobs[1..].iter().map(|(d, _)| d.clone()).collect(),
            subject: None,
            artifact_type: Some(ARTIFACT_TYPE.to_owned()),
            annotations: Some(annotations),
        };

        for (descriptor, data) in &blobs {
            session.upload(&descriptor.digest, data.clone()).await?;
        }
        let body =
            serde_json::to_vec(&manifest).map_err(|e| RegistryError::transport(&location, e))?;
        let manifest_digest = format!("sha256:{}", hex::encode(Sha256::digest(&body)));
        session
            .put_manifest(tag, Bytes::from(body), OCI_IMAGE_MEDIA_TYPE)
            .await?;
        Ok(Pushed {
            reference: reference.clone(),
            pinned: reference.with_target(Target::Digest(manifest_digest.clone())),
            manifest_digest,
            package_digest: Digest::of(&artifact.package),
        })
    }

    /// Pulls the plugin artifact at `reference`, checking the manifest's type and every blob's
    /// size (against the manifest and the caps) and digest before returning. The package
    /// download is reported to `progress`. The manifest is read under
    /// [`SizeCaps::manifest`], never buffered whole first; a layer's foreign `urls` are
    /// ignored. The registry's host counts as named by the operator.
    pub async fn pull(&self, reference: &OciReference, progress: &dyn Progress) -> Result<Pulled> {
        let registry = registry_url(reference, self.transport)?;
        self.pull_named(reference, &[registry], progress).await
    }

    /// [`OciClient::pull`] of a reference someone else named (an index entry): only the
    /// hosts of `named` count as named by the operator.
    pub(crate) async fn pull_named(
        &self,
        reference: &OciReference,
        named: &[Url],
        progress: &dyn Progress,
    ) -> Result<Pulled> {
        let location = reference.to_string();
        within(
            self.network.deadline,
            &location,
            self.pull_now(reference, named, progress),
        )
        .await
    }

    async fn pull_now(
        &self,
        reference: &OciReference,
        named: &[Url],
        progress: &dyn Progress,
    ) -> Result<Pulled> {
        let mut session = self.session(reference, named, Access::Pull)?;
        let location = reference.to_string();
        let target = match reference.target() {
            Target::Tag(tag) => tag.as_str(),
            Target::Digest(digest) => digest.as_str(),
        };
        let raw = session
            .manifest(target, OCI_IMAGE_MEDIA_TYPE, self.caps.manifest)
            .await?;
        let manifest_digest = format!("sha256:{}", hex::encode(Sha256::digest(&raw)));
        if let Target::Digest(expected) = reference.target()
            && *expected != manifest_digest
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("the manifest of {location}"),
                expected: expected.clone(),
                actual: manifest_digest,
            });
        }
        let manifest: OciImageManifest =
            serde_json::from_slice(&raw).map_err(|e| RegistryError::NotAPlugin {
                reference: location.clone(),
                reason: format!("its manifest is not an OCI image manifest: {e}"),
            })?;
        let layout = Layout::of(&manifest, &location)?;
        let mut blobs = Blobs {
            session: &mut session,
            location: &location,
        };

        let manifest_toml = match layout.config {
            Some(config) => {
                let bytes = blobs
                    .fetch(config, self.caps.config, "plugin.toml", &Silent)
                    .await?;
                Some(text(bytes, "the config blob", &location)?)
            }
            None => None,
        };
        let signature = match layout.signature {
            Some(signature) => {
                let bytes = blobs
                    .fetch(signature, self.caps.signature, "signature", &Silent)
                    .await?;
                Some(
                    text(bytes, "the signature layer", &location)?
                        .trim()
                        .to_owned(),
                )
            }
            None => None,
        };
        let file_name = layout
            .package
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_TITLE))
            .filter(|title| is_plain_package_name(title))
            .cloned();
        let label = file_name.clone().unwrap_or_else(|| location.clone());
        let package = blobs
            .fetch(layout.package, self.caps.package, &label, progress)
            .await?;
        let annotation = |key: &str| {
            manifest
                .annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .cloned()
        };
        Ok(Pulled {
            manifest_digest,
            id: annotation(ANNOTATION_ID),
            version: annotation(ANNOTATION_VERSION),
            manifest_toml,
            file_name,
            package_digest: Digest::of(&package),
            package,
            signature,
        })
    }
}

/// A file name safe to write into a directory: no separators, no leading dot, ends `.plinth`.
pub fn is_plain_package_name(name: &str) -> bool {
    name.len() <= 255
        && name.len() > ".plinth".len()
        && name.ends_with(".plinth")
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'))
}

fn descriptor(media_type: &str, data: &[u8], title: Option<&str>) -> OciDescriptor {
    OciDescriptor {
        media_type: media_type.to_owned(),
        digest: format!("sha256:{}", hex::encode(Sha256::digest(data))),
        size: data.len() as i64,
        urls: None,
        artifact_type: None,
        annotations: title.map(|t| BTreeMap::from([(ANNOTATION_TITLE.to_owned(), t.to_owned())])),
    }
}

fn text(bytes: Bytes, what: &str, location: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| RegistryError::NotAPlugin {
        reference: location.to_owned(),
        reason: format!("{what} is not UTF-8 text"),
    })
}

/// The Plinth parts of a manifest, checked for the artifact layout.
struct Layout<'a> {
    config: Option<&'a OciDescriptor>,
    package: &'a OciDescriptor,
    signature: Option<&'a OciDescriptor>,
}

impl<'a> Layout<'a> {
    fn of(manifest: &'a OciImageManifest, location: &str) -> Result<Layout<'a>> {
        let not_plugin = |reason: String| RegistryError::NotAPlugin {
            reference: location.to_owned(),
            reason,
        };
        // Clients that cannot set `artifactType` (older ORAS versions) still mark the artifact
        // through the config media type.
        let typed = manifest.artifact_type.as_deref() == Some(ARTIFACT_TYPE)
            || manifest.config.media_type == CONFIG_MEDIA_TYPE;
        if !typed {
            return Err(not_plugin(format!(
                "its artifact type is {:?} and its config media type `{}`; expected `{ARTIFACT_TYPE}`",
                manifest.artifact_type.as_deref().unwrap_or("unset"),
                manifest.config.media_type
            )));
        }
        let of_type = |media_type: &str| {
            manifest
                .layers
                .iter()
                .filter(|l| l.media_type == media_type)
                .collect::<Vec<_>>()
        };
        let packages = of_type(PACKAGE_MEDIA_TYPE);
        let [package] = packages.as_slice() else {
            return Err(not_plugin(format!(
                "it has {} layers of type `{PACKAGE_MEDIA_TYPE}`; expected exactly one",
                packages.len()
            )));
        };
        let signatures = of_type(SIGNATURE_MEDIA_TYPE);
        if signatures.len() > 1 {
            return Err(not_plugin(format!(
                "it has {} signature layers; expected at most one",
                signatures.len()
            )));
        }
        Ok(Layout {
            config: (manifest.config.media_type == CONFIG_MEDIA_TYPE).then_some(&manifest.config),
            package,
            signature: signatures.first().copied(),
        })
    }
}

/// Downloads blobs of one repository, verifying size and digest. A descriptor's `urls`
/// (a "foreign" or non-distributable layer's other locations) are never fetched: a blob
/// comes from the registry that listed it or not at all.
struct Blobs<'a> {
    session: &'a mut Session,
    location: &'a str,
}

impl Blobs<'_> {
    async fn fetch(
        &mut self,
        descriptor: &OciDescriptor,
        cap: u64,
        label: &str,
        progress: &dyn Progress,
    ) -> Result<Bytes> {
        let what = format!("blob {} of {}", descriptor.digest, self.location);
        let expected: Digest =
            descriptor
                .digest
                .parse()
                .map_err(|e| RegistryError::NotAPlugin {
                    reference: self.location.to_owned(),
                    reason: format!("layer digest: {e}"),
                })?;
        let declared = u64::try_from(descriptor.size).map_err(|_| RegistryError::NotAPlugin {
            reference: self.location.to_owned(),
            reason: format!("{what} declares a negative size"),
        })?;
        if declared > cap {
            return Err(RegistryError::TooLarge {
                what,
                size: declared,
                cap,
            });
        }
        let data = self
            .session
            .blob(&expected.to_string(), declared, label, progress)
            .await?;
        let actual = Digest::of(&data);
        if actual != expected || data.len() as u64 != declared {
            return Err(RegistryError::DigestMismatch {
                what: format!("{what} ({} of {declared} bytes)", data.len()),
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(data)
    }
}
