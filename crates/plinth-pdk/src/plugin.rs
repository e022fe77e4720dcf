//! The traits a plugin implements, and the values they exchange with the host.

use std::fmt;

use serde::Serialize;
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

/// The `command` kind: arguments in, text out, like a program run from a shell.
///
/// Exported with [`export!`](crate::export)`(T: command)` (world
/// `plinth:command/plugin@0.1.0`), or in the 0.1.0 form with
/// [`export_command!`](crate::export_command) (world `plinth:plugin/plugin@0.1.0`).
pub trait Command: Plugin {
    /// Runs the plugin. An `Err` is reported to the caller as the command's failure. Answer
    /// arguments the command does not know with an `Err` that says how to call it: a panic
    /// is a trap, which the caller sees as a crash.
    fn run(args: Vec<String>) -> Result<String, String>;
}

/// The `tool` kind: named tools with JSON inputs and outputs.
///
/// Exported with [`export!`](crate::export)`(T: tool)` (world `plinth:tool/plugin@0.1.0`),
/// or in the 0.1.0 form with [`export_tool!`](crate::export_tool) (world
/// `plinth:plugin/tool@0.1.0`).
///
/// With `export!`, the PDK answers before `call` runs: a name that [`tools`](Tool::tools)
/// does not list is [`ToolError::UnknownTool`]; input that is not JSON, or does not match the
/// tool's input schema, is [`ToolError::InvalidInput`] (the PDK checks `type`, `properties`,
/// `required`, `additionalProperties`, `items`, `enum`, `const` and the length, size and range
/// keywords; the host checks the whole schema before it calls). [`typed`](crate::typed) turns
/// the input into a `serde` type, with `invalid-input` when it does not fit.
pub trait Tool: Plugin {
    /// The tools this component offers. They must be the manifest's `[[provides.tool]]`
    /// entries, with the same descriptions and schemas.
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
    /// JSON Schema of the output, when the tool publishes one. Only the `plinth:tool` world
    /// reports it; the 0.1.0 `tools` interface has no place for it.
    pub output_schema: Option<Value>,
}

impl ToolInfo {
    /// A tool description, without an output schema.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema,
            output_schema: None,
        }
    }

    /// The same description with the JSON Schema of the tool's output.
    pub fn with_output_schema(mut self, output_schema: Value) -> Self {
        self.output_schema = Some(output_schema);
        self
    }
}

/// Runs `handler` with `input` deserialized into `I`, and returns its output as JSON: the
/// typed form of [`Tool::call`]. Input that does not deserialize is
/// [`ToolError::InvalidInput`] naming the field, so a handler never sees it.
///
/// ```
/// use plinth_pdk::prelude::*;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Input { text: String }
///
/// #[derive(Serialize)]
/// struct Output { words: usize }
///
/// fn word_count(input: Input) -> Result<Output, ToolError> {
///     Ok(Output { words: input.text.split_whitespace().count() })
/// }
///
/// assert_eq!(typed(json!({"text": "a b"}), word_count), Ok(json!({"words": 2})));
/// assert!(matches!(typed(json!({"txt": 1}), word_count), Err(ToolError::InvalidInput(_))));
/// ```
pub fn typed<I, O>(
    input: Value,
    handler: impl FnOnce(I) -> Result<O, ToolError>,
) -> Result<Value, ToolError>
where
    I: DeserializeOwned,
    O: Serialize,
{
    let input =
        serde_json::from_value(input).map_err(|err| ToolError::InvalidInput(err.to_string()))?;
    let output = handler(input)?;
    serde_json::to_value(output)
        .map_err(|err| ToolError::Failed(format!("the output is not JSON: {err}")))
}

/// Why a tool call failed. Mirrors the WIT variant `tool-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// No tool with this name; the payload is the name.
    UnknownTool(String),
    /// The input is not JSON or does not match the tool's schema; the payload says how.
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
