//! Builds every guest used by Plinth's tests and writes `$OUT_DIR/guests.rs`.
//!
//! Three sources, as Wasmtime's `crates/test-programs/artifacts` does it:
//!
//! - the `guests/` cargo workspace: one `cargo build --release --target wasm32-wasip2
//!   --workspace`; every `cdylib` or `bin` member yields a component;
//! - the examples named in [`EXAMPLES`], built by `--manifest-path` into the same target
//!   directory (so the PDK and its dependencies are compiled once);
//! - every `wat/*.wat`, assembled with the `wat` crate (components, and core modules named
//!   `core_*` that tests use to check they are rejected).
//!
//! The inner cargo gets its own target directory (`<target>/guests`, outside the outer build's
//! lock), none of the outer build's flags, and the outer jobserver. Rerun triggers are the
//! source files only, so a build with nothing changed does not run this script again.

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The guests' compilation target.
const TARGET: &str = "wasm32-wasip2";

/// `examples/<name>` projects whose components tests use.
const EXAMPLES: &[&str] = &[
    "hello",
    "count-vowels",
    "waveform-scanner",
    "composer-research",
    "composer-hello",
    "visits",
    "word-count",
    "tool-guard",
    "yoi-bridge",
    "greet",
    "bitvault-thumbnail",
    "bitvault-events",
    "bitvault-faulty",
];

/// The first eight bytes of a binary component (magic, then version and layer).
const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// Folders this build reads, all absolute.
struct Layout {
    /// The repository root.
    root: PathBuf,
    /// `crates/test-programs`.
    crate_dir: PathBuf,
    /// `crates/test-programs/guests`, a cargo workspace.
    guests: PathBuf,
    /// The inner cargo's `--target-dir`.
    target_dir: PathBuf,
    /// This build script's `OUT_DIR`.
    out_dir: PathBuf,
}

/// One built `.wasm` file and where it came from.
struct Artifact {
    path: PathBuf,
    /// Said in the constant's documentation, e.g. "`examples/hello` (cdylib)".
    origin: String,
}

fn main() {
    let layout = Layout::from_env();
    watch_sources(&layout);
    check_target_installed();

    let mut artifacts = cargo_build(&layout, &layout.guests.join("Cargo.toml"));
    for example in EXAMPLES {
        let manifest = layout
            .root
            .join("examples")
            .join(example)
            .join("Cargo.toml");
        artifacts.extend(cargo_build(&layout, &manifest));
    }
    artifacts.extend(assemble_wat(&layout));

    let module = render_module(&layout, name_artifacts(artifacts));
    fs::write(layout.out_dir.join("guests.rs"), module).expect("write guests.rs");
}

impl Layout {
    fn from_env() -> Self {
        let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
        let root = crate_dir
            .join("../..")
            .canonicalize()
            .expect("the repository root exists");
        // An absolute CARGO_TARGET_DIR moves the outer build; put the guests next to it.
        let target_dir = match env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
            Some(dir) if dir.is_absolute() => dir,
            _ => root.join("target"),
        }
        .join("guests");
        Self {
            guests: crate_dir.join("guests"),
            crate_dir,
            root,
            target_dir,
            out_dir: PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo")),
        }
    }
}

/// Emits `rerun-if-changed` for every input of the guest builds, and nothing they write.
fn watch_sources(layout: &Layout) {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    watch(&layout.root.join("wit"));
    watch_crate(&layout.root.join("crates/plinth-pdk"));
    for example in EXAMPLES {
        watch_crate(&layout.root.join("examples").join(example));
    }
    // Adding a member edits guests/Cargo.toml.
    for file in ["Cargo.toml", "Cargo.lock", ".cargo"] {
        watch(&layout.guests.join(file));
    }
    for member in subdirectories(&layout.guests) {
        watch_crate(&member);
    }
    watch(&layout.crate_dir.join("wat"));
}

/// Watches a crate folder's entries except build output (`target/`, the `.wasm` copy that
/// `plinth build` places) and files no build reads (docs, manifests, ignore lists).
fn watch_crate(dir: &Path) {
    for entry in read_dir_sorted(dir) {
        let name = entry
            .file_name()
            .and_then(OsStr::to_str)
            .unwrap_or_default();
        let ignored = name == "target"
            || name == "plugin.toml"
            || name == ".gitignore"
            || name.ends_with(".wasm")
            || name.ends_with(".md");
        if !ignored {
            watch(&entry);
        }
    }
}

