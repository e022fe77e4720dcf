//! Plugin kinds through the typed host API (docs/design/0037): the `tool`, `hook` and
//! `command` kinds of a component built against their own packages, the 0.1.0 adapter, and
//! load-time checks of declared kinds.

use std::path::Path;

use plinth_host::kinds::{
    ChainDecision, Command, Decision, Hook, HookChain, HookEvent, KindError, OnHookError, Served,
    Tool,
};
use plinth_host::{Host, HostError, Limits, LoadOptions, Plugin};
use plinth_manifest::grant::Grant;
use plinth_manifest::{Code, Kind, ToDiagnostic};
use serde_json::json;

use crate::common;

const WORD_COUNT_SCHEMA: &str = r#"{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}"#;
const TALLY_SCHEMA: &str = r#"{"type":"object","properties":{"key":{"type":"string","minLength":1}},"required":["key"],"additionalProperties":false}"#;

/// A plugin folder for the `kinds` guest: `id`, then manifest text after `[runtime]`.
pub(crate) fn kinds_dir(id: &str, rest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_kinds_dir(dir.path(), id, rest);
    dir
}

pub(crate) fn write_kinds_dir(dir: &Path, id: &str, rest: &str) {
    std::fs::copy(test_programs::KINDS, dir.join("kinds.wasm")).unwrap();
    std::fs::write(dir.join("word_count.json"), WORD_COUNT_SCHEMA).unwrap();
    std::fs::write(dir.join("tally.json"), TALLY_SCHEMA).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"kinds.wasm\"\n\n{rest}"
        ),
    )
    .unwrap();
}

/// The manifest entries of every kind the `kinds` guest provides.
pub(crate) const ALL_KINDS: &str = r#"
[capabilities]
kv = true

[[provides.tool]]
name = "word_count"
description = "Counts the words in `text`."
input_schema = "word_count.json"

[[provides.tool]]
name = "tally"
description = "Adds one to the counter `key` and returns it."
input_schema = "tally.json"

[[provides.hook]]
point = "before-tool-call"

[[provides.command]]
"#;

/// A tool schema compiles at the first load of its text; later hosts sharing the compile
/// cache leave it to the tool's first use, and it checks input the same (docs/design/0076).
#[test]
fn a_tool_schema_seen_before_compiles_at_first_use_and_checks_input_the_same() {
    let dir = kinds_dir("test.kinds", ALL_KINDS);
    let cache = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let host = || {
        Host::builder()
            .data_dir(data.path())
            .cache_dir(cache.path())
            .build()
            .unwrap()
    };
    for round in ["first load", "known schemas"] {
        let host = host();
        let plugin = load(&host, dir.path(), &[Grant::Kv]);
        let tools = plugin.kind::<Tool>().unwrap();
        let err = tools.call("word_count", &json!({"text": 3})).unwrap_err();
        assert_eq!(err.code(), Code::InvalidInput, "{round}: {err}");
        assert_eq!(
            tools.call("word_count", &json!({"text": "a b"})).unwrap(),
            json!({"words": 2}),
            "{round}"
        );
    }
    let entries = std::fs::read_dir(cache.path().join("schemas"))
        .unwrap()
        .count();
    assert_eq!(entries, 2, "one entry per schema text");

    // JSON that is not a JSON Schema is still refused at load, cache or not.
    std::fs::write(dir.path().join("word_count.json"), r#"{"type": 12}"#).unwrap();
    let err = host().load(dir.path()).unwrap_err();
    assert_eq!(err.to_diagnostic().code, Code::InvalidManifest, "{err}");
    assert!(err.to_string().contains("not a JSON Schema"), "{err}");
}

/// A host with a key-value store, for `tally`.
fn host_with_kv() -> (Host, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let host = Host::builder()
        .data_dir(data.path())
        .limits(Limits::default().with_timeout_ms(2_000))
        .build()
        .unwrap();
    (host, data)
}

fn load(host: &Host, dir: &Path, grants: &[Grant]) -> Plugin {
    host.load_with(dir, LoadOptions::default().with_grants(grants.to_vec()))
        .unwrap()
}

#[test]
fn tools_are_called_with_json_values_and_checked_against_their_schema() {
    let dir = kinds_dir("test.kinds", ALL_KINDS);
    let (host, _data) = host_with_kv();
    let plugin = load(&host, dir.path(), &[Grant::Kv]);
    assert_eq!(plugin.kinds(), [Kind::Command, Kind::Tool, Kind::Hook]);
    assert_eq!(plugin.served(Kind::Tool), Some(Served::Current));

    let tools = plugin.kind::<Tool>().unwrap();
    let names: Vec<&str> = tools.list().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["word_count", "tally"]);
    assert_eq!(
        tools.list()[0].model_visible(),
        json!({
            "name": "word_count",
            "description": "Counts the words in `text`.",
            "input_schema": serde_json::from_str::<serde_json::Value>(WORD_COUNT_SCHEMA).unwrap(),
        })
    );
    assert_eq!(
        tools
            .call("word_count", &json!({"text": "one two  three"}))
            .unwrap(),
        json!({"words": 3})
    );
    assert_eq!(
        tools.call("tally", &json!({"key": "k"})).unwrap(),
        json!({"count": 1})
    );
    assert_eq!(
        tools.call("tally", &json!({"key": "k"})).unwrap(),
        json!({"count": 2})
    );
    tools.verify_reported().unwrap();

    // A schema violation is refused before the guest runs, naming the path and the rule.
    let calls = plugin.usage().calls;
    let err = tools
        .call("word_count", &json!({"text": 3, "extra": true}))
        .unwrap_err();
    let KindError::InvalidInput { violations, .. } = &err else {
        panic!("expected invalid-input, got {err:?}");
    };
    assert_eq!(err.code(), Code::InvalidInput);
    let found: Vec<(&str, &str)> = violations
        .iter()
        .map(|v| (v.path.as_str(), v.rule.as_str()))
        .collect();
    assert!(found.contains(&("/text", "type")), "{found:?}");
    assert!(found.contains(&("", "additionalProperties")), "{found:?}");
    assert_eq!(plugin.usage().calls, calls, "the guest must not run");
    assert!(err.to_diagnostic().hint.unwrap().contains("/text"));

    let err = tools.call("nope", &json!({})).unwrap_err();
    assert_eq!(err.code(), Code::UnknownTool);
    assert!(err.to_string().contains("word_count, tally"), "{err}");
    assert_eq!(plugin.usage().calls, calls);
}

