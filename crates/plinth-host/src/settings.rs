//! A plugin's settings: checked against the manifest's JSON Schema (`[settings] schema`) at
//! load and on every change, and shared by every instance of the plugin, so a change is
//! seen by the next `config.get` of a long-lived instance and of new per-call instances.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use plinth_manifest::Manifest;
use serde_json::Value;

use crate::error::{HostError, SchemaViolation};

/// Violations named in one `rejected-schema` message; the rest are counted.
const VIOLATIONS_SHOWN: usize = 3;

/// The settings in force, serialized once per change rather than per `config.get-all`.
#[derive(Debug)]
pub(crate) struct Current {
    pub(crate) value: Value,
    pub(crate) json: String,
}

impl Current {
    fn new(value: Value) -> Arc<Self> {
        let json = value.to_string();
        Arc::new(Self { value, json })
    }
}

/// The compiled schema (when the manifest names one) and the settings in force.
pub(crate) struct SettingsCell {
    schema: Option<jsonschema::Validator>,
    current: RwLock<Arc<Current>>,
}

impl std::fmt::Debug for SettingsCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsCell")
            .field("schema", &self.schema.is_some())
            .finish_non_exhaustive()
    }
}

impl SettingsCell {
    /// Reads and compiles the manifest's schema (once: every later check reuses it) and
    /// checks `initial` against it. `null` means no settings were given: the plugin gets
    /// an empty object unchecked, so a plugin with required settings can still be
    /// inspected and called by path (docs/design/0025).
    pub(crate) fn load(
        manifest: Option<&Manifest>,
        plugin: &str,
        initial: Value,
    ) -> Result<Self, HostError> {
        let schema = match manifest.and_then(schema_file) {
            Some(file) => Some(compile(plugin, &file)?),
            None => None,
        };
        let cell = Self {
            schema,
            current: RwLock::new(Current::new(Value::Object(Default::default()))),
        };
        if !initial.is_null() {
            cell.replace(plugin, initial)?;
        }
        Ok(cell)
    }

    /// The settings in force.
    pub(crate) fn current(&self) -> Arc<Current> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Checks `settings` against the schema without changing anything.
    pub(crate) fn validate(&self, plugin: &str, settings: &Value) -> Result<(), HostError> {
        let Some(schema) = &self.schema else {
            return Ok(());
        };
        let violations = violations(schema, settings);
        if violations.is_empty() {
            return Ok(());
        }
        Err(HostError::RejectedSettings {
            plugin: plugin.into(),
            summary: summarize(&violations),
            violations,
        })
    }

    /// Checks and then swaps in `settings`; on a violation the old settings stay.
    pub(crate) fn replace(&self, plugin: &str, settings: Value) -> Result<(), HostError> {
        let settings = match settings {
            Value::Null => Value::Object(Default::default()),
            other => other,
        };
        self.validate(plugin, &settings)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Current::new(settings);
        Ok(())
    }
}

fn schema_file(manifest: &Manifest) -> Option<PathBuf> {
    let relative = manifest.settings.as_ref()?.schema.as_ref()?;
    Some(manifest.dir.join(relative))
}

/// Reads `file` and compiles it as the settings' JSON Schema.
fn compile(plugin: &str, file: &Path) -> Result<jsonschema::Validator, HostError> {
    load_schema(file)
        .map(|(_, validator)| validator)
        .map_err(|e| match e {
            SchemaFileError::Unusable(reason) => HostError::InvalidSchema {
                plugin: plugin.into(),
                file: file.to_path_buf(),
                reason,
            },
            SchemaFileError::Refused(refused) => HostError::PluginFile(refused),
        })
}

/// Why a schema file cannot be used.
pub(crate) enum SchemaFileError {
    /// Unreadable, not JSON or not a JSON Schema; the text says which.
    Unusable(String),
    /// Not a regular file, or over its cap.
    Refused(plinth_manifest::plugin_file::PluginFileError),
}

/// Reads `file` (a regular file within the schema cap) and compiles it as a JSON Schema
/// (draft from `$schema`, else 2020-12); returns the schema and its validator.
pub(crate) fn load_schema(file: &Path) -> Result<(Value, jsonschema::Validator), SchemaFileError> {
    let (_, schema) = read_schema(file)?;
    let validator = compile_schema(&schema).map_err(SchemaFileError::Unusable)?;
    Ok((schema, validator))
}

/// Reads `file` (a regular file within the schema cap) as JSON: its text and its value.
pub(crate) fn read_schema(file: &Path) -> Result<(String, Value), SchemaFileError> {
    use plinth_manifest::plugin_file::{self, PluginFileError, SCHEMA_MAX_BYTES};
    let text = plugin_file::read_to_string(file, SCHEMA_MAX_BYTES).map_err(|e| match e {
        PluginFileError::Missing { .. } | PluginFileError::Io { .. } => {
            SchemaFileError::Unusable(format!("cannot read it: {e}"))
        }
        refused => SchemaFileError::Refused(refused),
    })?;
    let schema: Value = serde_json::from_str(&text)
        .map_err(|e| SchemaFileError::Unusable(format!("not JSON: {e}")))?;
    Ok((text, schema))
}

