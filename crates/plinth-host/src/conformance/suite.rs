//! The case format of `conformance/KIND.toml`.

use plinth_manifest::Kind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ConformanceError;

/// One kind's cases.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// The kind, e.g. `tool`.
    pub kind: String,
    /// The WIT interface the cases are written against, e.g. `plinth:tool/tool@0.1.0`.
    pub wit: String,
    /// The cases, in the order they run.
    #[serde(rename = "case")]
    pub cases: Vec<Case>,
}

/// One case: a step, how to choose its inputs, and what must hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// A stable id, e.g. `unknown-tool-answered`.
    pub id: String,
    /// What the case checks, for people.
    pub description: String,
    /// What runs: `list-tools`, `manifest`, `call`, `call-guest`, `handle`, `run`, or a
    /// step of Thoth's kinds (docs/design/0040, docs/design/0041).
    pub step: String,
    /// `tool`: `example`, `each` (every declared tool) or `unknown`.
    #[serde(default)]
    pub tool: Option<String>,
    /// `call`/`call-guest`: the input text given to every tool.
    #[serde(default)]
    pub input: Option<String>,
    /// `handle`: `"example"`, or an event table `{point, subject, payload}` (`point =
    /// "declared"` is the plugin's first declared point; `payload = "large:N"` is a JSON
    /// object of N bytes).
    #[serde(default)]
    pub event: Option<Value>,
    /// `run`: `"example"`, `"repeat:N"`, or a list of arguments.
    #[serde(default)]
    pub args: Option<Value>,
    /// Thoth's file kinds: the file given, `example` (each example of the plugin's
    /// `conformance.toml`), `empty`, `binary:N` (N bytes of every value), `truncated`
    /// (each example cut in the middle of a line) or `text:N` (N bytes of text lines).
    #[serde(default)]
    pub source: Option<String>,
    /// `exporter`: the table given to every declared format: `example`, `every-type`,
    /// `empty` (no columns), `no-rows`, `nulls`, `awkward-text` or `rows:N`.
    #[serde(default)]
    pub table: Option<String>,
    /// Thoth's file kinds: `unknown` asks the guest about a format nobody declared.
    #[serde(default)]
    pub format: Option<String>,
    /// `file-loader`: the rows asked for per page.
    #[serde(default)]
    pub page_rows: Option<u32>,
    /// `theme-provider`: the context given to every declared theme (a JSON value;
    /// `"large:N"` is a JSON object of N bytes).
    #[serde(default)]
    pub context: Option<Value>,
    /// `policy-hook`: the request (a table `{operation, subject, tenant, path,
    /// attributes}`; `attributes = "many:N"` is N attributes, `path = "large:N"` a path
    /// of N bytes).
    #[serde(default)]
    pub request: Option<Value>,
    /// `policy-hook`: the deadline the step gives each decision.
    #[serde(default)]
    pub deadline_ms: Option<u64>,
    /// `auth-provider`: the token: a literal, `example` (each example's token),
    /// `example-tampered` (its last character changed), `example-uppercase`,
    /// `example-padded` (with spaces around) or `large:N` (N bytes).
    #[serde(default)]
    pub token: Option<String>,
    /// `search-analyzer`: the text given to every declared analyzer: a literal or
    /// `large:N` (N bytes of words).
    #[serde(default)]
    pub text: Option<String>,
    /// `run`: a fuel budget the step must stay within.
    #[serde(default)]
    pub fuel: Option<u64>,
    /// A memory limit in bytes the step runs under (`content-transform`: streaming keeps
    /// a plugin's memory bounded, docs/design/0046).
    #[serde(default)]
    pub memory: Option<u64>,
    /// `content-transform`, `storage-provider`: the most bytes the host accepts from the
    /// plugin's output stream.
    #[serde(default)]
    pub output_limit: Option<u64>,
    /// `storage-provider`: a key given as it is, to the guest without the host's check.
    #[serde(default)]
    pub key: Option<String>,
    /// `requested` (default) or `without-each`: the step runs once per requested
    /// capability, with that capability denied.
    #[serde(default)]
    pub grants: Option<String>,
    /// The expectation, from the kind's vocabulary (docs/design/0039).
    pub expect: String,
}

