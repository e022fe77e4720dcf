//! The Rust PDK end to end: lifecycle on a live instance, `config` and `log` with and
//! without grants, and the two examples.

use crate::common;

use plinth_host::{LoadOptions, Plugin};
use plinth_manifest::diagnostic::Code;
use plinth_manifest::grant::Grant;
use serde_json::{Value, json};

fn pdk_plugin(id: &str, grants: &[Grant], settings: Value) -> Plugin {
    common::host()
        .load_bytes(
            id,
            &common::bytes(test_programs::PDK_PLUGIN),
            LoadOptions::default()
                .with_grants(grants.iter().cloned())
                .with_settings(settings),
        )
        .unwrap()
}

fn run(plugin: &Plugin, args: &[&str]) -> Value {
    plugin.call_json("run", &[json!(args)]).unwrap()
}

#[test]
fn config_is_served_only_with_the_grant() {
    let settings = json!({"greeting": "Hi", "depth": 3});
    let granted = pdk_plugin("cfg-granted", &[Grant::Config], settings.clone());
    let all = run(&granted, &["config"]);
    let text = all["ok"].as_str().unwrap();
    assert_eq!(serde_json::from_str::<Value>(text).unwrap(), settings);
    assert_eq!(run(&granted, &["config", "depth"]), json!({"ok": "3"}));
    assert_eq!(run(&granted, &["config", "missing"]), json!({"ok": "null"}));

    let denied = pdk_plugin("cfg-denied", &[], settings);
    let error = run(&denied, &["config"]);
    let text = error["err"].as_str().unwrap();
    assert!(text.contains("grant `config` to cfg-denied"), "{text}");
}

#[test]
fn log_records_reach_the_sink_with_the_plugin_id() {
    let plugin = pdk_plugin("logger", &[Grant::Log], Value::Null);
    assert_eq!(
        run(&plugin, &["log-enabled", "info"]),
        json!({"ok": "true"})
    );
    run(&plugin, &["log", "warn", "disk", "almost", "full"]);
    let records = common::records_of("logger");
    assert!(
        records.iter().any(|r| r.message == "disk almost full"
            && r.level == plinth_host::log::LogLevel::Warn),
        "{records:?}"
    );
    let silent = pdk_plugin("silent", &[], Value::Null);
    assert_eq!(
        run(&silent, &["log-enabled", "info"]),
        json!({"ok": "false"})
    );
}

#[test]
fn a_live_instance_keeps_state_and_a_fresh_one_does_not() {
    let plugin = pdk_plugin("stateful", &[Grant::Config], json!({"k": 1}));
    let mut live = plugin.instantiate().unwrap();
    live.call_json("on-load", &[json!("{\"k\":1}")]).unwrap();
    live.call_json("on-setting-change", &[json!("{\"k\":2}")])
        .unwrap();
    let state = live.call_json("run", &[json!(["state"])]).unwrap();
    let state: Value = serde_json::from_str(state["ok"].as_str().unwrap()).unwrap();
    assert_eq!(state["loads"], json!(1));
    assert_eq!(state["changes"], json!(1));
    assert_eq!(live.instantiations(), 1);

    // Per-call instances start from scratch every time, also when the pool reuses a
    // memory slot that an earlier instance wrote to.
    for _ in 0..3 {
        plugin.call_json("on-load", &[json!("{\"k\":1}")]).unwrap();
    }
    let fresh = run(&plugin, &["state"]);
    let fresh: Value = serde_json::from_str(fresh["ok"].as_str().unwrap()).unwrap();
    assert_eq!(fresh["loads"], json!(0));
}

