//! Reading indexes and downloading packages: from files, over HTTP(S), or from OCI
//! registries, always with a size cap, a deadline ([`crate::net`]) and, for packages, a
//! digest check.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use plinth_manifest::Digest;
use reqwest::Url;
use semver::{Version, VersionReq};

use crate::SizeCaps;
use crate::error::{RegistryError, Result};
use crate::index::{Index, IndexVersion, ParsedIndex, PreReleases};
use crate::net::{Guard, Http, NetworkOptions, PrivateAddresses, read_body, within};
use crate::oci::OciClient;
use crate::progress::{Progress, Silent};
use crate::reference::{OCI_SCHEME, OciReference, Transport};

/// Where an index lives: a local file or an `http(s)://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexLocation {
    /// A JSON file on disk; relative package paths are relative to its directory.
    File(PathBuf),
    /// An HTTP(S) URL; relative package URLs are resolved against it.
    Url(Url),
}

impl IndexLocation {
    /// Reads `http://…` and `https://…` as URLs, `file://…` and anything else as a path.
    pub fn parse(text: &str) -> Result<IndexLocation> {
        if text.starts_with("http://") || text.starts_with("https://") {
            let url = Url::parse(text).map_err(|e| RegistryError::BadReference {
                reference: text.to_owned(),
                reason: e.to_string(),
            })?;
            return Ok(IndexLocation::Url(url));
        }
        if let Some(path) = text.strip_prefix("file://") {
            return Ok(IndexLocation::File(PathBuf::from(path)));
        }
        if text.contains("://") {
            return Err(RegistryError::BadReference {
                reference: text.to_owned(),
                reason: "an index is a file path or an http(s):// URL".into(),
            });
        }
        Ok(IndexLocation::File(PathBuf::from(text)))
    }

    /// The hosts the operator named by naming this index: its own, when it is a URL. The
    /// URLs written inside it name nothing: another host they lead to must be public
    /// (unless [`PrivateAddresses::Allow`]), also when the index is a local file.
    fn named(&self) -> Vec<Url> {
        match self {
            IndexLocation::Url(url) => vec![url.clone()],
            IndexLocation::File(_) => Vec::new(),
        }
    }

    /// Resolves a package or signature location written in this index.
    fn join(&self, target: &str) -> Result<Source> {
        if target.starts_with(OCI_SCHEME) {
            return target.parse().map(Source::Oci);
        }
        if target.starts_with("http://") || target.starts_with("https://") {
            return Url::parse(target)
                .map(Source::Url)
                .map_err(|e| RegistryError::BadReference {
                    reference: target.to_owned(),
                    reason: e.to_string(),
                });
        }
        match self {
            IndexLocation::Url(base) => {
                base.join(target)
                    .map(Source::Url)
                    .map_err(|e| RegistryError::BadReference {
                        reference: target.to_owned(),
                        reason: e.to_string(),
                    })
            }
            IndexLocation::File(index) => {
                let path = Path::new(target.strip_prefix("file://").unwrap_or(target));
                let dir = index.parent().unwrap_or(Path::new("."));
                Ok(Source::File(dir.join(path)))
            }
        }
    }
}

impl std::fmt::Display for IndexLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexLocation::File(path) => write!(f, "{}", path.display()),
            IndexLocation::Url(url) => write!(f, "{url}"),
        }
    }
}

/// A resolved download location.
#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Url(Url),
    Oci(OciReference),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Url(url) => write!(f, "{url}"),
            Source::Oci(reference) => write!(f, "{reference}"),
        }
    }
}

/// An index together with where it came from (to resolve relative URLs).
#[derive(Debug, Clone)]
pub struct LoadedIndex {
    /// Where it was read from.
    pub location: IndexLocation,
    /// The parsed index and its warnings.
    pub parsed: ParsedIndex,
}

impl LoadedIndex {
    /// The index.
    pub fn index(&self) -> &Index {
        &self.parsed.index
    }
}

/// A package fetched through an index, its digest verified against the index.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The plugin id.
    pub id: String,
    /// The version picked.
    pub version: Version,
    /// The `.plinth` package bytes.
    pub package: Bytes,
    /// Their digest (equal to the index's).
    pub digest: Digest,
    /// The detached hex signature, inline in the index, from its URL, or from the OCI
    /// artifact; `None` when the package is unsigned (the installer's policy decides).
    pub signature: Option<String>,
    /// The capabilities the index says the plugin requests.
    pub capabilities: Vec<String>,
    /// Where the package came from.
    pub source: String,
}