/// Watches `path` if it exists: cargo reruns a script on every build while a watched path is
/// missing.
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn read_dir_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("read {}: {err}", dir.display()))
        .map(|entry| entry.expect("read a directory entry").path())
        .collect();
    entries.sort();
    entries
}

fn subdirectories(dir: &Path) -> Vec<PathBuf> {
    read_dir_sorted(dir)
        .into_iter()
        .filter(|path| path.join("Cargo.toml").is_file())
        .collect()
}

/// Fails early, with the fix, when the standard library for the target is missing.
fn check_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .unwrap_or_else(|err| panic!("run {}: {err}", Path::new(&rustc).display()));
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if !output.status.success() || !libdir.is_dir() {
        panic!(
            "the `{TARGET}` target is not installed for this toolchain; the guest components \
             used by Plinth's tests are built for it. Run: rustup target add {TARGET}"
        );
    }
}

/// Runs `cargo build --release` for every package of the manifest's workspace and returns
/// the `.wasm` files of its `cdylib` and `bin` targets.
fn cargo_build(layout: &Layout, manifest: &Path) -> Vec<Artifact> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&layout.root)
        .args(["build", "--release", "--workspace", "--message-format=json"])
        .args(["--target", TARGET])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(&layout.target_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    clear_outer_build_env(&mut command);

    let mut child = command
        .spawn()
        .unwrap_or_else(|err| panic!("run cargo for {}: {err}", manifest.display()));
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut artifacts = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read cargo's output");
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") => artifacts.extend(wasm_artifacts(layout, &message)),
            Some("compiler-message") => report_diagnostic(&message),
            _ => {}
        }
    }
    let status = child.wait().expect("wait for cargo");
    if !status.success() {
        panic!(
            "building the guests of {} failed (errors above). Reproduce with: cargo build \
             --release --target {TARGET} --manifest-path {}",
            manifest.display(),
            manifest.display()
        );
    }
    artifacts
}

/// Removes what the outer build passes to build scripts that would change how the guests are
/// compiled: flags for the host target, the outer target directory, and clippy's wrapper
/// (which would lint the guests and make every clippy run rebuild them).
fn clear_outer_build_env(command: &mut Command) {
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let outer = matches!(
            key,
            "RUSTFLAGS" | "RUSTDOCFLAGS" | "RUSTC_WORKSPACE_WRAPPER" | "CARGO_ENCODED_RUSTFLAGS"
        ) || key.starts_with("CARGO_BUILD_")
            || key.starts_with("CARGO_TARGET_")
            || key.starts_with("CARGO_ENCODED_");
        if outer {
            command.env_remove(key);
        }
    }
}

