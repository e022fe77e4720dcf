//! The `data-source` kind: data with its own UI panel (Thoth's `ui-component`), and its
//! table read a page at a time.

use plinth_manifest::DataSourceDecl;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reader::{Pages, TableReader};
use super::table::{TableInfo, table_conversions};
use super::ui::{UiOutput, check_node};
use super::{Binding, Checker, KindError, block};
use crate::bindings::data_source_v0_1::exports::plinth::data_source::data_source as v1;
use crate::error::HostError;
use crate::plugin::Plugin;

table_conversions!(crate::bindings::data_source_v0_1::exports::plinth::data_source::data_source);

type Answer<T> = Result<T, v1::PluginError>;

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(), (Answer<v1::UiOutput>,)>(
        "render-ui",
        "func() -> result<ui-output, plugin-error>",
    )?;
    checker.func::<(v1::UiEvent,), (Answer<v1::UiOutput>,)>(
        "handle-event",
        "func(event: ui-event) -> result<ui-output, plugin-error>",
    )?;
    checker.func::<(), (Answer<Option<v1::UiOutput>>,)>(
        "render-sidebar",
        "func() -> result<option<ui-output>, plugin-error>",
    )?;
    checker.func::<(String,), (Answer<v1::TableInfo>,)>(
        "open",
        "func(query: string) -> result<table-info, plugin-error>",
    )?;
    checker.func::<(String, u64, u32), (Answer<v1::Page>,)>(
        "read-rows",
        "func(query: string, cursor: u64, max-rows: u32) -> result<page, plugin-error>",
    )
}

/// What happened in a data source's panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UiEventKind {
    /// A button was pressed.
    Click,
    /// An input's value changed.
    Change,
    /// An HTTP response arrived for a request the plugin submitted.
    HttpResponse,
    /// The application notifies the plugin.
    Notify,
}

/// An event for a data source's panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UiEvent {
    /// The `id` of the widget it concerns (empty when none).
    pub widget_id: String,
    /// What happened.
    pub kind: UiEventKind,
    /// The event's data: an input's value, a response, a notification.
    pub value: String,
}

impl From<&UiEvent> for v1::UiEvent {
    fn from(event: &UiEvent) -> Self {
        v1::UiEvent {
            widget_id: event.widget_id.clone(),
            kind: match event.kind {
                UiEventKind::Click => v1::EventKind::Click,
                UiEventKind::Change => v1::EventKind::Change,
                UiEventKind::HttpResponse => v1::EventKind::HttpResponse,
                UiEventKind::Notify => v1::EventKind::Notify,
            },
            value: event.value.clone(),
        }
    }
}

/// The guest's `plugin-error` as a [`KindError`]: its code is kept (`consent_pending`).
pub(super) fn guest_error(plugin: &Plugin, function: &str, error: v1::PluginError) -> KindError {
    KindError::PluginFailed {
        plugin: plugin.id().into(),
        what: format!("data source: {function}"),
        code: error.code,
        reason: error.message,
    }
}

