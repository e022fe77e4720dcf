//! `plinth list`, `show` and `check` execute no plugin code (DESIGN §1.2, §7): run on a
//! plugin whose start function traps, they succeed, while `plinth call` of the same plugin
//! (which must instantiate it) visibly fails with the trap.

use crate::common;

use crate::common::plinth;

const ID: &str = "test.start-trap";

/// A home with `test.start-trap` installed and enabled: its component's start function
/// executes `unreachable`, so any instantiation traps.
fn home_with_a_trapping_start() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("plugins").join(ID);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(test_programs::START_TRAP, dir.join("start.wasm")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{ID}\"\nversion = \"0.3.0\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"start.wasm\"\n"
        ),
    )
    .unwrap();
    common::isolate_system_dir(home.path());
    // Placed by hand and unsigned: a call by id needs `require_signatures = false`.
    common::allow_unsigned(home.path());
    let enabled = plinth(home.path(), &["enable", ID]);
    assert_eq!(enabled.code, 0, "{}", enabled.stderr);
    home
}

#[test]
fn running_it_traps_visibly() {
    let home = home_with_a_trapping_start();
    let call = plinth(home.path(), &["--json", "call", ID, "run"]);
    assert_eq!(call.code, 3, "{}\n{}", call.stdout, call.stderr);
    assert_eq!(call.first_code(), "trap", "{}", call.stdout);
}

#[test]
fn list_show_and_check_run_none_of_it() {
    let home = home_with_a_trapping_start();
    let dir = home.path().join("plugins").join(ID);

    let list = plinth(home.path(), &["--json", "list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let rows = list.json()["plugins"].as_array().unwrap().clone();
    let row = rows.iter().find(|r| r["id"] == ID).unwrap();
    assert_eq!(row["status"], "enabled", "{row}");

    let show = plinth(home.path(), &["--json", "show", ID]);
    assert_eq!(show.code, 0, "{}\n{}", show.stdout, show.stderr);
    // Imports and exports come from the component's type.
    let exports = show.json()["exports"].as_array().unwrap().clone();
    assert!(
        exports
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("run(")),
        "{}",
        show.stdout
    );

    let check = plinth(home.path(), &["--json", "check", dir.to_str().unwrap()]);
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);

    for run in [&list, &show, &check] {
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains("\"trap\""), "no trap reported: {all}");
        assert!(!all.contains("unreachable"), "no trap reported: {all}");
    }
}
