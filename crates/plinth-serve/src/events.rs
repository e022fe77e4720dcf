//! Server-Sent Events: plugin status changes (`/api/events`), plugin logs (`/api/logs`)
//! and the events plugins publish on channels (`/api/channels`). Each stream opens with one event that says it is live (a `statuses`
//! snapshot, or `ready`), so a client that acts after it sees every event the action causes;
//! every stream ends when the server shuts down.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use plinth_host::log::{LogLevel, LogSource};
use plinth_manager::{ServiceNotice, StatusEvent};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::app::App;
use crate::error::ApiError;
use crate::routes::TenantQuery;
use crate::work::blocking;

/// One line a plugin logged (or printed), with the tenant it runs for.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LogEvent {
    pub(crate) tenant: Option<String>,
    pub(crate) plugin: String,
    pub(crate) level: LogLevel,
    pub(crate) source: LogSource,
    pub(crate) message: String,
}

fn json_event(name: &str, data: &impl Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event(name))
}

/// Ends when the server starts shutting down.
fn stopping(app: &App) -> impl std::future::Future<Output = ()> + Send + 'static + use<> {
    let mut stopping = app.stopping.clone();
    async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    }
}

/// Items from `receiver` until it closes; a lag becomes `lagged` with the number missed.
fn follow<T: Clone + Send + 'static>(
    receiver: broadcast::Receiver<T>,
) -> impl Stream<Item = Result<T, u64>> + Send + 'static {
    stream::unfold(receiver, |mut receiver| async move {
        match receiver.recv().await {
            Ok(item) => Some((Ok(item), receiver)),
            Err(RecvError::Lagged(missed)) => Some((Err(missed), receiver)),
            Err(RecvError::Closed) => None,
        }
    })
}

/// `GET /api/events`: a `statuses` snapshot, then one `status` event per change
/// (`{seq, id, status, serving, kinds, tenant}`), one `service` event per service status
/// change, shed event, dead letter or refused command (`{tenant, id, version, event, …}`),
/// and `lagged` when events were missed.
pub(crate) async fn status_events(
    State(app): State<Arc<App>>,
    Query(query): Query<TenantQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let tenant = {
        let app = app.clone();
        blocking(move || app.tenant(query.tenant.as_deref())).await??
    };
    let label = tenant.label().to_owned();
    let receiver = tenant.manager.subscribe();
    let services = tenant.manager.subscribe_services();
    // Read after subscribing: a change in between is in both, never in neither.
    let snapshot = json_event(
        "statuses",
        &json!({ "tenant": label, "statuses": tenant.manager.statuses() }),
    );
    let changes = follow(receiver).map(move |item: Result<StatusEvent, u64>| {
        Ok::<Event, Infallible>(match item {
            Ok(event) => Event::default()
                .id(event.seq.to_string())
                .event("status")
                .json_data(json!({
                    "tenant": label,
                    "seq": event.seq,
                    "id": event.id,
                    "status": event.status,
                    "serving": event.serving,
                    "kinds": event.kinds,
                }))
                .unwrap_or_else(|_| Event::default().event("status")),
            Err(missed) => json_event("lagged", &json!({ "missed": missed })),
        })
    });
    let service_label = tenant.label().to_owned();
    let service_changes = follow(services).map(move |item: Result<ServiceNotice, u64>| {
        Ok::<Event, Infallible>(match item {
            Ok(notice) => json_event(
                "service",
                &crate::routes::service_notice_json(&service_label, &notice),
            ),
            Err(missed) => json_event("lagged", &json!({ "missed": missed })),
        })
    });
    let events = stream::once(async move { Ok::<Event, Infallible>(snapshot) })
        .chain(stream::select(changes, service_changes))
        .take_until(stopping(&app));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Which logs `/api/logs` streams.
#[derive(Debug, Deserialize)]
pub(crate) struct LogQuery {
    tenant: Option<String>,
    plugin: Option<String>,
}

/// `GET /api/logs`: `ready`, then one `log` event per line a plugin of the tenant (or only
/// `plugin`) logged or printed.
pub(crate) async fn log_events(
    State(app): State<Arc<App>>,
    Query(query): Query<LogQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    if let Some(tenant) = &query.tenant {
        plinth_package::check_tenant_id(tenant)?;
    }
    let receiver = app.logs.subscribe();
    let lines = follow(receiver).filter_map(move |item: Result<LogEvent, u64>| {
        let wanted = match &item {
            Ok(line) => {
                line.tenant == query.tenant
                    && query.plugin.as_ref().is_none_or(|p| *p == line.plugin)
            }
            Err(_) => true,
        };
        let event = match item {
            Ok(line) => json_event("log", &line),
            Err(missed) => json_event("lagged", &json!({ "missed": missed })),
        };
        std::future::ready(wanted.then_some(Ok::<Event, Infallible>(event)))
    });
    let ready = json_event("ready", &json!({}));
    let events = stream::once(async move { Ok::<Event, Infallible>(ready) })
        .chain(lines)
        .take_until(stopping(&app));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Which channel events `/api/channels` streams.
#[derive(Debug, Deserialize)]
pub(crate) struct ChannelQuery {
    tenant: Option<String>,
    /// Comma-separated channel patterns (`jobs.done`, `jobs.*`); absent: every channel.
    channels: Option<String>,
}

/// `GET /api/channels`: `ready`, then one `event` per event a plugin of the tenant
/// published on a matching channel (`{channel, plugin, tenant, payload}`), on this host or,
/// with `[events] backend = "nats"`, on any host sharing the server; `missed` (`{missed}`,
/// the running total) when the subscription learns of events it will never get.
pub(crate) async fn channel_events(
    State(app): State<Arc<App>>,
    Query(query): Query<ChannelQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let tenant = {
        let app = app.clone();
        let name = query.tenant.clone();
        blocking(move || app.tenant(name.as_deref())).await??
    };
    let channels: Vec<String> = query
        .channels
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let subscription = tenant
        .host
        .subscribe_tenant_events(tenant.name.as_deref(), channels);
    let events = stream::unfold(
        (subscription, 0u64),
        |(mut subscription, reported)| async move {
            let event = subscription.recv().await?;
            let missed = subscription.missed();
            let mut out: Vec<Result<Event, Infallible>> = Vec::with_capacity(2);
            if missed > reported {
                out.push(Ok(json_event("missed", &json!({ "missed": missed }))));
            }
            out.push(Ok(json_event(
                "event",
                &json!({
                    "channel": event.channel,
                    "plugin": event.plugin,
                    "tenant": event.tenant,
                    "payload": event.payload,
                }),
            )));
            Some((stream::iter(out), (subscription, missed)))
        },
    )
    .flatten();
    let ready = json_event("ready", &json!({}));
    let events = stream::once(async move { Ok::<Event, Infallible>(ready) })
        .chain(events)
        .take_until(stopping(&app));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
