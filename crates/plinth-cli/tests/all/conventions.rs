//! Command-line conventions (docs/design/0035): options after positional arguments, `--`
//! and negative numbers; untrusted text escaped on the terminal; a closed stdout is a quiet
//! end, not a panic.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{isolate_system_dir, plinth};
use serde_json::{Value, json};

/// The `hello` example in `dir`, its manifest edited by `edit`.
fn hello_plugin(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let example = test_programs::example_dir("hello");
    let manifest = std::fs::read_to_string(example.join("plugin.toml")).unwrap();
    std::fs::write(dir.join("plugin.toml"), edit(manifest)).unwrap();
    std::fs::copy(
        example.join("settings.schema.json"),
        dir.join("settings.schema.json"),
    )
    .unwrap();
    std::fs::copy(test_programs::HELLO, dir.join("hello.wasm")).unwrap();
    dir.to_path_buf()
}

/// The characters [`terminal_safe`] escapes that the tests below put into plugin text.
///
/// [`terminal_safe`]: ../../src/output.rs
const RAW: [char; 5] = ['\u{1b}', '\u{7}', '\r', '\u{202e}', '\u{7f}'];

#[track_caller]
fn assert_no_raw_controls(text: &str, what: &str) {
    for c in RAW {
        assert!(!text.contains(c), "{what} holds {c:?} unescaped: {text:?}");
    }
}

#[test]
fn call_takes_options_after_its_arguments() {
    let home = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let hello = hello_plugin(&root.path().join("hello"), |m| m);
    let dir = hello.display().to_string();

    // As git or cargo: an option after the positional arguments is an option.
    let run = plinth(
        home.path(),
        &[
            "call",
            &dir,
            "run",
            r#"["Ada"]"#,
            "--grant",
            "log",
            "--grant",
            "config",
        ],
    );
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, r#"{"ok":"Hello, Ada!"}"#),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("[example.hello] greeting Ada"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("missing-grant"), "{}", run.stderr);
    // Global flags too: `-q` hides the info record, `--json` shapes the output.
    let run = plinth(
        home.path(),
        &[
            "call",
            &dir,
            "run",
            r#"["Ada"]"#,
            "--grant",
            "log",
            "-q",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json(), json!({"result": {"ok": "Hello, Ada!"}}));
    assert_eq!(run.stderr, "");
    // A malformed grant after the arguments is read as a grant, and refused as one.
    let run = plinth(
        home.path(),
        &["--json", "call", &dir, "run", "[]", "--grant", "log:x"],
    );
    assert_eq!((run.code, run.first_code().as_str()), (2, "bad-argument"));
    let message = run.json()["diagnostics"][0]["message"].to_string();
    assert!(message.contains("invalid grant"), "{message}");

    // A negative number stays an argument, wherever it stands.
    let types = test_programs::TYPES;
    for (args, sum) in [
        (["add", "1", "-2"], "-1"),
        (["add", "-5", "-2"], "-7"),
        (["add", "-9", "-9"], "-18"),
    ] {
        let mut argv = vec!["call", types];
        argv.extend(args);
        argv.extend(["--fuel", "100000000"]);
        let run = plinth(home.path(), &argv);
        assert_eq!(
            (run.code, run.stdout.trim()),
            (0, sum),
            "{args:?}: {}",
            run.stderr
        );
    }
    // Any other word starting with `-` is an option; an unknown one is a usage error.
    let run = plinth(home.path(), &["call", types, "add", "1", "-x"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("'-x'"), "{}", run.stderr);

    // `--` ends the options: after it everything is a program argument (`argv[1..]`), also
    // words that look like options, and also after JSON arguments.
    let run = plinth(
        home.path(),
        &[
            "call",
            test_programs::FIDELITY_CMD,
            "wasi:cli/run#run",
            "--",
            "--grant",
            "log:x",
            "-q",
            "-5",
            "--",
        ],
    );
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, r#"{"ok":null}"#),
        "{}",
        run.stderr
    );
    for line in [
        "arg: --grant\n",
        "arg: log:x\n",
        "arg: -q\n",
        "arg: -5\n",
        "arg: --\n",
    ] {
        assert!(run.stderr.contains(line), "{line:?}: {}", run.stderr);
    }
    let run = plinth(
        home.path(),
        &[
            "call",
            &dir,
            "run",
            r#"["Ada"]"#,
            "--grant",
            "log",
            "--",
            "--grant",
            "log:x",
            "--fuel",
            "1",
        ],
    );
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, r#"{"ok":"Hello, Ada!"}"#),
        "{}",
        run.stderr
    );
}

