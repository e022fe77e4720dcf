//! What the code that `export!`, `export_command!` and `export_tool!` expand to refers to.
//! Not API: the names here change without notice.

pub use wit_bindgen;

use crate::{
    DataSource, Event, ExportError, Exporter, FileLoader, FileViewer, Hook, LoadError, Page,
    Plugin, PluginError, Settings, Source, Table, TableInfo, ThemeProvider, Tool, ToolError,
    UiEvent, ViewError,
};

/// The PDK's `plinth:host` bindings, which the plugin's world bindings reuse (`with`).
pub mod host {
    pub use crate::bindings::plinth::host::{config, events, fs, http, kv, log, watch};
}

/// The PDK's `wasi:io` bindings, which the streaming kinds' bindings reuse (`with`).
pub mod io {
    pub use crate::bindings::io::wasi::io::{error, poll, streams};
}

/// `lifecycle.on-load`: parses the settings, then calls the plugin.
pub fn on_load<P: Plugin>(settings: &str) -> Result<(), String> {
    P::on_load(Settings::from_json(settings)?)
}

/// `lifecycle.on-setting-change`: parses the settings, then calls the plugin.
pub fn on_setting_change<P: Plugin>(settings: &str) -> Result<(), String> {
    P::on_setting_change(Settings::from_json(settings)?)
}

/// `lifecycle.handle-event`: hands the event to the plugin.
pub fn handle_event<P: Plugin>(
    kind: String,
    subject: String,
    payload: String,
) -> Result<(), String> {
    P::handle_event(Event {
        kind,
        subject,
        payload,
    })
}

/// `plinth:plugin/tools.list-tools` (0.1.0), with each schema as JSON text.
pub fn list_tools<T: Tool>() -> Vec<(String, String, String)> {
    T::tools()
        .into_iter()
        .map(|tool| (tool.name, tool.description, tool.input_schema.to_string()))
        .collect()
}

/// `tool.call`: parses the input, calls the tool, prints its output.
pub fn call_tool<T: Tool>(name: &str, input: &str) -> Result<String, ToolError> {
    let input = serde_json::from_str(input)
        .map_err(|err| ToolError::InvalidInput(format!("input is not valid JSON: {err}")))?;
    T::call(name, input).map(|output| output.to_string())
}

/// A tool as `plinth:tool/tool.list-tools` reports it: name, description, input schema and
/// output schema, the schemas as JSON text.
pub type ToolRow = (String, String, String, Option<String>);

/// `plinth:tool/tool.list-tools`.
pub fn tool_rows<T: Tool>() -> Vec<ToolRow> {
    T::tools()
        .into_iter()
        .map(|tool| {
            (
                tool.name,
                tool.description,
                tool.input_schema.to_string(),
                tool.output_schema.map(|schema| schema.to_string()),
            )
        })
        .collect()
}

/// `plinth:tool/tool.call`: the name must be a listed tool and the input JSON that fits its
/// schema before the tool runs.
pub fn call_listed_tool<T: Tool>(name: &str, input: &str) -> Result<String, ToolError> {
    let Some(tool) = T::tools().into_iter().find(|tool| tool.name == name) else {
        return Err(ToolError::UnknownTool(name.to_string()));
    };
    let input = serde_json::from_str(input)
        .map_err(|err| ToolError::InvalidInput(format!("input is not valid JSON: {err}")))?;
    crate::schema::check(&tool.input_schema, &input).map_err(ToolError::InvalidInput)?;
    T::call(name, input).map(|output| output.to_string())
}

/// A hook's answer on its way to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookAnswer {
    /// `allow`.
    Allow,
    /// `deny(reason)`, the reason never empty.
    Deny(String),
    /// `modify(payload)`, a JSON object as text.
    Modify(String),
}

/// `plinth:hook/hook.handle`.
pub fn handle_hook<H: Hook>(point: String, subject: String, payload: String) -> HookAnswer {
    crate::hook::handle::<H>(point, subject, payload)
}

/// `plinth:file-loader/file-loader.open`.
pub fn loader_open<L: FileLoader>(format: &str, source: Source) -> Result<TableInfo, LoadError> {
    crate::files::open::<L>(format, source)
}

/// `plinth:file-loader/file-loader.read-rows`.
pub fn loader_read_rows<L: FileLoader>(
    format: &str,
    source: Source,
    cursor: u64,
    max_rows: u32,
) -> Result<Page, LoadError> {
    crate::files::read_rows::<L>(format, source, cursor, max_rows)
}

/// `plinth:file-viewer/file-viewer.view`: the node as JSON text and the height hint.
pub fn viewer_view<V: FileViewer>(
    format: &str,
    source: Source,
) -> Result<(String, u32), ViewError> {
    crate::files::view::<V>(format, source)
}

/// `plinth:exporter/exporter.export`.
pub fn exporter_export<E: Exporter>(format: &str, table: Table) -> Result<Vec<u8>, ExportError> {
    crate::files::export::<E>(format, table)
}

