//! Services (docs/design/0050): each enabled plugin of the `service` kind runs as a
//! service inside the server. Its status and counters appear in the listing, `GET
//! /api/plugins/{id}/service` and the `/api/events` stream; `POST
//! /api/plugins/{id}/events` feeds its queue, with the queue's own refusals (`queue-full`
//! as 503, `service-stopped` as 409).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use plinth_host::kinds::IngressEvent;
use plinth_manager::ServiceNotice;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_service::{DeadReason, Delivery, Pushed, Service, ServiceEvent, Status};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::TenantQuery;
use super::plugins::in_tenant;
use crate::app::App;
use crate::body::JsonBody;
use crate::error::ApiError;

/// How long `"wait": true` waits for the event's outcome before answering 504.
const WAIT: Duration = Duration::from_secs(60);

/// A service's status as JSON: `{"state", "reason"?}`.
fn status_json(status: &Status) -> Value {
    match status {
        Status::Degraded { reason } | Status::Error { reason } => {
            json!({ "state": status.as_str(), "reason": reason })
        }
        _ => json!({ "state": status.as_str() }),
    }
}

fn reason_json(reason: &DeadReason) -> Value {
    match reason {
        DeadReason::Rejected(why) => json!({ "reason": "rejected", "message": why }),
        DeadReason::AttemptsExhausted { attempts, last } => {
            json!({ "reason": "attempts-exhausted", "attempts": attempts, "message": last })
        }
        DeadReason::Stopped => json!({ "reason": "stopped" }),
    }
}

/// A running service as the listing and `GET /api/plugins/{id}/service` show it.
pub(crate) fn service_json(service: &Service) -> Value {
    let stats = service.stats();
    json!({
        "status": status_json(&service.status()),
        "queued": service.queued(),
        "stats": {
            "pushed": stats.pushed,
            "rejected": stats.rejected,
            "shed": stats.shed,
            "accepted": stats.accepted,
            "delivered": stats.delivered,
            "dead_lettered": stats.dead_lettered,
            "pending": stats.pending,
            "redeliveries": stats.redeliveries,
            "restarts": stats.restarts,
            "commands": stats.commands,
            "commands_failed": stats.commands_failed,
        },
    })
}

/// One service event as the `/api/events` stream sends it (event `service`).
pub(crate) fn notice_json(tenant: &str, notice: &ServiceNotice) -> Value {
    let mut data = json!({
        "tenant": tenant,
        "id": notice.id,
        "version": notice.version,
    });
    let detail = match &notice.event {
        ServiceEvent::Status { status, .. } => {
            json!({ "event": "status", "status": status_json(status) })
        }
        ServiceEvent::Shed { total, .. } => json!({ "event": "shed", "total": total }),
        ServiceEvent::DeadLettered {
            sequence, reason, ..
        } => json!({ "event": "dead-lettered", "sequence": sequence, "dead": reason_json(reason) }),
        ServiceEvent::CommandFailed {
            command,
            diagnostic,
            ..
        } => json!({ "event": "command-failed", "command": command, "diagnostic": diagnostic }),
    };
    if let (Some(data), Value::Object(detail)) = (data.as_object_mut(), detail) {
        data.extend(detail);
    }
    data
}

/// The running service of `id`, or why there is none.
fn running(tenant: &crate::tenant::Tenant, id: &str) -> Result<Arc<Service>, ApiError> {
    if let Some(service) = tenant.manager.service(id) {
        return Ok(service);
    }
    Err(match tenant.manager.status(id) {
        None => super::plugins::not_installed(id),
        Some(plinth_manager::Status::Error(diagnostic)) => diagnostic.into(),
        Some(plinth_manager::Status::Disabled) => {
            plinth_manager::ManagerError::Disabled { id: id.into() }
                .to_diagnostic()
                .into()
        }
        Some(_) => Diagnostic::new(Code::UnknownFormat, format!("{id} does not run a service"))
            .with_plugin(id)
            .with_hint("a service plugin declares [[provides.service]] in its plugin.toml")
            .into(),
    })
}

/// `GET /api/plugins/{id}/service`: the service's status, queue and counters.
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    in_tenant(app, query, move |tenant| {
        let service = running(tenant, &id)?;
        let mut shown = service_json(&service);
        if let Some(object) = shown.as_object_mut() {
            object.insert("id".into(), json!(id));
            object.insert("version".into(), json!(tenant.manager.serving_version(&id)));
        }
        Ok(Json(shown))
    })
    .await
}

/// An event for a service's queue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventRequest {
    /// What happened (the handler's `kind`).
    kind: String,
    /// Where it came from (default `api`).
    source: Option<String>,
    /// The event's body, as text.
    #[serde(default)]
    body: String,
    /// Metadata, a JSON object.
    meta: Option<Map<String, Value>>,
    /// Wait for the outcome (delivered, or dead-lettered) instead of answering once queued.
    #[serde(default)]
    wait: bool,
}

/// `POST /api/plugins/{id}/events`: offers one event to the service's queue. Answers 202
/// with the sequence number once queued (or `shed`), or with `"wait": true` 200 with the
/// outcome: the handler's reply, or why the event was dead-lettered.
pub(crate) async fn push(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
    JsonBody(request): JsonBody<EventRequest>,
) -> Result<Response, ApiError> {
    let service = in_tenant(app, query, {
        let id = id.clone();
        move |tenant| running(tenant, &id)
    })
    .await?;
    let mut event = IngressEvent::new(
        request.source.unwrap_or_else(|| "api".into()),
        request.kind,
        request.body.into_bytes(),
    );
    if let Some(meta) = request.meta {
        event.meta = Value::Object(meta).to_string();
    }
    let refused = |e: plinth_service::ServiceError| ApiError::from(e.to_diagnostic());
    if !request.wait {
        let pushed = service.push(event).map_err(refused)?;
        let body = match pushed {
            Pushed::Queued { sequence } => json!({ "queued": true, "sequence": sequence }),
            Pushed::Shed => json!({ "queued": false, "shed": true }),
        };
        return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
    }
    let (pushed, delivered) = service.request(event).map_err(refused)?;
    let sequence = match pushed {
        Pushed::Queued { sequence } => sequence,
        Pushed::Shed => {
            return Ok((
                StatusCode::ACCEPTED,
                Json(json!({ "queued": false, "shed": true })),
            )
                .into_response());
        }
    };
    let outcome = match tokio::time::timeout(WAIT, delivered).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Delivery::DeadLettered(DeadReason::Stopped),
        Err(_) => {
            return Err(Diagnostic::new(
                Code::Timeout,
                format!(
                    "{id}: event {sequence} was not handled within {} s",
                    WAIT.as_secs()
                ),
            )
            .with_plugin(&id)
            .with_hint(format!("GET /api/plugins/{id}/service shows the queue"))
            .into());
        }
    };
    let body = match outcome {
        Delivery::Handled { reply } => json!({
            "sequence": sequence,
            "delivery": "handled",
            "reply": reply.map(|r| json!({
                "status": r.status,
                "headers": r.headers,
                "body": String::from_utf8_lossy(&r.body),
            })),
        }),
        Delivery::DeadLettered(reason) => json!({
            "sequence": sequence,
            "delivery": "dead-lettered",
            "dead": reason_json(&reason),
        }),
    };
    Ok(Json(body).into_response())
}
