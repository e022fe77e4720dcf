//! UI nodes and themes checked against their published JSON Schemas
//! (`docs/schemas/ui-node.schema.json`, `docs/schemas/theme.schema.json`) before an
//! application sees them, so a broken plugin cannot crash the application's renderer.
//!
//! The schemas are compiled into the host and compiled once, on first use.

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use super::KindError;
use crate::error::SchemaViolation;
use crate::settings::{summarize, violations};

/// The UI-node schema, as published.
pub const UI_NODE_SCHEMA: &str = include_str!("../../../../docs/schemas/ui-node.schema.json");

/// The theme schema, as published.
pub const THEME_SCHEMA: &str = include_str!("../../../../docs/schemas/theme.schema.json");

/// A UI node a plugin rendered, checked against the UI-node schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UiOutput {
    /// The node.
    pub node: Value,
    /// The height it would like, in logical pixels (0: no preference).
    pub height_hint: u32,
}

fn compiled(
    cell: &'static OnceLock<jsonschema::Validator>,
    text: &str,
) -> &'static jsonschema::Validator {
    cell.get_or_init(|| {
        // Both schemas are compiled in and a unit test compiles them: failing here is a
        // build defect, not input.
        let schema: Value = serde_json::from_str(text).expect("a published schema is JSON");
        jsonschema::validator_for(&schema).expect("a published schema compiles")
    })
}

fn ui_validator() -> &'static jsonschema::Validator {
    static CELL: OnceLock<jsonschema::Validator> = OnceLock::new();
    compiled(&CELL, UI_NODE_SCHEMA)
}

fn theme_validator() -> &'static jsonschema::Validator {
    static CELL: OnceLock<jsonschema::Validator> = OnceLock::new();
    compiled(&CELL, THEME_SCHEMA)
}

/// Why a JSON text breaks a schema: not JSON at all, or the violations.
pub(crate) enum Broken {
    NotJson(String),
    Violations(Vec<SchemaViolation>),
}

fn check(validator: &jsonschema::Validator, text: &str) -> Result<Value, Broken> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| Broken::NotJson(format!("not JSON ({e})")))?;
    let found = violations(validator, &value);
    if found.is_empty() {
        Ok(value)
    } else {
        Err(Broken::Violations(found))
    }
}

/// Checks a UI node a plugin returned: `invalid-output` naming the JSON path and rule.
pub(crate) fn check_node(
    plugin: &str,
    what: &str,
    node_json: &str,
    height_hint: u32,
) -> Result<UiOutput, KindError> {
    match check(ui_validator(), node_json) {
        Ok(node) => Ok(UiOutput { node, height_hint }),
        Err(Broken::NotJson(reason)) => Err(KindError::InvalidOutput {
            plugin: plugin.into(),
            what: what.into(),
            reason: format!("the UI node is {reason}"),
        }),
        Err(Broken::Violations(violations)) => Err(KindError::InvalidNode {
            plugin: plugin.into(),
            what: what.into(),
            summary: summarize(&violations),
            violations,
        }),
    }
}

/// Checks a theme's JSON text: `invalid-theme` naming the JSON path and rule.
pub(crate) fn check_theme(plugin: &str, theme: &str, text: &str) -> Result<Value, KindError> {
    check(theme_validator(), text).map_err(|broken| {
        let (reason, violations) = match broken {
            Broken::NotJson(reason) => (reason, Vec::new()),
            Broken::Violations(v) => (format!("breaks the theme schema: {}", summarize(&v)), v),
        };
        KindError::InvalidTheme {
            plugin: plugin.into(),
            theme: theme.into(),
            reason,
            violations,
        }
    })
}

/// Checks a UI node as an application would before rendering one it got elsewhere:
/// every violation of the UI-node schema, with its JSON path and rule.
pub fn ui_node_violations(node: &Value) -> Vec<SchemaViolation> {
    violations(ui_validator(), node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_schemas_compile_and_judge_nodes() {
        let good = r#"{"type":"column","children":[{"type":"text","text":"hi"},{"type":"button","id":"go","label":"Go"}]}"#;
        assert!(check_node("p", "panel", good, 40).is_ok());
        let bad = r#"{"type":"column","children":[{"type":"text","text":"hi"},{"type":"blink"}]}"#;
        let Err(KindError::InvalidNode { violations, .. }) = check_node("p", "panel", bad, 0)
        else {
            panic!("a node of an unknown type passes");
        };
        assert_eq!(violations[0].path, "/children/1/type", "{violations:?}");
        let Err(KindError::InvalidOutput { reason, .. }) = check_node("p", "panel", "{", 0) else {
            panic!("text that is not JSON passes");
        };
        assert!(reason.contains("not JSON"), "{reason}");
        let button = r#"{"type":"button","label":"Go"}"#;
        let Err(KindError::InvalidNode { violations, .. }) = check_node("p", "x", button, 0) else {
            panic!("a button without an id passes");
        };
        assert_eq!(violations[0].rule, "required", "{violations:?}");

        let theme = r##"{"name":"t","appearance":"dark","colors":{"background":"#000","foreground":"#ffffff","accent":"#3366ffcc","panel.background":"#111"}}"##;
        assert!(check_theme("p", "t", theme).is_ok());
        let broken = r##"{"name":"t","appearance":"dark","colors":{"background":"black","foreground":"#fff","accent":"#fff"}}"##;
        let Err(KindError::InvalidTheme { violations, .. }) = check_theme("p", "t", broken) else {
            panic!("a colour name passes");
        };
        assert_eq!(violations[0].path, "/colors/background", "{violations:?}");
    }
}