/// Compiles `schema` (draft from `$schema`, else 2020-12), checking it against its draft's
/// meta-schema first.
pub(crate) fn compile_schema(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::validator_for(schema).map_err(|e| format!("not a JSON Schema: {e}"))
}

/// Every way `value` breaks `schema`, in the validator's order.
pub(crate) fn violations(schema: &jsonschema::Validator, value: &Value) -> Vec<SchemaViolation> {
    schema
        .iter_errors(value)
        .map(|error| SchemaViolation {
            path: error.instance_path.to_string(),
            rule: rule_of(&error.schema_path.to_string()),
            message: error.to_string(),
        })
        .collect()
}

/// The failing keyword: the last segment of the schema path (`/properties/a/type` → `type`).
fn rule_of(schema_path: &str) -> String {
    schema_path
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("schema")
        .to_string()
}

pub(crate) fn summarize(violations: &[SchemaViolation]) -> String {
    let mut text = violations
        .iter()
        .take(VIOLATIONS_SHOWN)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if violations.len() > VIOLATIONS_SHOWN {
        text.push_str(&format!(
            "; and {} more",
            violations.len() - VIOLATIONS_SHOWN
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cell(schema: Value) -> SettingsCell {
        SettingsCell {
            schema: Some(jsonschema::validator_for(&schema).expect("a valid schema")),
            current: RwLock::new(Current::new(json!({}))),
        }
    }

    fn hello_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "greeting": {"type": "string", "maxLength": 8},
                "repeat": {"type": "integer", "minimum": 1},
                "tags": {"type": "array", "items": {"enum": ["a", "b"]}}
            },
            "required": ["greeting"],
            "additionalProperties": false
        })
    }

    #[test]
    fn violations_name_the_path_and_the_rule() {
        let cell = cell(hello_schema());
        // (settings, expected (path, rule) of every violation; empty: valid)
        let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
            (json!({"greeting": "Hi"}), vec![]),
            (
                json!({"greeting": "Hi", "repeat": 2, "tags": ["a"]}),
                vec![],
            ),
            (json!({"greeting": 5}), vec![("/greeting", "type")]),
            (
                json!({"greeting": "far too long"}),
                vec![("/greeting", "maxLength")],
            ),
            (json!({}), vec![("", "required")]),
            (
                json!({"greeting": "Hi", "colour": "red"}),
                vec![("", "additionalProperties")],
            ),
            (
                json!({"greeting": "Hi", "repeat": 0}),
                vec![("/repeat", "minimum")],
            ),
            (
                json!({"greeting": "Hi", "tags": ["a", "z"]}),
                vec![("/tags/1", "enum")],
            ),
            (json!(["greeting"]), vec![("", "type")]),
        ];
        for (settings, expected) in cases {
            let result = cell.validate("p", &settings);
            let found: Vec<(String, String)> = match &result {
                Ok(()) => Vec::new(),
                Err(HostError::RejectedSettings { violations, .. }) => violations
                    .iter()
                    .map(|v| (v.path.clone(), v.rule.clone()))
                    .collect(),
                Err(other) => panic!("{settings}: unexpected {other}"),
            };
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(p, r)| (p.to_string(), r.to_string()))
                .collect();
            assert_eq!(found, expected, "{settings}");
        }
    }

    #[test]
    fn a_rejected_replacement_keeps_the_old_settings() {
        let cell = cell(hello_schema());
        cell.replace("p", json!({"greeting": "Hi"})).expect("valid");
        let err = cell.replace("p", json!({"greeting": 7})).unwrap_err();
        assert!(err.to_string().contains("`/greeting`"), "{err}");
        assert_eq!(cell.current().value, json!({"greeting": "Hi"}));
        assert_eq!(cell.current().json, r#"{"greeting":"Hi"}"#);
        cell.replace("p", json!({"greeting": "Yo"})).expect("valid");
        assert_eq!(cell.current().value, json!({"greeting": "Yo"}));
    }

    #[test]
    fn null_means_an_empty_object_and_no_schema_accepts_anything() {
        let open = SettingsCell {
            schema: None,
            current: RwLock::new(Current::new(Value::Null)),
        };
        open.replace("p", Value::Null).expect("no schema");
        assert_eq!(open.current().json, "{}");
        open.replace("p", json!({"any": [1, 2]}))
            .expect("no schema");
        assert_eq!(open.current().value, json!({"any": [1, 2]}));
    }

    #[test]
    fn a_long_list_of_violations_is_summarized() {
        let many = SettingsCell {
            schema: Some(
                jsonschema::validator_for(&json!({"additionalProperties": {"type": "string"}}))
                    .expect("schema"),
            ),
            current: RwLock::new(Current::new(json!({}))),
        };
        let err = many
            .validate("p", &json!({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}))
            .unwrap_err();
        assert!(err.to_string().contains("and 2 more"), "{err}");
    }

    #[test]
    fn rule_is_the_last_schema_path_segment() {
        assert_eq!(rule_of("/properties/a/type"), "type");
        assert_eq!(rule_of("/required"), "required");
        assert_eq!(rule_of(""), "schema");
    }
}