#[test]
fn a_tool_without_its_grant_fails_cleanly() {
    let dir = kinds_dir("test.kinds-nogrant", ALL_KINDS);
    let (host, _data) = host_with_kv();
    let plugin = load(&host, dir.path(), &[]);
    let err = plugin
        .kind::<Tool>()
        .unwrap()
        .call("tally", &json!({"key": "k"}))
        .unwrap_err();
    assert_eq!(err.code(), Code::ToolFailed, "{err}");
    assert!(err.to_string().contains("kv"), "{err}");
}

#[test]
fn reported_tools_are_compared_with_the_manifest() {
    let (host, _data) = host_with_kv();
    for (mutant, needle) in [
        ("list-extra", "tool `secret` is reported but not declared"),
        (
            "wrong-description",
            "tool `word_count`: the description differs",
        ),
        (
            "wrong-schema",
            "tool `word_count`: the input schema differs",
        ),
    ] {
        let dir = kinds_dir(&format!("test.kinds.mutant-{mutant}"), ALL_KINDS);
        let plugin = load(&host, dir.path(), &[Grant::Kv]);
        let err = plugin
            .kind::<Tool>()
            .unwrap()
            .verify_reported()
            .unwrap_err();
        assert_eq!(err.code(), Code::KindMismatch, "{mutant}: {err}");
        assert!(err.to_string().contains(needle), "{mutant}: {err}");
    }
}

#[test]
fn tool_output_must_be_json() {
    let (host, _data) = host_with_kv();
    let dir = kinds_dir("test.kinds.mutant-output-not-json", ALL_KINDS);
    let plugin = load(&host, dir.path(), &[]);
    let err = plugin
        .kind::<Tool>()
        .unwrap()
        .call("word_count", &json!({"text": "a"}))
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidOutput, "{err}");
}

fn hook_dir(id: &str, priority: i32, deadline: Option<u64>) -> tempfile::TempDir {
    let deadline = deadline.map_or(String::new(), |ms| format!("deadline_ms = {ms}\n"));
    kinds_dir(
        id,
        &format!(
            "[[provides.hook]]\npoint = \"before-tool-call\"\npriority = {priority}\n{deadline}"
        ),
    )
}

