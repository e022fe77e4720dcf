//! `plinth new`, `plinth build` and `plinth call` end to end, with the real binary in temp
//! directories (`--home` included, so nothing is left behind).
//!
//! Building a new project compiles wit-bindgen for wasm32-wasip2; the projects are built
//! into the suite's one target directory for new projects (`common::projects_target`), so
//! they share that work with each other and with the other `new_*` tests. Each project
//! of a kind answers every example of the `conformance.toml` it was generated with.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::reference_kinds::{assert_answer, assert_kit_passes, example_call, examples_in};

const PLINTH: &str = env!("CARGO_BIN_EXE_plinth");

/// A temp root holding the plinth home and the projects, and the cargo target directory
/// they build into.
struct Root {
    dir: tempfile::TempDir,
    target: PathBuf,
}

impl Root {
    /// Projects built into the suite's shared target directory.
    fn new() -> Root {
        Root::with_target(|_| crate::common::projects_target())
    }

    /// Projects built into a target directory of their own, in the root: a test can tell
    /// whether cargo ran at all.
    fn with_own_target() -> Root {
        Root::with_target(|root| root.join("target"))
    }

    fn with_target(target: impl FnOnce(&Path) -> PathBuf) -> Root {
        let dir = tempfile::Builder::new()
            .prefix("plinth-new-build")
            .tempdir()
            .expect("temp dir");
        let target = target(dir.path());
        Root { dir, target }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    fn target(&self) -> PathBuf {
        self.target.clone()
    }

    /// Runs `plinth --home <root>/home ARGS` in `cwd`.
    fn plinth(&self, cwd: &Path, args: &[&str]) -> Output {
        crate::common::plinth_command()
            .arg("--home")
            .arg(self.home())
            .args(args)
            .current_dir(cwd)
            .env("CARGO_TARGET_DIR", self.target())
            .env_remove("PLINTH_HOME")
            .output()
            .expect("run plinth")
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[track_caller]
fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The `next: ...` hint `plinth new` printed.
fn next_hint(output: &Output) -> String {
    stdout(output)
        .lines()
        .find_map(|line| line.strip_prefix("next: "))
        .unwrap_or_else(|| panic!("no `next:` line in {:?}", stdout(output)))
        .to_string()
}

/// Runs the hint in a shell, with this `plinth` first on PATH and the root's home.
#[cfg(unix)]
fn run_hint(root: &Root, hint: &str) -> Output {
    let bin_dir = Path::new(PLINTH).parent().expect("binary dir");
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let mut sh = Command::new("sh");
    crate::common::without_outer_lints(&mut sh)
        .args(["-c", hint])
        .current_dir(root.path())
        .env("PATH", path)
        .env("PLINTH_HOME", root.home())
        .env("PLINTH_FUNCTION_CACHE", crate::common::function_cache())
        .env("CARGO_TARGET_DIR", root.target())
        .output()
        .expect("run sh")
}

/// The suggested commands ran cleanly: no diagnostic warning from plinth and no warning
/// record in the plugin's log (`missing-grant` above all). cargo's own output is not judged.
#[track_caller]
fn assert_no_warning(output: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    for sign in ["warning[", "] warning: ", "missing-grant"] {
        assert!(!stderr.contains(sign), "{what}: {sign:?} in\n{stderr}");
    }
}

/// Runs every example of the project's `conformance.toml` through `plinth --json call`, then
/// the kind's conformance kit.
fn assert_project_examples(root: &Root, project: &Path, kind: &str) {
    let target = project.display().to_string();
    for example in examples_in(project) {
        let (export, args) = example_call(&example);
        let args: Vec<String> = args.iter().map(Value::to_string).collect();
        let mut argv = vec!["--json", "call", "--grant", "log", &target, export];
        argv.extend(args.iter().map(String::as_str));
        let called = root.plinth(root.path(), &argv);
        assert_success(&called, &argv.join(" "));
        let doc: Value = serde_json::from_str(&stdout(&called)).expect("JSON");
        assert_answer(&example, &doc["result"], &target);
    }
    assert_kit_passes(&root.home(), kind, project, &target);
}

/// Every file under `dir`, recursively (skipping `skip`).
fn files(dir: &Path, skip: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if skip.iter().any(|s| path.ends_with(s)) {
            continue;
        }
        if path.is_dir() {
            files(&path, skip, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn new_build_call_tool_with_checkout_and_plugin_vendored() {
    let root = Root::new();
    let started = std::time::Instant::now();

    // (a) a tool with the default PDK: the checkout this binary was built from.
    let created = root.plinth(root.path(), &["new", "x", "--kind", "tool"]);
    assert_success(&created, "plinth new x --kind tool");
    let checkout_pdk = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plinth-pdk")
        .canonicalize()
        .expect("the checkout's PDK");
    let cargo_toml = std::fs::read_to_string(root.path().join("x/Cargo.toml")).unwrap();
    assert!(
        cargo_toml.contains(&format!(
            "plinth-pdk = {{ path = \"{}\" }}",
            checkout_pdk.display()
        )),
        "{cargo_toml}"
    );
    assert!(!root.path().join("x/vendor").exists());
    let hint = next_hint(&created);
    assert_eq!(
        hint,
        r#"plinth build x && plinth tool --grant log x word_count '{"text": "one two three"}'"#
    );

    let manifest = std::fs::read_to_string(root.path().join("x/plugin.toml")).unwrap();
    assert!(manifest.contains("[[provides.tool]]"), "{manifest}");
    assert!(!manifest.contains("world ="), "{manifest}");
    assert!(root.path().join("x/word_count.schema.json").is_file());

    let built = root.plinth(root.path(), &["build", "x"]);
    assert_success(&built, "plinth build x");
    assert!(root.path().join("x/x.wasm").is_file());
    eprintln!("tool project built in {:?}", started.elapsed());
    assert_project_examples(&root, &root.path().join("x"), "tool");

    let called = root.plinth(
        root.path(),
        &[
            "call",
            "x",
            "call",
            r#""word_count""#,
            r#""{\"text\": \"a b c\"}""#,
        ],
    );
    assert_success(&called, "plinth call x call word_count");
    assert_eq!(stdout(&called), "{\"ok\":\"{\\\"words\\\":3}\"}\n");

    let called = root.plinth(
        root.path(),
        &[
            "--json",
            "call",
            "x",
            "plinth:tool/tool#call",
            r#""word_count""#,
            r#""{\"text\": \"one two\"}""#,
        ],
    );
    assert_success(&called, "plinth --json call x");
    let doc: Value = serde_json::from_str(&stdout(&called)).expect("JSON");
    assert_eq!(doc["result"]["ok"], r#"{"words":2}"#);

    #[cfg(unix)]
    {
        let ran = run_hint(&root, &hint);
        assert_success(&ran, &hint);
        assert_no_warning(&ran, &hint);
        // `plinth build` printed its line first.
        assert_eq!(stdout(&ran).lines().last(), Some(r#"{"words":3}"#));
    }

    // (b) a command plugin with the PDK and WIT written into the project, as on a machine
    // without a checkout; built from inside the project directory.
    let started = std::time::Instant::now();
    let created = root.plinth(
        root.path(),
        &["new", "y", "--kind", "plugin", "--vendor-pdk"],
    );
    assert_success(&created, "plinth new y --kind plugin --vendor-pdk");
    let project = root.path().join("y");
    let cargo_toml = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    assert!(
        cargo_toml.contains(r#"plinth-pdk = { path = "vendor/plinth-pdk" }"#),
        "{cargo_toml}"
    );
    assert!(project.join("vendor/plinth-pdk/build.rs").is_file());
    let deps = project.join("wit/plinth-plugin@0.1.0/deps/plinth-host");
    assert!(!deps.is_symlink() && deps.join("log.wit").is_file());
    // Nothing in the project points back into the checkout.
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let mut written = Vec::new();
    files(&project, &[], &mut written);
    for file in &written {
        assert!(!file.is_symlink(), "{} is a symlink", file.display());
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            !text.contains(&checkout.display().to_string()),
            "{} names the checkout",
            file.display()
        );
    }
    let hint = next_hint(&created);
    assert_eq!(
        hint,
        r#"plinth build y && plinth call --grant log y run '["you"]'"#
    );

    let built = root.plinth(&project, &["build"]);
    assert_success(&built, "plinth build (in y)");
    assert!(project.join("y.wasm").is_file());
    eprintln!("vendored plugin project built in {:?}", started.elapsed());
    // The vendored PDK was compiled, not the checkout's.
    let lock = std::fs::read_to_string(project.join("Cargo.lock")).unwrap();
    assert!(lock.contains("name = \"plinth-pdk\""), "{lock}");

    let called = root.plinth(root.path(), &["call", "y", "run", r#"["you"]"#]);
    assert_success(&called, "plinth call y run");
    assert_eq!(stdout(&called), "{\"ok\":\"Hello, you!\"}\n");

    #[cfg(unix)]
    {
        let ran = run_hint(&root, &hint);
        assert_success(&ran, &hint);
        assert_no_warning(&ran, &hint);
        assert!(
            String::from_utf8_lossy(&ran.stderr).contains("[y] greeting you"),
            "the granted log: {}",
            String::from_utf8_lossy(&ran.stderr)
        );
        // `plinth build` printed its line first.
        assert_eq!(
            stdout(&ran).lines().last(),
            Some("{\"ok\":\"Hello, you!\"}")
        );
    }
}

#[test]
fn new_build_call_hook_vendored_and_command() {
    let root = Root::new();

    // A hook, with the PDK and WIT written into the project.
    let created = root.plinth(
        root.path(),
        &["new", "guard", "--kind", "hook", "--vendor-pdk"],
    );
    assert_success(&created, "plinth new guard --kind hook --vendor-pdk");
    let project = root.path().join("guard");
    let manifest = std::fs::read_to_string(project.join("plugin.toml")).unwrap();
    assert!(manifest.contains("[[provides.hook]]"), "{manifest}");
    assert!(project.join("wit/plinth-hook@0.1.0/hook.wit").is_file());
    assert!(project.join("vendor/plinth-pdk/src/hook.rs").is_file());
    let hint = next_hint(&created);
    assert_eq!(
        hint,
        r#"plinth build guard && plinth hook --grant log --subject delete_file guard before-tool-call '{"path": "/tmp/notes.txt"}'"#
    );
    let built = root.plinth(root.path(), &["build", "guard"]);
    assert_success(&built, "plinth build guard");
    assert_project_examples(&root, &project, "hook");
    #[cfg(unix)]
    {
        let ran = run_hint(&root, &hint);
        assert_success(&ran, &hint);
        assert_no_warning(&ran, &hint);
        assert_eq!(
            stdout(&ran).lines().last(),
            Some("deny: `delete_file` deletes things; this hook stops it")
        );
    }

    // A command, with the checkout's PDK.
    let created = root.plinth(root.path(), &["new", "hi", "--kind", "command"]);
    assert_success(&created, "plinth new hi --kind command");
    let project = root.path().join("hi");
    let manifest = std::fs::read_to_string(project.join("plugin.toml")).unwrap();
    assert!(manifest.contains("[[provides.command]]"), "{manifest}");
    let hint = next_hint(&created);
    assert_eq!(
        hint,
        r#"plinth build hi && plinth call --grant log hi run '["you"]'"#
    );
    let built = root.plinth(root.path(), &["build", "hi"]);
    assert_success(&built, "plinth build hi");
    assert_project_examples(&root, &project, "command");
    #[cfg(unix)]
    {
        let ran = run_hint(&root, &hint);
        assert_success(&ran, &hint);
        assert_no_warning(&ran, &hint);
        assert_eq!(stdout(&ran).lines().last(), Some(r#"{"ok":"Hello, you!"}"#));
    }
}

/// The single diagnostic of a `--json` failure.
#[track_caller]
fn diagnostic(output: &Output, exit: i32) -> Value {
    assert_eq!(
        output.status.code(),
        Some(exit),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: Value = serde_json::from_str(&stdout(output)).expect("one JSON document");
    let diagnostics = doc["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 1, "{doc}");
    diagnostics[0].clone()
}

#[test]
fn new_refuses_an_existing_directory_and_an_invalid_name() {
    let root = Root::new();
    std::fs::create_dir(root.path().join("taken")).unwrap();
    std::fs::write(root.path().join("taken/keep.txt"), "mine").unwrap();
    let refused = root.plinth(root.path(), &["--json", "new", "taken"]);
    let d = diagnostic(&refused, 2);
    assert_eq!(d["code"], "bad-argument", "{d}");
    assert!(
        d["message"].as_str().unwrap().contains("already exists"),
        "{d}"
    );
    assert_eq!(
        std::fs::read_to_string(root.path().join("taken/keep.txt")).unwrap(),
        "mine"
    );

    for bad in ["Bad", "1st", "has space", "dot.ted", ""] {
        let refused = root.plinth(root.path(), &["--json", "new", bad, "--vendor-pdk"]);
        let d = diagnostic(&refused, 2);
        assert_eq!(d["code"], "bad-argument", "{bad:?}: {d}");
    }

    // Nothing was written besides the directory made above (no half-made project).
    let names: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "home")
        .collect();
    assert_eq!(names, ["taken"]);
}

#[test]
fn build_needs_a_cargo_package() {
    let root = Root::with_own_target();
    // A plugin directory with a manifest but no Cargo.toml.
    let created = root.plinth(root.path(), &["new", "z", "--vendor-pdk"]);
    assert_success(&created, "plinth new z");
    std::fs::remove_file(root.path().join("z/Cargo.toml")).unwrap();
    let failed = root.plinth(root.path(), &["--json", "build", "z"]);
    let d = diagnostic(&failed, 1);
    assert_eq!(d["code"], "missing-package", "{d}");
    assert!(d["message"].as_str().unwrap().contains("Cargo.toml"), "{d}");

    // An empty directory: no plugin.toml either.
    std::fs::create_dir(root.path().join("empty")).unwrap();
    let failed = root.plinth(&root.path().join("empty"), &["--json", "build"]);
    let d = diagnostic(&failed, 1);
    assert_eq!(d["code"], "missing-package", "{d}");
    assert!(!root.target().exists(), "cargo ran");
}
