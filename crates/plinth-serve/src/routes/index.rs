//! The plugin index and updates: what the index offers (the install and update pickers),
//! whether an installed plugin has a newer compatible version, and updating one plugin,
//! from the index (the newest compatible version, or one chosen) or from `oci://`, a folder
//! or a `.plinth` file. An update is verified like an install, must continue the plugin's
//! identity (same origin and signer, docs/design/0034) and is swapped into the running
//! manager, as `plinth update` does (docs/design/0057).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query, State};
use plinth_manager::{SignaturePolicy, Status};
use plinth_manifest::PluginId;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_package::{BeforeWrite, Continuity, InstallOptions, Installed};
use plinth_registry::{
    IndexLocation, IndexVersion, LoadedIndex, PreReleases, PrivateAddresses, RegistryClient,
    Silent, SizeCaps, Transport, UpdateOutcome, Updater, install_fetched,
};
use semver::Version;
use serde::Deserialize;
use serde_json::{Value, json};

use super::plugins::{in_tenant, install_from, not_installed};
use crate::app::App;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::tenant::{Tenant, lock};

/// How long an index read over HTTP is reused for listings (a file index is read each time).
const INDEX_TTL: Duration = Duration::from_secs(30);

/// How downloads reach the index and registries: what `plinth install`'s flags say.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fetch {
    pub(crate) index: Option<String>,
    pub(crate) pre: bool,
    pub(crate) plain_http: bool,
    pub(crate) allow_private: bool,
}

impl Fetch {
    pub(crate) fn transport(&self) -> Transport {
        Transport::plain_if(self.plain_http)
    }

    pub(crate) fn private(&self) -> PrivateAddresses {
        PrivateAddresses::allow_if(self.allow_private)
    }

    pub(crate) fn pre_releases(&self) -> PreReleases {
        if self.pre {
            PreReleases::Include
        } else {
            PreReleases::Exclude
        }
    }

    pub(crate) fn registry_client(&self) -> Result<RegistryClient, plinth_registry::RegistryError> {
        Ok(RegistryClient::new(SizeCaps::default(), self.transport())?
            .private_addresses(self.private()))
    }
}

/// A runtime for one download, on the request's worker thread.
pub(crate) fn fetch_runtime() -> Result<tokio::runtime::Runtime, ApiError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Diagnostic::new(Code::HostSetup, format!("no runtime for the download: {e}")).into()
        })
}

/// The index asked for, else the one the host configuration names.
pub(crate) fn index_location(
    tenant: &Tenant,
    asked: Option<&str>,
) -> Result<IndexLocation, ApiError> {
    let Some(index) = asked.or(tenant.config.registry.index.as_deref()) else {
        return Err(Diagnostic::new(Code::BadArgument, "no plugin index given")
            .with_hint("send \"index\": URL|PATH, or set `[registry] index` in config.toml")
            .into());
    };
    Ok(IndexLocation::parse(index)?)
}

/// An index read for one request: from the tenant's cache when it is an HTTP index read
/// less than [`INDEX_TTL`] ago.
fn load_index(
    tenant: &Tenant,
    location: &IndexLocation,
    fetch: &Fetch,
) -> Result<(RegistryClient, Arc<LoadedIndex>), ApiError> {
    let client = fetch.registry_client()?;
    let key = format!("{location:?}");
    let cacheable = matches!(location, IndexLocation::Url(_)) && fetch.index.is_none();
    if cacheable
        && let Some((cached_key, at, index)) = lock(&tenant.index_cache).as_ref()
        && *cached_key == key
        && at.elapsed() < INDEX_TTL
    {
        return Ok((client, index.clone()));
    }
    let loaded = Arc::new(fetch_runtime()?.block_on(client.load_index(location))?);
    if cacheable {
        *lock(&tenant.index_cache) = Some((key, Instant::now(), loaded.clone()));
    }
    Ok((client, loaded))
}

