//! `plinth wit diff` (docs/design/0038): a change judged in both directions, `--json`,
//! `--deny-breaking`, and WIT that cannot be read.

use std::path::{Path, PathBuf};

use crate::common::plinth;

/// A WIT package folder `dir` whose one file is `text`.
fn package(dir: &Path, text: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("main.wit"), text).unwrap();
    PathBuf::from(dir).display().to_string()
}

const OLD: &str = "package ex:kind@0.1.0;
interface api { run: func(); }
world plugin { export api; }
";

#[test]
fn wit_diff_judges_both_directions_and_denies_breaking_changes() {
    let home = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let old = package(&root.path().join("old"), OLD);
    let new = package(
        &root.path().join("new"),
        &OLD.replace("run: func();", "run: func(); health: func() -> bool;"),
    );

    let run = plinth(home.path(), &["wit", "diff", &old, &new]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "ex:kind/api#health: added (func() -> bool); old plugins on new host: breaking (old \
         plugins do not export it, and the new host calls it); new plugins on old host: \
         compatible\n1 change: 1 break old plugins on the new host, 0 break new plugins on the \
         old host\n"
    );

    // Options after the positionals; JSON names the item and both verdicts.
    let run = plinth(home.path(), &["wit", "diff", &old, &new, "--json"]);
    let doc = run.json();
    assert_eq!(doc["changes"][0]["item"], "ex:kind/api#health");
    assert_eq!(doc["changes"][0]["change"], "added");
    assert_eq!(
        doc["changes"][0]["old_plugins_on_new_host"]["verdict"],
        "breaking"
    );
    assert_eq!(
        doc["changes"][0]["new_plugins_on_old_host"]["verdict"],
        "compatible"
    );
    assert_eq!(doc["summary"]["breaking_old_plugins_on_new_host"], 1);

    let run = plinth(
        home.path(),
        &["wit", "diff", &old, &new, "--deny-breaking", "--json"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.first_code(), "breaking-wit-change");
    // The other way round, only new plugins on the old host break: not denied.
    let run = plinth(home.path(), &["wit", "diff", &new, &old, "--deny-breaking"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let bad = package(
        &root.path().join("bad"),
        "package ex:bad;\ninterface i { f: func(x: nope); }\n",
    );
    let run = plinth(home.path(), &["wit", "diff", &old, &bad, "--json"]);
    assert_eq!((run.code, run.first_code().as_str()), (1, "invalid-wit"));
    let missing = root.path().join("nothing").display().to_string();
    let run = plinth(home.path(), &["wit", "diff", &missing, &old, "--json"]);
    assert_eq!(
        (run.code, run.first_code().as_str()),
        (1, "missing-package")
    );
}
