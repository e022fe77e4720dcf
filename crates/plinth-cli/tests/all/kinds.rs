//! `plinth tool`, `plinth hook`, `plinth test --conformance` and kinds in `show`, `list`
//! and `check`, on the `kinds` test guest.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::plinth;

const SCHEMA: &str = r#"{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}"#;
const TALLY: &str = r#"{"type":"object","properties":{"key":{"type":"string","minLength":1}},"required":["key"],"additionalProperties":false}"#;

fn plugin(root: &Path, id: &str) -> PathBuf {
    let dir = root.join(id);
    fs::create_dir_all(&dir).unwrap();
    fs::copy(test_programs::KINDS, dir.join("kinds.wasm")).unwrap();
    fs::write(dir.join("word_count.json"), SCHEMA).unwrap();
    fs::write(dir.join("tally.json"), TALLY).unwrap();
    fs::write(
        dir.join("plugin.toml"),
        format!(
            r#"[plugin]
id = "{id}"
version = "0.1.0"

[runtime]
kind = "wasm-component"
component = "kinds.wasm"

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
priority = 3
"#
        ),
    )
    .unwrap();
    fs::write(
        dir.join("conformance.toml"),
        r#"
[[example]]
kind = "tool"
tool = "word_count"
input = { text = "one two  three" }
output = { words = 3 }

[[example]]
kind = "hook"
event = { point = "before-tool-call", subject = "read_file", payload = { path = "/etc/passwd" } }
decision = "deny"
"#,
    )
    .unwrap();
    dir
}

