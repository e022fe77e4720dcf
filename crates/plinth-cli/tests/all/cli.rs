//! The `plinth` binary: diagnostics, `--json` shapes and exit codes (DESIGN §6–7).

use crate::common::plinth;
use std::path::Path;

use serde_json::json;

fn hello_dir(manifest_edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(test_programs::HELLO);
    std::fs::copy(example, dir.path().join("hello.wasm")).unwrap();
    let manifest =
        std::fs::read_to_string(test_programs::example_dir("hello").join("plugin.toml")).unwrap();
    std::fs::write(dir.path().join("plugin.toml"), manifest_edit(manifest)).unwrap();
    // The manifest's `[settings] schema`: part of a complete plugin folder.
    std::fs::copy(
        test_programs::example_dir("hello").join("settings.schema.json"),
        dir.path().join("settings.schema.json"),
    )
    .unwrap();
    dir
}

#[test]
fn check_reports_each_refusal_with_its_code_and_hint() {
    let home = tempfile::tempdir().unwrap();
    let legacy = hello_dir(|m| m.replace("wasm-component", "wasm"));
    let bad_digest = hello_dir(|m| {
        m.replace(
            "component = \"hello.wasm\"",
            &format!(
                "component = \"hello.wasm\"\ndigest = \"sha256:{}\"",
                "0".repeat(64)
            ),
        )
    });
    let cases = [
        (test_programs::CORE_MODULE.to_string(), "not-a-component"),
        (
            test_programs::UNSUPPORTED_IMPORT.to_string(),
            "unsupported-host-api",
        ),
        (legacy.path().display().to_string(), "legacy-runtime"),
        (bad_digest.path().display().to_string(), "digest-mismatch"),
        ("/no/such/plugin".to_string(), "missing-package"),
    ];
    for (target, code) in cases {
        let run = plinth(home.path(), &["--json", "check", &target]);
        assert_eq!(run.code, 1, "{target}: {}", run.stdout);
        let doc = run.json();
        assert_eq!(doc["ok"], json!(false));
        let diagnostic = &doc["diagnostics"][0];
        assert_eq!(diagnostic["code"], json!(code), "{target}");
        assert_eq!(diagnostic["severity"], json!("error"));
        assert!(
            diagnostic["hint"].as_str().is_some_and(|h| !h.is_empty()),
            "{diagnostic}"
        );
        // Text mode prints the same code on stderr.
        let text = plinth(home.path(), &["check", &target]);
        assert_eq!(text.code, 1);
        assert!(
            text.stderr.contains(&format!("error[{code}]")),
            "{}",
            text.stderr
        );
        assert!(text.stderr.contains("hint:"), "{}", text.stderr);
    }
    let good = hello_dir(|m| m);
    let run = plinth(
        home.path(),
        &["--json", "check", &good.path().display().to_string()],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["ok"], json!(true));
}