#[test]
fn queued_events_reach_handle_event_in_order() {
    let plugin = pdk_plugin("events", &[], Value::Null);
    let mut live = plugin.instantiate().unwrap();
    let event = |kind: &str, subject: &str| plinth_host::PluginEvent {
        kind: kind.into(),
        subject: subject.into(),
        payload: format!("{{\"n\":\"{subject}\"}}"),
    };
    plugin.inbox().push(event("fs-change", "1"));
    plugin.inbox().push(event("refuse", "2"));
    plugin.inbox().push(event("http-response", "3"));
    assert_eq!(live.deliver_pending().unwrap(), 3);
    assert!(plugin.inbox().is_empty());
    assert_eq!(live.deliver_pending().unwrap(), 0);

    let state = live.call_json("run", &[json!(["state"])]).unwrap();
    let state: Value = serde_json::from_str(state["ok"].as_str().unwrap()).unwrap();
    assert_eq!(
        state["events"],
        json!([
            ["fs-change", "1", "{\"n\":\"1\"}"],
            ["http-response", "3", "{\"n\":\"3\"}"]
        ])
    );
    let refused = live
        .handle_event(&event("refuse", "4"))
        .unwrap()
        .unwrap_err();
    assert_eq!(refused, "refused event 4");
    assert_eq!(live.instantiations(), 1);
}

#[test]
fn a_failed_live_instance_is_replaced() {
    let plugin = common::host()
        .load_bytes(
            "live-hostile",
            &common::bytes(test_programs::HOSTILE),
            LoadOptions::default()
                .with_limits(plinth_host::Limits::default().with_fuel(20_000_000)),
        )
        .unwrap();
    let mut live = plugin.instantiate().unwrap();
    let error = live.call_json("spin", &[]).unwrap_err();
    assert_eq!(error.code(), Code::FuelExhausted);
    assert_eq!(live.call_json("ok", &[]).unwrap(), json!("ok"));
    assert_eq!(live.instantiations(), 2);
    // Each call gets the whole budget again: many cheap calls never run dry.
    for _ in 0..50 {
        live.call_json("ok", &[]).unwrap();
    }
    assert_eq!(live.instantiations(), 2);
}

#[test]
fn on_load_failure_is_the_plugins_error_value() {
    let plugin = pdk_plugin("refuses", &[], Value::Null);
    let result = plugin
        .call_json("on-load", &[json!("{\"fail_load\": true}")])
        .unwrap();
    assert!(
        result["err"].as_str().unwrap().contains("fail_load"),
        "{result}"
    );
}

/// An example directory with its component, as `plinth build` leaves it.
fn example(name: &str, wasm: &str, file: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = test_programs::example_dir(name);
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::copy(wasm, dir.path().join(file)).unwrap();
    dir
}

#[test]
fn example_hello_greets() {
    let dir = example("hello", test_programs::HELLO, "hello.wasm");
    let plugin = common::host()
        .load_with(
            dir.path(),
            LoadOptions::default()
                .with_grants([Grant::Log, Grant::Config])
                .with_settings(json!({"greeting": "Howdy"})),
        )
        .unwrap();
    assert_eq!(
        plugin
            .call_json("run", &[json!(["echo", "a", "b"])])
            .unwrap(),
        json!({"ok": "a b"})
    );
    let plain = common::host().load(dir.path()).unwrap();
    assert_eq!(
        plain.call_json("run", &[json!([])]).unwrap(),
        json!({"ok": "Hello, world!"})
    );
    assert_eq!(
        plain.call_json("run", &[json!(["hello"])]).unwrap(),
        json!({"ok": "Hello, hello!"})
    );
}

#[test]
fn example_count_vowels_counts() {
    let dir = example(
        "count-vowels",
        test_programs::COUNT_VOWELS,
        "count_vowels.wasm",
    );
    let plugin = common::host().load(dir.path()).unwrap();
    let tools = plugin.call_json("list-tools", &[]).unwrap();
    assert_eq!(tools[0]["name"], json!("count_vowels"));
    let call = |input: Value| {
        plugin
            .call_json("call", &[json!("count_vowels"), json!(input.to_string())])
            .unwrap()
    };
    assert_eq!(
        call(json!({"text": "Hello World"})),
        json!({"ok": "{\"count\":3}"})
    );
    assert_eq!(
        call(json!({"text": "AEIOU aeiou xyz"})),
        json!({"ok": "{\"count\":10}"})
    );
    assert!(call(json!({"txt": 1}))["err"]["invalid-input"].is_string());
    let unknown = plugin
        .call_json("call", &[json!("nope"), json!("{}")])
        .unwrap();
    assert!(unknown["err"]["unknown-tool"].is_string(), "{unknown}");
}