fn wasm_artifacts(layout: &Layout, message: &Value) -> Vec<Artifact> {
    let kinds: Vec<&str> = message["target"]["kind"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let Some(kind) = kinds
        .into_iter()
        .find(|kind| matches!(*kind, "cdylib" | "bin"))
    else {
        return Vec::new();
    };
    let manifest = PathBuf::from(message["manifest_path"].as_str().unwrap_or_default());
    let package_dir = manifest.parent().unwrap_or(&manifest);
    let origin = format!("`{}` ({kind})", relative(&layout.root, package_dir));
    message["filenames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|file| file.ends_with(".wasm"))
        .map(|file| Artifact {
            path: PathBuf::from(file),
            origin: origin.clone(),
        })
        .collect()
}

/// Forwards guest warnings as build warnings (one line each) and prints errors in full.
fn report_diagnostic(message: &Value) {
    let diagnostic = &message["message"];
    let located = diagnostic["spans"]
        .as_array()
        .is_some_and(|spans| !spans.is_empty());
    match diagnostic["level"].as_str() {
        Some("warning") if located => {
            let span = &diagnostic["spans"][0];
            println!(
                "cargo:warning=guest {}: {} ({}:{})",
                message["target"]["name"].as_str().unwrap_or("?"),
                diagnostic["message"].as_str().unwrap_or_default(),
                span["file_name"].as_str().unwrap_or("?"),
                span["line_start"],
            );
        }
        Some("error") => eprint!("{}", diagnostic["rendered"].as_str().unwrap_or_default()),
        _ => {}
    }
}

/// Assembles every `wat/*.wat` into `$OUT_DIR/wat/<name>.wasm`.
fn assemble_wat(layout: &Layout) -> Vec<Artifact> {
    let source_dir = layout.crate_dir.join("wat");
    if !source_dir.is_dir() {
        return Vec::new();
    }
    let out_dir = layout.out_dir.join("wat");
    fs::create_dir_all(&out_dir).expect("create $OUT_DIR/wat");
    read_dir_sorted(&source_dir)
        .into_iter()
        .filter(|path| path.extension() == Some(OsStr::new("wat")))
        .map(|source| {
            let binary = wat::parse_file(&source).unwrap_or_else(|err| panic!("{err}"));
            let kind = if binary.starts_with(&COMPONENT_HEADER) {
                "component text"
            } else {
                "core module text"
            };
            let stem = source.file_stem().expect("a .wat file has a stem");
            let path = out_dir.join(stem).with_extension("wasm");
            fs::write(&path, binary)
                .unwrap_or_else(|err| panic!("write {}: {err}", path.display()));
            Artifact {
                path,
                origin: format!("`{}` ({kind})", relative(&layout.root, &source)),
            }
        })
        .collect()
}

/// Names each artifact after its file (`count_vowels.wasm` → `COUNT_VOWELS`), refusing two
/// artifacts with one name.
fn name_artifacts(artifacts: Vec<Artifact>) -> BTreeMap<String, Artifact> {
    let mut named = BTreeMap::new();
    for artifact in artifacts {
        let stem = artifact
            .path
            .file_stem()
            .and_then(OsStr::to_str)
            .unwrap_or_else(|| panic!("{} has no UTF-8 file name", artifact.path.display()));
        let name = stem.replace('-', "_").to_uppercase();
        let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.starts_with(|c: char| c.is_ascii_alphabetic());
        assert!(
            valid,
            "`{stem}` does not make a Rust constant name; rename the guest"
        );
        if let Some(previous) = named.insert(name.clone(), artifact) {
            panic!(
                "two guests are named {name}: {} and {}; rename one",
                previous.origin, named[&name].origin
            );
        }
    }
    named
}

fn render_module(layout: &Layout, artifacts: BTreeMap<String, Artifact>) -> String {
    let mut out = String::from("// @generated by crates/test-programs/build.rs\n\n");
    for (name, artifact) in &artifacts {
        let file = artifact
            .path
            .file_name()
            .and_then(OsStr::to_str)
            .unwrap_or_default();
        let path = artifact.path.to_str().expect("artifact paths are UTF-8");
        writeln!(out, "/// `{file}`, built from {}.", artifact.origin).ok();
        writeln!(out, "pub const {name}: &str = {path:?};\n").ok();
    }

    out.push_str("/// Every artifact as `(NAME, path)`, sorted by name.\n");
    out.push_str("pub const ALL: &[(&str, &str)] = &[\n");
    for name in artifacts.keys() {
        writeln!(out, "    ({name:?}, {name}),").ok();
    }
    out.push_str("];\n\n");

    out.push_str(FOREACH_DOC);
    out.push_str("#[macro_export]\nmacro_rules! foreach_guest {\n    ($mac:ident) => {\n");
    for name in artifacts.keys() {
        writeln!(out, "        $mac!({}, {name});", snake_ident(name)).ok();
    }
    out.push_str("    };\n}\n\n");

    let examples = layout.root.join("examples");
    writeln!(out, "/// `examples/` in this checkout.").ok();
    writeln!(
        out,
        "const EXAMPLES_DIR: &str = {:?};",
        examples.to_str().expect("UTF-8 path")
    )
    .ok();
    out
}

const FOREACH_DOC: &str = "\
/// Calls `$mac!(name, CONSTANT)` once per artifact, sorted: `name` is the constant in snake
/// case (a raw identifier where it is a keyword), usable as a test function's name.
///
/// ```
/// macro_rules! check_exists {
///     ($name:ident, $constant:ident) => {
///         assert!(std::path::Path::new(test_programs::$constant).is_file());
///     };
/// }
/// test_programs::foreach_guest!(check_exists);
/// ```
";

/// `START_TRAP` → `start_trap`; `LOOP` → `r#loop`.
fn snake_ident(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do",
        "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in",
        "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
        "return", "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe",
        "unsized", "use", "virtual", "where", "while", "yield",
    ];
    let snake = name.to_lowercase();
    if KEYWORDS.contains(&snake.as_str()) {
        format!("r#{snake}")
    } else {
        snake
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
