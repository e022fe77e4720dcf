//! What the code that `export!`, `export_command!` and `export_tool!` expand to refers to.
//! Not API: the names here change without notice.

pub use wit_bindgen;

use crate::{Event, Hook, Plugin, Settings, Tool, ToolError};

/// The PDK's `plinth:host` bindings, which the plugin's world bindings reuse (`with`).
pub mod host {
    pub use crate::bindings::plinth::host::{config, events, fs, http, kv, log, watch};
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
