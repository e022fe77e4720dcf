//! The kinds' reference plugins (`examples/word-count`, `tool-guard`, `greet`, each in
//! Rust, Python and JavaScript): every build exports its kind's interface, answers every
//! example of its `conformance.toml`, keeps the kind's contract on odd input, and answers
//! exactly like the other two.
//!
//! The calls go through the host's dynamic interface (`call_json`) and its typed kind API
//! (`Plugin::kind`), and each build passes its kind's conformance kit (`plinth test
//! --conformance`). The builds are `languages.rs`'s.

use std::path::Path;

use plinth_host::Plugin;
use plinth_manifest::grant::Grant;
use serde_json::{Value, json};

use crate::languages::{LANGS, Lang, built, load, repo};

/// Runs `plinth --json test --conformance KIND DIR` and asserts that every case passed, none
/// failed or was skipped.
#[track_caller]
pub(crate) fn assert_kit_passes(home: &Path, kind: &str, dir: &Path, what: &str) {
    let dir = dir.display().to_string();
    let run = crate::common::plinth(home, &["--json", "test", "--conformance", kind, &dir]);
    let report = run.json();
    assert!(
        run.code == 0
            && report["ok"] == json!(true)
            && report["failed"] == json!(0)
            && report["skipped"] == json!(0),
        "{what}: the {kind} kit on {dir}: {report:#}\n{}",
        run.stderr
    );
}

