//! Installed plugins: list, show, enable, disable, grant, revoke, reload, install,
//! uninstall. The same library calls as `plinth list/show/enable/…`, and the same JSON.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use plinth_manager::discovery::Discovered;
use plinth_manager::state::{PluginEntry, review_hook};
use plinth_manager::{SignaturePolicy, Status};
use plinth_manifest::PluginId;
use plinth_manifest::diagnostic::{Code, Diagnostic, Severity};
use plinth_manifest::grant::Grant;
use plinth_package::{InstallOptions, Installed, ReplacePolicy, SignatureState, TrustStore};
use plinth_registry::reference::OCI_SCHEME;
use plinth_registry::{
    OciClient, OciReference, Silent, SizeCaps, install_from_index, install_from_oci, parse_spec,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::TenantQuery;
use super::index::{Fetch, UpdateCheck, fetch_runtime, index_location};
use crate::app::App;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::tenant::Tenant;
use crate::work::blocking;

/// Runs `work` on a worker thread with the runtime of the request's tenant.
pub(crate) async fn in_tenant<T: Send + 'static>(
    app: Arc<App>,
    query: TenantQuery,
    work: impl FnOnce(&Tenant) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    blocking(move || {
        let tenant = app.tenant(query.tenant.as_deref())?;
        work(&tenant)
    })
    .await?
}

/// `missing-package` for an id that is neither installed nor in the state.
pub(crate) fn not_installed(id: &str) -> ApiError {
    Diagnostic::new(Code::MissingPackage, format!("no installed plugin `{id}`"))
        .with_plugin(id)
        .with_hint("GET /api/plugins lists the installed plugins")
        .into()
}

/// One plugin as the listing shows it.
fn row(
    tenant: &Tenant,
    id: &str,
    found: Option<&Discovered>,
    entry: Option<&PluginEntry>,
    trust: Option<&TrustStore>,
    updates: &UpdateCheck,
) -> Value {
    let manager = &tenant.manager;
    let status = manager.status(id).unwrap_or(Status::Disabled);
    let manifest = found.map(|f| &f.manifest);
    let signature = match (found, trust) {
        (Some(found), Some(trust)) => SignatureState::of(plinth_package::verify_installed(
            &found.dir,
            trust,
            SignaturePolicy::Require,
        )),
        _ => None,
    };
    json!({
        "id": id,
        "tenant": tenant.name,
        "version": manifest.map(|m| m.plugin.version.to_string()),
        "name": manifest.and_then(|m| m.plugin.name.clone()),
        "description": manifest.and_then(|m| m.plugin.description.clone()),
        "origin": found.map(|f| json!(f.origin)).unwrap_or(json!("state")),
        "dir": found.map(|f| f.dir.clone()),
        "enabled": entry.is_some_and(|e| e.enabled),
        "status": status,
        "serving": manager.serving_version(id),
        "kinds": manifest.map(|m| m.provides.kinds()).unwrap_or_default(),
        "signature": signature,
        "requested": manifest
            .map(|m| m.requested_grants().iter().map(Grant::to_string).collect::<Vec<_>>())
            .unwrap_or_default(),
        "granted": entry.map(|e| e.grants.clone()).unwrap_or_default(),
        "counters": manager.counters(id),
        "service": manager.service(id).map(|s| super::services::service_json(&s)),
        "update_available": updates.available(id),
    })
}

/// `GET /api/plugins`: every installed plugin and every state entry.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    in_tenant(app, query, |tenant| {
        tenant.manager.rediscover();
        let inventory = tenant.manager.inventory();
        let section = tenant.section()?;
        let trust = tenant.home.trust_store().ok();
        let updates = UpdateCheck::configured(tenant);
        let mut rows: Vec<Value> = inventory
            .plugins
            .iter()
            .map(|(id, found)| {
                let entry = section.entry(id);
                row(tenant, id, Some(found), entry, trust.as_ref(), &updates)
            })
            .collect();
        for entry in section
            .entries
            .iter()
            .filter(|e| inventory.get(&e.id).is_none())
        {
            rows.push(row(tenant, &entry.id, None, Some(entry), None, &updates));
        }
        Ok(Json(json!({
            "plugins": rows,
            "index": updates.summary(),
            "diagnostics": inventory.diagnostics,
        })))
    })
    .await
}

