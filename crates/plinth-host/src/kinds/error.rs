//! What can go wrong calling a plugin through a kind's typed API.

use plinth_manifest::Kind;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};

use crate::error::{CallError, SchemaViolation};

/// A call through a kind handle failed. Each variant maps to one diagnostic code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KindError {
    /// The plugin does not provide the kind (`kind-mismatch`).
    #[error(
        "{plugin}: does not provide the `{kind}` kind (it provides {})",
        list(provided)
    )]
    NotProvided {
        /// Plugin id.
        plugin: String,
        /// The kind asked for.
        kind: Kind,
        /// The kinds it does provide.
        provided: Vec<Kind>,
    },
    /// No tool of that name is declared (`unknown-tool`).
    #[error("{plugin}: has no tool `{tool}` (its tools: {})", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    UnknownTool {
        /// Plugin id.
        plugin: String,
        /// The name asked for.
        tool: String,
        /// The tools it declares.
        known: Vec<String>,
    },
    /// The input breaks the tool's JSON Schema; the guest did not run (`invalid-input`).
    #[error("{plugin}: input of tool `{tool}` breaks its schema: {summary}")]
    InvalidInput {
        /// Plugin id.
        plugin: String,
        /// The tool.
        tool: String,
        /// Every violation, with its JSON path and rule.
        violations: Vec<SchemaViolation>,
        /// The first violations, as the message says them.
        summary: String,
    },
    /// The tool ran and refused the input as invalid (`invalid-input`).
    #[error("{plugin}: tool `{tool}` refused its input: {reason}")]
    Refused {
        /// Plugin id.
        plugin: String,
        /// The tool.
        tool: String,
        /// The tool's explanation.
        reason: String,
    },
    /// The tool ran and failed (`tool-failed`).
    #[error("{plugin}: tool `{tool}` failed: {reason}")]
    Failed {
        /// Plugin id.
        plugin: String,
        /// The tool.
        tool: String,
        /// The tool's explanation.
        reason: String,
    },
    /// The component's answers do not match its manifest, e.g. it reports other tools or
    /// says a declared tool is unknown (`kind-mismatch`).
    #[error("{plugin}: {reason}")]
    Mismatch {
        /// Plugin id.
        plugin: String,
        /// The kind.
        kind: Kind,
        /// What differs.
        reason: String,
    },
    /// The plugin answered with output its kind does not allow (`invalid-output`).
    #[error("{plugin}: {what}: {reason}")]
    InvalidOutput {
        /// Plugin id.
        plugin: String,
        /// Whose output, e.g. "tool `word_count`".
        what: String,
        /// Why it is refused.
        reason: String,
    },
    /// A UI node breaks the published UI-node schema (`invalid-output`).
    #[error("{plugin}: {what}: the UI node breaks the UI-node schema: {summary}")]
    InvalidNode {
        /// Plugin id.
        plugin: String,
        /// Whose node, e.g. "data source `url`: render-ui".
        what: String,
        /// Every violation, with its JSON path and rule.
        violations: Vec<SchemaViolation>,
        /// The first violations, as the message says them.
        summary: String,
    },
    /// A theme is not JSON or breaks the theme schema (`invalid-theme`).
    #[error("{plugin}: theme `{theme}` {reason}")]
    InvalidTheme {
        /// Plugin id.
        plugin: String,
        /// The theme's name.
        theme: String,
        /// Why, for people.
        reason: String,
        /// Every schema violation, with its JSON path and rule (none when it is not JSON
        /// or cannot be read).
        violations: Vec<SchemaViolation>,
    },
    /// A format the plugin does not declare, or one the guest says it does not know
    /// (`unknown-format`).
    #[error("{plugin}: the `{kind}` kind has no format `{format}` (its formats: {})", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    UnknownFormat {
        /// Plugin id.
        plugin: String,
        /// The kind asked.
        kind: Kind,
        /// The format asked for.
        format: String,
        /// The formats it declares.
        known: Vec<String>,
    },
    /// A plugin of a Thoth kind ran and reported a failure (`plugin-failed`).
    #[error("{plugin}: {what} failed ({code}): {reason}")]
    PluginFailed {
        /// Plugin id.
        plugin: String,
        /// What failed, e.g. "loader `csv`".
        what: String,
        /// The plugin's code for it: the WIT error case (`invalid-data`, `io`) or a data
        /// source's own code (`consent_pending`).
        code: String,
        /// The plugin's explanation.
        reason: String,
    },
    /// The application's table does not fit its own columns; the plugin did not run
    /// (`invalid-input`).
    #[error("{plugin}: the table given to {what} is malformed: {reason}")]
    InvalidTable {
        /// Plugin id.
        plugin: String,
        /// Who was to get it, e.g. "exporter `csv`".
        what: String,
        /// The first offence, with its JSON path.
        reason: String,
    },
    /// The input is not one the plugin declares it accepts (an event action, a media
    /// type); the plugin did not run (`unknown-format`).
    #[error("{plugin}: the `{kind}` kind does not take {input} (it takes {})", if accepted.is_empty() { "none".to_string() } else { accepted.join(", ") })]
    NotAccepted {
        /// Plugin id.
        plugin: String,
        /// The kind asked.
        kind: Kind,
        /// What was offered, e.g. "the media type `image/png`".
        input: String,
        /// What the manifest declares.
        accepted: Vec<String>,
    },
    /// The application's input is over the kind's cap; the plugin did not run
    /// (`too-large`).
    #[error("{plugin}: {what} is {size} bytes, over the cap of {limit}")]
    InputTooLarge {
        /// Plugin id.
        plugin: String,
        /// What was too large, e.g. "the token".
        what: String,
        /// Its size.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// The plugin wrote more than the embedder's cap on a call's output; what it wrote
    /// past the cap was refused (`too-large`).
    #[error("{plugin}: {what} wrote more than the cap of {limit} bytes")]
    OutputTooLarge {
        /// Plugin id.
        plugin: String,
        /// Whose output, e.g. "transform of `image/png`".
        what: String,
        /// The cap.
        limit: u64,
    },
    /// A storage key breaks the key rules; the plugin did not run (`invalid-input`).
    #[error("{plugin}: the key {key:?} is not a storage key: {reason}")]
    InvalidKey {
        /// Plugin id.
        plugin: String,
        /// The key (its first 64 characters).
        key: String,
        /// The rule it breaks.
        reason: String,
    },
    /// A tool's schema, known to have compiled at an earlier load, no longer compiles at
    /// its first use (`invalid-manifest`; docs/design/0076). The guest did not run.
    #[error("{plugin}: tool `{tool}`: its schema does not compile: {reason}")]
    ToolSchema {
        /// Plugin id.
        plugin: String,
        /// The tool.
        tool: String,
        /// Why.
        reason: String,
    },
    /// The call itself failed: a trap, a limit, a missing grant.
    #[error(transparent)]
    Call(#[from] CallError),
}

fn list(kinds: &[Kind]) -> String {
    if kinds.is_empty() {
        return "no kind".into();
    }
    kinds
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl KindError {
    /// The diagnostic code.
    pub fn code(&self) -> Code {
        match self {
            KindError::NotProvided { .. } | KindError::Mismatch { .. } => Code::KindMismatch,
            KindError::UnknownTool { .. } => Code::UnknownTool,
            KindError::InvalidInput { .. } | KindError::Refused { .. } => Code::InvalidInput,
            KindError::Failed { .. } => Code::ToolFailed,
            KindError::InvalidOutput { .. } | KindError::InvalidNode { .. } => Code::InvalidOutput,
            KindError::InvalidTheme { .. } => Code::InvalidTheme,
            KindError::UnknownFormat { .. } => Code::UnknownFormat,
            KindError::PluginFailed { .. } => Code::PluginFailed,
            KindError::InvalidTable { .. } => Code::InvalidInput,
            KindError::NotAccepted { .. } => Code::UnknownFormat,
            KindError::InputTooLarge { .. } | KindError::OutputTooLarge { .. } => Code::TooLarge,
            KindError::InvalidKey { .. } => Code::InvalidInput,
            KindError::ToolSchema { .. } => Code::InvalidManifest,
            KindError::Call(error) => error.code(),
        }
    }

    fn plugin(&self) -> &str {
        match self {
            KindError::NotProvided { plugin, .. }
            | KindError::UnknownTool { plugin, .. }
            | KindError::InvalidInput { plugin, .. }
            | KindError::Refused { plugin, .. }
            | KindError::Failed { plugin, .. }
            | KindError::Mismatch { plugin, .. }
            | KindError::InvalidOutput { plugin, .. }
            | KindError::InvalidNode { plugin, .. }
            | KindError::InvalidTheme { plugin, .. }
            | KindError::UnknownFormat { plugin, .. }
            | KindError::PluginFailed { plugin, .. }
            | KindError::InvalidTable { plugin, .. }
            | KindError::NotAccepted { plugin, .. }
            | KindError::InputTooLarge { plugin, .. }
            | KindError::OutputTooLarge { plugin, .. }
            | KindError::InvalidKey { plugin, .. }
            | KindError::ToolSchema { plugin, .. } => plugin,
            KindError::Call(error) => &error.plugin,
        }
    }
}

impl ToDiagnostic for KindError {
    fn to_diagnostic(&self) -> Diagnostic {
        if let KindError::Call(error) = self {
            return error.to_diagnostic();
        }
        let hint = match self {
            KindError::NotProvided { .. } => {
                "`plinth show` lists the kinds a plugin provides".to_string()
            }
            KindError::UnknownTool { .. } => "`plinth show` lists the plugin's tools".into(),
            KindError::InvalidInput { violations, .. } => format!(
                "fix the input at `{}`; the tool's input schema is in `plinth show`",
                violations.first().map_or("/", |v| v.path.as_str())
            ),
            KindError::Refused { .. } => "see the tool's reason".into(),
            KindError::Failed { .. } => {
                "see the tool's message; the plugin's log may say more".into()
            }
            KindError::Mismatch { .. } => {
                "rebuild the plugin, or make its `[[provides.KIND]]` entries match what it does"
                    .into()
            }
            KindError::InvalidOutput { .. } => "the plugin must be fixed".into(),
            KindError::InvalidNode { violations, .. } => format!(
                "the plugin must be fixed: its node breaks docs/schemas/ui-node.schema.json at `{}`",
                violations.first().map_or("/", |v| v.path.as_str())
            ),
            KindError::InvalidTheme { violations, .. } => format!(
                "fix the theme at `{}`; themes follow docs/schemas/theme.schema.json",
                violations.first().map_or("/", |v| v.path.as_str())
            ),
            KindError::UnknownFormat { .. } => "`plinth show` lists the plugin's formats".into(),
            KindError::PluginFailed { .. } => {
                "see the plugin's message; the plugin's log may say more".into()
            }
            KindError::InvalidTable { .. } => {
                "give every row one cell per column, each of its column's type or null".into()
            }
            KindError::NotAccepted { kind, .. } => format!(
                "`plinth show` lists what the plugin's `[[provides.{kind}]]` entries accept"
            ),
            KindError::InputTooLarge { .. } => {
                "give a smaller input, or stream it through a kind that takes streams".into()
            }
            KindError::OutputTooLarge { .. } => {
                "raise the output cap, or give the plugin a smaller input".into()
            }
            KindError::InvalidKey { .. } => {
                "keys are 1 to 1024 bytes of UTF-8 without control characters or backslashes, with no leading `/` and no empty, `.` or `..` segment".into()
            }
            KindError::ToolSchema { .. } => {
                "`plinth check` the plugin; make the tool's schema files valid JSON Schemas, or clear the compile cache".into()
            }
            KindError::Call(_) => String::new(),
        };
        Diagnostic::new(self.code(), self.to_string())
            .with_plugin(self.plugin().to_string())
            .with_hint(hint)
    }
}