#[test]
fn tools_and_hooks_are_called_with_json_and_answer_json() {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    let dir = plugin(root.path(), "test.cli-kinds");
    let dir = dir.to_str().unwrap();

    let run = plinth(&home, &["tool", dir, "word_count", r#"{"text": "a b c"}"#]);
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, r#"{"words":3}"#),
        "{}",
        run.stderr
    );
    let run = plinth(
        &home,
        &["--json", "tool", dir, "word_count", r#"{"text": "a"}"#],
    );
    assert_eq!(run.json(), serde_json::json!({"result": {"words": 1}}));

    let run = plinth(
        &home,
        &["--json", "tool", dir, "word_count", r#"{"text": 3}"#],
    );
    assert_eq!((run.code, run.first_code().as_str()), (2, "invalid-input"));
    assert!(run.stdout.contains("/text"), "{}", run.stdout);
    let run = plinth(&home, &["--json", "tool", dir, "nope"]);
    assert_eq!((run.code, run.first_code().as_str()), (2, "unknown-tool"));
    let run = plinth(&home, &["--json", "tool", dir, "word_count", "not json"]);
    assert_eq!((run.code, run.first_code().as_str()), (2, "bad-argument"));

    let run = plinth(
        &home,
        &[
            "hook",
            dir,
            "before-tool-call",
            r#"{"path": "/etc/x"}"#,
            "--subject",
            "rm",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "deny: `rm` touches /etc/x, under /etc");
    let run = plinth(
        &home,
        &[
            "--json",
            "hook",
            dir,
            "before-tool-call",
            r#"{"text": " a "}"#,
        ],
    );
    assert_eq!(
        run.json(),
        serde_json::json!({"decision": "modify", "payload": {"text": "a"}})
    );

    // A point the hook does not declare is allowed.
    let run = plinth(
        &home,
        &[
            "--json",
            "hook",
            dir,
            "after-tool-call",
            r#"{"path": "/etc"}"#,
        ],
    );
    assert_eq!(run.json(), serde_json::json!({"decision": "allow"}));
}

#[test]
fn show_list_and_check_print_the_kinds_without_running_anything() {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    let dir = plugin(root.path(), "test.cli-kinds-show");
    let dir = dir.to_str().unwrap();

    let show = plinth(&home, &["--json", "show", dir]).json();
    let provides = &show["provides"];
    assert_eq!(provides["kinds"], serde_json::json!(["tool", "hook"]));
    assert_eq!(provides["tool"][0]["name"], "word_count");
    assert_eq!(
        provides["tool"][0]["input_schema"],
        serde_json::from_str::<serde_json::Value>(SCHEMA).unwrap()
    );
    assert_eq!(provides["hook"][0]["priority"], 3);
    let text = plinth(&home, &["show", dir]).stdout;
    assert!(text.contains("tool word_count: Counts the words"), "{text}");
    assert!(
        text.contains("hook on before-tool-call (priority 3)"),
        "{text}"
    );

    let check = plinth(&home, &["--json", "check", dir]);
    assert_eq!(check.code, 0, "{}", check.stdout);
    assert_eq!(check.json()["kinds"], serde_json::json!(["tool", "hook"]));

    // A declared kind the component lacks fails the check, naming the interface.
    let manifest = Path::new(dir).join("plugin.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        text.replace(
            "[[provides.hook]]",
            "[[provides.command]]\n[[provides.hook]]",
        ),
    )
    .unwrap();
    let check = plinth(&home, &["--json", "check", dir]);
    assert_eq!(
        check.code, 0,
        "the kinds guest provides command too: {}",
        check.stdout
    );
    fs::copy(test_programs::HELLO, Path::new(dir).join("kinds.wasm")).unwrap();
    let check = plinth(&home, &["--json", "check", dir]);
    assert_eq!(check.code, 1);
    let diagnostics = check.json()["diagnostics"].clone();
    assert!(
        diagnostics
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "kind-mismatch"
                && d["message"]
                    .as_str()
                    .unwrap()
                    .contains("plinth:tool/tool@0.1.0")),
        "{diagnostics}"
    );
}

#[test]
fn conformance_kits_report_each_case() {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    let dir = plugin(root.path(), "test.cli-kinds-kit");
    let dir = dir.to_str().unwrap();

    let run = plinth(&home, &["--json", "test", "--conformance", "tool", dir]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let report = run.json();
    assert_eq!(report["ok"], true);
    assert_eq!(report["failed"], 0);
    assert!(report["passed"].as_u64().unwrap() >= 10);

    let run = plinth(&home, &["test", "--conformance", "hook", dir]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("pass  examples-decide"),
        "{}",
        run.stdout
    );

    // No command examples and no command kind: the kit refuses with kind-mismatch.
    let run = plinth(&home, &["--json", "test", "--conformance", "command", dir]);
    assert_eq!((run.code, run.first_code().as_str()), (1, "kind-mismatch"));

    // A broken plugin fails, and says which cases.
    let broken = plugin(root.path(), "test.cli-kinds.mutant-unknown-traps");
    let run = plinth(
        &home,
        &["test", "--conformance", "tool", broken.to_str().unwrap()],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("FAIL  unknown-tool-answered"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("conformance-failed"), "{}", run.stderr);

    // An unknown kind is a usage error.
    let run = plinth(&home, &["--json", "test", "--conformance", "palette", dir]);
    assert_eq!((run.code, run.first_code().as_str()), (2, "bad-argument"));
}

/// Thoth's kinds (docs/design/0040) in `show` and `check`: formats and themes printed from
/// the manifest, and a declared kind the component lacks is `kind-mismatch` naming it.
#[test]
fn thoth_kinds_are_shown_and_checked() {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    let dir = root.path().join("test.cli-thoth");
    fs::create_dir_all(&dir).unwrap();
    fs::copy(test_programs::THOTH_KINDS, dir.join("thoth.wasm")).unwrap();
    fs::write(
        dir.join("night.json"),
        r##"{"name":"Night","appearance":"dark","colors":{"background":"#000","foreground":"#fff","accent":"#48f"}}"##,
    )
    .unwrap();
    let manifest = r#"[plugin]
id = "test.cli-thoth"
version = "0.1.0"

[runtime]
kind = "wasm-component"
component = "thoth.wasm"

[[provides.file-loader]]
name = "csv"
extensions = ["csv"]
media_types = ["text/csv"]

[[provides.exporter]]
name = "json"
extension = "json"
media_type = "application/json"

[[provides.data-source]]
name = "numbers"
title = "Numbers"

[[provides.theme]]
name = "night"
file = "night.json"
"#;
    fs::write(dir.join("plugin.toml"), manifest).unwrap();
    let path = dir.to_str().unwrap();

    let show = plinth(&home, &["--json", "show", path]).json();
    let provides = &show["provides"];
    assert_eq!(
        provides["kinds"],
        serde_json::json!(["file-loader", "exporter", "data-source", "theme"])
    );
    assert_eq!(
        provides["file-loader"][0]["extensions"],
        serde_json::json!(["csv"])
    );
    assert_eq!(provides["exporter"][0]["media_type"], "application/json");
    assert_eq!(provides["data-source"][0]["title"], "Numbers");
    let text = plinth(&home, &["show", path]).stdout;
    assert!(text.contains("file-loader csv: .csv text/csv"), "{text}");
    assert!(text.contains("theme night: night.json"), "{text}");

    let check = plinth(&home, &["--json", "check", path]);
    assert_eq!(check.code, 0, "{}", check.stdout);

    // The `kinds` guest exports none of Thoth's kinds.
    fs::copy(test_programs::KINDS, dir.join("thoth.wasm")).unwrap();
    let check = plinth(&home, &["--json", "check", path]);
    assert_eq!(check.code, 1);
    let diagnostics = check.json()["diagnostics"].clone();
    let mismatches: Vec<&str> = diagnostics
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "kind-mismatch")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    for interface in [
        "plinth:file-loader/file-loader@0.1.0",
        "plinth:exporter/exporter@0.1.0",
        "plinth:data-source/data-source@0.1.0",
    ] {
        assert!(
            mismatches.iter().any(|m| m.contains(interface)),
            "{interface}: {diagnostics}"
        );
    }
}

/// BitVault's kinds (docs/design/0045) in `show`, `check` and `test --conformance`: their
/// metadata printed from the manifest, the component checked against the served WIT, and a
/// declared kind the component lacks is `kind-mismatch` naming its interface.
#[test]
fn bitvault_kinds_are_shown_checked_and_tested() {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    let dir = root.path().join("test.cli-bitvault");
    fs::create_dir_all(&dir).unwrap();
    fs::copy(test_programs::BITVAULT_KINDS, dir.join("bitvault.wasm")).unwrap();
    let manifest = r#"[plugin]
id = "test.cli-bitvault"
version = "0.1.0"

[runtime]
kind = "wasm-component"
component = "bitvault.wasm"

[[provides.event-handler]]
name = "counter"
actions = ["deleted", "created"]

[[provides.policy-hook]]
name = "paths"

[[provides.search-analyzer]]
name = "standard"

[[provides.preview]]
name = "pgm"
media_types = ["image/x-portable-graymap"]
"#;
    fs::write(dir.join("plugin.toml"), manifest).unwrap();
    let path = dir.to_str().unwrap();

    let show = plinth(&home, &["--json", "show", path]).json();
    let provides = &show["provides"];
    assert_eq!(
        provides["kinds"],
        serde_json::json!(["event-handler", "policy-hook", "search-analyzer", "preview"])
    );
    assert_eq!(
        provides["event-handler"][0]["actions"],
        serde_json::json!(["created", "deleted"])
    );
    assert_eq!(
        provides["preview"][0]["media_types"],
        serde_json::json!(["image/x-portable-graymap"])
    );
    let text = plinth(&home, &["show", path]).stdout;
    assert!(
        text.contains("event-handler counter: created deleted"),
        "{text}"
    );
    assert!(
        text.contains("preview pgm: image/x-portable-graymap"),
        "{text}"
    );

    let check = plinth(&home, &["--json", "check", path]);
    assert_eq!(check.code, 0, "{}", check.stdout);
    crate::reference_kinds::assert_kit_passes(&home, "policy-hook", &dir, "bitvault-kinds");

    // The `thoth-kinds` guest exports none of BitVault's kinds.
    fs::copy(test_programs::THOTH_KINDS, dir.join("bitvault.wasm")).unwrap();
    let check = plinth(&home, &["--json", "check", path]);
    assert_eq!(check.code, 1);
    let diagnostics = check.json()["diagnostics"].clone();
    for interface in [
        "plinth:event-handler/event-handler@0.1.0",
        "plinth:policy-hook/policy-hook@0.1.0",
    ] {
        assert!(
            diagnostics
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == "kind-mismatch"
                    && d["message"].as_str().unwrap().contains(interface)),
            "{interface}: {diagnostics}"
        );
    }
}

#[test]
fn a_service_is_shown_with_its_queue_and_checked() {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    let dir = root.path().join("test.cli-service");
    fs::create_dir_all(&dir).unwrap();
    fs::copy(test_programs::SERVICE, dir.join("service.wasm")).unwrap();
    let manifest = r#"[plugin]
id = "test.cli-service"
version = "0.1.0"

[runtime]
kind = "wasm-component"
component = "service.wasm"

[capabilities]
websocket = ["chat"]

[[provides.service]]
queue = 64
overflow = "shed"
deadline_ms = 250
"#;
    fs::write(dir.join("plugin.toml"), manifest).unwrap();
    let path = dir.to_str().unwrap();

    let show = plinth(&home, &["--json", "show", path]).json();
    let provides = &show["provides"];
    assert_eq!(provides["kinds"], serde_json::json!(["service"]));
    assert_eq!(provides["service"][0]["queue"], 64);
    assert_eq!(provides["service"][0]["overflow"], "shed");
    assert_eq!(provides["service"][0]["max_attempts"], 3);
    let text = plinth(&home, &["show", path]).stdout;
    assert!(
        text.contains("service: queue 64 (shed when full), 1 at once, deadline 250 ms, 3 attempts"),
        "{text}"
    );
    // A manifest that asks for a policy the host does not know is refused with its key.
    fs::write(
        dir.join("plugin.toml"),
        manifest.replace("\"shed\"", "\"drop-oldest\""),
    )
    .unwrap();
    let check = plinth(&home, &["--json", "check", path]);
    assert_ne!(check.code, 0);
    let text = format!("{}{}", check.stdout, check.stderr);
    assert!(text.contains("invalid-manifest"), "{text}");
    assert!(text.contains("provides.service[0].overflow"), "{text}");
}