/// `GET /api/plugins/{id}`: the listing's row, with the settings, the tools and the
/// discovery diagnostics of the plugin.
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    in_tenant(app, query, move |tenant| {
        let inventory = tenant.manager.inventory();
        let section = tenant.section()?;
        let found = inventory.get(&id);
        let entry = section.entry(&id);
        if found.is_none() && entry.is_none() {
            return Err(not_installed(&id));
        }
        let trust = tenant.home.trust_store().ok();
        let updates = UpdateCheck::configured(tenant);
        let mut shown = row(tenant, &id, found, entry, trust.as_ref(), &updates);
        let tools: Vec<Value> = found
            .map(|f| {
                f.manifest
                    .provides
                    .tool
                    .iter()
                    .map(|t| json!({"name": t.name, "description": t.description}))
                    .collect()
            })
            .unwrap_or_default();
        shown["tools"] = json!(tools);
        shown["settings"] = json!(entry.map(|e| e.config.clone()).unwrap_or_default());
        shown["diagnostics"] = json!(inventory.diagnostics_for(&id).collect::<Vec<_>>());
        Ok(Json(shown))
    })
    .await
}

/// `POST /api/plugins/{id}/enable`.
pub(crate) async fn enable(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    set_enabled(app, query, id, true).await
}

/// `POST /api/plugins/{id}/disable`.
pub(crate) async fn disable(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    set_enabled(app, query, id, false).await
}

/// Persists `enabled` (and the component's `artifact_path`), then applies the state: the
/// answer has the status the plugin reached.
async fn set_enabled(
    app: Arc<App>,
    query: TenantQuery,
    id: String,
    enabled: bool,
) -> Result<Json<Value>, ApiError> {
    in_tenant(app, query, move |tenant| {
        tenant.manager.rediscover();
        let found = tenant.manager.inventory().get(&id).cloned();
        let (before, _) = tenant.edit(|state| {
            let in_state = state.load()?.section.entry(&id).is_some();
            if found.is_none() && !in_state {
                return Err(not_installed(&id));
            }
            Ok(state.update(|doc| {
                let before = doc.set_enabled(&id, enabled)?;
                if let Some(found) = &found {
                    doc.set_artifact_path(&id, &found.component())?;
                }
                Ok(before)
            })?)
        })?;
        Ok(Json(json!({
            "id": id,
            "enabled": enabled,
            "changed": before != enabled,
            "status": tenant.manager.status(&id).unwrap_or(Status::Disabled),
        })))
    })
    .await
}

/// A grant or revoke request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Grants {
    grants: Vec<String>,
}

fn parse_grants(texts: &[String]) -> Result<Vec<Grant>, ApiError> {
    if texts.is_empty() {
        return Err(Diagnostic::new(Code::BadArgument, "no grants given")
            .with_hint("send {\"grants\": [\"log\", \"http:api.example.com\"]}")
            .into());
    }
    texts
        .iter()
        .map(|t| t.parse::<Grant>().map_err(ApiError::from))
        .collect()
}

