//! `pg-source`: Thoth's PostgreSQL data source (`plinth:data-source@0.1.0`), over
//! `wasi:sockets` TCP with `pg-wire`.
//!
//! - Settings: `host`, `port`, `user`, `password` (optional), `database` (optional).
//! - The panel: a heading, an input `sql` and a `run` button; a change to `sql` is kept in
//!   `plinth:host/kv`, a click runs it and shows the row count.
//! - `open(query)`: `query` is `{"sql": "…"}` (or the kept SQL for `{}`); every column is
//!   `string` (PostgreSQL's text format), NULL is `null`. The query runs once per call:
//!   `read-rows` runs it again and pages the answer (a real source would use a cursor).

use exports::plinth::data_source::data_source as ds;
use exports::plinth::plugin::lifecycle::{Event, Guest as LifecycleGuest};
use plinth::host::{config, kv};
use serde_json::{Value, json};

wit_bindgen::generate!({
    world: "source",
    path: "wit",
    generate_all,
});

struct Source;

fn error(code: &str, message: &str) -> ds::PluginError {
    ds::PluginError {
        code: code.into(),
        message: message.into(),
    }
}

fn settings() -> Result<Value, ds::PluginError> {
    let text = config::get_all().map_err(|e| error("missing-grant", &format!("{e:?}")))?;
    serde_json::from_str(&text).map_err(|e| error("settings", &e.to_string()))
}

fn kept_sql() -> Option<String> {
    let bytes = kv::get("sql").ok()??;
    String::from_utf8(bytes).ok()
}

fn run(sql: &str) -> Result<pg_wire::Answer, ds::PluginError> {
    let s = settings()?;
    let text = |key: &str| s.get(key).and_then(Value::as_str).unwrap_or_default();
    let host = s.get("host").and_then(Value::as_str).unwrap_or("127.0.0.1");
    let port = s.get("port").and_then(Value::as_u64).unwrap_or(5432);
    let address = format!("{host}:{port}");
    let user = text("user");
    let database = match text("database") {
        "" => user,
        name => name,
    };
    let target = pg_wire::Target {
        address: &address,
        user,
        password: text("password"),
        database,
    };
    pg_wire::query(&target, sql).map_err(|e| error("query-failed", &e.to_string()))
}

fn query_sql(query: &str) -> Result<String, ds::PluginError> {
    let query: Value =
        serde_json::from_str(query).map_err(|e| error("invalid-query", &e.to_string()))?;
    match query.get("sql") {
        Some(Value::String(sql)) => Ok(sql.clone()),
        Some(_) => Err(error("invalid-query", "`sql` must be text")),
        None if query.is_object() => {
            kept_sql().ok_or_else(|| error("invalid-query", "no `sql`, and none kept"))
        }
        None => Err(error("invalid-query", "the query is `{\"sql\": \"…\"}`")),
    }
}

fn panel(status: &str) -> ds::UiOutput {
    let node = json!({
        "type": "column",
        "children": [
            {"type": "heading", "text": "PostgreSQL", "level": 2},
            {"type": "input", "id": "sql", "value": kept_sql().unwrap_or_default(),
             "placeholder": "SELECT …"},
            {"type": "button", "id": "run", "label": "Run"},
            {"type": "text", "text": status},
        ]
    });
    ds::UiOutput {
        node_json: node.to_string(),
        height_hint: 140,
    }
}

impl ds::Guest for Source {
    fn render_ui() -> Result<ds::UiOutput, ds::PluginError> {
        Ok(panel("Ready."))
    }

    fn handle_event(event: ds::UiEvent) -> Result<ds::UiOutput, ds::PluginError> {
        let status = match (event.kind, event.widget_id.as_str()) {
            (ds::EventKind::Change, "sql") => {
                kv::set("sql", event.value.as_bytes())
                    .map_err(|e| error("storage", &format!("{e:?}")))?;
                "Query kept.".to_string()
            }
            (ds::EventKind::Click, "run") => match kept_sql() {
                Some(sql) => match run(&sql) {
                    Ok(answer) => format!("{} rows.", answer.rows.len()),
                    Err(e) => format!("Failed: {}", e.message),
                },
                None => "Type a query first.".to_string(),
            },
            _ => "Ready.".to_string(),
        };
        Ok(panel(&status))
    }

    fn render_sidebar() -> Result<Option<ds::UiOutput>, ds::PluginError> {
        Ok(None)
    }

    fn open(query: String) -> Result<ds::TableInfo, ds::PluginError> {
        let answer = run(&query_sql(&query)?)?;
        Ok(ds::TableInfo {
            columns: answer
                .columns
                .into_iter()
                .map(|name| ds::Column {
                    name,
                    type_: ds::ColumnType::String,
                })
                .collect(),
            row_count: Some(answer.rows.len() as u64),
        })
    }

    fn read_rows(query: String, cursor: u64, max_rows: u32) -> Result<ds::Page, ds::PluginError> {
        let answer = run(&query_sql(&query)?)?;
        let total = answer.rows.len();
        let start = usize::try_from(cursor).unwrap_or(usize::MAX).min(total);
        let end = total.min(start + max_rows as usize);
        let rows = answer.rows[start..end]
            .iter()
            .map(|row| {
                row.iter()
                    .map(|value| match value {
                        Some(text) => ds::Cell::String(text.clone()),
                        None => ds::Cell::Null,
                    })
                    .collect()
            })
            .collect();
        Ok(ds::Page {
            rows,
            next: (end < total).then_some(end as u64),
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
