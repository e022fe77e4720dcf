//! The `data-source` kit's steps (docs/design/0040): the panel's nodes and events, and the
//! table a query selects. They need no example from the plugin: every input is generic.
//!
//! "Answers" means a node that passed the UI-node schema (or a table whose pages fit their
//! columns), or the plugin's own `plugin-error`; a trap, a limit, or a node or page the
//! host refuses is not an answer.

use serde_json::Value;

use super::run::{Check, Verdict, fail, large_payload, unknown};
use super::suite::Case;
use crate::kinds::{DataSource, DataSources, KindError, UiEvent, UiEventKind};
use crate::plugin::Plugin;

/// Pages a step reads at most, of this many rows each.
const PAGES: usize = 3;
const PAGE_ROWS: u32 = 100;

/// `Ok` for an answer in the kit's sense.
fn answered<T>(label: &str, result: Result<T, KindError>) -> Check {
    match result {
        Ok(_) | Err(KindError::PluginFailed { .. }) => Ok(()),
        Err(e) => Err(fail(format!("{label}: {e}"))),
    }
}

pub(super) fn step(case: &Case, plugin: &Plugin) -> Check {
    let source = plugin
        .kind::<DataSource>()
        .map_err(|e| fail(e.to_string()))?;
    match (case.step.as_str(), case.expect.as_str()) {
        ("render-ui", "valid-node") => source
            .render_ui()
            .map(drop)
            .map_err(|e| fail(format!("render-ui: {e}"))),
        ("render-ui", "answers") => answered("render-ui", source.render_ui()),
        ("render-ui", "same-twice") => {
            let first = source.render_ui().map_err(|e| fail(e.to_string()))?;
            let second = source.render_ui().map_err(|e| fail(e.to_string()))?;
            if first == second {
                Ok(())
            } else {
                Err(fail(format!(
                    "render-ui drew {} and then {}",
                    first.node, second.node
                )))
            }
        }
        ("render-sidebar", "valid-node") => source
            .render_sidebar()
            .map(drop)
            .map_err(|e| fail(format!("render-sidebar: {e}"))),
        ("handle-event", "answers") => {
            let event = event(case)?;
            let label = format!("a `{:?}` event for {:?}", event.kind, event.widget_id);
            answered(&label, source.handle_event(&event))
        }
        ("panel-widgets", "answers") => panel_widgets(&source),
        ("open", "answers") => open(&source, case.input.as_deref().unwrap_or("{}")),
        (_, other) => Err(unknown(case, other)),
    }
}

/// The case's `event = { widget, kind, value }` (`value = "large:N"`: N bytes of text).
fn event(case: &Case) -> Result<UiEvent, Verdict> {
    let Some(Value::Object(event)) = &case.event else {
        return Err(fail("the case has no `event` table"));
    };
    let text = |key: &str| event.get(key).and_then(Value::as_str).unwrap_or("");
    let kind = serde_json::from_value::<UiEventKind>(Value::from(text("kind"))).map_err(|_| {
        fail(format!(
            "the case's event kind {:?} is unknown",
            text("kind")
        ))
    })?;
    let value = match text("value").strip_prefix("large:") {
        Some(n) => large_payload(n.parse().unwrap_or(65_536)),
        None => text("value").to_string(),
    };
    Ok(UiEvent {
        widget_id: text("widget").into(),
        kind,
        value,
    })
}

/// Sends every widget of the rendered panel the event it makes (a click, or a change
/// with an empty value) and checks each answer.
fn panel_widgets(source: &DataSources<'_>) -> Check {
    let panel = source
        .render_ui()
        .map_err(|e| fail(format!("render-ui: {e}")))?;
    let mut widgets = Vec::new();
    collect_widgets(&panel.node, &mut widgets);
    if widgets.is_empty() {
        return Err(Verdict::Skip("the panel has no widget with an id".into()));
    }
    for (id, kind) in widgets {
        let event = UiEvent {
            widget_id: id.clone(),
            kind,
            value: String::new(),
        };
        answered(
            &format!("a `{kind:?}` event for {id:?}"),
            source.handle_event(&event),
        )?;
    }
    Ok(())
}

/// Every `(id, event kind)` of the node's widgets, depth first.
fn collect_widgets(node: &Value, out: &mut Vec<(String, UiEventKind)>) {
    if let Some(id) = node.get("id").and_then(Value::as_str) {
        let kind = match node.get("type").and_then(Value::as_str) {
            Some("input" | "select") => UiEventKind::Change,
            _ => UiEventKind::Click,
        };
        out.push((id.to_string(), kind));
    }
    if let Some(children) = node.get("children").and_then(Value::as_array) {
        for child in children {
            collect_widgets(child, out);
        }
    }
}

/// Opens `query` and reads a few pages: each must fit its columns.
fn open(source: &DataSources<'_>, query: &str) -> Check {
    let label = format!("open({query:?})");
    let mut reader = match source.open_text(query) {
        Ok(reader) => reader,
        Err(KindError::PluginFailed { .. }) => return Ok(()),
        Err(e) => return Err(fail(format!("{label}: {e}"))),
    };
    for _ in 0..PAGES {
        match reader.next_page(PAGE_ROWS) {
            Ok(Some(_)) => {}
            Ok(None) | Err(KindError::PluginFailed { .. }) => return Ok(()),
            Err(e) => return Err(fail(format!("{label}: {e}"))),
        }
    }
    Ok(())
}