/// Newer versions in the configured index, for the listing's `update_available`.
pub(crate) struct UpdateCheck {
    location: Option<String>,
    loaded: Option<(RegistryClient, Arc<LoadedIndex>)>,
    error: Option<Diagnostic>,
    home: plinth_package::Home,
    installed: Option<plinth_package::Lockfile>,
}

impl UpdateCheck {
    /// Reads the index of `[registry] index`, if the configuration names one. A failure is
    /// kept (the listing shows it) rather than failing the listing.
    pub(crate) fn configured(tenant: &Tenant) -> UpdateCheck {
        let location = tenant.config.registry.index.clone();
        let loaded = match &location {
            None => Ok(None),
            Some(_) => index_location(tenant, None)
                .and_then(|l| load_index(tenant, &l, &Fetch::default()))
                .map(Some),
        };
        let (loaded, error) = match loaded {
            Ok(loaded) => (loaded, None),
            Err(e) => (None, Some(e.into_diagnostic())),
        };
        UpdateCheck {
            location,
            loaded,
            error,
            home: tenant.home.clone(),
            installed: tenant.home.lockfile().ok(),
        }
    }

    /// The newest version of `id` in the index that `POST …/update` would install, when it
    /// is newer than the installed one.
    pub(crate) fn available(&self, id: &str) -> Option<String> {
        let (client, index) = self.loaded.as_ref()?;
        let id = PluginId::new(id).ok()?;
        let installed = &self.installed.as_ref()?.get(&id)?.version;
        let updater = Updater::new(
            client,
            &self.home,
            index,
            InstallOptions::new(SignaturePolicy::Require),
        );
        updater
            .candidate(&id, installed)
            .map(|v| v.version.to_string())
    }

    /// `{"location", "error"}` for the listing.
    pub(crate) fn summary(&self) -> Value {
        json!({ "location": self.location, "error": self.error })
    }
}

/// `?tenant=&index=&pre=`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct IndexQuery {
    tenant: Option<String>,
    index: Option<String>,
    #[serde(default)]
    pre: bool,
}

impl IndexQuery {
    fn split(self) -> (super::TenantQuery, Fetch) {
        (
            super::TenantQuery {
                tenant: self.tenant,
            },
            Fetch {
                index: self.index,
                pre: self.pre,
                ..Fetch::default()
            },
        )
    }
}

fn version_row(version: &IndexVersion, installed: Option<&Version>) -> Value {
    json!({
        "version": version.version.to_string(),
        "capabilities": version.capabilities,
        "signed": version.signature.is_some() || version.signature_url.is_some(),
        "prerelease": !version.version.pre.is_empty(),
        "installed": installed == Some(&version.version),
    })
}

/// The installed version of `id`, from the lockfile.
fn installed_version(tenant: &Tenant, id: &str) -> Option<Version> {
    let id = PluginId::new(id).ok()?;
    Some(tenant.home.lockfile().ok()?.get(&id)?.version.clone())
}

