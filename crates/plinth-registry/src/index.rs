//! The static JSON index: a list of plugins and their versions, parsed strictly.
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "plugins": [{
//!     "id": "example.hello",
//!     "name": "Hello",
//!     "description": "Greets people.",
//!     "versions": [{
//!       "version": "1.0.0",
//!       "digest": "sha256:…",
//!       "url": "packages/hello-1.0.0.plinth",
//!       "signature_url": "packages/hello-1.0.0.plinth.sig",
//!       "capabilities": ["log"]
//!     }]
//!   }]
//! }
//! ```
//!
//! Unknown fields are tolerated and reported as `unknown-key` warnings; a wrong type, a bad
//! id, version, digest, signature or capability, a duplicate id or version is `invalid-index`.

use std::collections::BTreeSet;

use plinth_manifest::diagnostic::{Code, Diagnostic};
use plinth_manifest::{Digest, Grant, PluginId};
use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use crate::error::{RegistryError, Result};

/// The index format version this crate reads.
pub const INDEX_SCHEMA_VERSION: u32 = 1;

/// A parsed index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// The format version; must be [`INDEX_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The plugins offered.
    pub plugins: Vec<IndexPlugin>,
}

/// One plugin in the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexPlugin {
    /// The plugin id.
    pub id: PluginId,
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// One line about what it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The versions offered.
    pub versions: Vec<IndexVersion>,
}

/// One version of a plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexVersion {
    /// The semver version.
    pub version: Version,
    /// The sha256 of the `.plinth` package; a download with another digest is refused.
    pub digest: Digest,
    /// Where the package is: a URL relative to the index, an absolute `http(s)://` URL, a
    /// path (for an index read from a file) or an `oci://` reference.
    pub url: String,
    /// The detached signature, inline as hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Where the detached signature is (resolved like `url`), when not inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_url: Option<String>,
    /// The capabilities the plugin requests, as grant strings (`log`, `http:api.example.com`).
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// The package size in bytes, when the index states it (checked on download).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// Whether version resolution may pick a pre-release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreReleases {
    /// Only when the request itself names a pre-release (semver's rule).
    #[default]
    Exclude,
    /// Pre-releases compete with releases; a pre-release counts as its release for matching.
    Include,
}

/// An index and the warnings its parsing produced.
#[derive(Debug, Clone)]
pub struct ParsedIndex {
    /// The index.
    pub index: Index,
    /// `unknown-key` warnings for fields this version does not know.
    pub warnings: Vec<Diagnostic>,
}

impl Index {
    /// Parses and validates index JSON; `location` names it in errors and warnings.
    pub fn parse(json: &[u8], location: &str) -> Result<ParsedIndex> {
        let invalid = |reason: String| RegistryError::InvalidIndex {
            location: location.to_owned(),
            reason,
        };
        let mut unknown = Vec::new();
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let index: Index = serde_ignored::deserialize(&mut deserializer, |path| {
            unknown.push(path.to_string());
        })
        .map_err(|e| invalid(e.to_string()))?;
        deserializer.end().map_err(|e| invalid(e.to_string()))?;
        index.validate().map_err(invalid)?;
        let warnings = unknown
            .into_iter()
            .map(|path| {
                Diagnostic::new(
                    Code::UnknownKey,
                    format!("{location}: unknown field `{path}` ignored"),
                )
            })
            .collect();
        Ok(ParsedIndex { index, warnings })
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if self.schema_version != INDEX_SCHEMA_VERSION {
            return Err(format!(
                "schema_version {} is not supported (this Plinth reads {INDEX_SCHEMA_VERSION})",
                self.schema_version
            ));
        }
        let mut ids = BTreeSet::new();
        for plugin in &self.plugins {
            if !ids.insert(plugin.id.as_str()) {
                return Err(format!("plugin `{}` is listed twice", plugin.id));
            }
            let mut versions = BTreeSet::new();
            for v in &plugin.versions {
                let at = format!("plugin `{}` version {}", plugin.id, v.version);
                if !versions.insert(&v.version) {
                    return Err(format!("{at} is listed twice"));
                }
                if v.url.trim().is_empty() {
                    return Err(format!("{at}: `url` is empty"));
                }
                if let Some(signature) = &v.signature
                    && (signature.is_empty() || hex::decode(signature.trim()).is_err())
                {
                    return Err(format!("{at}: `signature` is not hex"));
                }
                if v.signature.is_some() && v.signature_url.is_some() {
                    return Err(format!(
                        "{at}: give `signature` or `signature_url`, not both"
                    ));
                }
                for capability in &v.capabilities {
                    capability
                        .parse::<Grant>()
                        .map_err(|e| format!("{at}: capability `{capability}`: {e}"))?;
                }
            }
        }
        Ok(())
    }

