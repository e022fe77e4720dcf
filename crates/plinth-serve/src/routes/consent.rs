//! Per-host consent decisions for plugins' HTTP requests (docs/design/0020): the same
//! `<home>/consent.toml` as `plinth consent`, read by the running host on each request.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use plinth_host::{ConsentError, ConsentState, ConsentStore};
use plinth_manifest::diagnostic::{Code, Diagnostic};
use serde::Deserialize;
use serde_json::{Value, json};

use super::plugins::in_tenant;
use crate::app::App;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::tenant::Tenant;

fn store(tenant: &Tenant) -> Result<ConsentStore, ApiError> {
    ConsentStore::open(tenant.home.root().join("consent.toml")).map_err(consent_error)
}

/// `invalid-manifest`: the consent file cannot be read or written (as `plinth consent`).
fn consent_error(error: ConsentError) -> ApiError {
    Diagnostic::new(Code::InvalidManifest, error.to_string())
        .with_hint("fix or remove the consent file; GET /api/consent reads it")
        .into()
}

/// Which decisions to list.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    tenant: Option<String>,
    #[serde(default)]
    pending: bool,
}

/// `GET /api/consent[?pending=true]`: `{"consent": [{"plugin", "host", "state"}]}`.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let pending = query.pending;
    let tenant_query = super::TenantQuery {
        tenant: query.tenant,
    };
    in_tenant(app, tenant_query, move |tenant| {
        let rows: Vec<Value> = store(tenant)?
            .list()
            .map_err(consent_error)?
            .into_iter()
            .filter(|e| e.tenant == tenant.name)
            .filter(|e| !pending || e.state == ConsentState::Pending)
            .map(|e| json!({"plugin": e.plugin, "host": e.host, "state": e.state.to_string()}))
            .collect();
        Ok(Json(json!({ "consent": rows })))
    })
    .await
}

/// A decision: which plugin may (not) reach which host.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionRequest {
    plugin: String,
    host: String,
}

async fn decide(
    app: Arc<App>,
    query: super::TenantQuery,
    request: DecisionRequest,
    state: ConsentState,
) -> Result<Json<Value>, ApiError> {
    in_tenant(app, query, move |tenant| {
        store(tenant)?
            .decide(
                tenant.name.as_deref(),
                &request.plugin,
                &request.host,
                state,
            )
            .map_err(consent_error)?;
        Ok(Json(json!({
            "ok": true,
            "plugin": request.plugin,
            "host": request.host,
            "state": state.to_string(),
        })))
    })
    .await
}

/// `POST /api/consent/approve`: the plugin may reach the host (as if `http:HOST` were
/// granted).
pub(crate) async fn approve(
    State(app): State<Arc<App>>,
    Query(query): Query<super::TenantQuery>,
    JsonBody(request): JsonBody<DecisionRequest>,
) -> Result<Json<Value>, ApiError> {
    decide(app, query, request, ConsentState::Approved).await
}

/// `POST /api/consent/deny`: the plugin's requests to the host are refused for good.
pub(crate) async fn deny(
    State(app): State<Arc<App>>,
    Query(query): Query<super::TenantQuery>,
    JsonBody(request): JsonBody<DecisionRequest>,
) -> Result<Json<Value>, ApiError> {
    decide(app, query, request, ConsentState::Denied).await
}