/// `POST /api/plugins/{id}/grant`: persists grants (in canonical form) and applies them.
/// A grant the manifest does not request is written with a `missing-grant` warning.
pub(crate) async fn grant(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
    JsonBody(body): JsonBody<Grants>,
) -> Result<Json<Value>, ApiError> {
    let grants = parse_grants(&body.grants)?;
    in_tenant(app, query, move |tenant| {
        tenant.manager.rediscover();
        let found = tenant.manager.inventory().get(&id).cloned();
        let mut warnings = Vec::new();
        if let Some(found) = &found {
            let requested = found.manifest.requested_grants();
            for grant in grants.iter().filter(|g| !g.is_requested(&requested)) {
                warnings.push(
                    Diagnostic::new(
                        Code::MissingGrant,
                        format!("the manifest of {id} does not request `{grant}`; the grant has no effect until it does"),
                    )
                    .with_severity(Severity::Warning)
                    .with_plugin(&id),
                );
            }
        }
        let texts: Vec<String> = grants.iter().map(Grant::to_string).collect();
        let (added, _) = tenant.edit(|state| {
            let in_state = state.load()?.section.entry(&id).is_some();
            if found.is_none() && !in_state {
                return Err(not_installed(&id));
            }
            Ok(state.update(|doc| {
                if let Some(found) = &found {
                    doc.set_artifact_path(&id, &found.component())?;
                }
                doc.add_grants(&id, &texts)
            })?)
        })?;
        Ok(Json(json!({
            "id": id,
            "added": added,
            "diagnostics": warnings,
            "status": tenant.manager.status(&id).unwrap_or(Status::Disabled),
        })))
    })
    .await
}

/// `POST /api/plugins/{id}/revoke`: removes grants and applies the state.
pub(crate) async fn revoke(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
    JsonBody(body): JsonBody<Grants>,
) -> Result<Json<Value>, ApiError> {
    let grants = parse_grants(&body.grants)?;
    in_tenant(app, query, move |tenant| {
        let texts: Vec<String> = grants.iter().map(Grant::to_string).collect();
        let (removed, _) =
            tenant.edit(|state| Ok(state.update(|doc| doc.remove_grants(&id, &texts))?))?;
        Ok(Json(json!({
            "id": id,
            "removed": removed,
            "status": tenant.manager.status(&id).unwrap_or(Status::Disabled),
        })))
    })
    .await
}

/// `POST /api/plugins/{id}/reload`: loads the enabled plugin again from disk now (a retry
/// of a plugin in `Error`); the old version keeps serving if the new one fails.
pub(crate) async fn reload(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    in_tenant(app, query, move |tenant| {
        let Some(status) = tenant.manager.status(&id) else {
            return Err(not_installed(&id));
        };
        if status == Status::Disabled {
            return Err(
                Diagnostic::new(Code::Disabled, format!("{id}: the plugin is disabled"))
                    .with_plugin(&id)
                    .with_hint(format!("enable it: POST /api/plugins/{id}/enable"))
                    .into(),
            );
        }
        let reloaded = tenant.manager.reload(&id);
        Ok(Json(json!({
            "id": id,
            "reloaded": reloaded,
            "status": tenant.manager.status(&id).unwrap_or(Status::Disabled),
        })))
    })
    .await
}

/// An install request: what `plinth install` takes as arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstallRequest {
    /// A plugin directory or `.plinth` file on the server, `ID[@VERSION]` from the index,
    /// or `oci://HOST[:PORT]/REPO:TAG`.
    source: String,
    #[serde(default)]
    allow_unsigned: bool,
    #[serde(default)]
    replace: bool,
    index: Option<String>,
    #[serde(default)]
    pre: bool,
    #[serde(default)]
    plain_http: bool,
    #[serde(default)]
    allow_private: bool,
}

impl InstallRequest {
    fn fetch(&self) -> Fetch {
        Fetch {
            index: self.index.clone(),
            pre: self.pre,
            plain_http: self.plain_http,
            allow_private: self.allow_private,
        }
    }
}