    /// The plugins whose id, name or description contains `query` (case-insensitive), in id
    /// order. An empty query lists every plugin.
    pub fn search(&self, query: &str) -> Vec<&IndexPlugin> {
        let query = query.to_lowercase();
        let mut found: Vec<&IndexPlugin> = self
            .plugins
            .iter()
            .filter(|p| {
                [
                    Some(p.id.as_str()),
                    p.name.as_deref(),
                    p.description.as_deref(),
                ]
                .into_iter()
                .flatten()
                .any(|field| field.to_lowercase().contains(&query))
            })
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found
    }

    /// The plugin with this id.
    pub fn plugin(&self, id: &str) -> Option<&IndexPlugin> {
        self.plugins.iter().find(|p| p.id.as_str() == id)
    }

    /// The newest version of `id` matching `request`.
    pub fn resolve(
        &self,
        id: &str,
        request: &VersionReq,
        pre_releases: PreReleases,
    ) -> Result<(&IndexPlugin, &IndexVersion)> {
        let plugin = self.plugin(id).ok_or_else(|| RegistryError::NotFound {
            what: format!("the index lists no plugin `{id}`"),
            plugin: Some(id.to_owned()),
        })?;
        let version =
            plugin
                .newest(request, pre_releases)
                .ok_or_else(|| RegistryError::NotFound {
                    what: format!(
                        "no version of `{id}` matches `{request}` (the index has {})",
                        plugin.version_list()
                    ),
                    plugin: Some(id.to_owned()),
                })?;
        Ok((plugin, version))
    }
}

impl IndexPlugin {
    /// The newest version matching `request`.
    pub fn newest(&self, request: &VersionReq, pre_releases: PreReleases) -> Option<&IndexVersion> {
        self.versions
            .iter()
            .filter(|v| matches(request, &v.version, pre_releases))
            .max_by(|a, b| a.version.cmp(&b.version))
    }

    /// The newest release (or, with [`PreReleases::Include`], any version).
    pub fn latest(&self, pre_releases: PreReleases) -> Option<&IndexVersion> {
        self.newest(&VersionReq::STAR, pre_releases)
    }

    fn version_list(&self) -> String {
        let mut versions: Vec<&Version> = self.versions.iter().map(|v| &v.version).collect();
        versions.sort();
        if versions.is_empty() {
            return "no versions".into();
        }
        versions
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn matches(request: &VersionReq, version: &Version, pre_releases: PreReleases) -> bool {
    if request.matches(version) {
        return true;
    }
    match pre_releases {
        PreReleases::Exclude => false,
        PreReleases::Include if version.pre.is_empty() => false,
        PreReleases::Include => {
            let mut release = version.clone();
            release.pre = semver::Prerelease::EMPTY;
            request.matches(&release)
        }
    }
}

/// Splits `ID[@VERSION_REQ]` into an id and a version request (`*` when absent).
pub fn parse_spec(spec: &str) -> Result<(String, VersionReq)> {
    let (id, request) = match spec.split_once('@') {
        Some((id, request)) => (id, request),
        None => (spec, "*"),
    };
    let bad = |reason: String| RegistryError::BadReference {
        reference: spec.to_owned(),
        reason,
    };
    let id = PluginId::new(id).map_err(|e| bad(e.to_string()))?;
    let request = VersionReq::parse(request).map_err(|e| bad(format!("version: {e}")))?;
    Ok((id.to_string(), request))
}
