//! A plugin's own examples for the kits: `conformance.toml` beside its `plugin.toml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::ConformanceError;
use crate::kinds::{Column, HookEvent, Table};

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
    /// A file a loader reads, and what it must read.
    FileLoader(LoaderExample),
    /// A file a viewer shows.
    FileViewer {
        /// The declared format it is viewed as.
        format: String,
        /// The file's content.
        content: Vec<u8>,
    },
    /// A table an exporter writes, and optionally the exact bytes.
    Exporter {
        /// The declared format it is written in.
        format: String,
        /// The table.
        table: Table,
        /// The exact output, when given.
        output: Option<Vec<u8>>,
    },
    /// A token an auth provider accepts, and who it stands for.
    AuthProvider {
        /// The token.
        token: String,
        /// The subject it stands for.
        subject: String,
        /// The tenant it stands for.
        tenant: String,
    },
    /// Content a preview plugin previews.
    Preview {
        /// Its media type, one the manifest declares.
        media_type: String,
        /// The content.
        content: Vec<u8>,
    },
    /// Content a transform takes (docs/design/0046).
    ContentTransform {
        /// Its media type, one the manifest declares.
        media_type: String,
        /// The content.
        content: Vec<u8>,
    },
}

/// A file a loader reads, and what it must read.
#[derive(Debug, Clone, PartialEq)]
pub struct LoaderExample {
    /// The declared format it is read as.
    pub format: String,
    /// The file's content.
    pub content: Vec<u8>,
    /// The columns it must have, when given.
    pub columns: Option<Vec<Column>>,
    /// The number of rows it must have, when given.
    pub rows: Option<u64>,
    /// Its first row as JSON values ([`crate::kinds::Cell::to_json`]), when given.
    pub first_row: Option<Vec<Value>>,
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
    format: Option<String>,
    content: Option<String>,
    file: Option<PathBuf>,
    columns: Option<Vec<Column>>,
    rows: Option<toml::Value>,
    first_row: Option<Vec<toml::Value>>,
    token: Option<String>,
    subject: Option<String>,
    tenant: Option<String>,
    media_type: Option<String>,
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
        Fixtures::parse_in(&text, Some(dir))
            .map_err(|reason| ConformanceError::Fixtures { file, reason })
    }

    /// Parses the text of a `conformance.toml` (an example's `file` needs [`Self::load`]).
    pub fn parse(text: &str) -> Result<Fixtures, String> {
        Fixtures::parse_in(text, None)
    }

    /// Parses the text of a `conformance.toml` in the plugin folder `dir`, which an
    /// example's `file` is relative to.
    fn parse_in(text: &str, dir: Option<&Path>) -> Result<Fixtures, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let examples = file
            .example
            .into_iter()
            .enumerate()
            .map(|(i, raw)| example(raw, dir).map_err(|e| format!("example[{i}]: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Fixtures { examples })
    }

    /// The file-loader examples.
    pub fn loaders(&self) -> Vec<&LoaderExample> {
        self.examples
            .iter()
            .filter_map(|e| match e {
                Example::FileLoader(example) => Some(example),
                _ => None,
            })
            .collect()
    }

    /// The file-viewer examples: `(format, content)`.
    pub fn viewers(&self) -> Vec<(&str, &[u8])> {
        self.examples
            .iter()
            .filter_map(|e| match e {
                Example::FileViewer { format, content } => {
                    Some((format.as_str(), content.as_slice()))
                }
                _ => None,
            })
            .collect()
    }

    /// The exporter examples: `(format, table, output)`.
    pub fn exporters(&self) -> Vec<(&str, &Table, Option<&[u8]>)> {
        self.examples
            .iter()
            .filter_map(|e| match e {
                Example::Exporter {
                    format,
                    table,
                    output,
                } => Some((format.as_str(), table, output.as_deref())),
                _ => None,
            })
            .collect()
    }

    /// The auth-provider examples: `(token, subject, tenant)`.
    pub fn tokens(&self) -> Vec<(&str, &str, &str)> {
        self.examples
            .iter()
            .filter_map(|e| match e {
                Example::AuthProvider {
                    token,
                    subject,
                    tenant,
                } => Some((token.as_str(), subject.as_str(), tenant.as_str())),
                _ => None,
            })
            .collect()
    }

    /// The preview examples: `(media type, content)`.
    pub fn previews(&self) -> Vec<(&str, &[u8])> {
        self.examples
            .iter()
            .filter_map(|e| match e {
                Example::Preview {
                    media_type,
                    content,
                } => Some((media_type.as_str(), content.as_slice())),
                _ => None,
            })
            .collect()
    }

    /// The content-transform examples: `(media type, content)`.
    pub fn transforms(&self) -> Vec<(&str, &[u8])> {
        self.examples
            .iter()
            .filter_map(|e| match e {
                Example::ContentTransform {
                    media_type,
                    content,
                } => Some((media_type.as_str(), content.as_slice())),
                _ => None,
            })
            .collect()
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

/// An example's file: `content` (text) or `file` (a path in the plugin folder).
fn content(raw: &RawExample, dir: Option<&Path>) -> Result<Vec<u8>, String> {
    match (&raw.content, &raw.file) {
        (Some(text), None) => Ok(text.clone().into_bytes()),
        (None, Some(file)) => {
            if file.is_absolute()
                || file
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(format!(
                    "`file = {:?}` must stay inside the plugin folder",
                    file.display()
                ));
            }
            let dir = dir.ok_or("`file` needs the plugin folder")?;
            let path = dir.join(file);
            plinth_manifest::plugin_file::read(&path, EXAMPLE_FILE_MAX_BYTES)
                .map_err(|e| e.to_string())
        }
        _ => Err("give exactly one of `content` and `file`".into()),
    }
}

/// Largest example file read.
const EXAMPLE_FILE_MAX_BYTES: u64 = 16 * 1024 * 1024;

fn example(raw: RawExample, dir: Option<&Path>) -> Result<Example, String> {
    match raw.kind.as_str() {
        "file-loader" => Ok(Example::FileLoader(LoaderExample {
            content: content(&raw, dir)?,
            format: raw.format.ok_or("a file-loader example needs `format`")?,
            columns: raw.columns,
            rows: match raw.rows {
                None => None,
                Some(toml::Value::Integer(n)) => {
                    Some(u64::try_from(n).map_err(|_| "`rows` is a count of rows, not negative")?)
                }
                Some(_) => return Err("a file-loader's `rows` is the count of rows".into()),
            },
            first_row: raw.first_row.map(|row| row.into_iter().map(json).collect()),
        })),
        "file-viewer" => Ok(Example::FileViewer {
            content: content(&raw, dir)?,
            format: raw.format.ok_or("a file-viewer example needs `format`")?,
        }),
        "exporter" => {
            let columns = raw.columns.ok_or("an exporter example needs `columns`")?;
            let rows = match raw.rows {
                Some(toml::Value::Array(rows)) => rows,
                None => Vec::new(),
                Some(_) => return Err("an exporter's `rows` is an array of rows".into()),
            };
            let table = super::tables::from_json(columns, rows.into_iter().map(json).collect())?;
            let output = match raw.output {
                None => None,
                Some(toml::Value::String(text)) => Some(text.into_bytes()),
                Some(_) => return Err("an exporter's `output` is the exact text".into()),
            };
            Ok(Example::Exporter {
                format: raw.format.ok_or("an exporter example needs `format`")?,
                table,
                output,
            })
        }
        "auth-provider" => Ok(Example::AuthProvider {
            token: raw.token.ok_or("an auth-provider example needs `token`")?,
            subject: raw
                .subject
                .ok_or("an auth-provider example needs `subject`")?,
            tenant: raw
                .tenant
                .ok_or("an auth-provider example needs `tenant`")?,
        }),
        "preview" => Ok(Example::Preview {
            content: content(&raw, dir)?,
            media_type: raw
                .media_type
                .ok_or("a preview example needs `media_type`")?,
        }),
        "content-transform" => Ok(Example::ContentTransform {
            content: content(&raw, dir)?,
            media_type: raw
                .media_type
                .ok_or("a content-transform example needs `media_type`")?,
        }),
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
