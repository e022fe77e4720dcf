//! `plinth new --kind` for Thoth's kinds (docs/design/0041), in Rust, Python and
//! JavaScript: each project builds as written and passes its kind's conformance kit, which
//! is also the command its `next:` hint runs.
//!
//! The Rust projects share the suite's cargo target directory for new projects
//! (`common::projects_target`: wit-bindgen is compiled once); the
//! Python and JavaScript projects need componentize-py and componentize-js
//! (`scripts/install-lang-tools`) and each language's are built one at a time (each compile holds ~300 MB
//! and a core).

use std::path::Path;

use crate::common::{new_kind_project_built, plinth_project};
use crate::reference_kinds::assert_kit_passes;

/// The kinds with a template, each with its kit.
const KINDS: &[&str] = &[
    "file-loader",
    "file-viewer",
    "exporter",
    "data-source",
    "theme-provider",
];

fn temp_root() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("plinth-new-thoth")
        .tempdir()
        .expect("temp dir")
}

/// `plinth new NAME --kind KIND [--lang LANG]` and `plinth build NAME` (checking the hint
/// `new` printed is that build and that kit), then the kit.
fn new_build_test(root: &Path, name: &str, kind: &str, lang: Option<&str>) {
    let project = new_kind_project_built(root, name, kind, lang);
    assert_kit_passes(
        &root.join("home"),
        kind,
        &project,
        &format!("{kind} {lang:?}"),
    );
}

#[test]
fn rust_templates_of_thoth_kinds_build_and_pass_their_kits() {
    // One target directory for every project, so wit-bindgen is compiled once.
    let root = temp_root();
    for kind in KINDS {
        new_build_test(root.path(), kind, kind, None);
    }
}

// One test per language, so that libtest runs the two languages' builds side by side.
#[test]
fn python_templates_of_thoth_kinds_build_and_pass_their_kits() {
    let root = temp_root();
    for kind in KINDS {
        new_build_test(root.path(), &format!("{kind}-python"), kind, Some("python"));
    }
}

#[test]
fn javascript_templates_of_thoth_kinds_build_and_pass_their_kits() {
    let root = temp_root();
    for kind in KINDS {
        new_build_test(root.path(), &format!("{kind}-js"), kind, Some("js"));
    }
}

#[test]
fn the_theme_template_is_a_plugin_without_a_component_that_checks() {
    let root = temp_root();
    let run = plinth_project(root.path(), &["--json", "new", "night", "--kind", "theme"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["next"], serde_json::json!("plinth check night"));
    let dir = root.path().join("night");
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    assert!(
        !manifest.lines().any(|line| line.trim() == "[runtime]"),
        "{manifest}"
    );
    let run = plinth_project(root.path(), &["--json", "check", "night"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["kinds"], serde_json::json!(["theme"]));
    // Nothing to build.
    assert_eq!(plinth_project(root.path(), &["build", "night"]).code, 2);
}