const TOOL: &str = include_str!("../../../../conformance/tool.toml");
const HOOK: &str = include_str!("../../../../conformance/hook.toml");
const COMMAND: &str = include_str!("../../../../conformance/command.toml");
const DATA_SOURCE: &str = include_str!("../../../../conformance/data-source.toml");
const FILE_LOADER: &str = include_str!("../../../../conformance/file-loader.toml");
const FILE_VIEWER: &str = include_str!("../../../../conformance/file-viewer.toml");
const EXPORTER: &str = include_str!("../../../../conformance/exporter.toml");
const THEME_PROVIDER: &str = include_str!("../../../../conformance/theme-provider.toml");
const THEME: &str = include_str!("../../../../conformance/theme.toml");
const EVENT_HANDLER: &str = include_str!("../../../../conformance/event-handler.toml");
const AUTH_PROVIDER: &str = include_str!("../../../../conformance/auth-provider.toml");
const POLICY_HOOK: &str = include_str!("../../../../conformance/policy-hook.toml");
const SEARCH_ANALYZER: &str = include_str!("../../../../conformance/search-analyzer.toml");
const PREVIEW: &str = include_str!("../../../../conformance/preview.toml");
const CONTENT_TRANSFORM: &str = include_str!("../../../../conformance/content-transform.toml");
const STORAGE_PROVIDER: &str = include_str!("../../../../conformance/storage-provider.toml");

/// The kinds with a shipped kit, in [`Kind::ALL`] order.
pub const KITS: &[Kind] = &[
    Kind::Command,
    Kind::Tool,
    Kind::Hook,
    Kind::FileLoader,
    Kind::FileViewer,
    Kind::Exporter,
    Kind::DataSource,
    Kind::ThemeProvider,
    Kind::Theme,
    Kind::EventHandler,
    Kind::AuthProvider,
    Kind::PolicyHook,
    Kind::SearchAnalyzer,
    Kind::Preview,
    Kind::ContentTransform,
    Kind::StorageProvider,
];

impl Suite {
    /// The suite shipped for `kind`, if it has one.
    pub fn builtin(kind: Kind) -> Option<Suite> {
        let text = match kind {
            Kind::Tool => TOOL,
            Kind::Hook => HOOK,
            Kind::Command => COMMAND,
            Kind::DataSource => DATA_SOURCE,
            Kind::FileLoader => FILE_LOADER,
            Kind::FileViewer => FILE_VIEWER,
            Kind::Exporter => EXPORTER,
            Kind::ThemeProvider => THEME_PROVIDER,
            Kind::Theme => THEME,
            // Services are exercised by their runtime's suite (`plinth-service`).
            Kind::Service => return None,
            Kind::EventHandler => EVENT_HANDLER,
            Kind::AuthProvider => AUTH_PROVIDER,
            Kind::PolicyHook => POLICY_HOOK,
            Kind::SearchAnalyzer => SEARCH_ANALYZER,
            Kind::Preview => PREVIEW,
            Kind::ContentTransform => CONTENT_TRANSFORM,
            Kind::StorageProvider => STORAGE_PROVIDER,
        };
        // The shipped files are checked by the tests below; a broken one is a build bug.
        Some(Suite::parse(kind.as_str(), text).unwrap_or_else(|e| panic!("{e}")))
    }

    /// Parses a suite file.
    pub fn parse(name: &str, text: &str) -> Result<Suite, ConformanceError> {
        let suite: Suite = toml::from_str(text).map_err(|e| ConformanceError::Suite {
            name: name.into(),
            reason: e.to_string(),
        })?;
        let mut seen = std::collections::BTreeSet::new();
        for case in &suite.cases {
            if !seen.insert(case.id.as_str()) {
                return Err(ConformanceError::Suite {
                    name: name.into(),
                    reason: format!("case id `{}` appears twice", case.id),
                });
            }
        }
        Ok(suite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_suites_parse_with_at_least_ten_cases_and_a_denied_twin() {
        for &kind in KITS {
            let suite = Suite::builtin(kind).expect("a kit");
            assert_eq!(suite.kind, kind.as_str());
            // A theme has no WIT: its kit names the schema it builds on.
            let contract = kind.interface().unwrap_or("theme.schema.json");
            assert!(suite.wit.starts_with(contract), "{}", suite.wit);
            assert!(suite.cases.len() >= 10, "{kind}: {}", suite.cases.len());
            assert!(
                suite
                    .cases
                    .iter()
                    .any(|c| c.grants.as_deref() == Some("without-each")),
                "{kind} has no denied-grant twin"
            );
        }
    }

    #[test]
    fn unknown_fields_and_duplicate_ids_are_refused() {
        let err = Suite::parse("x", "kind = \"tool\"\nwit = \"w\"\n[[case]]\nid = \"a\"\ndescription = \"d\"\nstep = \"s\"\nexpect = \"e\"\nbogus = 1\n").unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
        let case = "[[case]]\nid = \"a\"\ndescription = \"d\"\nstep = \"s\"\nexpect = \"e\"\n";
        let err =
            Suite::parse("x", &format!("kind = \"tool\"\nwit = \"w\"\n{case}{case}")).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
    }
}
