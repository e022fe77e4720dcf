//! `plinth list/show/enable/disable/grant/revoke` and `call ID` on a home directory.

use crate::common;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn plinth(home: &Path, args: &[&str]) -> Output {
    crate::common::plinth_command()
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("plinth runs")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A home with `example.hello` installed in its user plugin directory.
fn home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("plugins/hello");
    std::fs::create_dir_all(&dir).unwrap();
    let example = test_programs::example_dir("hello");
    std::fs::copy(test_programs::HELLO, dir.join("hello.wasm")).unwrap();
    for file in ["plugin.toml", "settings.schema.json"] {
        std::fs::copy(example.join(file), dir.join(file)).unwrap();
    }
    // Paths in the system dir of this machine must not leak into the test.
    common::isolate_system_dir(home.path());
    // The folder is unsigned and not installed through `plinth install`: under the default
    // `require_signatures` a call by id refuses it (`unsigned`, see `identity.rs`).
    common::allow_unsigned(home.path());
    home
}

#[test]
fn list_shows_discovered_plugins_disabled_until_enabled() {
    let home = home();
    let out = plinth(home.path(), &["--json", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    let row = &doc["plugins"][0];
    assert_eq!(row["id"], "example.hello");
    assert_eq!(row["version"], "0.1.0");
    assert_eq!(row["enabled"], false, "presence never enables");
    assert_eq!(row["status"], "disabled");
    assert_eq!(row["requested"], serde_json::json!(["log", "config"]));
    assert!(
        !home.path().join("plugins.toml").exists(),
        "list writes nothing"
    );

    assert_eq!(
        plinth(home.path(), &["enable", "example.hello"])
            .status
            .code(),
        Some(0)
    );
    let doc = json(&plinth(home.path(), &["--json", "list"]));
    assert_eq!(doc["plugins"][0]["enabled"], true);
    assert_eq!(doc["plugins"][0]["status"], "enabled");
    let text = String::from_utf8(plinth(home.path(), &["list"]).stdout).unwrap();
    assert!(text.starts_with("ID "), "{text}");
    assert!(text.contains("example.hello  0.1.0"), "{text}");
    let state = std::fs::read_to_string(home.path().join("plugins.toml")).unwrap();
    assert!(
        state.contains("artifact_path = \"plugins/hello/hello.wasm\""),
        "{state}"
    );
}

#[test]
fn grant_warns_refuses_bad_syntax_and_revoke_removes() {
    let home = home();
    let out = plinth(home.path(), &["grant", "example.hello", "log", "kv"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning[missing-grant]") && stderr.contains("`kv`"),
        "{stderr}"
    );
    assert!(!stderr.contains("`log`"), "log was requested: {stderr}");

    let out = plinth(
        home.path(),
        &["--json", "grant", "example.hello", "fs.exec:x"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["diagnostics"][0]["code"], "bad-argument");

    let out = plinth(home.path(), &["--json", "revoke", "example.hello", "kv"]);
    assert_eq!(json(&out)["removed"], serde_json::json!(["kv"]));
    let doc = json(&plinth(home.path(), &["--json", "show", "example.hello"]));
    assert_eq!(doc["granted_capabilities"], serde_json::json!(["log"]));
    assert_eq!(
        doc["requested_capabilities"],
        serde_json::json!(["log", "config"])
    );

    let out = plinth(home.path(), &["--json", "grant", "no.such", "log"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["diagnostics"][0]["code"], "missing-package");
}

#[test]
fn call_by_id_needs_enabled_and_uses_the_states_grants_and_settings() {
    let home = home();
    let out = plinth(
        home.path(),
        &["--json", "call", "example.hello", "run", "[\"Ada\"]"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["diagnostics"][0]["code"], "disabled");

    plinth(home.path(), &["grant", "example.hello", "log", "config"]);
    plinth(home.path(), &["enable", "example.hello"]);
    let state_path = home.path().join("plugins.toml");
    let mut state = std::fs::read_to_string(&state_path).unwrap();
    state.push_str("instance = \"long-lived\"\n[plugins.entries.config]\ngreeting = \"Hi\"\n");
    std::fs::write(&state_path, state).unwrap();
    let out = plinth(
        home.path(),
        &["--json", "call", "example.hello", "run", "[\"Ada\"]"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json(&out)["result"], serde_json::json!({"ok": "Hi, Ada!"}));

    plinth(home.path(), &["disable", "example.hello"]);
    let out = plinth(home.path(), &["call", "example.hello", "run", "[\"Ada\"]"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn check_and_call_report_settings_that_break_the_schema() {
    let home = home();
    plinth(home.path(), &["grant", "example.hello", "log", "config"]);
    plinth(home.path(), &["enable", "example.hello"]);
    let state_path = home.path().join("plugins.toml");
    let mut state = std::fs::read_to_string(&state_path).unwrap();
    // hello's schema: `greeting` is a string, nothing else is allowed.
    state.push_str("[plugins.entries.config]\ngreeting = 5\n");
    std::fs::write(&state_path, state).unwrap();
    let dir = home.path().join("plugins/hello");
    let dir = dir.to_str().unwrap();

    let out = plinth(home.path(), &["--json", "check", dir]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc = json(&out);
    let diagnostic = &doc["diagnostics"][0];
    assert_eq!(diagnostic["code"], "rejected-schema", "{doc}");
    let message = diagnostic["message"].as_str().unwrap();
    assert!(message.starts_with("plugins.toml: "), "{message}");
    assert!(
        message.contains("`/greeting`") && message.contains("rule `type`"),
        "{message}"
    );

    let out = plinth(
        home.path(),
        &["--json", "call", "example.hello", "run", "[\"Ada\"]"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["diagnostics"][0]["code"], "rejected-schema");

    // Fixed settings pass the check.
    let state = std::fs::read_to_string(&state_path)
        .unwrap()
        .replace("greeting = 5", "greeting = \"Hi\"");
    std::fs::write(&state_path, state).unwrap();
    let out = plinth(home.path(), &["--json", "check", dir]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_state_file_from_a_newer_plinth_is_refused_and_kept() {
    let home = home();
    let text = "[plugins]\nschema_version = 9\n";
    std::fs::write(home.path().join("plugins.toml"), text).unwrap();
    let out = plinth(home.path(), &["--json", "enable", "example.hello"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["diagnostics"][0]["code"], "state-too-new");
    assert_eq!(
        std::fs::read_to_string(home.path().join("plugins.toml")).unwrap(),
        text
    );
}

#[test]
fn concurrent_grant_processes_lose_nothing() {
    let home = home();
    let children: Vec<_> = (0..6)
        .map(|i| {
            crate::common::plinth_command()
                .arg("--home")
                .arg(home.path())
                .args([
                    "-q",
                    "grant",
                    "example.hello",
                    &format!("events.publish:c{i}"),
                ])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let state = std::fs::read_to_string(home.path().join("plugins.toml")).unwrap();
    for i in 0..6 {
        assert!(
            state.contains(&format!("\"events.publish:c{i}\"")),
            "{state}"
        );
    }
}

#[test]
fn app_defined_capabilities_are_requested_and_granted_with_a_note() {
    let home = home();
    let manifest = home.path().join("plugins/hello/plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text.replace(
        "[capabilities]\n",
        "[capabilities]\nretrieval = [\"docs\"]\nllm = true\n",
    );
    std::fs::write(&manifest, text).unwrap();

    let doc = json(&plinth(home.path(), &["--json", "show", "example.hello"]));
    assert_eq!(
        doc["requested_capabilities"],
        serde_json::json!(["log", "config", "llm", "retrieval:docs"])
    );

    let out = plinth(home.path(), &["grant", "example.hello", "retrieval:docs"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note[unsupported-host-api]") && stderr.contains("app-defined"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("missing-grant"),
        "it was requested: {stderr}"
    );
    let doc = json(&plinth(home.path(), &["--json", "show", "example.hello"]));
    assert_eq!(
        doc["granted_capabilities"],
        serde_json::json!(["retrieval:docs"])
    );
}

#[test]
fn check_state_checks_every_entry_of_a_plugins_table_in_a_larger_file() {
    let home = home();
    let project = tempfile::tempdir().unwrap();
    let components = project.path().join("plugins/dist");
    std::fs::create_dir_all(&components).unwrap();
    std::fs::copy(test_programs::HELLO, components.join("hello.wasm")).unwrap();
    let waves = project.path().join("waves");
    std::fs::create_dir_all(&waves).unwrap();
    // A NovyWave-style file: its own tables, then `[plugins]`.
    let good = format!(
        r#"[workspace]
theme = "dark"

[plugins]
schema_version = 1

[[plugins.entries]]
id = "novywave.hello"
enabled = true
artifact_path = "plugins/dist/hello.wasm"
grants = ["log"]

[[plugins.entries]]
id = "example.hello"
enabled = true
grants = ["log", "config"]
[plugins.entries.config]
greeting = "Hi"
[plugins.entries.watch]
directories = ["{}"]
debounce_ms = 250
"#,
        waves.display()
    );
    let file = project.path().join("project.novywave");
    std::fs::write(&file, &good).unwrap();
    let before = std::fs::read(&file).unwrap();
    let out = plinth(
        home.path(),
        &["--json", "check", "--state", file.to_str().unwrap()],
    );
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert_eq!(doc["ok"], true);
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["id"], "novywave.hello");
    assert!(
        entries[0]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"),
        "{doc}"
    );
    // Found by id in the plugin directory.
    assert!(
        entries[1]["artifact"]
            .as_str()
            .unwrap()
            .ends_with("plugins/hello"),
        "{doc}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "check writes nothing"
    );

    // Every kind of mistake, each named with its entry.
    let bad = good
        .replace("greeting = \"Hi\"", "greeting = 5")
        .replace("\"plugins/dist/hello.wasm\"", "\"plugins/dist/gone.wasm\"")
        .replace("grants = [\"log\"]", "grants = [\"not a grant\"]")
        .replace(&waves.display().to_string(), "waves-not-named");
    std::fs::write(&file, &bad).unwrap();
    let out = plinth(
        home.path(),
        &["--json", "check", "--state", file.to_str().unwrap()],
    );
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(1), "{doc}");
    assert_eq!(doc["ok"], false, "{doc}");
    let codes = |i: usize| -> Vec<String> {
        doc["entries"][i]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(codes(0).contains(&"missing-package".to_owned()), "{doc}");
    assert!(codes(0).contains(&"bad-argument".to_owned()), "{doc}");
    assert!(codes(1).contains(&"rejected-schema".to_owned()), "{doc}");
    assert!(codes(1).contains(&"fs-denied".to_owned()), "{doc}");

    // A table the manager would refuse as a whole: one plugin twice.
    std::fs::write(
        &file,
        bad + "\n[[plugins.entries]]\nid = \"example.hello\"\n",
    )
    .unwrap();
    let out = plinth(
        home.path(),
        &["--json", "check", "--state", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["diagnostics"][0]["code"], "invalid-manifest");

    // Not a state file at all.
    let out = plinth(
        home.path(),
        &["--json", "check", "--state", "/no/such/file"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["diagnostics"][0]["code"], "missing-package");
}