/// The `[[example]]`s of `dir/conformance.toml`, as JSON.
pub(crate) fn examples_in(dir: &Path) -> Vec<Value> {
    let path = dir.join("conformance.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let examples = serde_json::to_value(&doc["example"]).unwrap();
    let examples = examples.as_array().unwrap().clone();
    assert!(!examples.is_empty(), "{}", path.display());
    examples
}

/// The export and the JSON arguments that run one conformance example.
pub(crate) fn example_call(example: &Value) -> (&'static str, Vec<Value>) {
    match example["kind"].as_str() {
        Some("tool") => (
            "call",
            vec![example["tool"].clone(), json!(example["input"].to_string())],
        ),
        Some("hook") => {
            let event = &example["event"];
            let record = json!({
                "point": event["point"],
                "subject": event["subject"],
                "payload": event["payload"].to_string(),
            });
            ("handle", vec![record])
        }
        Some("command") => ("run", vec![example["args"].clone()]),
        other => panic!("an example of kind {other:?}: {example}"),
    }
}

/// Asserts that `result` (the call's JSON result) is what `example` expects.
#[track_caller]
pub(crate) fn assert_answer(example: &Value, result: &Value, what: &str) {
    let parsed = |text: &Value| -> Value {
        let text = text
            .as_str()
            .unwrap_or_else(|| panic!("{what}: {example}: {result}"));
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
    };
    match example["kind"].as_str() {
        Some("tool") => assert_eq!(
            parsed(&result["ok"]),
            example["output"],
            "{what}: {example}"
        ),
        Some("command") if example["error"] == json!(true) => assert!(
            result["err"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {example}: {result}"
        ),
        Some("command") => {
            assert_eq!(
                result,
                &json!({"ok": example["output"]}),
                "{what}: {example}"
            )
        }
        _ => match example["decision"].as_str() {
            Some("allow") => assert_eq!(result, &json!("allow"), "{what}: {example}"),
            Some("deny") => assert!(
                result["deny"]
                    .as_str()
                    .is_some_and(|r| !r.trim().is_empty()),
                "{what}: {example}: {result}"
            ),
            _ => assert_eq!(
                parsed(&result["modify"]),
                example["payload"],
                "{what}: {example}"
            ),
        },
    }
}

/// Runs every example of `dir/conformance.toml` against `plugin`.
pub(crate) fn assert_examples(plugin: &Plugin, dir: &Path, what: &str) {
    for example in examples_in(dir) {
        let (export, args) = example_call(&example);
        let result = plugin
            .call_json(export, &args)
            .unwrap_or_else(|e| panic!("{what}: {example}: {e}"));
        assert_answer(&example, &result, what);
    }
}

fn example_dir(name: &str, lang: Lang) -> std::path::PathBuf {
    repo().join("examples").join(folder(name, lang))
}

/// The example folder's name for `lang`.
fn folder(name: &str, lang: Lang) -> String {
    match lang {
        Lang::Rust => name.to_string(),
        Lang::Python => format!("{name}-py"),
        Lang::Js => format!("{name}-js"),
    }
}

/// The example's `plugin.toml`, as JSON.
fn manifest(name: &str, lang: Lang) -> Value {
    let path = repo()
        .join("examples")
        .join(folder(name, lang))
        .join("plugin.toml");
    let doc: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    serde_json::to_value(doc).unwrap()
}

fn read_json(name: &str, lang: Lang, file: &str) -> Value {
    let path = repo().join("examples").join(folder(name, lang)).join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[track_caller]
fn assert_exports(plugin: &Plugin, interface: &str, lang: Lang) {
    let interfaces = plugin.exports().interfaces();
    for expected in ["plinth:plugin/lifecycle@0.1.0", interface] {
        assert!(
            interfaces.contains(&expected),
            "{lang:?}: {expected} not in {interfaces:?}"
        );
    }
    assert!(
        !interfaces
            .iter()
            .any(|i| i.starts_with("plinth:plugin/") && *i != "plinth:plugin/lifecycle@0.1.0"),
        "{lang:?}: a 0.1.0 kind interface in {interfaces:?}"
    );
}

/// `call(name, input)` with `input` as JSON text.
fn call_tool(plugin: &Plugin, name: &str, input: &str) -> Value {
    plugin
        .call_json("call", &[json!(name), json!(input)])
        .unwrap_or_else(|e| panic!("call({name}, {input:.80}): {e}"))
}

#[test]
fn word_count_keeps_the_tool_contract_in_every_language() {
    let mut answers: Vec<Vec<Value>> = Vec::new();
    for lang in LANGS {
        let plugin = load("word-count", lang, &[], Value::Null);
        assert_exports(&plugin, "plinth:tool/tool@0.1.0", lang);

        // `list-tools` is the manifest's tools, with the schemas of its files.
        let declared = &manifest("word-count", lang)["provides"]["tool"];
        let listed = plugin.call_json("list-tools", &[]).unwrap();
        let listed = listed.as_array().unwrap();
        assert_eq!(listed.len(), declared.as_array().unwrap().len(), "{lang:?}");
        for (tool, entry) in listed.iter().zip(declared.as_array().unwrap()) {
            assert_eq!(tool["name"], entry["name"], "{lang:?}");
            assert_eq!(tool["description"], entry["description"], "{lang:?}");
            for (field, key) in [
                ("input-schema", "input_schema"),
                ("output-schema", "output_schema"),
            ] {
                let text = tool[field]
                    .as_str()
                    .unwrap_or_else(|| panic!("{lang:?}: {tool}"));
                let schema: Value = serde_json::from_str(text).unwrap();
                let file = read_json("word-count", lang, entry[key].as_str().unwrap());
                assert_eq!(schema, file, "{lang:?}: {field} is the file's");
            }
        }

        // Every example of conformance.toml, exactly.
        assert_examples(
            &plugin,
            &example_dir("word-count", lang),
            &format!("{lang:?}"),
        );

        // The contract on odd input: typed errors, never a trap; the same answer twice.
        let unknown = call_tool(&plugin, "char_count", r#"{"text": "a"}"#);
        assert_eq!(
            unknown,
            json!({"err": {"unknown-tool": "char_count"}}),
            "{lang:?}"
        );
        let mut seen = Vec::new();
        for input in [
            "not json",
            "",
            "{}",
            "[1]",
            "null",
            r#"{"text": 5}"#,
            r#"{"text": "a", "extra": 1}"#,
            r#"{"text": "a", "text2": "b"}"#,
        ] {
            let result = call_tool(&plugin, "word_count", input);
            assert!(
                result["err"]["invalid-input"]
                    .as_str()
                    .is_some_and(|why| !why.is_empty()),
                "{lang:?}: word_count({input:?}) = {result}"
            );
        }
        let big = json!({ "text": "word ".repeat(20_000) }).to_string();
        for input in [r#"{"text": "é ü  ☃\u2003x"}"#, big.as_str()] {
            let first = call_tool(&plugin, "word_count", input);
            let second = call_tool(&plugin, "word_count", input);
            assert_eq!(first, second, "{lang:?}: same input, same output");
            seen.push(first);
        }
        answers.push(seen);
    }
    assert_eq!(
        json!(answers[0]),
        json!([{"ok": r#"{"words":4}"#}, {"ok": r#"{"words":20000}"#}])
    );
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:?}"
    );
}

/// `handle` for an event with `payload` as the text sent.
fn handle(plugin: &Plugin, point: &str, subject: &str, payload: &str) -> Value {
    plugin
        .call_json(
            "handle",
            &[json!({"point": point, "subject": subject, "payload": payload})],
        )
        .unwrap_or_else(|e| panic!("handle({point}, {subject}, {payload:.80}): {e}"))
}

#[test]
fn tool_guard_keeps_the_hook_contract_in_every_language() {
    const BEFORE: &str = "before-tool-call";
    // (subject, payload, expected decision): the same in every language, reasons included.
    let table: Vec<(&str, Value, Value)> = vec![
        (
            "delete_file",
            json!({"path": "/etc/passwd"}),
            json!({"deny": "`delete_file` would touch `/etc/passwd`, which is under /etc"}),
        ),
        (
            "run",
            json!({"args": ["-v", "/etc/shadow"], "command": "cat /tmp/../etc/hosts"}),
            json!({"deny": "`run` would touch `/etc/shadow`, which is under /etc"}),
        ),
        ("read_file", json!({"path": "/etcetera/x"}), json!("allow")),
        (
            "read_file",
            json!({"path": "/etc/../tmp/x"}),
            json!("allow"),
        ),
        ("write_file", json!({"text": "hi", "n": 1}), json!("allow")),
    ];
    let mut reasons = Vec::new();
    for lang in LANGS {
        let plugin = load("tool-guard", lang, &[], Value::Null);
        assert_exports(&plugin, "plinth:hook/hook@0.1.0", lang);

        assert_examples(
            &plugin,
            &example_dir("tool-guard", lang),
            &format!("{lang:?}"),
        );
        for (subject, payload, expected) in &table {
            let decision = handle(&plugin, BEFORE, subject, &payload.to_string());
            assert_eq!(&decision, expected, "{lang:?}: {subject} {payload}");
            reasons.push(decision);
        }

        // Odd payloads and other points: a decision, never a trap.
        let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let large = json!({"text": "x".repeat(64 * 1024)}).to_string();
        for payload in ["not json", "", "{}", "[1]", "null", &nested, &large] {
            let decision = handle(&plugin, BEFORE, "read_file", payload);
            assert_eq!(decision, json!("allow"), "{lang:?}: {payload:.40}");
        }
        let elsewhere = handle(
            &plugin,
            "after-tool-call",
            "x",
            r#"{"path": "/etc/passwd"}"#,
        );
        assert_eq!(elsewhere, json!("allow"), "{lang:?}");

        // The operator's deny list, read only with `config`.
        let settings = json!({"deny_subjects": ["rm"]});
        let plugin = load("tool-guard", lang, &[Grant::Config], settings.clone());
        assert_eq!(
            handle(&plugin, BEFORE, "rm", "{}"),
            json!({"deny": "`rm` is denied by the operator's settings (`deny_subjects`)"}),
            "{lang:?}"
        );
        let ungranted = load("tool-guard", lang, &[], settings);
        assert_eq!(
            handle(&ungranted, BEFORE, "rm", "{}"),
            json!("allow"),
            "{lang:?}"
        );
    }
    let per_lang = reasons.len() / LANGS.len();
    assert!(
        reasons
            .chunks(per_lang)
            .all(|chunk| chunk == &reasons[..per_lang]),
        "{reasons:?}"
    );
}

#[test]
fn greet_keeps_the_command_contract_in_every_language() {
    let usage = "usage: greet [--shout] [NAME...]";
    // (grants, settings, args, expected result)
    let table: Vec<(&[Grant], Value, Vec<&str>, Value)> = vec![
        (&[], Value::Null, vec!["--help"], json!({"ok": usage})),
        (
            &[],
            Value::Null,
            vec!["-x", "Ada"],
            json!({"err": format!("unknown option `-x`; {usage}")}),
        ),
        (&[], Value::Null, vec!["Zoë"], json!({"ok": "Hello, Zoë!"})),
        (
            &[Grant::Config],
            json!({"greeting": "Howdy"}),
            vec!["--shout", "Ada"],
            json!({"ok": "HOWDY, ADA!"}),
        ),
        // Settings are read only with the `config` grant.
        (
            &[],
            json!({"greeting": "Howdy"}),
            vec!["Ada"],
            json!({"ok": "Hello, Ada!"}),
        ),
    ];
    for lang in LANGS {
        let plugin = load("greet", lang, &[], Value::Null);
        assert_exports(&plugin, "plinth:command/command@0.1.0", lang);
        assert_examples(&plugin, &example_dir("greet", lang), &format!("{lang:?}"));
        for (grants, settings, args, expected) in &table {
            let plugin = load("greet", lang, grants, settings.clone());
            let result = plugin.call_json("run", &[json!(args)]).unwrap();
            assert_eq!(&result, expected, "{lang:?}: run({args:?}) with {grants:?}");
        }
    }
}

#[test]
fn reference_plugins_pass_their_kinds_conformance_kits() {
    // `built` stages each example and runs `plinth build` on the Python and JavaScript ones.
    let home = tempfile::tempdir().unwrap();
    for (name, kind) in [
        ("word-count", "tool"),
        ("tool-guard", "hook"),
        ("greet", "command"),
    ] {
        for lang in LANGS {
            let dir = built(name, lang);
            assert_kit_passes(home.path(), kind, &dir, &format!("{name} ({lang:?})"));
        }
    }
}

#[test]
fn one_component_provides_several_kinds() {
    // `export!(Kinds: tool, hook, command)`: lifecycle once, and each kind's interface.
    let plugin = crate::languages::host()
        .load(test_programs::PDK_KINDS)
        .expect("the pdk-kinds guest loads");
    let interfaces = plugin.exports().interfaces();
    for expected in [
        "plinth:plugin/lifecycle@0.1.0",
        "plinth:tool/tool@0.1.0",
        "plinth:hook/hook@0.1.0",
        "plinth:command/command@0.1.0",
    ] {
        assert!(
            interfaces.contains(&expected),
            "{expected} not in {interfaces:?}"
        );
    }

    let listed = plugin.call_json("list-tools", &[]).unwrap();
    assert_eq!(listed[0]["output-schema"], json!(r#"{"type":"object"}"#));
    // The PDK answers names it does not list and input that breaks the schema itself.
    assert_eq!(
        call_tool(&plugin, "other", "{}"),
        json!({"err": {"unknown-tool": "other"}})
    );
    assert_eq!(
        call_tool(&plugin, "echo", r#"{"n": 1.5}"#),
        json!({"err": {"invalid-input": "`/n`: expected integer, got number"}})
    );
    assert_eq!(
        call_tool(&plugin, "echo", r#"{"n":2}"#),
        json!({"ok": r#"{"n":2}"#})
    );

    // Undeclared points are allowed unseen; an empty reason gets one; modify is an object.
    assert_eq!(handle(&plugin, "elsewhere", "quiet", "{}"), json!("allow"));
    assert_eq!(
        handle(&plugin, "before-echo", "quiet", "{}"),
        json!({"deny": "denied by a hook at `before-echo`"})
    );
    assert_eq!(
        handle(&plugin, "before-echo", "add", "not json"),
        json!({"modify": r#"{"added":true}"#})
    );

    assert_eq!(
        plugin.call_json("run", &[json!(["a", "b"])]).unwrap(),
        json!({"ok": "a b"})
    );
}

#[test]
fn reference_plugins_answer_through_the_typed_kind_api() {
    use plinth_host::kinds::{Command, Decision, Hook, HookEvent, Tool};

    for lang in LANGS {
        let plugin = load("word-count", lang, &[], Value::Null);
        let tools = plugin.kind::<Tool>().unwrap();
        tools
            .verify_reported()
            .unwrap_or_else(|e| panic!("{lang:?}: {e}"));
        let output = tools
            .call("word_count", &json!({"text": "one two  three"}))
            .unwrap();
        assert_eq!(output, json!({"words": 3}), "{lang:?}");

        let plugin = load("tool-guard", lang, &[], Value::Null);
        let hooks = plugin.kind::<Hook>().unwrap();
        let event =
            |subject: &str, payload: Value| HookEvent::new("before-tool-call", subject, payload);
        assert_eq!(
            hooks
                .handle(&event("delete_file", json!({"path": "/etc/passwd"})))
                .unwrap(),
            Decision::Deny("`delete_file` would touch `/etc/passwd`, which is under /etc".into()),
            "{lang:?}"
        );
        assert_eq!(
            hooks
                .handle(&event("write_file", json!({"text": " hi "})))
                .unwrap(),
            Decision::Modify(json!({"text": "hi"})),
            "{lang:?}"
        );

        let plugin = load("greet", lang, &[], Value::Null);
        let answer = plugin
            .kind::<Command>()
            .unwrap()
            .run(&["Ada".into()])
            .unwrap();
        assert_eq!(answer, Ok("Hello, Ada!".to_string()), "{lang:?}");
    }
}