#[test]
fn grant_and_revoke_take_options_after_their_grants() {
    let home = tempfile::tempdir().unwrap();
    isolate_system_dir(home.path());
    hello_plugin(&home.path().join("plugins/hello"), |m| m);
    let run = plinth(home.path(), &["grant", "example.hello", "log", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json();
    let run = plinth(home.path(), &["revoke", "example.hello", "log", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
}

/// What a plugin writes reaches the terminal escaped: its log lines and captured output,
/// its trap message; the result's JSON escapes what serde_json would leave raw.
#[test]
fn call_escapes_plugin_text() {
    let home = tempfile::tempdir().unwrap();

    // Captured stdout becomes log lines: escaped, one line each.
    let run = plinth(
        home.path(),
        &[
            "call",
            test_programs::FIDELITY_CMD,
            "wasi:cli/run#run",
            "--",
            "\u{1b}[2Jwiped",
            "over\rwritten",
            "abc\u{202e}fed",
            "bell\u{7}",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_raw_controls(&run.stderr, "stderr");
    for line in [
        r"[fidelity-cmd] arg: \u{1b}[2Jwiped",
        r"[fidelity-cmd] arg: over\rwritten",
        r"[fidelity-cmd] arg: abc\u{202e}fed",
        r"[fidelity-cmd] arg: bell\u{7}",
    ] {
        assert!(
            run.stderr.lines().any(|l| l == line),
            "{line}: {}",
            run.stderr
        );
    }

    // A trap message: the diagnostic escapes it, and its lines cannot pass for Plinth's.
    let run = plinth(
        home.path(),
        &[
            "call",
            test_programs::HOSTILE,
            "panic",
            r#""\u001b[31mred\u202e\nerror[fuel-exhausted]: forged""#,
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_no_raw_controls(&run.stderr, "stderr");
    assert!(
        run.stderr.contains(r"\u{1b}[31mred\u{202e}"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr
            .lines()
            .any(|l| l.starts_with("error[fuel-exhausted]")),
        "a forged diagnostic line: {}",
        run.stderr
    );
    assert!(
        run.stderr.lines().any(|l| l.starts_with("error[trap]: ")),
        "{}",
        run.stderr
    );
    // `--json` keeps the message as it is: JSON escapes it.
    let run = plinth(
        home.path(),
        &[
            "--json",
            "call",
            test_programs::HOSTILE,
            "panic",
            r#""\u001b[31mred""#,
        ],
    );
    assert_eq!(run.first_code(), "trap");
    assert_no_raw_controls(&run.stdout, "stdout");
    let message = run.json()["diagnostics"][0]["message"].to_string();
    assert!(message.contains(r"\u001b[31mred"), "{message}");

    // A result holding DEL, a C1 control or a bidi override: JSON escapes, same value.
    let text = "a\u{7f}b\u{9b}c\u{202e}d\u{1b}e";
    let arg = serde_json::to_string(text).unwrap();
    for json in [false, true] {
        let mut args = vec!["call", test_programs::TYPES, "echo-string", &arg];
        if json {
            args.insert(0, "--json");
        }
        let run = plinth(home.path(), &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_no_raw_controls(&run.stdout, "stdout");
        assert!(!run.stdout.contains('\u{9b}'), "{:?}", run.stdout);
        let value: Value = serde_json::from_str(&run.stdout).unwrap();
        let value = if json { &value["result"] } else { &value };
        assert_eq!(value, &json!(text));
    }
}

/// Manifest text (`show`), plugin folder names (`list`) and index text (`search`) are
/// escaped in text output.
#[test]
fn show_list_and_search_escape_untrusted_text() {
    let home = tempfile::tempdir().unwrap();
    isolate_system_dir(home.path());
    let root = tempfile::tempdir().unwrap();
    let edit = |m: String| {
        m.replace(r#"name = "Hello""#, r#"name = "\u001b]0;pwned\u0007Hello""#)
            .replace(
                r#"description = "Greets by name, or echoes its arguments.""#,
                r#"description = "Greets \u202eeman yb\nforged: line""#,
            )
    };
    let hello = hello_plugin(&root.path().join("hello"), edit);
    let run = plinth(home.path(), &["show", &hello.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_raw_controls(&run.stdout, "show");
    assert!(
        run.stdout
            .contains(r"  name:        \u{1b}]0;pwned\u{7}Hello"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(r"  description: Greets \u{202e}eman yb\nforged: line"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.lines().any(|l| l.starts_with("forged")));
    let run = plinth(
        home.path(),
        &["--json", "show", &hello.display().to_string()],
    );
    assert_no_raw_controls(&run.stdout, "show --json");
    assert_eq!(run.json()["name"], json!("\u{1b}]0;pwned\u{7}Hello"));

    // A plugin folder whose name holds an escape sequence: `list` shows its path escaped,
    // and the columns line up with the escaped text.
    hello_plugin(&home.path().join("plugins/x\u{1b}[2Jy"), |m| m);
    let run = plinth(home.path(), &["list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_raw_controls(&run.stdout, "list");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(lines[1].ends_with(r"x\u{1b}[2Jy"), "{}", run.stdout);

    // An index's name and description.
    let index = root.path().join("index.json");
    let doc = json!({
        "schema_version": 1,
        "plugins": [{
            "id": "example.evil",
            "name": "Evil\u{1b}[5m",
            "description": "blinks\u{202e}\nforged: line\u{9b}2J",
            "versions": [{
                "version": "1.0.0",
                "digest": format!("sha256:{}", "0".repeat(64)),
                "url": "evil.plinth",
            }],
        }],
    });
    std::fs::write(&index, doc.to_string()).unwrap();
    let run = plinth(
        home.path(),
        &["search", "--index", &index.display().to_string()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_raw_controls(&run.stdout, "search");
    assert!(!run.stdout.contains('\u{9b}'), "{:?}", run.stdout);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "ID            LATEST  NAME           DESCRIPTION",
            r"example.evil  1.0.0   Evil\u{1b}[5m  blinks\u{202e}\nforged: line\u{9b}2J",
        ],
        "{}",
        run.stdout
    );
}

/// Runs `plinth --home HOME ARGS` with stdout a pipe whose reading end is already closed.
fn plinth_into_closed_pipe(home: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    crate::common::plinth_command()
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("PLINTH_HOME")
        .stdout(writer)
        .output()
        .expect("plinth runs")
}

/// `plinth … | head -0`: the reader is gone before plinth writes. plinth neither panics
/// (exit 101) nor dies of `SIGPIPE`; it ends with the command's own exit code.
#[test]
fn a_closed_stdout_is_a_quiet_end() {
    let home = tempfile::tempdir().unwrap();
    isolate_system_dir(home.path());
    let hello = hello_plugin(&home.path().join("plugins/hello"), |m| m);
    let hello = hello.display().to_string();
    let cases: [(&[&str], i32); 6] = [
        (&["list", "--json"], 0),
        (&["list"], 0),
        (&["show", &hello], 0),
        // A result of 1 MiB.
        (&["call", test_programs::HOSTILE, "huge-string", "1"], 0),
        (
            &["--json", "call", test_programs::TYPES, "add", "1", "2"],
            0,
        ),
        // A failure printed on stdout keeps its own code.
        (&["--json", "call", test_programs::TYPES, "nope"], 2),
    ];
    for (args, code) in cases {
        let output = plinth_into_closed_pipe(home.path(), args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {:?}\n{stderr}",
            output.status
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
    }
}

/// Another write error on stdout (a full disk) is a failure: `io-error`, exit 1, no panic.
#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_is_an_io_error() {
    let home = tempfile::tempdir().unwrap();
    isolate_system_dir(home.path());
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let output = crate::common::plinth_command()
        .arg("--home")
        .arg(home.path())
        .args(["list", "--json"])
        .env_remove("PLINTH_HOME")
        .stdout(full)
        .output()
        .expect("plinth runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error[io-error]: cannot write to stdout: "),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
