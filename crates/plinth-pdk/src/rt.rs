//! What the code that `export_command!` and `export_tool!` expand to refers to. Not API: the
//! names here change without notice.

pub use wit_bindgen;

use crate::{Event, Plugin, Settings, Tool, ToolError, ToolInfo};

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
pub fn handle_event<P: Plugin>(kind: String, subject: String, payload: String) -> Result<(), String> {
    P::handle_event(Event {
        kind,
        subject,
        payload,
    })
}

/// `tool.list-tools`, with each schema as JSON text.
pub fn list_tools<T: Tool>() -> Vec<(String, String, String)> {
    T::tools()
        .into_iter()
        .map(
            |ToolInfo {
                 name,
                 description,
                 input_schema,
             }| { (name, description, input_schema.to_string()) },
        )
        .collect()
}

/// `tool.call`: parses the input, calls the tool, prints its output.
pub fn call_tool<T: Tool>(name: &str, input: &str) -> Result<String, ToolError> {
    let input = serde_json::from_str(input)
        .map_err(|err| ToolError::InvalidInput(format!("input is not valid JSON: {err}")))?;
    T::call(name, input).map(|output| output.to_string())
}
