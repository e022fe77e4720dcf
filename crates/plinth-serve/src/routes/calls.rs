//! Calling plugins: an export with JSON arguments (as `plinth call ID`), a tool (as
//! `plinth tool`), a hook (as `plinth hook`), an exporter and a data source. Each call is
//! timed into the metrics.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, Query, State};
use plinth_host::Plugin;
use plinth_host::kinds::{
    Cell, Column, ColumnType, DataSource, Decision, Exporter, Hook, HookEvent, Table, Tool,
};
use plinth_manager::{ManagerError, Status};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
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

/// A table as JSON: its columns (`{"name", "type"}`) and its rows, each an array of plain
/// values in column order (`null` for none).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TableRequest {
    columns: Vec<Column>,
    #[serde(default)]
    rows: Vec<Vec<Value>>,
}

/// A plain JSON value as a cell of a column of type `ty`.
fn cell(value: &Value, ty: ColumnType, at: &str) -> Result<Cell, ApiError> {
    let wrong = || {
        ApiError::from(
            Diagnostic::new(
                Code::InvalidInput,
                format!("{at}: {value} is not a {} value", ty.as_str()),
            )
            .with_hint("send each row as an array of plain JSON values in column order"),
        )
    };
    Ok(match (ty, value) {
        (_, Value::Null) => Cell::Null,
        (ColumnType::String, Value::String(s)) => Cell::String(s.clone()),
        (ColumnType::Int, Value::Number(n)) => Cell::Int(n.as_i64().ok_or_else(wrong)?),
        (ColumnType::Timestamp, Value::Number(n)) => Cell::Timestamp(n.as_i64().ok_or_else(wrong)?),
        (ColumnType::Float, Value::Number(n)) => Cell::Float(n.as_f64().ok_or_else(wrong)?),
        (ColumnType::Bool, Value::Bool(b)) => Cell::Bool(*b),
        (ColumnType::Bytes, Value::Array(items)) => Cell::Bytes(
            items
                .iter()
                .map(|i| {
                    i.as_u64()
                        .and_then(|b| u8::try_from(b).ok())
                        .ok_or_else(wrong)
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(wrong()),
    })
}

impl TableRequest {
    fn into_table(self) -> Result<Table, ApiError> {
        let mut rows = Vec::with_capacity(self.rows.len());
        for (r, row) in self.rows.iter().enumerate() {
            if row.len() != self.columns.len() {
                return Err(Diagnostic::new(
                    Code::InvalidInput,
                    format!(
                        "/rows/{r}: {} values for {} columns",
                        row.len(),
                        self.columns.len()
                    ),
                )
                .into());
            }
            let cells = row
                .iter()
                .zip(&self.columns)
                .enumerate()
                .map(|(c, (value, column))| cell(value, column.ty, &format!("/rows/{r}/{c}")))
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(cells);
        }
        Ok(Table {
            columns: self.columns,
            rows,
        })
    }
}

/// `POST /api/plugins/{id}/exporters/{format}`: the body is a table; the answer is the
/// plugin's bytes in `format`: `{"format", "media_type", "text", "hex"}` (`text` when the
/// bytes are UTF-8).
pub(crate) async fn export(
    State(app): State<Arc<App>>,
    Path((id, format)): Path<(String, String)>,
    Query(query): Query<TenantQuery>,
    JsonBody(request): JsonBody<TableRequest>,
) -> Result<Json<Value>, ApiError> {
    let table = request.into_table()?;
    let shared = app.clone();
    in_tenant(app, query, move |tenant| {
        let (bytes, media_type) = timed(&shared, tenant, &id, || {
            let plugin = serving(tenant, &id)?;
            let exporters = plugin.kind::<Exporter>()?;
            let media_type = exporters
                .formats()
                .iter()
                .find(|f| f.name == format)
                .map(|f| f.media_type.clone());
            Ok((exporters.export(&format, &table)?, media_type))
        })?;
        Ok(Json(json!({
            "format": format,
            "media_type": media_type,
            "text": std::str::from_utf8(&bytes).ok(),
            "hex": hex::encode(&bytes),
        })))
    })
    .await
}

/// The most rows `POST …/data-source` returns.
const MAX_ROWS: u32 = 10_000;

/// A data-source query: the plugin's query value and how many rows to read at most.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueryRequest {
    #[serde(default)]
    query: Value,
    max_rows: Option<u32>,
}

/// `POST /api/plugins/{id}/data-source`: opens the plugin's data source with `query` and
/// reads up to `max_rows` rows (default and cap 10 000): `{"columns", "rows", "complete"}`,
/// the rows as objects keyed by column name.
pub(crate) async fn data_source(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
    JsonBody(request): JsonBody<QueryRequest>,
) -> Result<Json<Value>, ApiError> {
    let max_rows = request.max_rows.unwrap_or(MAX_ROWS).clamp(1, MAX_ROWS);
    let shared = app.clone();
    in_tenant(app, query, move |tenant| {
        let (table, complete) = timed(&shared, tenant, &id, || {
            let plugin = serving(tenant, &id)?;
            let sources = plugin.kind::<DataSource>()?;
            let mut reader = sources.open(&request.query)?;
            let columns = reader.columns().to_vec();
            let mut rows = Vec::new();
            let mut complete = false;
            while rows.len() < max_rows as usize {
                let left = max_rows - rows.len() as u32;
                match reader.next_page(left)? {
                    Some(page) => rows.extend(page),
                    None => {
                        complete = true;
                        break;
                    }
                }
            }
            Ok((Table { columns, rows }, complete))
        })?;
        Ok(Json(json!({
            "columns": table.columns,
            "rows": table.rows_as_json(),
            "complete": complete,
        })))
    })
    .await
}
