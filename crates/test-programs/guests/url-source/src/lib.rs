//! `url-source`: Thoth's URL data source (`plinth:data-source@0.1.0`).
//!
//! - The panel: a heading, the URL (setting `url`), a `fetch` button and a status line.
//! - A click on `fetch` submits a GET through `plinth:host/http` (`submit`): the answer
//!   arrives later as an `http-response` event. A host awaiting a person's consent first
//!   answers `{"final": false, "err": {"code": "consent_pending"}}` (status "Waiting for
//!   consent."); the response then comes once the person decided.
//! - A successful response is kept in `plinth:host/kv` (`body`); `open` serves it as a
//!   table (a CSV with a header line; every column `string`), a page at a time.
//!
//! Each call runs in a fresh instance, so the status line and the body live in KV.

use exports::plinth::data_source::data_source as ds;
use exports::plinth::plugin::lifecycle::{Event, Guest as LifecycleGuest};
use plinth::host::{config, http, kv};
use serde_json::{Value, json};

wit_bindgen::generate!({
    world: "source",
    path: "wit",
    generate_all,
});

struct Source;

fn url() -> Result<String, ds::PluginError> {
    match config::get("url") {
        Ok(Some(url)) => Ok(serde_json::from_str::<String>(&url).unwrap_or(url)),
        Ok(None) => Err(error("no-url", "the `url` setting is not set")),
        Err(config::ConfigError::MissingGrant(m)) => Err(error("missing-grant", &m)),
    }
}

fn error(code: &str, message: &str) -> ds::PluginError {
    ds::PluginError {
        code: code.into(),
        message: message.into(),
    }
}

fn kv_error(e: kv::KvError) -> ds::PluginError {
    error("storage", &format!("{e:?}"))
}

fn load(key: &str) -> Result<Option<String>, ds::PluginError> {
    let value = kv::get(key).map_err(kv_error)?;
    Ok(value.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

fn store(key: &str, value: &str) -> Result<(), ds::PluginError> {
    kv::set(key, value.as_bytes()).map_err(kv_error)
}

fn panel() -> Result<ds::UiOutput, ds::PluginError> {
    let status = load("status")?.unwrap_or_else(|| "Ready.".into());
    let url = url().unwrap_or_else(|e| e.message);
    let node = json!({
        "type": "column",
        "children": [
            {"type": "heading", "text": "URL source", "level": 2},
            {"type": "text", "text": url},
            {"type": "button", "id": "fetch", "label": "Fetch"},
            {"type": "text", "text": status},
        ]
    });
    Ok(ds::UiOutput {
        node_json: node.to_string(),
        height_hint: 120,
    })
}

/// The status line for an `http-response` event's value, keeping a successful body.
fn answer(value: &str) -> Result<String, ds::PluginError> {
    let Ok(response) = serde_json::from_str::<Value>(value) else {
        return Ok("Not a response.".into());
    };
    if response["ok"] == true {
        let body = response["body"].as_str().unwrap_or_default();
        store("body", body)?;
        let rows = body.lines().skip(1).filter(|l| !l.is_empty()).count();
        return Ok(format!("Fetched {rows} rows."));
    }
    let message = response["err"]["message"].as_str().unwrap_or_default();
    Ok(match response["err"]["code"].as_str() {
        Some("consent_pending") if response["final"] == false => "Waiting for consent.".into(),
        Some("consent_pending") => format!("No consent: {message}"),
        _ => format!("Failed: {message}"),
    })
}

/// The kept CSV: its header and its data lines.
fn table() -> Result<(Vec<String>, Vec<String>), ds::PluginError> {
    let body = load("body")?.ok_or_else(|| error("no-data", "nothing fetched yet"))?;
    let mut lines = body.lines().filter(|l| !l.is_empty()).map(str::to_owned);
    let header = lines.next().unwrap_or_default();
    let columns = header.split(',').map(|c| c.trim().to_owned()).collect();
    Ok((columns, lines.collect()))
}

impl ds::Guest for Source {
    fn render_ui() -> Result<ds::UiOutput, ds::PluginError> {
        panel()
    }

    fn handle_event(event: ds::UiEvent) -> Result<ds::UiOutput, ds::PluginError> {
        let status = match (event.kind, event.widget_id.as_str()) {
            (ds::EventKind::Click, "fetch") => {
                let request = http::Request {
                    method: http::Method::Get,
                    url: url()?,
                    headers: Vec::new(),
                    body: None,
                    timeout_ms: None,
                };
                match http::submit(&request) {
                    Ok(id) => Some(format!("Requested #{id}.")),
                    Err(e) => Some(format!("Refused: {e:?}")),
                }
            }
            (ds::EventKind::HttpResponse, _) => Some(answer(&event.value)?),
            _ => None,
        };
        if let Some(status) = status {
            store("status", &status)?;
        }
        panel()
    }

    fn render_sidebar() -> Result<Option<ds::UiOutput>, ds::PluginError> {
        Ok(Some(ds::UiOutput {
            node_json: json!({"type": "text", "text": "URL source"}).to_string(),
            height_hint: 24,
        }))
    }

    fn open(_query: String) -> Result<ds::TableInfo, ds::PluginError> {
        let (columns, rows) = table()?;
        Ok(ds::TableInfo {
            columns: columns
                .into_iter()
                .map(|name| ds::Column {
                    name,
                    type_: ds::ColumnType::String,
                })
                .collect(),
            row_count: Some(rows.len() as u64),
        })
    }

    fn read_rows(_query: String, cursor: u64, max_rows: u32) -> Result<ds::Page, ds::PluginError> {
        let (columns, rows) = table()?;
        let start = usize::try_from(cursor).unwrap_or(usize::MAX).min(rows.len());
        let end = rows.len().min(start + max_rows as usize);
        let page = rows[start..end]
            .iter()
            .map(|line| {
                let mut cells: Vec<ds::Cell> = line
                    .split(',')
                    .map(|v| ds::Cell::String(v.trim().to_owned()))
                    .collect();
                cells.resize(columns.len(), ds::Cell::Null);
                cells
            })
            .collect();
        Ok(ds::Page {
            rows: page,
            next: (end < rows.len()).then_some(end as u64),
        })
    }
}

impl LifecycleGuest for Source {
    fn on_load(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn on_setting_change(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn on_close() {}

    fn handle_event(_event: Event) -> Result<(), String> {
        Ok(())
    }
}

export!(Source);