/// `POST /api/plugins`: verifies and installs a plugin into the tenant's plugin directory,
/// like `plinth install`; never enables or grants anything, and a new plugin under a known
/// id has its enablement and grants reset for review.
pub(crate) async fn install(
    State(app): State<Arc<App>>,
    Query(query): Query<TenantQuery>,
    JsonBody(request): JsonBody<InstallRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    in_tenant(app, query, move |tenant| {
        let policy = if request.allow_unsigned || !tenant.config.security.require_signatures {
            SignaturePolicy::AllowUnsigned
        } else {
            SignaturePolicy::Require
        };
        let mut options = InstallOptions::new(policy);
        if request.replace {
            options.replace = ReplacePolicy::Replace;
        }
        let (hook, reset) = review_hook(tenant.state.clone());
        options.before_write = Some(hook);
        let (installed, _) = tenant.edit(|_| {
            let installed = install_from(tenant, &request.source, &request.fetch(), &options)?;
            tenant.manager.rediscover();
            Ok(installed)
        })?;
        tenant.manager.reload_if_changed(installed.id.as_str());
        let reset = reset.lock().unwrap_or_else(|p| p.into_inner()).take();
        let entry = tenant.section()?.entry(installed.id.as_str()).cloned();
        Ok((
            StatusCode::CREATED,
            Json(json!({
                "ok": true,
                "id": installed.id.as_str(),
                "version": installed.version.to_string(),
                "digest": installed.digest.to_string(),
                "dir": installed.dir,
                "signer": installed.verification.signer(),
                "key": installed.verification.key().map(|k| k.to_string()),
                "replaced": installed.replaced.as_ref().map(|e| e.version.to_string()),
                "continuity": installed.continuity.as_str(),
                "review_reset": reset,
                "requested_capabilities": installed.requested.iter().map(Grant::to_string).collect::<Vec<_>>(),
                "enabled": entry.as_ref().is_some_and(|e| e.enabled),
                "grants": entry.map(|e| e.grants).unwrap_or_default(),
                "diagnostics": installed.warnings,
            })),
        ))
    })
    .await
}

/// Installs from a path, the index or an OCI registry, as `plinth install` tells them
/// apart.
pub(crate) fn install_from(
    tenant: &Tenant,
    source: &str,
    fetch: &Fetch,
    options: &InstallOptions,
) -> Result<Installed, ApiError> {
    let path = PathBuf::from(source);
    if !source.starts_with(OCI_SCHEME) && (path.exists() || !looks_like_spec(source)) {
        return Ok(plinth_package::install_path(&tenant.home, &path, options)?);
    }
    let runtime = fetch_runtime()?;
    if source.starts_with(OCI_SCHEME) {
        let reference = source.parse::<OciReference>()?;
        let client = OciClient::new(fetch.transport(), SizeCaps::default())
            .private_addresses(fetch.private());
        return Ok(runtime.block_on(install_from_oci(
            &client,
            &tenant.home,
            &reference,
            options,
            &Silent,
        ))?);
    }
    let (id, version) = parse_spec(source)?;
    let location = index_location(tenant, fetch.index.as_deref())?;
    Ok(runtime.block_on(async {
        let client = fetch.registry_client()?;
        let index = client.load_index(&location).await?;
        install_from_index(
            &client,
            &tenant.home,
            &index,
            &id,
            &version,
            fetch.pre_releases(),
            options,
            &Silent,
        )
        .await
    })?)
}

/// Whether `source` reads as `ID[@VERSION]` rather than a path.
fn looks_like_spec(source: &str) -> bool {
    !source.contains(std::path::MAIN_SEPARATOR) && !source.ends_with(".plinth")
}

/// `DELETE /api/plugins/{id}`: removes the plugin's folder and lockfile entry, then
/// disables it and removes its grants (its settings stay), like `plinth uninstall`.
pub(crate) async fn uninstall(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    let plugin =
        PluginId::new(id.clone()).map_err(|e| Diagnostic::new(Code::BadArgument, e.to_string()))?;
    in_tenant(app, query, move |tenant| {
        let ((entry, reset), _) = tenant.edit(|state| {
            let entry = plinth_package::uninstall(&tenant.home, &plugin)?;
            // After the files are gone: a refused uninstall changes nothing.
            let reset = plinth_manager::state::reset_review(state, plugin.as_str())?;
            tenant.manager.rediscover();
            Ok((entry, reset))
        })?;
        Ok(Json(json!({
            "ok": true,
            "id": id,
            "version": entry.map(|e| e.version.to_string()),
            "review_reset": reset,
        })))
    })
    .await
}
