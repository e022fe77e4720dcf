//! Every guest is used by a test or a benchmark, as Wasmtime's `assert_test_exists` checks
//! its `foreach_*` macros: a guest nothing loads is a build step for nothing, or the trace of
//! a test that was lost.
//!
//! The check reads the workspace's test sources (`crates/*/tests/**.rs`,
//! `examples/*/tests/**.rs`, `benches/**.rs`) and looks for each constant of
//! [`test_programs::foreach_guest!`], spelled `test_programs::NAME` or imported by a
//! `use test_programs::{…, NAME, …}` list. This crate's own tests are left out: they check
//! every artifact's file and run none of them.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The repository root, from this crate's `crates/test-programs`.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `.rs` files under the folders that hold tests and benchmarks.
fn test_sources(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.join("benches")];
    for parent in ["crates", "examples"] {
        let parent = root.join(parent);
        let entries =
            fs::read_dir(&parent).unwrap_or_else(|e| panic!("read {}: {e}", parent.display()));
        for entry in entries {
            let dir = entry.expect("directory entry").path();
            if dir.file_name() != Some("test-programs".as_ref()) {
                dirs.push(dir.join("tests"));
            }
        }
    }
    let mut files = Vec::new();
    for dir in dirs {
        collect_rust_files(&dir, &mut files);
    }
    files.sort();
    files
}

/// Adds every `.rs` file below `dir` (if it exists) to `files`, skipping hidden folders
/// and build output.
fn collect_rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            collect_rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The identifiers `source` names through `test_programs::`: the one after the path
/// (`test_programs::HELLO`), or each one of a braced `use` list
/// (`use test_programs::{HELLO, TINY as SMALL}`). Line comments are not code.
fn names_used(source: &str) -> BTreeSet<String> {
    const PATH: &str = "test_programs::";
    let code: String = source
        .lines()
        .map(|line| match line.find("//") {
            Some(comment) => &line[..comment],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices(PATH) {
        let rest = &code[at + PATH.len()..];
        let named = match rest.strip_prefix('{') {
            Some(list) => &list[..list.find('}').unwrap_or(list.len())],
            None => &rest[..rest.find(|c| !is_ident(c)).unwrap_or(rest.len())],
        };
        names.extend(
            named
                .split(|c| !is_ident(c))
                .filter(|word| !word.is_empty())
                .map(str::to_string),
        );
    }
    names
}

#[test]
fn every_guest_is_used_by_a_test_or_a_benchmark() {
    let root = root();
    let files = test_sources(&root);
    // The search found the workspace's tests, not an empty folder.
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("crates/plinth-host/tests/all/main.rs")),
        "no test sources under {}: {files:?}",
        root.display()
    );

    let mut used = BTreeSet::new();
    for file in &files {
        let source =
            fs::read_to_string(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        used.extend(names_used(&source));
    }

    let mut unused = Vec::new();
    macro_rules! check_used {
        ($name:ident, $constant:ident) => {
            if !used.contains(stringify!($constant)) {
                unused.push(stringify!($constant));
            }
        };
    }
    test_programs::foreach_guest!(check_used);
    assert!(
        unused.is_empty(),
        "no test or benchmark uses the guests {unused:?}: use each in a test (as \
         `test_programs::NAME`), or remove it from crates/test-programs"
    );
}

#[test]
fn guest_names_are_found_in_paths_and_use_lists_but_not_comments() {
    let source = "use test_programs::{HELLO, TINY as SMALL};\n\
                  let bytes = std::fs::read(test_programs::CAPS)?;\n\
                  // test_programs::SLEEPY is not used here\n\
                  let dir = test_programs::example_dir(\"visits\"); // test_programs::VISITS\n";
    let names = names_used(source);
    for name in ["HELLO", "TINY", "CAPS"] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    for name in ["SLEEPY", "VISITS"] {
        assert!(
            !names.contains(name),
            "{name} found in a comment: {names:?}"
        );
    }
}
