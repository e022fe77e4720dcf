//! Running the real `plinth` binary from the CLI's integration tests.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// One finished `plinth` process.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout parsed as JSON (for `--json` runs).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }

    /// The code of the first diagnostic of a `--json` run.
    pub fn first_code(&self) -> String {
        self.json()["diagnostics"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// The per-function compile cache every `plinth` process of the suite shares
/// (`PLINTH_FUNCTION_CACHE`, docs/design/0063): a Python or JavaScript project built by one
/// test reuses the interpreter's compiled functions of every earlier build, whatever its
/// home. Under cargo's target directory, so nothing is left outside it.
pub fn function_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("function-cache")
}

/// A command running this suite's `plinth`, with the suite's [`function_cache`].
pub fn plinth_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plinth"));
    command.env("PLINTH_FUNCTION_CACHE", function_cache());
    without_outer_lints(&mut command);
    command
}

/// Keeps the lint wrapper CI builds this workspace with (`.ci/run`: clippy-driver with
/// warnings denied) away from the projects a test builds: they are a user's projects, with
/// a user's lint settings, whatever ran the suite.
pub fn without_outer_lints(command: &mut Command) -> &mut Command {
    command
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
}

/// Runs `plinth --home HOME ARGS`.
pub fn plinth(home: &Path, args: &[&str]) -> Run {
    run(plinth_command(), home, args)
}

/// Runs `plinth --home HOME ARGS` in `cwd`, ignoring any `PLINTH_HOME` of the caller.
pub fn plinth_in(home: &Path, cwd: &Path, args: &[&str]) -> Run {
    let mut command = plinth_command();
    command.current_dir(cwd).env_remove("PLINTH_HOME");
    run(command, home, args)
}

fn run(mut command: Command, home: &Path, args: &[&str]) -> Run {
    let output = command
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("plinth runs");
    Run {
        code: output.status.code().expect("exit code, not a signal"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The cargo target directory shared by every test that builds a new Rust project. The
/// projects depend on the same wit-bindgen and, unless they vendor it, the same checkout's
/// `plinth-pdk`, so these are compiled once per run of the suite rather than once per test;
/// cargo's lock on the directory takes concurrent builds in turn. It lives under cargo's
/// target directory (`CARGO_TARGET_TMPDIR`), so nothing is left outside it.
pub fn projects_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("new-projects")
}

/// `plinth new NAME --kind KIND [--lang LANG]` in `root`, checks the hint it prints (build,
/// then the kind's conformance kit), builds the project, and returns its folder.
pub fn new_kind_project_built(root: &Path, name: &str, kind: &str, lang: Option<&str>) -> PathBuf {
    let mut args = vec!["new", name, "--kind", kind];
    args.extend(lang.iter().flat_map(|lang| ["--lang", *lang]));
    let created = plinth_project(root, &args);
    assert_ok(&created, &args.join(" "));
    let next = created
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("next: "))
        .unwrap_or_else(|| panic!("no `next:` hint: {}", created.stdout));
    assert_eq!(
        next,
        format!("plinth build {name} && plinth test --conformance {kind} {name}")
    );
    let built = plinth_project(root, &["build", name]);
    assert_ok(&built, &format!("plinth build {name} ({kind} {lang:?})"));
    root.join(name)
}

/// Runs `plinth --home ROOT/home ARGS` in `root`, with [`projects_target`] as cargo's target
/// directory and any `PLINTH_HOME` of the caller ignored.
pub fn plinth_project(root: &Path, args: &[&str]) -> Run {
    let mut command = plinth_command();
    command
        .current_dir(root)
        .env("CARGO_TARGET_DIR", projects_target())
        .env_remove("PLINTH_HOME");
    run(command, &root.join("home"), args)
}

/// Fails with the run's output unless it exited 0.
#[track_caller]
pub fn assert_ok(run: &Run, what: &str) {
    assert_eq!(
        run.code, 0,
        "{what}: exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    );
}

/// An author's and a user's side: a work directory with the built `hello` example, and an
/// empty home.
pub struct Setup {
    pub root: tempfile::TempDir,
    pub work: PathBuf,
    pub home: PathBuf,
}

impl Setup {
    pub fn new() -> Setup {
        let root = tempfile::tempdir().unwrap();
        let work = root.path().join("work");
        let home = root.path().join("home");
        let plugin = work.join("hello");
        fs::create_dir_all(&plugin).unwrap();
        let example = test_programs::example_dir("hello");
        for name in ["plugin.toml", "settings.schema.json", "README.md"] {
            fs::copy(example.join(name), plugin.join(name)).unwrap();
        }
        fs::copy(test_programs::HELLO, plugin.join("hello.wasm")).unwrap();
        Setup { root, work, home }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        plinth_in(&self.home, &self.work, args)
    }

    pub fn listing(&self) -> BTreeMap<String, Vec<u8>> {
        listing(&self.home)
    }
}

/// Every file and directory under `root`, with file contents: equal listings mean a
/// byte-for-byte identical tree.
pub fn listing(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        if path.is_dir() {
            out.insert(rel, b"<dir>".to_vec());
            walk(root, &path, out);
        } else {
            out.insert(rel, fs::read(&path).unwrap());
        }
    }
}

/// Points the home's system plugin dir at an empty folder inside it, so plugins installed
/// on this machine's system dir do not leak into a test.
pub fn isolate_system_dir(home: &Path) {
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[paths]\nsystem_dir = \"{}\"\n",
            home.join("system").display()
        ),
    )
    .unwrap();
}

/// Adds `[security] require_signatures = false` to the home's `config.toml`, for tests of
/// unsigned plugin folders placed in the plugin directory by hand.
pub fn allow_unsigned(home: &Path) {
    let path = home.join("config.toml");
    let mut config = std::fs::read_to_string(&path).unwrap_or_default();
    config.push_str("\n[security]\nrequire_signatures = false\n");
    std::fs::write(path, config).unwrap();
}