/// `plinth:theme-provider/theme-provider.provide`: the theme as JSON text.
pub fn theme_provide<T: ThemeProvider>(name: &str, context: &str) -> Result<String, String> {
    crate::theme::provide::<T>(name, context)
}

/// `plinth:data-source/data-source.render-ui`.
pub fn source_render_ui<D: DataSource>() -> Result<(String, u32), PluginError> {
    D::render_ui().map(crate::source::node)
}

/// `plinth:data-source/data-source.handle-event`.
pub fn source_handle_event<D: DataSource>(event: UiEvent) -> Result<(String, u32), PluginError> {
    <D as DataSource>::handle_event(event).map(crate::source::node)
}

/// `plinth:data-source/data-source.render-sidebar`.
pub fn source_render_sidebar<D: DataSource>() -> Result<Option<(String, u32)>, PluginError> {
    D::render_sidebar().map(|node| node.map(crate::source::node))
}

/// `plinth:data-source/data-source.open`: the query parsed first.
pub fn source_open<D: DataSource>(query: &str) -> Result<TableInfo, PluginError> {
    D::open(crate::source::query(query)?)
}

/// `plinth:data-source/data-source.read-rows`: the query parsed first.
pub fn source_read_rows<D: DataSource>(
    query: &str,
    cursor: u64,
    max_rows: u32,
) -> Result<Page, PluginError> {
    D::read_rows(crate::source::query(query)?, cursor, max_rows)
}

/// `plinth:search-analyzer/search-analyzer.analyze`: `Err(None)` for an analyzer not in
/// `ANALYZERS` (the guest's `unknown-analyzer`), without calling `analyze`.
pub fn analyzer_analyze<A: crate::SearchAnalyzer>(
    analyzer: &str,
    text: &str,
) -> Result<Vec<crate::Token>, Option<String>> {
    if !A::ANALYZERS.contains(&analyzer) {
        return Err(None);
    }
    A::analyze(analyzer, text).map_err(Some)
}

/// `plinth:preview/preview.render`: `Err(None)` for a media type not in `MEDIA_TYPES`
/// (the guest's `unsupported`), without calling `render`.
pub fn preview_render<P: crate::Preview>(
    media_type: &str,
    data: &[u8],
) -> Result<crate::PreviewOutput, Option<crate::PreviewError>> {
    if !P::MEDIA_TYPES.contains(&media_type) {
        return Err(None);
    }
    P::render(media_type, data).map_err(Some)
}

/// `plinth:content-transform/content-transform.transform`: `Err(None)` for a media type
/// it does not accept (the guest's `unsupported-media-type`), without calling
/// `transform`. The output is flushed before this returns.
pub fn transform_stream<T: crate::ContentTransform>(
    request: &crate::TransformRequest,
    input: &crate::streams::InputStream,
    output: &crate::streams::OutputStream,
) -> Result<crate::TransformOutput, Option<crate::TransformError>> {
    if !T::accepts(&request.media_type) {
        return Err(None);
    }
    let mut reader = crate::streams::StreamReader::new(input);
    let mut writer = crate::streams::StreamWriter::new(output);
    let meta = T::transform(request, &mut reader, &mut writer).map_err(Some)?;
    std::io::Write::flush(&mut writer).map_err(|e| {
        Some(crate::TransformError::Failed(format!(
            "flushing the output: {e}"
        )))
    })?;
    Ok(meta)
}

/// `plinth:content-transform/content-transform.transform-bytes`: the same transform over
/// bytes in memory.
pub fn transform_bytes<T: crate::ContentTransform>(
    request: &crate::TransformRequest,
    input: &[u8],
) -> Result<(crate::TransformOutput, Vec<u8>), Option<crate::TransformError>> {
    if !T::accepts(&request.media_type) {
        return Err(None);
    }
    let mut reader = input;
    let mut output = Vec::new();
    let meta = T::transform(request, &mut reader, &mut output).map_err(Some)?;
    Ok((meta, output))
}

/// `plinth:storage-provider/storage-provider.put`.
pub fn storage_put<S: crate::StorageProvider>(
    key: &str,
    size: Option<u64>,
    input: &crate::streams::InputStream,
) -> Result<crate::ObjectMeta, crate::StorageError> {
    S::put(key, size, &mut crate::streams::StreamReader::new(input))
}

/// `plinth:storage-provider/storage-provider.get`: the output is flushed before this
/// returns.
pub fn storage_get<S: crate::StorageProvider>(
    key: &str,
    output: &crate::streams::OutputStream,
) -> Result<crate::ObjectMeta, crate::StorageError> {
    let mut writer = crate::streams::StreamWriter::new(output);
    let meta = S::get(key, &mut writer)?;
    std::io::Write::flush(&mut writer)
        .map_err(|e| crate::StorageError::Backend(format!("flushing the output: {e}")))?;
    Ok(meta)
}