/// `GET /api/index`: every plugin the index offers, newest version first, with what is
/// installed.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Query(query): Query<IndexQuery>,
) -> Result<Json<Value>, ApiError> {
    let (tenant_query, fetch) = query.split();
    in_tenant(app, tenant_query, move |tenant| {
        let location = index_location(tenant, fetch.index.as_deref())?;
        let (_, index) = load_index(tenant, &location, &fetch)?;
        let plugins: Vec<Value> = index
            .index()
            .plugins
            .iter()
            .map(|plugin| {
                let installed = installed_version(tenant, plugin.id.as_str());
                let mut versions: Vec<&IndexVersion> = plugin
                    .versions
                    .iter()
                    .filter(|v| fetch.pre || v.version.pre.is_empty())
                    .collect();
                versions.sort_by(|a, b| b.version.cmp(&a.version));
                json!({
                    "id": plugin.id.as_str(),
                    "name": plugin.name,
                    "description": plugin.description,
                    "installed": installed.as_ref().map(Version::to_string),
                    "versions": versions.iter().map(|v| version_row(v, installed.as_ref())).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(Json(json!({
            "location": format!("{location:?}"),
            "plugins": plugins,
            "diagnostics": index.parsed.warnings,
        })))
    })
    .await
}

/// `GET /api/plugins/{id}/versions`: the index's versions of an installed plugin, newest
/// first, and the one an update would pick.
pub(crate) async fn versions(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<IndexQuery>,
) -> Result<Json<Value>, ApiError> {
    let (tenant_query, fetch) = query.split();
    in_tenant(app, tenant_query, move |tenant| {
        let plugin_id = PluginId::new(id.clone())
            .map_err(|e| Diagnostic::new(Code::BadArgument, e.to_string()))?;
        let location = index_location(tenant, fetch.index.as_deref())?;
        let (client, index) = load_index(tenant, &location, &fetch)?;
        let installed = installed_version(tenant, &id);
        let Some(offered) = index.index().plugin(&id) else {
            return Err(Diagnostic::new(
                Code::MissingPackage,
                format!("the index does not list `{id}`"),
            )
            .with_plugin(&id)
            .with_hint("GET /api/index lists what it offers")
            .into());
        };
        let mut versions: Vec<&IndexVersion> = offered
            .versions
            .iter()
            .filter(|v| fetch.pre || v.version.pre.is_empty() || installed.as_ref() == Some(&v.version))
            .collect();
        versions.sort_by(|a, b| b.version.cmp(&a.version));
        let update = installed.as_ref().and_then(|installed| {
            Updater::new(
                &client,
                &tenant.home,
                &index,
                InstallOptions::new(SignaturePolicy::Require),
            )
            .pre_releases(fetch.pre_releases())
            .candidate(&plugin_id, installed)
            .map(|v| v.version.to_string())
        });
        Ok(Json(json!({
            "id": id,
            "installed": installed.as_ref().map(Version::to_string),
            "update_available": update,
            "versions": versions.iter().map(|v| version_row(v, installed.as_ref())).collect::<Vec<_>>(),
        })))
    })
    .await
}

/// An update request. Without `source` and `version`: the newest compatible version in the
/// index. With `version`: exactly that version from the index. With `source`: a folder,
/// `.plinth` file or `oci://` reference holding the same plugin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateRequest {
    version: Option<String>,
    source: Option<String>,
    index: Option<String>,
    #[serde(default)]
    pre: bool,
    #[serde(default)]
    allow_unsigned: bool,
    #[serde(default)]
    plain_http: bool,
    #[serde(default)]
    allow_private: bool,
}

/// Refuses an "update" that is not one: another plugin's package, or a plugin that is not
/// installed (a first install goes through `POST /api/plugins`, which resets the review).
/// Under [`plinth_package::ReplacePolicy::Refuse`] an update is [`Continuity::Same`] or
/// refused, so the operator's review (enablement, grants) always carries over.
fn same_plugin_only(expected: PluginId) -> BeforeWrite {
    BeforeWrite::new(move |id, continuity| {
        if *id != expected {
            return Err(Diagnostic::new(
                Code::BadArgument,
                format!("the package holds `{id}`, not `{expected}`"),
            )
            .with_plugin(expected.as_str())
            .with_hint("install another plugin with POST /api/plugins"));
        }
        if continuity != Continuity::Same {
            return Err(not_installed(expected.as_str()).into_diagnostic());
        }
        Ok(())
    })
}

/// `POST /api/plugins/{id}/update`.
pub(crate) async fn update(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<super::TenantQuery>,
    JsonBody(request): JsonBody<UpdateRequest>,
) -> Result<Json<Value>, ApiError> {
    let plugin =
        PluginId::new(id.clone()).map_err(|e| Diagnostic::new(Code::BadArgument, e.to_string()))?;
    if request.source.is_some() && request.version.is_some() {
        return Err(Diagnostic::new(
            Code::BadArgument,
            "give `version` (from the index) or `source`, not both",
        )
        .into());
    }
    let version = request
        .version
        .as_deref()
        .map(|v| {
            v.trim_start_matches('=').parse::<Version>().map_err(|e| {
                ApiError::from(Diagnostic::new(
                    Code::BadArgument,
                    format!("`{v}` is not a version: {e}"),
                ))
            })
        })
        .transpose()?;
    in_tenant(app, query, move |tenant| {
        let Some(from) = installed_version(tenant, &id) else {
            return Err(not_installed(&id));
        };
        let policy = if request.allow_unsigned || !tenant.config.security.require_signatures {
            SignaturePolicy::AllowUnsigned
        } else {
            SignaturePolicy::Require
        };
        let mut options = InstallOptions::new(policy);
        options.before_write = Some(same_plugin_only(plugin.clone()));
        let fetch = Fetch {
            index: request.index.clone(),
            pre: request.pre,
            plain_http: request.plain_http,
            allow_private: request.allow_private,
        };
        let (installed, _) = tenant.edit(|_| {
            let installed = match (&request.source, &version) {
                (Some(source), _) => Some(install_from(tenant, source, &fetch, &options)?),
                (None, chosen) => {
                    from_index(tenant, &plugin, chosen.as_ref(), &fetch, options.clone())?
                }
            };
            tenant.manager.rediscover();
            Ok(installed)
        })?;
        let Some(installed) = installed else {
            return Ok(Json(json!({
                "id": id,
                "updated": false,
                "from": from.to_string(),
                "to": from.to_string(),
                "reason": "up-to-date",
                "status": tenant.manager.status(&id).unwrap_or(Status::Disabled),
            })));
        };
        let enabled = tenant
            .section()?
            .entry(&id)
            .is_some_and(|entry| entry.enabled);
        let swapped = enabled && tenant.manager.reload(&id);
        Ok(Json(json!({
            "id": id,
            "updated": true,
            "from": from.to_string(),
            "to": installed.version.to_string(),
            "digest": installed.digest.to_string(),
            "signer": installed.verification.signer(),
            "swapped": swapped,
            "status": tenant.manager.status(&id).unwrap_or(Status::Disabled),
            "diagnostics": installed.warnings,
        })))
    })
    .await
}

/// Installs `chosen` (or the newest compatible version) of `id` from the index; `None` when
/// there is nothing newer.
fn from_index(
    tenant: &Tenant,
    id: &PluginId,
    chosen: Option<&Version>,
    fetch: &Fetch,
    options: InstallOptions,
) -> Result<Option<Installed>, ApiError> {
    let location = index_location(tenant, fetch.index.as_deref())?;
    let (client, index) = load_index(tenant, &location, fetch)?;
    let runtime = fetch_runtime()?;
    let Some(chosen) = chosen else {
        let updater =
            Updater::new(&client, &tenant.home, &index, options).pre_releases(fetch.pre_releases());
        let report = runtime.block_on(updater.update(id, &Silent));
        return match report.outcome {
            UpdateOutcome::Updated { installed, .. } => Ok(Some(*installed)),
            UpdateOutcome::UpToDate { .. } => Ok(None),
            UpdateOutcome::NotListed { .. } => Err(Diagnostic::new(
                Code::MissingPackage,
                format!("the index does not list `{id}`"),
            )
            .with_plugin(id.as_str())
            .into()),
            UpdateOutcome::Failed(error) => Err(error.to_diagnostic().into()),
        };
    };
    let Some(version) = index
        .index()
        .plugin(id.as_str())
        .and_then(|p| p.versions.iter().find(|v| v.version == *chosen))
    else {
        return Err(Diagnostic::new(
            Code::MissingPackage,
            format!("the index has no version {chosen} of `{id}`"),
        )
        .with_plugin(id.as_str())
        .with_hint(format!("GET /api/plugins/{id}/versions lists them"))
        .into());
    };
    let fetched = runtime.block_on(client.fetch_version(&index, id.as_str(), version, &Silent))?;
    Ok(Some(install_fetched(&tenant.home, &fetched, &options)?))
}
