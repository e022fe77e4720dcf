//! A plugin's settings (the `config` table of its entry): read with the schema that drives a
//! form, and written only when they pass that schema.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use plinth_manager::Status;
use plinth_manager::discovery::Discovered;
use plinth_manifest::diagnostic::{Code, Diagnostic};
use plinth_manifest::plugin_file::{SCHEMA_MAX_BYTES, read_to_string};
use serde_json::{Map, Value, json};

use super::TenantQuery;
use super::plugins::{in_tenant, not_installed};
use crate::app::App;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::tenant::Tenant;

/// The settings schema a manifest names, as JSON; `null` when it names none.
fn settings_schema(found: &Discovered) -> Result<Value, ApiError> {
    let Some(relative) = found
        .manifest
        .settings
        .as_ref()
        .and_then(|s| s.schema.as_ref())
    else {
        return Ok(Value::Null);
    };
    let path = found.manifest.dir.join(relative);
    let text = read_to_string(&path, SCHEMA_MAX_BYTES).map_err(|e| {
        Diagnostic::new(Code::InvalidManifest, format!("{}: {e}", path.display()))
            .with_plugin(found.id())
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Diagnostic::new(
            Code::InvalidManifest,
            format!("{}: not JSON: {e}", path.display()),
        )
        .with_plugin(found.id())
        .into()
    })
}

/// `GET /api/plugins/{id}/settings`: `{"id", "settings", "schema"}`.
pub(crate) async fn read(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    in_tenant(app, query, move |tenant| {
        let found = tenant.manager.inventory().get(&id).cloned();
        let section = tenant.section()?;
        let entry = section.entry(&id);
        if found.is_none() && entry.is_none() {
            return Err(not_installed(&id));
        }
        let schema = found
            .as_ref()
            .map(settings_schema)
            .transpose()?
            .unwrap_or(Value::Null);
        Ok(Json(json!({
            "id": id,
            "settings": entry.map(|e| e.config.clone()).unwrap_or_default(),
            "schema": schema,
        })))
    })
    .await
}

/// Checks `settings` against the plugin's schema: the serving version's, else the one a
/// load of the installed folder would compile.
fn validate(
    tenant: &Tenant,
    id: &str,
    found: Option<&Discovered>,
    settings: &Value,
) -> Result<(), ApiError> {
    if let Some(plugin) = tenant.manager.plugin(id) {
        return Ok(plugin.validate_settings(settings)?);
    }
    match found {
        Some(found) => Ok(tenant.host.check(&found.dir)?.validate_settings(settings)?),
        // An entry without an installed plugin has no schema to check against.
        None => Ok(()),
    }
}

/// `PUT /api/plugins/{id}/settings`: the body (a JSON object) replaces the settings when it
/// passes the schema (`rejected-schema`, 422, naming each failing path, otherwise; nothing
/// is written). A running plugin takes them live (`on-setting-change` for a long-lived
/// instance), or is reloaded with them.
pub(crate) async fn write(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
    JsonBody(settings): JsonBody<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    in_tenant(app, query, move |tenant| {
        let found = tenant.manager.inventory().get(&id).cloned();
        if found.is_none() && tenant.section()?.entry(&id).is_none() {
            return Err(not_installed(&id));
        }
        let value = Value::Object(settings.clone());
        validate(tenant, &id, found.as_ref(), &value)?;
        let ((), report) = tenant.edit(|state| {
            Ok(state.update(|doc| {
                if let Some(found) = &found {
                    doc.set_artifact_path(&id, &found.component())?;
                }
                doc.set_config(&id, &settings)
            })?)
        })?;
        let applied = if report.settings_changed.contains(&id) {
            "live"
        } else if report.reloaded.contains(&id) || report.loaded.contains(&id) {
            "reloaded"
        } else if report.rejected.contains(&id) {
            "rejected"
        } else {
            "stored"
        };
        Ok(Json(json!({
            "id": id,
            "settings": settings,
            "applied": applied,
            "status": tenant.manager.status(&id).unwrap_or(Status::Disabled),
        })))
    })
    .await
}
