//! The API's routes: one module per concern, each handler thin over the library crates.

mod calls;
mod consent;
mod dashboard;
mod index;
mod plugins;
mod review;
mod services;
mod settings;
mod tenants;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::handler::Handler;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use plinth_manifest::diagnostic::{Code, Diagnostic};
use serde::Deserialize;

use crate::app::App;
use crate::error::ApiError;
use crate::work::blocking;

/// One route: its method and its path as the OpenAPI document writes it
/// (`/api/plugins/{id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// The path, with `{name}` parameters.
    pub path: &'static str,
}

/// A router that remembers its routes, so the OpenAPI document can be checked against it.
struct Routes {
    router: Router<Arc<App>>,
    specs: Vec<RouteSpec>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            router: Router::new(),
            specs: Vec::new(),
        }
    }

    fn add<H, T>(mut self, method: &'static str, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, Arc<App>>,
        T: 'static,
    {
        let filter = match method {
            "GET" => MethodFilter::GET,
            "PUT" => MethodFilter::PUT,
            "DELETE" => MethodFilter::DELETE,
            _ => MethodFilter::POST,
        };
        self.router = self.router.route(path, on(filter, handler));
        self.specs.push(RouteSpec { method, path });
        self
    }
}

fn api() -> Routes {
    Routes::new()
        .add("GET", "/", dashboard::page)
        .add("GET", "/dashboard.js", dashboard::script)
        .add("GET", "/dashboard.css", dashboard::style)
        .add("GET", "/api/health", health)
        .add("GET", "/api/openapi.json", openapi)
        .add("GET", "/metrics", metrics)
        .add("GET", "/api/plugins", plugins::list)
        .add("POST", "/api/plugins", plugins::install)
        .add("GET", "/api/plugins/{id}", plugins::show)
        .add("DELETE", "/api/plugins/{id}", plugins::uninstall)
        .add("POST", "/api/plugins/{id}/enable", plugins::enable)
        .add("POST", "/api/plugins/{id}/disable", plugins::disable)
        .add("POST", "/api/plugins/{id}/grant", plugins::grant)
        .add("POST", "/api/plugins/{id}/revoke", plugins::revoke)
        .add("POST", "/api/plugins/{id}/reload", plugins::reload)
        .add("POST", "/api/plugins/{id}/update", index::update)
        .add("GET", "/api/plugins/{id}/versions", index::versions)
        .add("GET", "/api/plugins/{id}/review", review::review)
        .add("GET", "/api/plugins/{id}/runtime", review::runtime)
        .add("POST", "/api/plugins/{id}/call", calls::call)
        .add("POST", "/api/plugins/{id}/tools/{name}", calls::tool)
        .add("POST", "/api/plugins/{id}/hooks/{point}", calls::hook)
        .add(
            "POST",
            "/api/plugins/{id}/exporters/{format}",
            calls::export,
        )
        .add("POST", "/api/plugins/{id}/data-source", calls::data_source)
        .add("GET", "/api/plugins/{id}/service", services::show)
        .add("POST", "/api/plugins/{id}/events", services::push)
        .add("GET", "/api/plugins/{id}/settings", settings::read)
        .add("PUT", "/api/plugins/{id}/settings", settings::write)
        .add("GET", "/api/consent", consent::list)
        .add("POST", "/api/consent/approve", consent::approve)
        .add("POST", "/api/consent/deny", consent::deny)
        .add("GET", "/api/events", crate::events::status_events)
        .add("GET", "/api/logs", crate::events::log_events)
        .add("GET", "/api/channels", crate::events::channel_events)
        .add("GET", "/api/index", index::list)
        .add("GET", "/api/tenants", tenants::list)
        .add("POST", "/api/tenants", tenants::create)
}

pub(crate) use services::notice_json as service_notice_json;

/// Every route the server answers.
pub fn routes() -> Vec<RouteSpec> {
    api().specs
}

/// The whole service: the routes behind the guard, with coded errors for unknown paths
/// and methods.
pub(crate) fn router(app: Arc<App>) -> Router {
    api()
        .router
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            crate::auth::guard,
        ))
        .with_state(app)
}

/// The tenant a request is about: `?tenant=NAME`, the main home when absent.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TenantQuery {
    pub(crate) tenant: Option<String>,
}

async fn not_found() -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        diagnostics: vec![
            Diagnostic::new(Code::BadArgument, "no such route")
                .with_hint("GET /api/openapi.json lists the routes"),
        ],
    }
}

async fn health(State(app): State<Arc<App>>) -> Response {
    axum::Json(serde_json::json!({
        "ok": true,
        "version": env!("CARGO_PKG_VERSION"),
        "tenants": app.tenant_names(),
    }))
    .into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::OPENAPI).into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let text = blocking(move || app.metrics.render(&app.running())).await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
        .into_response())
}
