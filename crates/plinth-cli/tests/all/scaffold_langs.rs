//! The "done means" of Python and JavaScript plugins, as a user types it:
//! `plinth new x --lang python && cd x && plinth build && plinth call . …`, the same with
//! `--lang js`, for every kind of project (the default `tool`, `hook`, `command`, and the
//! 0.1.0 `--kind plugin`); a kind's project answers every example of its
//! `conformance.toml`. The Rust projects' walk is `new_build.rs`.
//!
//! Needs componentize-py and componentize-js (`scripts/install-lang-tools`). Each project is
//! componentized (5–8 s) and compiled by the load in `plinth build` (10–25 s). Neither
//! toolchain writes the same bytes twice (a fresh digest every build), so no compile cache
//! can carry over between runs: each test has a temp home of its own, and the four builds
//! take turns (each compile holds ~300 MB and a core).

use std::path::PathBuf;
use std::sync::Mutex;

use crate::common::{assert_ok, plinth_in};
use crate::reference_kinds::{assert_answer, assert_kit_passes, example_call, examples_in};
use serde_json::Value;

/// A temp root, and the plinth home inside it.
fn root() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::Builder::new()
        .prefix("plinth-scaffold")
        .tempdir()
        .expect("temp dir");
    let home = root.path().join("home");
    (root, home)
}

/// How a project is tried: the `plinth` arguments with the project `x` as the target, and
/// the same as `plinth new` prints them for a shell.
struct Try {
    argv: &'static [&'static str],
    shell: &'static str,
}

/// `plinth new x --lang LANG [--kind KIND]`, then `plinth build`, and the hint's command
/// run in `x` (target `.`) and beside it; returns its stdout and checks the hint `new`
/// printed.
fn new_build_call(lang: &str, kind: Option<&str>, try_it: &Try) -> String {
    // One componentize + compile at a time: each takes ~300 MB and a core.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());

    let (root, home) = root();
    let mut new = vec!["new", "x", "--lang", lang];
    if let Some(kind) = kind {
        new.extend(["--kind", kind]);
    }
    let created = plinth_in(&home, root.path(), &new);
    assert_ok(&created, &new.join(" "));
    let kind = kind.unwrap_or("tool (default)");
    let next = created
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("next: "))
        .unwrap_or_else(|| panic!("no `next:` hint: {}", created.stdout));
    assert_eq!(
        next,
        format!("plinth build x && {}", try_it.shell),
        "{lang} {kind}: the hint runs the call this test runs"
    );

    let project = root.path().join("x");
    // Built from inside the project, as the README says, or from its parent, as the hint.
    let built = if matches!(kind, "hook" | "command") {
        plinth_in(&home, root.path(), &["build", "x"])
    } else {
        plinth_in(&home, &project, &["build"])
    };
    assert_ok(&built, &format!("plinth build ({lang} {kind})"));
    assert!(project.join("x.wasm").is_file(), "{lang} {kind}: x.wasm");
    assert!(
        built.stdout.starts_with("built x → "),
        "{lang} {kind}: {}",
        built.stdout
    );

    let args: Vec<&str> = try_it
        .argv
        .iter()
        .map(|arg| if *arg == "x" { "." } else { arg })
        .collect();
    let called = plinth_in(&home, &project, &args);
    assert_ok(&called, &format!("plinth call . ({lang} {kind})"));

    // A kind's project answers the examples it was generated with.
    if project.join("conformance.toml").is_file() {
        for example in examples_in(&project) {
            let (export, args) = example_call(&example);
            let args: Vec<String> = args.iter().map(Value::to_string).collect();
            let mut argv = vec!["--json", "call", ".", export];
            argv.extend(args.iter().map(String::as_str));
            let run = plinth_in(&home, &project, &argv);
            assert_ok(&run, &argv.join(" "));
            assert_answer(&example, &run.json()["result"], &format!("{lang} {kind}"));
        }
        let kit = kind.trim_end_matches(" (default)");
        assert_kit_passes(&home, kit, &project, lang);
    }

    // The call as the hint has it runs cleanly: the templates log, and the hint grants it.
    let suggested = plinth_in(&home, root.path(), try_it.argv);
    assert_ok(&suggested, &format!("the suggested call ({lang} {kind})"));
    assert_eq!(suggested.stdout, called.stdout);
    for sign in ["warning[", "] warning: ", "missing-grant"] {
        assert!(
            !suggested.stderr.contains(sign),
            "{lang} {kind}: {sign:?} in\n{}",
            suggested.stderr
        );
    }
    called.stdout
}

const TOOL: Try = Try {
    argv: &[
        "tool",
        "--grant",
        "log",
        "x",
        "word_count",
        r#"{"text": "one two three"}"#,
    ],
    shell: r#"plinth tool --grant log x word_count '{"text": "one two three"}'"#,
};
const HOOK: Try = Try {
    argv: &[
        "hook",
        "--grant",
        "log",
        "--subject",
        "delete_file",
        "x",
        "before-tool-call",
        r#"{"path": "/tmp/notes.txt"}"#,
    ],
    shell: r#"plinth hook --grant log --subject delete_file x before-tool-call '{"path": "/tmp/notes.txt"}'"#,
};
const COMMAND: Try = Try {
    argv: &["call", "--grant", "log", "x", "run", r#"["you"]"#],
    shell: r#"plinth call --grant log x run '["you"]'"#,
};
const HOOK_DENIED: &str = "deny: `delete_file` deletes things; this hook stops it\n";
const WORDS: &str = "{\"words\":3}\n";

#[test]
fn python_tool_project_builds_and_calls() {
    let out = new_build_call("python", None, &TOOL);
    assert_eq!(out, WORDS);
}

#[test]
fn python_plugin_project_builds_and_calls() {
    let out = new_build_call("python", Some("plugin"), &COMMAND);
    assert_eq!(out, "{\"ok\":\"Hello, you!\"}\n");
}

#[test]
fn js_tool_project_builds_and_calls() {
    let out = new_build_call("js", None, &TOOL);
    assert_eq!(out, WORDS);
}

#[test]
fn js_plugin_project_builds_and_calls() {
    let out = new_build_call("js", Some("plugin"), &COMMAND);
    assert_eq!(out, "{\"ok\":\"Hello, you!\"}\n");
}

#[test]
fn python_hook_project_builds_and_calls() {
    let out = new_build_call("python", Some("hook"), &HOOK);
    assert_eq!(out, HOOK_DENIED);
}

#[test]
fn python_command_project_builds_and_calls() {
    let out = new_build_call("python", Some("command"), &COMMAND);
    assert_eq!(out, "{\"ok\":\"Hello, you!\"}\n");
}

#[test]
fn js_hook_project_builds_and_calls() {
    let out = new_build_call("js", Some("hook"), &HOOK);
    assert_eq!(out, HOOK_DENIED);
}

#[test]
fn js_command_project_builds_and_calls() {
    let out = new_build_call("js", Some("command"), &COMMAND);
    assert_eq!(out, "{\"ok\":\"Hello, you!\"}\n");
}
