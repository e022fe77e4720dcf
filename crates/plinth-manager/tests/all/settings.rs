//! Settings through the manager: checked against the manifest's JSON Schema at load and on
//! every change, seen by `config` of long-lived and per-call instances once changed, and a
//! rejected change leaves the serving version with its old settings.

use crate::common;

use std::path::{Path, PathBuf};

use plinth_manager::state::{InstanceMode, PluginEntry};
use plinth_manager::{Manager, Status};
use plinth_manifest::Code;
use serde_json::{Value, json};

const SCHEMA: &str = r#"{
  "type": "object",
  "properties": {"greeting": {"type": "string", "minLength": 1}},
  "required": ["greeting"]
}"#;

/// A reload-v1 plugin folder whose manifest names a settings schema.
fn schema_dir(root: &Path, id: &str) -> PathBuf {
    let dir = common::plugin_dir(root, id, "1.0.0", test_programs::RELOAD_V1);
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!("{manifest}[settings]\nschema = \"settings.schema.json\"\n"),
    )
    .unwrap();
    std::fs::write(dir.join("settings.schema.json"), SCHEMA).unwrap();
    dir
}

fn with_greeting(mut entry: PluginEntry, greeting: Value) -> PluginEntry {
    entry.config.insert("greeting".into(), greeting);
    entry
}

fn config(manager: &Manager, id: &str) -> Value {
    serde_json::from_str(&common::run(manager, id, "config").unwrap()).unwrap()
}

#[test]
fn a_change_reaches_config_without_a_reload_in_both_modes() {
    let tmp = tempfile::tempdir().unwrap();
    for (id, mode) in [
        ("test.live", InstanceMode::LongLived),
        ("test.percall", InstanceMode::PerCall),
    ] {
        let dir = schema_dir(tmp.path(), id);
        let manager = Manager::builder(common::host()).build();
        let base = common::entry(id, &dir, mode);
        manager.apply(&common::section(vec![with_greeting(
            base.clone(),
            json!("hi"),
        )]));
        assert_eq!(config(&manager, id), json!({"greeting": "hi"}), "{id}");
        let loads = manager.stats().loads;

        let report = manager.apply(&common::section(vec![with_greeting(
            base.clone(),
            json!("hello"),
        )]));
        assert_eq!(report.settings_changed, [id], "{id}: {report:?}");
        assert!(report.reloaded.is_empty(), "{id}: {report:?}");
        assert_eq!(manager.stats().loads, loads, "{id}: no reload");
        assert_eq!(config(&manager, id), json!({"greeting": "hello"}), "{id}");
        if mode == InstanceMode::LongLived {
            let state: Value =
                serde_json::from_str(&common::run(&manager, id, "loads").unwrap()).unwrap();
            assert_eq!(state["changes"], json!(1), "{id}: on-setting-change ran");
            // A trap drops the instance; the next one starts with the new settings.
            assert!(common::run(&manager, id, "panic").is_err());
            assert_eq!(config(&manager, id), json!({"greeting": "hello"}), "{id}");
            let state: Value =
                serde_json::from_str(&common::run(&manager, id, "loads").unwrap()).unwrap();
            assert_eq!(state["settings"], json!({"greeting": "hello"}), "{id}");
        }
    }
}

#[test]
fn a_rejected_change_keeps_the_old_settings_serving_and_reports_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = schema_dir(tmp.path(), "test.strict");
    let manager = Manager::builder(common::host()).build();
    let base = common::entry("test.strict", &dir, InstanceMode::LongLived);
    manager.apply(&common::section(vec![with_greeting(
        base.clone(),
        json!("hi"),
    )]));
    let mut rx = manager.subscribe();

    let report = manager.apply(&common::section(vec![with_greeting(
        base.clone(),
        json!(5),
    )]));
    assert_eq!(report.rejected, ["test.strict"], "{report:?}");
    let event = common::wait_for(&mut rx, "test.strict", |s| matches!(s, Status::Error(_)));
    let Status::Error(diagnostic) = &event.status else {
        unreachable!()
    };
    assert_eq!(diagnostic.code, Code::RejectedSchema);
    assert!(diagnostic.message.contains("`/greeting`"), "{diagnostic:?}");
    assert!(diagnostic.message.contains("rule `type`"), "{diagnostic:?}");
    assert_eq!(event.serving.as_deref(), Some("1.0.0"), "still serving");
    assert_eq!(config(&manager, "test.strict"), json!({"greeting": "hi"}));

    // Fixing the settings brings it back to ready with the new ones.
    let report = manager.apply(&common::section(vec![with_greeting(
        base.clone(),
        json!("hey"),
    )]));
    assert_eq!(report.settings_changed, ["test.strict"]);
    common::wait_for(&mut rx, "test.strict", |s| *s == Status::Ready);
    assert_eq!(config(&manager, "test.strict"), json!({"greeting": "hey"}));
}

#[test]
fn settings_breaking_the_schema_fail_the_first_load() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = schema_dir(tmp.path(), "test.bad");
    let manager = Manager::builder(common::host()).build();
    // `greeting` is required.
    let entry = common::entry("test.bad", &dir, InstanceMode::PerCall);
    manager.apply(&common::section(vec![entry]));
    let Some(Status::Error(diagnostic)) = manager.status("test.bad") else {
        panic!("{:?}", manager.status("test.bad"));
    };
    assert_eq!(diagnostic.code, Code::RejectedSchema);
    assert!(
        diagnostic.message.contains("rule `required`"),
        "{diagnostic:?}"
    );
    assert_eq!(manager.serving_version("test.bad"), None);
}