/// Reads indexes and downloads packages, with size caps, digest checks, a progress hook and
/// the network rules of [`crate::net`]: each index load and each package fetch (with its
/// signature) finishes within the deadline, and a URL an index names may not lead to a
/// non-public address on another host than the index's own.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    caps: SizeCaps,
    transport: Transport,
    network: NetworkOptions,
}

impl RegistryClient {
    /// A client with these caps and the default [`NetworkOptions`]; `transport` applies to
    /// `oci://` package URLs.
    pub fn new(caps: SizeCaps, transport: Transport) -> Result<RegistryClient> {
        Ok(RegistryClient {
            caps,
            transport,
            network: NetworkOptions::default(),
        })
    }

    /// How long one index load or one package fetch may take in all (default
    /// [`DEFAULT_DEADLINE`](crate::net::DEFAULT_DEADLINE)).
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.network.deadline = deadline;
        self
    }

    /// Whether URLs in an index, and redirects, may lead to non-public addresses on other
    /// hosts than the one the operator named (default [`PrivateAddresses::Refuse`]).
    #[must_use]
    pub fn private_addresses(mut self, rule: PrivateAddresses) -> Self {
        self.network.private_addresses = rule;
        self
    }

    /// The network options in use.
    pub fn network(&self) -> NetworkOptions {
        self.network
    }

    /// An HTTP client for one operation in which the hosts of `named` were named.
    fn http(&self, named: &[Url]) -> Result<Http> {
        Http::new(Guard::new(self.network.private_addresses, named))
    }

    /// Reads and parses the index at `location`.
    pub async fn load_index(&self, location: &IndexLocation) -> Result<LoadedIndex> {
        let source = match location {
            IndexLocation::File(path) => Source::File(path.clone()),
            IndexLocation::Url(url) => Source::Url(url.clone()),
        };
        let named = location.named();
        let bytes = within(
            self.network.deadline,
            &location.to_string(),
            self.get(&source, &named, "the index", self.caps.index, &Silent),
        )
        .await?;
        let parsed = Index::parse(&bytes, &location.to_string())?;
        Ok(LoadedIndex {
            location: location.clone(),
            parsed,
        })
    }

    /// Resolves `id` against `request` in `index` and downloads the newest matching version.
    pub async fn fetch(
        &self,
        index: &LoadedIndex,
        id: &str,
        request: &VersionReq,
        pre_releases: PreReleases,
        progress: &dyn Progress,
    ) -> Result<Fetched> {
        let (_, version) = index.index().resolve(id, request, pre_releases)?;
        self.fetch_version(index, id, version, progress).await
    }

    /// Downloads one listed version: the package (digest-checked against the index, size
    /// capped, reported to `progress`) and its signature, both within one deadline.
    pub async fn fetch_version(
        &self,
        index: &LoadedIndex,
        id: &str,
        version: &IndexVersion,
        progress: &dyn Progress,
    ) -> Result<Fetched> {
        let label = format!("{id} {}", version.version);
        within(
            self.network.deadline,
            &label,
            self.fetch_now(index, id, version, progress),
        )
        .await
    }

    async fn fetch_now(
        &self,
        index: &LoadedIndex,
        id: &str,
        version: &IndexVersion,
        progress: &dyn Progress,
    ) -> Result<Fetched> {
        let named = index.location.named();
        let source = index.location.join(&version.url)?;
        let label = format!("{id} {}", version.version);
        let cap = version
            .size
            .map_or(self.caps.package, |s| s.min(self.caps.package));
        let (package, oci_signature) = match &source {
            Source::Oci(reference) => {
                let pulled = OciClient::new(self.transport, self.caps)
                    .private_addresses(self.network.private_addresses)
                    .deadline(self.network.deadline)
                    .pull_named(reference, &named, progress)
                    .await?;
                (pulled.package, pulled.signature)
            }
            _ => (
                self.get(&source, &named, &label, cap, progress).await?,
                None,
            ),
        };
        if let Some(size) = version.size
            && package.len() as u64 != size
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("{label} from {source} (size {size} in the index)"),
                expected: version.digest.to_string(),
                actual: Digest::of(&package).to_string(),
            });
        }
        let digest = Digest::of(&package);
        if digest != version.digest {
            return Err(RegistryError::DigestMismatch {
                what: format!("{label} from {source}"),
                expected: version.digest.to_string(),
                actual: digest.to_string(),
            });
        }
        let signature = match (&version.signature, &version.signature_url) {
            (Some(inline), _) => Some(inline.trim().to_owned()),
            (None, Some(url)) => {
                let source = index.location.join(url)?;
                let bytes = self
                    .get(
                        &source,
                        &named,
                        "the signature",
                        self.caps.signature,
                        &Silent,
                    )
                    .await?;
                let text =
                    String::from_utf8(bytes.to_vec()).map_err(|_| RegistryError::InvalidIndex {
                        location: source.to_string(),
                        reason: "the signature is not hex text".into(),
                    })?;
                Some(text.trim().to_owned())
            }
            (None, None) => oci_signature,
        };
        Ok(Fetched {
            id: id.to_owned(),
            version: version.version.clone(),
            package,
            digest,
            signature,
            capabilities: version.capabilities.clone(),
            source: source.to_string(),
        })
    }

    /// Reads a file or downloads a URL, refusing more than `cap` bytes; the hosts of
    /// `named` are the ones the operator named.
    async fn get(
        &self,
        source: &Source,
        named: &[Url],
        label: &str,
        cap: u64,
        progress: &dyn Progress,
    ) -> Result<Bytes> {
        match source {
            Source::File(path) => read_file(path, label, cap, progress),
            Source::Url(url) => self.download_once(url, named, label, cap, progress).await,
            Source::Oci(reference) => Err(RegistryError::BadReference {
                reference: reference.to_string(),
                reason: format!("{label} cannot come from an OCI registry"),
            }),
        }
    }

    /// Downloads `url`, a URL the operator named (a lockfile source), refusing more than
    /// `cap` bytes, within the deadline; a 404 is `missing-package`.
    pub(crate) async fn download(
        &self,
        url: &Url,
        label: &str,
        cap: u64,
        progress: &dyn Progress,
    ) -> Result<Bytes> {
        within(
            self.network.deadline,
            url.as_str(),
            self.download_once(url, std::slice::from_ref(url), label, cap, progress),
        )
        .await
    }

    async fn download_once(
        &self,
        url: &Url,
        named: &[Url],
        label: &str,
        cap: u64,
        progress: &dyn Progress,
    ) -> Result<Bytes> {
        let location = url.to_string();
        let http = self.http(named)?;
        let response = http.send(http.client().get(url.clone()), &location).await?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(RegistryError::NotFound {
                what: format!("{location} does not exist (404)"),
                plugin: None,
            });
        }
        if !status.is_success() {
            return Err(RegistryError::transport(
                &location,
                format!("HTTP {status}"),
            ));
        }
        read_body(&http, response, &location, label, cap, progress).await
    }
}

/// Reads a file, refusing more than `cap` bytes; a missing file is `missing-package`.
pub(crate) fn read_file(
    path: &Path,
    label: &str,
    cap: u64,
    progress: &dyn Progress,
) -> Result<Bytes> {
    use std::io::Read;
    let not_found = |e: std::io::Error| RegistryError::NotFound {
        what: format!("cannot read {label} at {}: {e}", path.display()),
        plugin: None,
    };
    let file = std::fs::File::open(path).map_err(not_found)?;
    let size = file.metadata().map_err(not_found)?.len();
    let too_large = |size| RegistryError::TooLarge {
        what: format!("{label} at {}", path.display()),
        size,
        cap,
    };
    if size > cap {
        return Err(too_large(size));
    }
    progress.start(label, Some(size));
    let mut data = Vec::new();
    // Read one byte past the cap so a file that grew since `metadata` is still refused.
    let read = file.take(cap + 1).read_to_end(&mut data).map_err(not_found);
    progress.advance(data.len() as u64);
    progress.finish();
    read?;
    if data.len() as u64 > cap {
        return Err(too_large(data.len() as u64));
    }
    Ok(Bytes::from(data))
}