#[test]
fn hooks_allow_deny_and_modify() {
    let dir = hook_dir("test.hook", 0, None);
    let plugin = common::host().load(dir.path()).unwrap();
    assert_eq!(plugin.kinds(), [Kind::Hook]);
    assert!(plugin.kind::<Tool>().is_err());
    let hooks = plugin.kind::<Hook>().unwrap();
    assert_eq!(hooks.points()[0].point, "before-tool-call");
    let ask = |payload| {
        hooks
            .handle(&HookEvent::new("before-tool-call", "read_file", payload))
            .unwrap()
    };
    assert_eq!(ask(json!({"path": "/tmp/x"})), Decision::Allow);
    assert_eq!(
        ask(json!({"path": "/etc/passwd"})),
        Decision::Deny("`read_file` touches /etc/passwd, under /etc".into())
    );
    assert_eq!(
        ask(json!({"text": "  hi  ", "n": 1})),
        Decision::Modify(json!({"text": "hi", "n": 1}))
    );
    let other = hooks
        .handle(&HookEvent::new(
            "after-tool-call",
            "x",
            json!({"path": "/etc"}),
        ))
        .unwrap();
    assert_eq!(other, Decision::Allow);

    // A modify payload that is not an object is refused.
    let dir = kinds_dir(
        "test.hook.mutant-hook-modify-array",
        "[[provides.hook]]\npoint = \"before-tool-call\"\n",
    );
    let plugin = common::host().load(dir.path()).unwrap();
    let err = plugin
        .kind::<Hook>()
        .unwrap()
        .handle(&HookEvent::new(
            "before-tool-call",
            "x",
            json!({"text": " a "}),
        ))
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidOutput);
}

#[test]
fn a_hook_chain_runs_in_priority_order_and_stops_at_a_deny() {
    // Same component three times: ids and priorities decide the order.
    let late = hook_dir("test.chain-c", 10, None);
    let early = hook_dir("test.chain-b", -1, None);
    let tie = hook_dir("test.chain-a", 10, None);
    let host = common::host();
    let plugins: Vec<Plugin> = [&late, &early, &tie]
        .iter()
        .map(|d| host.load(d.path()).unwrap())
        .collect();
    let chain = HookChain::new(plugins);
    let order: Vec<(&str, i32)> = chain
        .hooks_on("before-tool-call")
        .into_iter()
        .map(|(p, prio)| (p.id(), prio))
        .collect();
    assert_eq!(
        order,
        [
            ("test.chain-b", -1),
            ("test.chain-a", 10),
            ("test.chain-c", 10)
        ]
    );
    assert!(chain.hooks_on("after-tool-call").is_empty());

    let outcome = chain.run("before-tool-call", "write", json!({"text": " x "}));
    assert_eq!(
        outcome.decision,
        ChainDecision::Proceed {
            payload: json!({"text": "x"})
        }
    );
    // The first trimmed; the next two saw the trimmed payload and allowed it.
    let decisions: Vec<_> = outcome
        .steps
        .iter()
        .map(|s| s.result.clone().unwrap())
        .collect();
    assert_eq!(
        decisions,
        [
            Decision::Modify(json!({"text": "x"})),
            Decision::Allow,
            Decision::Allow
        ]
    );

    let outcome = chain.run("before-tool-call", "write", json!({"path": "/etc/x"}));
    assert_eq!(outcome.steps.len(), 1, "a deny stops the chain");
    assert!(matches!(
        outcome.decision,
        ChainDecision::Denied { ref by, .. } if by == "test.chain-b"
    ));
}

#[test]
fn a_hook_runs_under_its_deadline_and_a_failing_hook_denies_by_default() {
    let slow = kinds_dir(
        "test.slow.mutant-hook-slow",
        "[[provides.hook]]\npoint = \"before-tool-call\"\ndeadline_ms = 100\n",
    );
    let allow = hook_dir("test.zz-allow", 5, None);
    let host = common::host();
    let slow = host.load(slow.path()).unwrap();
    let started = std::time::Instant::now();
    let err = slow
        .kind::<Hook>()
        .unwrap()
        .handle(&HookEvent::new("before-tool-call", "x", json!({})))
        .unwrap_err();
    assert_eq!(err.code(), Code::Timeout, "{err}");
    assert!(err.to_string().contains("100 ms"), "{err}");
    // The plugin's own limit is far longer: the point's deadline ended it.
    assert!(started.elapsed() < slow.limits().wall_timeout());

    let plugins = vec![slow, host.load(allow.path()).unwrap()];
    let closed = HookChain::new(plugins.clone()).run("before-tool-call", "x", json!({}));
    assert!(
        matches!(closed.decision, ChainDecision::Denied { ref by, .. } if by == "test.slow.mutant-hook-slow")
    );
    let open =
        HookChain::new(plugins)
            .on_error(OnHookError::Skip)
            .run("before-tool-call", "x", json!({}));
    assert_eq!(open.decision, ChainDecision::Proceed { payload: json!({}) });
    assert_eq!(open.steps.len(), 2);
}

