//! Calling plugins: an export with JSON arguments (as `plinth call ID`), a tool (as
//! `plinth tool`), a hook (as `plinth hook`). Each call is timed into the metrics.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, Query, State};
use plinth_host::Plugin;
use plinth_host::kinds::{Decision, Hook, HookEvent, Tool};
use plinth_manager::{ManagerError, Status};
use plinth_manifest::diagnostic::ToDiagnostic;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::TenantQuery;
use super::plugins::in_tenant;
use crate::app::App;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::metrics::Outcome;
use crate::tenant::Tenant;

/// Runs `call` and records it in the metrics of `id`.
fn timed<T>(
    app: &App,
    tenant: &Tenant,
    id: &str,
    call: impl FnOnce() -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    app.metrics.start();
    let started = Instant::now();
    let result = call();
    let outcome = if result.is_ok() {
        Outcome::Ok
    } else {
        Outcome::Failed
    };
    app.metrics
        .record(tenant.label(), id, started.elapsed(), outcome);
    result
}

/// The serving version of enabled plugin `id`, or why it does not serve.
fn serving(tenant: &Tenant, id: &str) -> Result<Plugin, ApiError> {
    tenant.manager.plugin(id).ok_or_else(|| {
        match tenant.manager.status(id) {
            Some(Status::Error(diagnostic)) => diagnostic,
            _ => ManagerError::Disabled { id: id.into() }.to_diagnostic(),
        }
        .into()
    })
}

/// An export call: the export's name and one JSON value per parameter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallRequest {
    export: String,
    #[serde(default)]
    args: Vec<Value>,
}

/// `POST /api/plugins/{id}/call`: `{"result": VALUE, "version": V}`.
pub(crate) async fn call(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
    JsonBody(request): JsonBody<CallRequest>,
) -> Result<Json<Value>, ApiError> {
    let shared = app.clone();
    in_tenant(app, query, move |tenant| {
        let answer = timed(&shared, tenant, &id, || {
            Ok(tenant.manager.call(&id, &request.export, &request.args)?)
        })?;
        Ok(Json(
            json!({ "result": answer.value, "version": answer.version }),
        ))
    })
    .await
}

/// `POST /api/plugins/{id}/tools/{name}`: the body is the tool's input (checked against its
/// input schema before the plugin runs); `{"result": OUTPUT}`.
pub(crate) async fn tool(
    State(app): State<Arc<App>>,
    Path((id, name)): Path<(String, String)>,
    Query(query): Query<TenantQuery>,
    JsonBody(input): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let shared = app.clone();
    in_tenant(app, query, move |tenant| {
        let output = timed(&shared, tenant, &id, || {
            let plugin = serving(tenant, &id)?;
            let tools = plugin.kind::<Tool>()?;
            Ok(tools.call(&name, &input)?)
        })?;
        Ok(Json(json!({ "result": output })))
    })
    .await
}

/// A hook event: what it is about and its payload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HookRequest {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    payload: Option<Map<String, Value>>,
}

/// `POST /api/plugins/{id}/hooks/{point}`: the plugin's decision, `{"decision": "allow"}`,
/// `{"decision": "deny", "reason": R}` or `{"decision": "modify", "payload": P}`.
pub(crate) async fn hook(
    State(app): State<Arc<App>>,
    Path((id, point)): Path<(String, String)>,
    Query(query): Query<TenantQuery>,
    JsonBody(request): JsonBody<HookRequest>,
) -> Result<Json<Value>, ApiError> {
    let shared = app.clone();
    in_tenant(app, query, move |tenant| {
        let decision = timed(&shared, tenant, &id, || {
            let plugin = serving(tenant, &id)?;
            let hooks = plugin.kind::<Hook>()?;
            let payload = Value::Object(request.payload.unwrap_or_default());
            Ok(hooks.handle(&HookEvent::new(&point, &request.subject, payload))?)
        })?;
        Ok(Json(match decision {
            Decision::Allow => json!({ "decision": "allow" }),
            Decision::Deny(reason) => json!({ "decision": "deny", "reason": reason }),
            Decision::Modify(payload) => json!({ "decision": "modify", "payload": payload }),
        }))
    })
    .await
}
