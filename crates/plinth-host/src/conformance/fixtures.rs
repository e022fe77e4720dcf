//! A plugin's own examples for the kits: `conformance.toml` beside its `plugin.toml`.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::ConformanceError;
use crate::kinds::HookEvent;

/// The file's name in a plugin folder.
pub const FIXTURES_FILE: &str = "conformance.toml";

/// A plugin's examples.
#[derive(Debug, Clone, Default)]
pub struct Fixtures {
    /// Every `[[example]]`, in file order.
    pub examples: Vec<Example>,
}

/// One example.
#[derive(Debug, Clone, PartialEq)]
pub enum Example {
    /// A tool input and its exact output.
    Tool {
        /// The tool.
        tool: String,
        /// The input.
        input: Value,
        /// The output.
        output: Value,
    },
    /// A hook event and the decision it gets.
    Hook {
        /// The event.
        event: HookEvent,
        /// The decision.
        decision: ExpectedDecision,
    },
    /// Command arguments and the answer.
    Command {
        /// The arguments.
        args: Vec<String>,
        /// `Ok(output)`, or `Err(())` when the command must answer `err`.
        output: Result<String, ()>,
    },
}

/// The decision a hook example expects.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectedDecision {
    /// `allow`.
    Allow,
    /// `deny`, with any reason.
    Deny,
    /// `modify` with exactly this payload.
    Modify(Value),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    example: Vec<RawExample>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    kind: String,
    tool: Option<String>,
    input: Option<toml::Value>,
    output: Option<toml::Value>,
    event: Option<RawEvent>,
    decision: Option<String>,
    payload: Option<toml::Value>,
    args: Option<Vec<String>>,
    #[serde(default)]
    error: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    point: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    payload: Option<toml::Value>,
}

fn json(value: toml::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Fixtures {
    /// Reads `dir/conformance.toml`; no file means no examples.
    pub fn load(dir: &Path) -> Result<Fixtures, ConformanceError> {
        let file = dir.join(FIXTURES_FILE);
        let text = match plinth_manifest::plugin_file::read_to_string(
            &file,
            plinth_manifest::plugin_file::MANIFEST_MAX_BYTES,
        ) {
            Ok(text) => text,
            Err(plinth_manifest::plugin_file::PluginFileError::Missing { .. }) => {
                return Ok(Fixtures::default());
            }
            Err(e) => {
                return Err(ConformanceError::Fixtures {
                    file,
                    reason: e.to_string(),
                });
            }
        };
        Fixtures::parse(&text).map_err(|reason| ConformanceError::Fixtures { file, reason })
    }

    /// Parses the text of a `conformance.toml`.
    pub fn parse(text: &str) -> Result<Fixtures, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let examples = file
            .example
            .into_iter()
            .enumerate()
            .map(|(i, raw)| example(raw).map_err(|e| format!("example[{i}]: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Fixtures { examples })
    }

    /// The tool examples: `(tool, input, output)`.
    pub fn tools(&self) -> Vec<(&str, &Value, &Value)> {
        self.examples
            .iter()
            .filter_map(|e| match e {
                Example::Tool {
                    tool,
                    input,
                    output,
                } => Some((tool.as_str(), input, output)),
                _ => None,
            })
            .collect()
    }

    /// The hook examples.
    pub fn hooks(&self) -> Vec<(&HookEvent, &ExpectedDecision)> {
        self.examples
            .iter()
            .filter_map(|e| match e {
                Example::Hook { event, decision } => Some((event, decision)),
                _ => None,
            })
            .collect()
    }

    /// The command examples.
    pub fn commands(&self) -> Vec<(&[String], &Result<String, ()>)> {
        self.examples
            .iter()
            .filter_map(|e| match e {
                Example::Command { args, output } => Some((args.as_slice(), output)),
                _ => None,
            })
            .collect()
    }
}

fn example(raw: RawExample) -> Result<Example, String> {
    match raw.kind.as_str() {
        "tool" => Ok(Example::Tool {
            tool: raw.tool.ok_or("a tool example needs `tool`")?,
            input: json(raw.input.ok_or("a tool example needs `input`")?),
            output: json(raw.output.ok_or("a tool example needs `output`")?),
        }),
        "hook" => {
            let event = raw.event.ok_or("a hook example needs `event`")?;
            let decision = match raw.decision.as_deref() {
                Some("allow") => ExpectedDecision::Allow,
                Some("deny") => ExpectedDecision::Deny,
                Some("modify") => ExpectedDecision::Modify(json(
                    raw.payload.ok_or("a modify example needs `payload`")?,
                )),
                other => {
                    return Err(format!(
                        "`decision` must be allow, deny or modify, not {other:?}"
                    ));
                }
            };
            Ok(Example::Hook {
                event: HookEvent::new(
                    event.point,
                    event.subject,
                    event
                        .payload
                        .map_or_else(|| Value::Object(Default::default()), json),
                ),
                decision,
            })
        }
        "command" => {
            let output = match (raw.output, raw.error) {
                (_, true) => Err(()),
                (Some(toml::Value::String(text)), false) => Ok(text),
                (Some(_), false) => return Err("a command's `output` is a string".into()),
                (None, false) => {
                    return Err("a command example needs `output` or `error = true`".into());
                }
            };
            Ok(Example::Command {
                args: raw.args.unwrap_or_default(),
                output,
            })
        }
        other => Err(format!("unknown kind {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_of_each_kind_parse() {
        let fixtures = Fixtures::parse(
            r#"
[[example]]
kind = "tool"
tool = "word_count"
input = { text = "a b" }
output = { words = 2 }

[[example]]
kind = "hook"
event = { point = "before-tool-call", subject = "rm", payload = { path = "/etc" } }
decision = "deny"

[[example]]
kind = "hook"
event = { point = "before-tool-call", payload = { text = " a " } }
decision = "modify"
payload = { text = "a" }

[[example]]
kind = "command"
args = ["Ada"]
output = "Hello, Ada!"

[[example]]
kind = "command"
args = ["--bad"]
error = true
"#,
        )
        .unwrap();
        assert_eq!(fixtures.tools().len(), 1);
        assert_eq!(fixtures.hooks().len(), 2);
        assert_eq!(
            fixtures.hooks()[1].1,
            &ExpectedDecision::Modify(serde_json::json!({"text": "a"}))
        );
        assert_eq!(fixtures.commands()[1].1, &Err(()));
        let err = Fixtures::parse(
            "[[example]]\nkind = \"hook\"\nevent = { point = \"p\" }\ndecision = \"maybe\"\n",
        )
        .unwrap_err();
        assert!(err.contains("example[0]") && err.contains("maybe"), "{err}");
    }
}
