//! `[capabilities]`: what a plugin asks for. The host grants or not (DESIGN §3.3); nothing
//! here gives access by itself.

use std::collections::BTreeMap;

use serde::Serialize;
use toml::Value;

use super::error::ManifestError;
use super::reader::{Ctx, Section, string_array};
use crate::grant::{Grant, GrantErrorKind};

/// The capabilities a manifest requests.
///
/// Lists hold the scopes exactly as requested. `fs.write` implies `fs.read` through
/// [`Grant::covers`] rather than by copying write directories into [`fs_read`](Self::fs_read),
/// so the manifest reads back as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Capabilities {
    /// `log = true`.
    pub log: bool,
    /// `config = true`: read the plugin's settings.
    pub config: bool,
    /// `http = { allow = [...] }`: host patterns for outgoing HTTP.
    pub http: Vec<String>,
    /// `fs = { read = [...] }`: directory names (host config `[dirs]`) to read.
    pub fs_read: Vec<String>,
    /// `fs = { write = [...] }`: directory names to read and write.
    pub fs_write: Vec<String>,
    /// `watch = [...]`: directory names to watch for changes.
    pub watch: Vec<String>,
    /// `kv = true`.
    pub kv: bool,
    /// `events = { publish = [...] }`: channels to publish on.
    pub events_publish: Vec<String>,
    /// `sockets = ["host:port", ...]`.
    pub sockets: Vec<String>,
    /// `websocket = ["endpoint", ...]`: host-owned WebSocket endpoints a service's output
    /// commands may send on.
    pub websocket: Vec<String>,
    /// Every other key: app-defined capabilities (e.g. `retrieval = true`), kept as written for
    /// the embedder. `true` requests it unscoped, `false` not at all, a string or array of
    /// strings requests those scopes, any other value requests it unscoped and is the app's
    /// to interpret.
    pub custom: BTreeMap<String, Value>,
}

impl Capabilities {
    /// One [`Grant`] per requested item, in manifest order, without duplicates.
    pub fn requested_grants(&self) -> Vec<Grant> {
        let mut grants = Vec::new();
        if self.log {
            grants.push(Grant::Log);
        }
        if self.config {
            grants.push(Grant::Config);
        }
        grants.extend(self.http.iter().cloned().map(Grant::Http));
        grants.extend(self.fs_read.iter().cloned().map(Grant::FsRead));
        grants.extend(self.fs_write.iter().cloned().map(Grant::FsWrite));
        grants.extend(self.watch.iter().cloned().map(Grant::Watch));
        if self.kv {
            grants.push(Grant::Kv);
        }
        grants.extend(
            self.events_publish
                .iter()
                .cloned()
                .map(Grant::EventsPublish),
        );
        grants.extend(self.sockets.iter().cloned().map(Grant::Sockets));
        grants.extend(self.websocket.iter().cloned().map(Grant::WebSocket));
        for (name, value) in &self.custom {
            grants.extend(custom_requests(name, value));
        }
        let mut unique = Vec::with_capacity(grants.len());
        for grant in grants {
            if !unique.contains(&grant) {
                unique.push(grant);
            }
        }
        unique
    }
}

fn custom_requests(name: &str, value: &Value) -> Vec<Grant> {
    let scoped = |scope: &str| Grant::Custom {
        name: name.to_owned(),
        scope: Some(scope.to_owned()),
    };
    match value {
        Value::Boolean(false) => Vec::new(),
        Value::String(scope) => vec![scoped(scope)],
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(scoped).collect(),
        _ => vec![Grant::Custom {
            name: name.to_owned(),
            scope: None,
        }],
    }
}

