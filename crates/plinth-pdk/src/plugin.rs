//! The traits a plugin implements, and the values they exchange with the host.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Lifecycle of a plugin instance. Every method has a default, so `impl Plugin for X {}` is
/// a complete implementation.
///
/// The methods take no `self`: a component has one instance of its state, so keep what
/// `on_load` computes in a `static` (a `Mutex` or `OnceLock`).
pub trait Plugin {
    /// Called once after instantiation with the operator's settings. An `Err` fails the load
    /// and its text is shown to the operator.
    fn on_load(settings: Settings) -> Result<(), String> {
        let _ = settings;
        Ok(())
    }

    /// Called when the operator changed the settings; receives all of them, not a diff.
    fn on_setting_change(settings: Settings) -> Result<(), String> {
        let _ = settings;
        Ok(())
    }

    /// Called before the instance is dropped.
    fn on_close() {}

    /// Called with an event the plugin asked for: a background HTTP response
    /// (`http-response`), a change in a watched directory (`fs-change`), or an event of the
    /// embedding application. The default ignores it.
    fn handle_event(event: Event) -> Result<(), String> {
        let _ = event;
        Ok(())
    }
}

/// An event delivered to a long-lived plugin instance (see [`Plugin::handle_event`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What kind of event: `http-response`, `fs-change`, or an application's own kind.
    pub kind: String,
    /// What it is about, e.g. the request or subscription id.
    pub subject: String,
    /// The event's data, usually JSON.
    pub payload: String,
}

/// A command-style plugin (world `plinth:plugin/plugin@0.1.0`): arguments in, text out.
/// Exported with [`export_command!`](crate::export_command).
pub trait Command: Plugin {
    /// Runs the plugin. An `Err` is reported to the caller as the command's failure.
    fn run(args: Vec<String>) -> Result<String, String>;
}

/// A tool provider (world `plinth:plugin/tool@0.1.0`): named tools with JSON inputs and
/// outputs. Exported with [`export_tool!`](crate::export_tool).
pub trait Tool: Plugin {
    /// The tools this component offers.
    fn tools() -> Vec<ToolInfo>;

    /// Calls tool `name`. Input that is not JSON never reaches this method: the PDK answers
    /// it with [`ToolError::InvalidInput`].
    fn call(name: &str, input: Value) -> Result<Value, ToolError>;
}

/// The plugin's settings: the JSON object the operator wrote in `plugins.toml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings(Map<String, Value>);

impl Settings {
    /// Parses the host's settings text. `null` or an empty text is no settings.
    pub(crate) fn from_json(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(Value::Null) => Ok(Self::default()),
            Ok(other) => Err(format!("settings must be a JSON object, got {other}")),
            Err(err) => Err(format!("settings are not valid JSON: {err}")),
        }
    }

    /// The value of setting `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The value of setting `key` if it is set and is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    /// All settings deserialized into `T` (a struct with `#[derive(Deserialize)]`, say).
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(Value::Object(self.0.clone()))
    }

    /// Whether no setting is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The settings as a JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The settings as a JSON object, by value.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

impl From<Map<String, Value>> for Settings {
    fn from(map: Map<String, Value>) -> Self {
        Self(map)
    }
}

/// A tool's description, as shown to people and models.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolInfo {
    /// Name used to call the tool.
    pub name: String,
    /// What the tool does.
    pub description: String,
    /// JSON Schema of the input object.
    pub input_schema: Value,
}

impl ToolInfo {
    /// A tool description.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema,
        }
    }
}

/// Why a tool call failed. Mirrors the WIT variant `tool-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// No tool with this name; the payload is the name.
    UnknownTool(String),
    /// The input did not match the tool's schema; the payload says how.
    InvalidInput(String),
    /// The tool ran and failed.
    Failed(String),
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownTool(name) => write!(f, "unknown tool `{name}`"),
            Self::InvalidInput(why) => write!(f, "invalid input: {why}"),
            Self::Failed(why) => write!(f, "tool failed: {why}"),
        }
    }
}

impl std::error::Error for ToolError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_accept_objects_null_and_empty_text() {
        let settings = Settings::from_json(r#"{"greeting": "Hi", "n": 2}"#).expect("object");
        assert_eq!(settings.get_str("greeting"), Some("Hi"));
        assert_eq!(settings.get("n"), Some(&Value::from(2)));
        assert!(Settings::from_json("null").expect("null").is_empty());
        assert!(Settings::from_json("").expect("empty").is_empty());
    }

    #[test]
    fn settings_reject_non_objects() {
        assert!(Settings::from_json("[1]").is_err());
        assert!(Settings::from_json("{").is_err());
    }
}