#[test]
fn call_prints_the_result_and_uses_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    let hello = hello_dir(|m| m);
    let dir = hello.path().display().to_string();

    let run = plinth(
        home.path(),
        &["call", "--grant", "log", &dir, "run", r#"["Ada"]"#],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), r#"{"ok":"Hello, Ada!"}"#);
    assert!(
        run.stderr.contains("[example.hello]"),
        "the plugin's log: {}",
        run.stderr
    );

    let run = plinth(home.path(), &["--json", "call", &dir, "run", r#"["Ada"]"#]);
    assert_eq!(run.json(), json!({"result": {"ok": "Hello, Ada!"}}));

    // Usage errors: 2.
    assert_eq!(
        plinth(home.path(), &["--json", "call", &dir, "run", "not json"]).first_code(),
        "bad-argument"
    );
    let run = plinth(home.path(), &["--json", "call", &dir, "nope"]);
    assert_eq!((run.code, run.first_code().as_str()), (2, "unknown-export"));
    let run = plinth(home.path(), &["--json", "call", &dir, "run", "1"]);
    assert_eq!((run.code, run.first_code().as_str()), (2, "bad-argument"));
    let run = plinth(home.path(), &["call", &dir, "run", "--grant", "fs.exec:x"]);
    assert_eq!(run.code, 2);

    // A negative number is an argument, and 64-bit integers are exact.
    let types = test_programs::TYPES;
    let run = plinth(
        home.path(),
        &["call", types, "add", "-5", "9007199254740993"],
    );
    assert_eq!((run.code, run.stdout.trim()), (0, "9007199254740988"));

    // Guest failures: 3.
    let hostile = test_programs::HOSTILE;
    let run = plinth(
        home.path(),
        &["--json", "call", "--fuel", "1000000", hostile, "spin"],
    );
    assert_eq!((run.code, run.first_code().as_str()), (3, "fuel-exhausted"));
    let run = plinth(
        home.path(),
        &[
            "--json",
            "call",
            "--timeout-ms",
            "200",
            "--fuel",
            "999999999999",
            hostile,
            "spin",
        ],
    );
    assert_eq!((run.code, run.first_code().as_str()), (3, "timeout"));
    let run = plinth(
        home.path(),
        &[
            "--json",
            "call",
            "--memory-mib",
            "16",
            hostile,
            "alloc-bomb",
            "64",
        ],
    );
    assert_eq!((run.code, run.first_code().as_str()), (3, "memory-limit"));
    let run = plinth(
        home.path(),
        &["--json", "call", hostile, "recurse", "100000000"],
    );
    assert_eq!((run.code, run.first_code().as_str()), (3, "stack-overflow"));
    let run = plinth(
        home.path(),
        &["--json", "call", hostile, "panic", r#""boom""#],
    );
    assert_eq!((run.code, run.first_code().as_str()), (3, "trap"));

    // Any component whose imports are satisfiable: a plain WASI command.
    let run = plinth(
        home.path(),
        &["call", test_programs::COMMAND, "wasi:cli/run#run"],
    );
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, r#"{"ok":null}"#),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hello from command"), "{}", run.stderr);
}

#[test]
fn show_reads_the_type_without_running_it() {
    let home = tempfile::tempdir().unwrap();
    let hello = hello_dir(|m| m);
    let run = plinth(
        home.path(),
        &["--json", "show", &hello.path().display().to_string()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["id"], json!("example.hello"));
    assert!(doc["exports"].as_array().unwrap().iter().any(|e| {
        e.as_str()
            .unwrap()
            .starts_with("plinth:plugin/command@0.1.0#run(args: list<string>)")
    }));
    assert!(
        doc["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == json!("plinth:host/log@0.1.0") && i["provided"] == json!(true))
    );
    // An unsupported import is shown, marked, not refused.
    let run = plinth(
        home.path(),
        &["--json", "show", test_programs::UNSUPPORTED_IMPORT],
    );
    assert_eq!(run.code, 0);
    assert_eq!(
        run.json()["imports"][0],
        json!({"name": "acme:secret/vault@1.0.0", "provided": false})
    );
}

#[test]
fn a_second_process_loads_from_the_compile_cache() {
    let home = tempfile::tempdir().unwrap();
    // Compiled components in the cache (beside it: the digest index, `digests/`).
    let compiled = || {
        std::fs::read_dir(home.path().join("cache"))
            .unwrap()
            .filter(|entry| {
                let path = entry.as_ref().unwrap().path();
                path.extension().is_some_and(|e| e == "cwasm")
            })
            .count()
    };
    assert_eq!(
        plinth(home.path(), &["call", test_programs::TYPES, "run"]).code,
        0
    );
    assert_eq!(compiled(), 1);
    assert_eq!(
        plinth(home.path(), &["call", test_programs::TYPES, "run"]).code,
        0
    );
    assert_eq!(compiled(), 1);
}

#[test]
fn call_maps_config_dirs_for_fs_grants() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("notes.txt"), "from the host").unwrap();
    let config = format!("[dirs]\ndata = {:?}\n", data.path().display().to_string());
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    let caps = test_programs::CAPS;

    let run = plinth(
        home.path(),
        &[
            "--json",
            "call",
            "--grant",
            "fs.read:data",
            caps,
            "run",
            r#"["fs-read", "data", "notes.txt"]"#,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json(), json!({"result": {"ok": "from the host"}}));

    // A directory the config does not map: refused at load, naming the fix.
    let run = plinth(
        home.path(),
        &[
            "--json",
            "call",
            "--grant",
            "fs.read:elsewhere",
            caps,
            "run",
            r#"["fs-read", "elsewhere", "notes.txt"]"#,
        ],
    );
    assert_eq!(run.first_code(), "fs-denied", "{}", run.stdout);
    let hint = run.json()["diagnostics"][0]["hint"].to_string();
    assert!(hint.contains("[dirs]"), "{hint}");
}

/// `wasi:cli/exit` ends a call: status 0 is success (exit 0), another status is the
/// `exit-status` diagnostic (exit 1, not the trap's 3). Arguments after `--` are the
/// guest's `argv[1..]`; `argv[0]` is the file name.
#[test]
fn call_handles_exits_and_program_arguments() {
    let home = tempfile::tempdir().unwrap();
    let cmd = test_programs::FIDELITY_CMD;
    let run = plinth(
        home.path(),
        &[
            "-v",
            "call",
            "--grant",
            "log",
            cmd,
            "wasi:cli/run#run",
            "--",
            "one",
            "two words",
        ],
    );
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, r#"{"ok":null}"#),
        "{}",
        run.stderr
    );
    for line in ["arg: fidelity-cmd.wasm", "arg: one", "arg: two words"] {
        assert!(run.stderr.contains(line), "{line}: {}", run.stderr);
    }
    let run = plinth(home.path(), &["call", cmd, "run", "--", "exit", "0"]);
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, r#"{"ok":null}"#),
        "{}",
        run.stderr
    );
    let run = plinth(
        home.path(),
        &["--json", "call", cmd, "run", "--", "exit", "3"],
    );
    assert_eq!((run.code, run.first_code().as_str()), (1, "exit-status"));
    let message = run.json()["diagnostics"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("exited with status 1"), "{message}");
    // A JSON argument that looks like an option still works before `--`.
    let probe = test_programs::FIDELITY;
    let run = plinth(home.path(), &["call", probe, "exit-with", "0"]);
    assert_eq!((run.code, run.stdout.trim()), (0, "null"), "{}", run.stderr);
    let run = plinth(home.path(), &["call", probe, "exit-before-value", "0"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("exit-status"), "{}", run.stderr);
}

/// A world that `use`s a WASI resource type at world level passes `check` and runs.
#[test]
fn check_and_call_accept_a_world_level_resource_type() {
    let home = tempfile::tempdir().unwrap();
    let wasm = test_programs::WORLD_RESOURCE_TYPE;
    let run = plinth(home.path(), &["check", wasm]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = plinth(home.path(), &["call", wasm, "answer"]);
    assert_eq!((run.code, run.stdout.trim()), (0, "42"), "{}", run.stderr);
}

/// The files under `dir`, recursively (none when it does not exist).
fn files_under(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { files_under(&p) } else { 1 })
        .sum()
}

#[test]
fn check_compiles_nothing_unless_asked() {
    let home = tempfile::tempdir().unwrap();
    let dir = hello_dir(|m| m);
    let target = dir.path().display().to_string();
    let run = plinth(home.path(), &["--json", "check", &target]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["kinds"], json!(["command"]));
    // `show` reads the type too: still nothing in the compile cache.
    assert_eq!(plinth(home.path(), &["show", &target]).code, 0);
    assert_eq!(files_under(&home.path().join("cache")), 0);
    let run = plinth(home.path(), &["--json", "check", "--compile", &target]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(files_under(&home.path().join("cache")) > 0);
}

/// A theme without a component (docs/design/0044): checked, shown, listed and enabled like
/// any plugin; `build` has nothing to build; a broken colour fails `check` with its path.
#[test]
fn a_theme_without_a_component_is_checked_listed_and_enabled() {
    let home = tempfile::tempdir().unwrap();
    crate::common::allow_unsigned(home.path());
    let dir = home.path().join("plugins/night");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        "[plugin]\nid = \"thoth.night\"\nversion = \"1.0.0\"\n\n[[provides.theme]]\nname = \"night\"\nfile = \"night.json\"\n",
    )
    .unwrap();
    let theme = |foreground: &str| {
        format!(
            r##"{{"name":"Night","appearance":"dark","colors":{{"background":"#000","foreground":"{foreground}","accent":"#48f"}}}}"##
        )
    };
    std::fs::write(dir.join("night.json"), theme("#fff")).unwrap();
    let target = dir.display().to_string();

    let run = plinth(home.path(), &["--json", "check", &target]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["kinds"], json!(["theme"]));
    let run = plinth(home.path(), &["--json", "show", &target]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["component"], json!(null));
    assert_eq!(run.json()["exports"], json!([]));
    assert!(
        run.json()["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    let run = plinth(home.path(), &["--json", "build", &target]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["diagnostics"][0]["code"], json!("bad-argument"));

    let run = plinth(home.path(), &["--json", "list"]);
    assert_eq!(run.json()["plugins"][0]["id"], json!("thoth.night"));
    assert_eq!(run.json()["plugins"][0]["status"], json!("disabled"));
    let run = plinth(home.path(), &["enable", "thoth.night"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let run = plinth(home.path(), &["--json", "list"]);
    assert_eq!(run.json()["plugins"][0]["enabled"], json!(true));
    let state = std::fs::read_to_string(home.path().join("plugins.toml")).unwrap();
    assert!(state.contains("plugins/night/plugin.toml"), "{state}");

    std::fs::write(dir.join("night.json"), theme("white")).unwrap();
    let run = plinth(home.path(), &["--json", "check", &target]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let diagnostic = &run.json()["diagnostics"][0];
    assert_eq!(diagnostic["code"], json!("invalid-theme"));
    assert!(
        diagnostic["message"]
            .as_str()
            .is_some_and(|m| m.contains("/colors/foreground")),
        "{diagnostic}"
    );
}
