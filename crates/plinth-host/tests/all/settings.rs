//! Settings against the manifest's JSON Schema: checked at load and on every change,
//! and seen by `config` of live and of new instances once changed.

use crate::common;

use std::path::Path;

use plinth_host::{HostError, LoadOptions, Plugin};
use plinth_manifest::diagnostic::{Code, ToDiagnostic};
use plinth_manifest::grant::Grant;
use serde_json::{Value, json};

const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "greeting": {"type": "string"},
    "depth": {"type": "integer", "minimum": 0}
  },
  "additionalProperties": false
}"#;

/// A plugin folder holding the pdk-plugin guest, a manifest and `schema` as its settings
/// schema.
fn plugin_dir(root: &Path, schema: &str) {
    std::fs::write(
        root.join("plugin.toml"),
        r#"[plugin]
id = "settings.test"
version = "0.1.0"

[runtime]
kind = "wasm-component"
component = "plugin.wasm"
api = "0.1.0"
world = "plugin"

[capabilities]
config = true

[settings]
schema = "settings.schema.json"
"#,
    )
    .unwrap();
    std::fs::write(root.join("settings.schema.json"), schema).unwrap();
    std::fs::copy(test_programs::PDK_PLUGIN, root.join("plugin.wasm")).unwrap();
}

fn load(root: &Path, settings: Value) -> Result<Plugin, HostError> {
    common::host().load_with(
        root,
        LoadOptions::default()
            .with_grants([Grant::Config])
            .with_settings(settings),
    )
}

/// `config.get-all` as the guest sees it.
fn config_of(run: impl FnOnce(&[&str]) -> Value) -> Value {
    let answer = run(&["config"]);
    serde_json::from_str(answer["ok"].as_str().unwrap()).unwrap()
}

#[test]
fn settings_breaking_the_schema_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    plugin_dir(dir.path(), SCHEMA);
    let err = load(dir.path(), json!({"greeting": "Hi", "depth": -1})).unwrap_err();
    let diagnostic = err.to_diagnostic();
    assert_eq!(diagnostic.code, Code::RejectedSchema, "{err}");
    assert!(diagnostic.message.contains("`/depth`"), "{diagnostic:?}");
    assert!(
        diagnostic.message.contains("rule `minimum`"),
        "{diagnostic:?}"
    );
    assert!(
        diagnostic.hint.as_deref().unwrap().contains("/depth"),
        "{diagnostic:?}"
    );
    let HostError::RejectedSettings { violations, .. } = err else {
        panic!("not RejectedSettings");
    };
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].path, "/depth");

    // Valid settings load; so does a plugin given none, even when its schema requires
    // some: it gets `{}`, unchecked.
    load(dir.path(), json!({"greeting": "Hi", "depth": 2})).unwrap();
    let strict = tempfile::tempdir().unwrap();
    plugin_dir(
        strict.path(),
        r#"{"type": "object", "required": ["greeting"]}"#,
    );
    let none = load(strict.path(), Value::Null).unwrap();
    assert_eq!(none.settings(), json!({}));
    let err = load(strict.path(), json!({})).unwrap_err();
    assert!(err.to_string().contains("rule `required`"), "{err}");
}

#[test]
fn a_schema_file_that_is_not_a_schema_is_a_coded_error() {
    for (schema, says) in [
        ("{ not json", "not JSON"),
        (r#"{"type": "no-such-type"}"#, "not a JSON Schema"),
        (r#"{"minimum": "zero"}"#, "not a JSON Schema"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        plugin_dir(dir.path(), schema);
        let err = load(dir.path(), Value::Null).unwrap_err();
        assert!(
            matches!(err, HostError::InvalidSchema { .. }),
            "{schema}: {err}"
        );
        assert!(err.to_string().contains(says), "{schema}: {err}");
        let diagnostic = err.to_diagnostic();
        assert_eq!(diagnostic.code, Code::InvalidManifest);
        assert!(diagnostic.hint.is_some());
    }
    let dir = tempfile::tempdir().unwrap();
    plugin_dir(dir.path(), SCHEMA);
    std::fs::remove_file(dir.path().join("settings.schema.json")).unwrap();
    let err = load(dir.path(), Value::Null).unwrap_err();
    assert!(err.to_string().contains("cannot read it"), "{err}");
}

#[test]
fn a_change_reaches_config_of_live_and_new_instances() {
    let dir = tempfile::tempdir().unwrap();
    plugin_dir(dir.path(), SCHEMA);
    let plugin = load(dir.path(), json!({"greeting": "Hi"})).unwrap();
    let mut live = plugin.instantiate().unwrap();
    let mut live_config = || config_of(|args| live.call_json("run", &[json!(args)]).unwrap());
    assert_eq!(live_config(), json!({"greeting": "Hi"}));

    plugin
        .update_settings(json!({"greeting": "Howdy", "depth": 3}))
        .unwrap();
    let changed = json!({"greeting": "Howdy", "depth": 3});
    assert_eq!(live_config(), changed, "the live instance sees the change");
    let fresh = config_of(|args| plugin.call_json("run", &[json!(args)]).unwrap());
    assert_eq!(fresh, changed, "a per-call instance sees the change");
    assert_eq!(plugin.settings(), changed);
    assert_eq!(
        plugin
            .call_json("run", &[json!(["config", "depth"])])
            .unwrap(),
        json!({"ok": "3"})
    );
}

#[test]
fn a_rejected_change_leaves_the_old_settings_serving() {
    let dir = tempfile::tempdir().unwrap();
    plugin_dir(dir.path(), SCHEMA);
    let plugin = load(dir.path(), json!({"greeting": "Hi"})).unwrap();
    let mut live = plugin.instantiate().unwrap();
    let err = plugin
        .update_settings(json!({"greeting": "Hi", "colour": "red"}))
        .unwrap_err();
    let diagnostic = err.to_diagnostic();
    assert_eq!(diagnostic.code, Code::RejectedSchema);
    assert!(
        diagnostic.message.contains("additionalProperties"),
        "{diagnostic:?}"
    );
    assert!(plugin.validate_settings(&json!({"greeting": 1})).is_err());
    assert!(plugin.validate_settings(&json!({"depth": 1})).is_ok());
    let seen = config_of(|args| live.call_json("run", &[json!(args)]).unwrap());
    assert_eq!(seen, json!({"greeting": "Hi"}));
    assert_eq!(plugin.settings(), json!({"greeting": "Hi"}));
}
