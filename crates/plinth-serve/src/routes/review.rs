//! What an operator reviews before enabling a plugin, and how it runs once enabled.
//!
//! - The grant review: each capability the manifest requests, whether it is granted, and
//!   whether the component's imports can use it at all, read from the component's type
//!   without running it (`Host::inspect`, docs/design/0054); and the capabilities the imports
//!   reach that the manifest does not request (the host refuses those whatever is granted).
//! - The runtime view: the manager's counters (calls, errors, fuel, peak memory) and the
//!   latency quantiles of the calls made through the API.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_manifest::grant::Grant;
use serde_json::{Value, json};

use super::TenantQuery;
use super::plugins::{in_tenant, not_installed};
use crate::app::App;
use crate::error::ApiError;

/// The largest component the review reads.
const COMPONENT_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// The capability an import gives access to, when it gives access to one: Plinth's own
/// host interfaces and the WASI interfaces the host gates behind a grant. Other imports
/// (clocks, random, stdio, the plugin's own kinds) need no grant.
pub(crate) fn capability_of_import(name: &str) -> Option<&'static str> {
    let interface = name.split('@').next().unwrap_or(name);
    Some(match interface {
        "plinth:host/log" => "log",
        "plinth:host/config" => "config",
        "plinth:host/http" => "http",
        "plinth:host/fs" => "fs",
        "plinth:host/kv" => "kv",
        "plinth:host/events" => "events.publish",
        "plinth:host/watch" => "watch",
        _ if interface.starts_with("wasi:http/") => "http",
        _ if interface.starts_with("wasi:filesystem/") => "fs",
        _ if interface.starts_with("wasi:sockets/") => "sockets",
        _ => return None,
    })
}

/// The family a grant's capability belongs to, as [`capability_of_import`] names it
/// (`fs.read` and `fs.write` are both `fs`).
fn family(grant: &Grant) -> String {
    match grant.capability_name() {
        "fs.read" | "fs.write" => "fs".to_owned(),
        other => other.to_owned(),
    }
}

/// `GET /api/plugins/{id}/review`.
pub(crate) async fn review(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    in_tenant(app, query, move |tenant| {
        tenant.manager.rediscover();
        let Some(found) = tenant.manager.inventory().get(&id).cloned() else {
            return Err(not_installed(&id));
        };
        let granted: Vec<String> = tenant
            .section()?
            .entry(&id)
            .map(|e| e.grants.clone())
            .unwrap_or_default();
        let granted: Vec<Grant> = granted.iter().filter_map(|g| g.parse().ok()).collect();
        let inspected = if found.component_present && found.manifest.component_path().is_some() {
            let path = found.component();
            plinth_manifest::plugin_file::read(&path, COMPONENT_MAX_BYTES)
                .map_err(|e| {
                    Diagnostic::new(Code::IoError, format!("{}: {e}", path.display()))
                        .with_plugin(&id)
                })
                .and_then(|bytes| tenant.host.inspect(&bytes).map_err(|e| e.to_diagnostic()))
                .map(Some)
        } else {
            Ok(None)
        };
        let (imports, inspection_error) = match inspected {
            Ok(Some(inspection)) => (Some(inspection.imports), None),
            Ok(None) => (Some(Vec::new()), None),
            Err(diagnostic) => (None, Some(diagnostic)),
        };
        let reachable: Option<BTreeSet<&'static str>> = imports.as_ref().map(|imports| {
            imports
                .iter()
                .filter_map(|i| capability_of_import(&i.name))
                .collect()
        });
        let requested = found.manifest.requested_grants();
        let rows: Vec<Value> = requested
            .iter()
            .map(|grant| {
                let family = family(grant);
                json!({
                    "grant": grant.to_string(),
                    "capability": grant.capability_name(),
                    "granted": granted.iter().any(|g| g == grant),
                    // Unknown when the component could not be read; custom capabilities
                    // are the embedder's and not judged here.
                    "usable": reachable.as_ref().map(|r| {
                        matches!(grant, Grant::Custom { .. }) || r.contains(family.as_str())
                    }),
                })
            })
            .collect();
        let requested_families: BTreeSet<String> = requested.iter().map(family).collect();
        let unrequested: Vec<&str> = reachable
            .iter()
            .flatten()
            .filter(|c| !requested_families.contains(**c))
            .copied()
            .collect();
        let imports: Vec<Value> = imports
            .unwrap_or_default()
            .iter()
            .map(|i| {
                json!({
                    "name": i.name,
                    "provided": i.provided,
                    "capability": capability_of_import(&i.name),
                })
            })
            .collect();
        Ok(Json(json!({
            "id": id,
            "requested": rows,
            "imports": imports,
            "unrequested": unrequested,
            "granted": granted.iter().map(Grant::to_string).collect::<Vec<_>>(),
            "diagnostics": inspection_error.into_iter().collect::<Vec<_>>(),
        })))
    })
    .await
}

/// `GET /api/plugins/{id}/runtime`.
pub(crate) async fn runtime(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    let shared = app.clone();
    in_tenant(app, query, move |tenant| {
        let Some(status) = tenant.manager.status(&id) else {
            return Err(not_installed(&id));
        };
        let api = shared.metrics.summary(tenant.label(), &id);
        Ok(Json(json!({
            "id": id,
            "status": status,
            "serving": tenant.manager.serving_version(&id),
            "counters": tenant.manager.counters(&id),
            "api": api,
        })))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_map_to_the_capabilities_that_gate_them() {
        for (import, capability) in [
            ("plinth:host/log@0.1.0", Some("log")),
            ("plinth:host/config@0.1.0", Some("config")),
            ("plinth:host/kv@0.1.0", Some("kv")),
            ("wasi:http/outgoing-handler@0.2.6", Some("http")),
            ("wasi:filesystem/preopens@0.2.6", Some("fs")),
            ("wasi:sockets/tcp@0.2.6", Some("sockets")),
            ("wasi:cli/stdout@0.2.6", None),
            ("wasi:clocks/wall-clock@0.2.6", None),
        ] {
            assert_eq!(capability_of_import(import), capability, "{import}");
        }
    }
}