#[test]
fn commands_run_with_arguments() {
    let dir = kinds_dir("test.command", "[[provides.command]]\n");
    let plugin = common::host().load(dir.path()).unwrap();
    let command = plugin.kind::<Command>().unwrap();
    assert_eq!(
        command.run(&["Ada".into()]).unwrap(),
        Ok("Hello, Ada!".into())
    );
    assert_eq!(command.run(&[]).unwrap(), Ok("Hello, world!".into()));
    assert_eq!(
        command.run(&["--x".into()]).unwrap(),
        Err("unknown option `--x`".into())
    );
}

#[test]
fn components_built_against_plinth_plugin_0_1_0_are_served_through_the_adapter() {
    // examples/count-vowels and examples/hello are built against the frozen 0.1.0 WIT.
    let dir = tempfile::tempdir().unwrap();
    let source = test_programs::example_dir("count-vowels");
    for file in ["plugin.toml", "count_vowels.schema.json"] {
        std::fs::copy(source.join(file), dir.path().join(file)).unwrap();
    }
    std::fs::copy(
        test_programs::COUNT_VOWELS,
        dir.path().join("count_vowels.wasm"),
    )
    .unwrap();
    let plugin = common::host()
        .load_with(dir.path(), LoadOptions::default().with_grants([Grant::Log]))
        .unwrap();
    assert_eq!(plugin.kinds(), [Kind::Tool]);
    assert_eq!(plugin.served(Kind::Tool), Some(Served::Legacy));
    let tools = plugin.kind::<Tool>().unwrap();
    assert_eq!(
        tools
            .call("count_vowels", &json!({"text": "Plinth"}))
            .unwrap(),
        json!({"count": 1})
    );
    tools.verify_reported().unwrap();
    assert_eq!(
        tools.call("count_vowels", &json!({})).unwrap_err().code(),
        Code::InvalidInput
    );

    // A bare 0.1.0 command component: its kind is inferred from its exports.
    let hello = common::host().load(test_programs::HELLO).unwrap();
    assert_eq!(hello.kinds(), [Kind::Command]);
    assert_eq!(hello.served(Kind::Command), Some(Served::Legacy));
    assert_eq!(
        hello
            .kind::<Command>()
            .unwrap()
            .run(&["Ada".into()])
            .unwrap(),
        Ok("Hello, Ada!".into())
    );
}

#[test]
fn a_declared_kind_the_component_lacks_fails_the_load_naming_it() {
    // hello exports only the 0.1.0 command interface.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(test_programs::HELLO, dir.path().join("hello.wasm")).unwrap();
    std::fs::write(
        dir.path().join("plugin.toml"),
        "[plugin]\nid = \"test.no-hook\"\nversion = \"0.1.0\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"hello.wasm\"\n[[provides.hook]]\npoint = \"before-tool-call\"\n",
    )
    .unwrap();
    let err = common::host().load(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            HostError::KindMismatch {
                kind: Kind::Hook,
                ..
            }
        ),
        "{err:?}"
    );
    let diagnostic = err.to_diagnostic();
    assert_eq!(diagnostic.code, Code::KindMismatch);
    assert!(
        diagnostic.message.contains("plinth:hook/hook@0.1.0"),
        "{diagnostic:?}"
    );

    // A tool schema file that is not a JSON Schema is named at load.
    let dir = kinds_dir(
        "test.bad-schema",
        "[[provides.tool]]\nname = \"word_count\"\ndescription = \"d\"\ninput_schema = \"plugin.toml\"\n",
    );
    let err = common::host().load(dir.path()).unwrap_err();
    assert_eq!(err.to_diagnostic().code, Code::InvalidManifest, "{err}");
    assert!(err.to_string().contains("tool `word_count`"), "{err}");
}