/// The `data-source` kind of one plugin: [`Plugin::kind`]`::<`[`DataSource`](super::DataSource)`>()`.
///
/// Every call runs in a fresh instance: a panel's state lives where the plugin puts it
/// (its settings, `plinth:host/kv`) or in the event's `value`.
#[derive(Debug, Clone, Copy)]
pub struct DataSources<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> DataSources<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// The manifest's `[[provides.data-source]]` entry (name and title); nothing runs.
    pub fn decl(&self) -> Option<&'p DataSourceDecl> {
        self.plugin
            .manifest()
            .and_then(|m| m.provides.data_source.first())
    }

    fn node(&self, function: &str, output: Answer<v1::UiOutput>) -> Result<UiOutput, KindError> {
        let output = output.map_err(|e| guest_error(self.plugin, function, e))?;
        check_node(
            self.plugin.id(),
            &format!("data source: {function}"),
            &output.node_json,
            output.height_hint,
        )
    }

    /// Renders the panel; the node is checked against the UI-node schema.
    pub async fn render_ui_async(&self) -> Result<UiOutput, KindError> {
        let (output,): (Answer<v1::UiOutput>,) = self
            .plugin
            .call_async(&self.binding.func("render-ui"), ())
            .await?;
        self.node("render-ui", output)
    }

    /// Blocking [`Self::render_ui_async`].
    pub fn render_ui(&self) -> Result<UiOutput, KindError> {
        block(
            self.plugin,
            &self.binding.func("render-ui"),
            self.render_ui_async(),
        )
    }

    /// Handles `event` and returns the panel rendered again, checked like
    /// [`Self::render_ui`].
    pub async fn handle_event_async(&self, event: &UiEvent) -> Result<UiOutput, KindError> {
        let (output,): (Answer<v1::UiOutput>,) = self
            .plugin
            .call_async(
                &self.binding.func("handle-event"),
                (v1::UiEvent::from(event),),
            )
            .await?;
        self.node("handle-event", output)
    }

    /// Blocking [`Self::handle_event_async`].
    pub fn handle_event(&self, event: &UiEvent) -> Result<UiOutput, KindError> {
        block(
            self.plugin,
            &self.binding.func("handle-event"),
            self.handle_event_async(event),
        )
    }

    /// Hands the events waiting in the plugin's inbox to the panel, oldest first, and
    /// returns the panel as the last one left it (`None` when there was none). An
    /// `http-response` (a `submit`'s outcome, docs/design/0042) arrives as that kind with
    /// the response's JSON as its value; any other event as `notify` with
    /// `{"kind", "subject", "payload"}` as its value. On a failure the events not yet
    /// handed over go back to the inbox.
    pub async fn deliver_pending_async(&self) -> Result<Option<UiOutput>, KindError> {
        let inbox = self.plugin.inbox();
        let mut events = inbox.drain().into_iter();
        let mut panel = None;
        while let Some(event) = events.next() {
            let ui = if event.kind == "http-response" {
                UiEvent {
                    widget_id: String::new(),
                    kind: UiEventKind::HttpResponse,
                    value: event.payload,
                }
            } else {
                let value = serde_json::json!({
                    "kind": event.kind,
                    "subject": event.subject,
                    "payload": event.payload,
                });
                UiEvent {
                    widget_id: String::new(),
                    kind: UiEventKind::Notify,
                    value: value.to_string(),
                }
            };
            match self.handle_event_async(&ui).await {
                Ok(output) => panel = Some(output),
                Err(e) => {
                    events.for_each(|rest| inbox.push(rest));
                    return Err(e);
                }
            }
        }
        Ok(panel)
    }

    /// Blocking [`Self::deliver_pending_async`].
    pub fn deliver_pending(&self) -> Result<Option<UiOutput>, KindError> {
        block(
            self.plugin,
            &self.binding.func("handle-event"),
            self.deliver_pending_async(),
        )
    }

    /// Renders the sidebar entry, if the source has one, checked like
    /// [`Self::render_ui`].
    pub async fn render_sidebar_async(&self) -> Result<Option<UiOutput>, KindError> {
        let (output,): (Answer<Option<v1::UiOutput>>,) = self
            .plugin
            .call_async(&self.binding.func("render-sidebar"), ())
            .await?;
        match output {
            Ok(None) => Ok(None),
            Ok(Some(output)) => self.node("render-sidebar", Ok(output)).map(Some),
            Err(e) => Err(guest_error(self.plugin, "render-sidebar", e)),
        }
    }

    /// Blocking [`Self::render_sidebar_async`].
    pub fn render_sidebar(&self) -> Result<Option<UiOutput>, KindError> {
        block(
            self.plugin,
            &self.binding.func("render-sidebar"),
            self.render_sidebar_async(),
        )
    }

    /// Opens the data `query` selects (the source's own request, a JSON value): the
    /// columns now, the rows a page at a time from the reader.
    pub async fn open_async(&self, query: &Value) -> Result<TableReader<'p>, KindError> {
        self.open_text_async(query.to_string()).await
    }

    /// [`Self::open_async`] with the query as text, as is: for the conformance kit, which
    /// sees how a source copes with a query that is not JSON.
    pub(crate) async fn open_text_async(
        &self,
        query: String,
    ) -> Result<TableReader<'p>, KindError> {
        let (info,): (Answer<v1::TableInfo>,) = self
            .plugin
            .call_async(&self.binding.func("open"), (query.clone(),))
            .await?;
        let info = info.map_err(|e| guest_error(self.plugin, "open", e))?;
        let info = TableInfo {
            columns: columns(info.columns),
            row_count: info.row_count,
        };
        let pages = Pages::DataSource {
            export: self.binding.func("read-rows"),
            query,
        };
        Ok(TableReader::new(
            self.plugin,
            "data source: read-rows".into(),
            pages,
            info,
        ))
    }

    /// Blocking [`Self::open_text_async`].
    pub(crate) fn open_text(&self, query: &str) -> Result<TableReader<'p>, KindError> {
        block(
            self.plugin,
            &self.binding.func("open"),
            self.open_text_async(query.to_owned()),
        )
    }

    /// Blocking [`Self::open_async`].
    pub fn open(&self, query: &Value) -> Result<TableReader<'p>, KindError> {
        block(
            self.plugin,
            &self.binding.func("open"),
            self.open_async(query),
        )
    }
}
