//! The `data-source` kind: a panel of UI nodes that answers events, and tables a query
//! selects, read a page at a time (Thoth's URL and database sources).

use serde_json::Value;

use crate::Plugin;
use crate::table::{Page, TableInfo, UiOutput};

/// The `data-source` kind (world `plinth:data-source/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: data_source)`.
///
/// The application draws the panel [`render_ui`](DataSource::render_ui) returns, sends
/// each user action to [`handle_event`](DataSource::handle_event) (which answers the new
/// panel), and reads the table a query selects with [`open`](DataSource::open) and
/// [`read_rows`](DataSource::read_rows). Every call runs in a fresh instance: keep state
/// in `kv`, the settings or the event's value. Every node is checked against the UI-node
/// schema by the host. The PDK parses the query, answering text that is not JSON with
/// the error code `invalid-query` without calling the plugin.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Numbers;
///
/// impl Plugin for Numbers {}
///
/// impl DataSource for Numbers {
///     fn render_ui() -> Result<UiOutput, PluginError> {
///         Ok(UiOutput::text("Numbers"))
///     }
///
///     fn handle_event(event: UiEvent) -> Result<UiOutput, PluginError> {
///         Ok(UiOutput::text(&format!("{:?} on {}", event.kind, event.widget_id)))
///     }
///
///     fn open(_query: Value) -> Result<TableInfo, PluginError> {
///         Ok(TableInfo { columns: vec![Column::new("n", ColumnType::Int)], row_count: Some(0) })
///     }
///
///     fn read_rows(_query: Value, _cursor: u64, _max_rows: u32) -> Result<Page, PluginError> {
///         Ok(Page::default())
///     }
/// }
///
/// plinth_pdk::export!(Numbers: data_source);
/// # fn main() {}
/// ```
pub trait DataSource: Plugin {
    /// The panel.
    fn render_ui() -> Result<UiOutput, PluginError>;

    /// Answers one event with the new panel. Answer every widget, kind and value, however
    /// odd, with a panel or a [`PluginError`]: a panic is a trap.
    fn handle_event(event: UiEvent) -> Result<UiOutput, PluginError>;

    /// A small node for the application's sidebar; none by default.
    fn render_sidebar() -> Result<Option<UiOutput>, PluginError> {
        Ok(None)
    }

    /// The columns of the table `query` selects (parsed JSON).
    fn open(query: Value) -> Result<TableInfo, PluginError>;

    /// At most `max_rows` rows of the table `query` selects, from `cursor` (0, then the
    /// previous page's `next`).
    fn read_rows(query: Value, cursor: u64, max_rows: u32) -> Result<Page, PluginError>;
}

/// What the user did in the panel (or what the application tells it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiEvent {
    /// The widget's `id` (empty for events not about a widget).
    pub widget_id: String,
    /// What happened.
    pub kind: UiEventKind,
    /// The new value of an input, an HTTP response's JSON, a notification's text.
    pub value: String,
}

/// The kind of a [`UiEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiEventKind {
    /// A button or link was clicked.
    Click,
    /// An input, select or checkbox changed.
    Change,
    /// The answer to a request the plugin submitted.
    HttpResponse,
    /// A notification from the application.
    Notify,
}

/// A failure the application sees as it is: Thoth's `{code, message}` (e.g.
/// `consent_pending`, `error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    /// A short code, e.g. `invalid-query`.
    pub code: String,
    /// For a person.
    pub message: String,
}

impl PluginError {
    /// An error with `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The query as JSON, or `invalid-query`.
pub(crate) fn query(text: &str) -> Result<Value, PluginError> {
    serde_json::from_str(text)
        .map_err(|e| PluginError::new("invalid-query", format!("the query is not JSON: {e}")))
}

/// A node as the wire carries it.
pub(crate) fn node(output: UiOutput) -> (String, u32) {
    (output.node.to_string(), output.height_hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_that_are_not_json_are_invalid() {
        assert_eq!(query("{\"count\": 2}").unwrap()["count"], 2);
        assert_eq!(query("{not json").unwrap_err().code, "invalid-query");
    }
}