pub(super) fn parse(
    ctx: &mut Ctx<'_>,
    root: &mut Section<'_>,
) -> Result<Capabilities, ManifestError> {
    let Some(mut caps) = root.table(ctx, "capabilities")? else {
        return Ok(Capabilities::default());
    };
    let mut parsed = Capabilities {
        log: caps.bool(ctx, "log")?.unwrap_or(false),
        config: caps.bool(ctx, "config")?.unwrap_or(false),
        kv: caps.bool(ctx, "kv")?.unwrap_or(false),
        ..Capabilities::default()
    };

    parsed.http = match caps.get("http") {
        None => Vec::new(),
        // A bare list is accepted as shorthand for `{ allow = [...] }`, like `watch`.
        Some(list @ Value::Array(_)) => {
            let allow = string_array(ctx, "capabilities.http", list)?;
            check_scopes(ctx, "capabilities.http", "http", allow)?
        }
        Some(Value::Table(table)) => {
            let mut http = Section::new(caps.key("http"), table);
            let allow = http.strings(ctx, "allow")?;
            let allow = check_scopes(ctx, &http.key("allow"), "http", allow)?;
            http.finish(ctx);
            allow
        }
        Some(other) => {
            return Err(ctx.wrong_type(
                "capabilities.http",
                "a table like { allow = [\"api.example.com\"] }",
                other,
            ));
        }
    };

    if let Some(mut fs) = caps.table(ctx, "fs")? {
        let read = fs.strings(ctx, "read")?;
        let write = fs.strings(ctx, "write")?;
        parsed.fs_read = check_scopes(ctx, &fs.key("read"), "fs.read", read)?;
        parsed.fs_write = check_scopes(ctx, &fs.key("write"), "fs.write", write)?;
        fs.finish(ctx);
    }
    let watch = caps.strings(ctx, "watch")?;
    parsed.watch = check_scopes(ctx, "capabilities.watch", "watch", watch)?;
    if let Some(mut events) = caps.table(ctx, "events")? {
        let publish = events.strings(ctx, "publish")?;
        parsed.events_publish =
            check_scopes(ctx, &events.key("publish"), "events.publish", publish)?;
        events.finish(ctx);
    }
    let sockets = caps.strings(ctx, "sockets")?;
    parsed.sockets = check_scopes(ctx, "capabilities.sockets", "sockets", sockets)?;
    let websocket = caps.strings(ctx, "websocket")?;
    parsed.websocket = check_scopes(ctx, "capabilities.websocket", "websocket", websocket)?;

    for (name, value) in caps.take_rest() {
        check_custom(ctx, &caps.key(name), name, value)?;
        parsed.custom.insert(name.clone(), value.clone());
    }
    caps.finish(ctx);
    Ok(parsed)
}

/// Checks each scope with the grant parser, so a manifest can only request what a grant can
/// express, and reports the element's index on failure.
fn check_scopes(
    ctx: &Ctx<'_>,
    key: &str,
    capability: &str,
    scopes: Vec<String>,
) -> Result<Vec<String>, ManifestError> {
    for (i, scope) in scopes.iter().enumerate() {
        let grant = format!("{capability}:{scope}");
        if let Err(e) = grant.parse::<Grant>() {
            return Err(ctx.invalid(&format!("{key}[{i}]"), scope_reason(scope, &e.kind)));
        }
    }
    Ok(scopes)
}

/// A grant error rephrased for a manifest value: scope errors already quote the value.
fn scope_reason(scope: &str, kind: &GrantErrorKind) -> String {
    match kind {
        GrantErrorKind::BadScope { reason, .. } => reason.clone(),
        GrantErrorKind::EmptyScope { .. } => "an empty string is not a scope".to_owned(),
        other => format!("{scope:?}: {other}"),
    }
}

fn check_custom(ctx: &Ctx<'_>, key: &str, name: &str, value: &Value) -> Result<(), ManifestError> {
    match name.parse::<Grant>() {
        Ok(Grant::Custom { scope: None, .. }) => {}
        Ok(_) => {
            return Err(ctx.invalid(
                key,
                "':' is not allowed in a capability name; scopes go in the value",
            ));
        }
        Err(e) => {
            return Err(ctx.invalid(
                key,
                format!("not an app-defined capability name: {}", e.kind),
            ));
        }
    }
    let scopes = match value {
        Value::String(scope) => vec![scope.clone()],
        Value::Array(_) => string_array(ctx, key, value)?,
        _ => Vec::new(),
    };
    for (i, scope) in scopes.iter().enumerate() {
        let element_key = match value {
            Value::Array(_) => format!("{key}[{i}]"),
            _ => key.to_owned(),
        };
        if let Err(e) = format!("{name}:{scope}").parse::<Grant>() {
            return Err(ctx.invalid(&element_key, scope_reason(scope, &e.kind)));
        }
    }
    Ok(())
}
