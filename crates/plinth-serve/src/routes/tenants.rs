//! Tenants: each has its own home (`<home>/tenants/NAME/`) with its own plugins, state,
//! lockfile, trust store and key-value data; every plugin route takes `?tenant=NAME`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::work::blocking;

/// `GET /api/tenants`: `{"tenants": [NAME…]}`.
pub(crate) async fn list(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({ "tenants": app.tenant_names() }))
}

/// A tenant to create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRequest {
    name: String,
}

/// `POST /api/tenants`: creates the tenant's home and starts its runtime.
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    JsonBody(request): JsonBody<CreateRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = blocking(move || app.create_tenant(&request.name)).await??;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "ok": true, "name": tenant.name, "home": tenant.home.root() })),
    ))
}
