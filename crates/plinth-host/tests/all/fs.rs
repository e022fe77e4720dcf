//! `plinth:host/fs` end to end through the `caps` guest, hostile paths included.

use plinth_host::manifest::diagnostic::{Code, ToDiagnostic};
use plinth_host::manifest::grant::Grant;
use plinth_host::{Host, HostError, LoadOptions, Plugin};
use serde_json::{Value, json};

struct Fixture {
    _outside: tempfile::TempDir,
    root: tempfile::TempDir,
    host: Host,
}

fn fixture() -> Fixture {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "top secret").unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("sub")).unwrap();
    std::fs::write(root.path().join("a.txt"), "alpha").unwrap();
    std::fs::write(root.path().join("sub/b.txt"), "beta").unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("escape")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        root.path().join("leak.txt"),
    )
    .unwrap();
    let host = Host::builder()
        .dir("docs", root.path())
        .dir("gone", root.path().join("does-not-exist"))
        .build()
        .unwrap();
    Fixture {
        _outside: outside,
        root,
        host,
    }
}

fn load(f: &Fixture, grants: impl IntoIterator<Item = Grant>) -> Plugin {
    f.host
        .load_with(
            test_programs::CAPS,
            LoadOptions::default().with_grants(grants),
        )
        .unwrap()
}

fn run(plugin: &Plugin, args: &[&str]) -> Result<String, String> {
    let out = plugin.call_json("run", &[json!(args)]).unwrap();
    match out {
        Value::Object(map) if map.contains_key("ok") => Ok(map["ok"].as_str().unwrap().into()),
        Value::Object(map) => Err(map["err"].as_str().unwrap().into()),
        other => panic!("unexpected result {other}"),
    }
}

fn err_code(result: Result<String, String>) -> String {
    let err = result.expect_err("the request must fail");
    err.split(':').next().unwrap().to_string()
}

#[test]
fn reads_inside_the_mapped_directory() {
    let f = fixture();
    let p = load(&f, [Grant::FsRead("docs".into())]);
    assert_eq!(run(&p, &["fs-read", "docs", "a.txt"]).unwrap(), "alpha");
    assert_eq!(
        run(&p, &["fs-read", "docs", "sub/./b.txt"]).unwrap(),
        "beta"
    );
    assert_eq!(
        run(&p, &["fs-list", "docs", ""]).unwrap(),
        "a.txt,escape,leak.txt,sub"
    );
    assert_eq!(
        run(&p, &["fs-meta", "docs", "a.txt"]).unwrap(),
        "EntryKind::File 5"
    );
    assert_eq!(
        run(&p, &["fs-meta", "docs", "escape"])
            .unwrap()
            .split(' ')
            .next(),
        Some("EntryKind::Symlink")
    );
    assert_eq!(err_code(run(&p, &["fs-read", "docs", "nope"])), "not-found");
    // WASI sees the same directory as /docs, read-only.
    assert_eq!(run(&p, &["std-read", "/docs/a.txt"]).unwrap(), "alpha");
    assert!(run(&p, &["std-write", "/docs/new.txt", "x"]).is_err());
    assert!(!f.root.path().join("new.txt").exists());
}

#[test]
fn hostile_paths_are_denied() {
    let f = fixture();
    let p = load(&f, [Grant::FsWrite("docs".into())]);
    for path in [
        "../secret.txt",
        "sub/../../x",
        "/etc/passwd",
        "escape/secret.txt",
        "leak.txt",
    ] {
        assert_eq!(
            err_code(run(&p, &["fs-read", "docs", path])),
            "fs-denied",
            "{path}"
        );
    }
    assert_eq!(
        err_code(run(&p, &["fs-write", "docs", "escape/planted", "x"])),
        "fs-denied"
    );
    assert_eq!(
        err_code(run(&p, &["fs-write", "docs", "../planted", "x"])),
        "fs-denied"
    );
    assert!(!f._outside.path().join("planted").exists());
    // WASI cannot leave the preopen either.
    assert!(run(&p, &["std-read", "/docs/escape/secret.txt"]).is_err());
    assert!(run(&p, &["std-read", "/etc/passwd"]).is_err());
}

#[test]
fn writes_need_the_write_grant_and_are_atomic() {
    let f = fixture();
    let reader = load(&f, [Grant::FsRead("docs".into())]);
    let err = run(&reader, &["fs-write", "docs", "w.txt", "x"]).unwrap_err();
    assert!(err.starts_with("missing-grant"), "{err}");
    assert!(err.contains("plinth grant caps fs.write:docs"), "{err}");
    assert!(!f.root.path().join("w.txt").exists());

    let writer = load(&f, [Grant::FsWrite("docs".into())]);
    assert_eq!(
        run(&writer, &["fs-write", "docs", "sub/w.txt", "one"]).unwrap(),
        "ok"
    );
    assert_eq!(
        run(&writer, &["fs-write", "docs", "sub/w.txt", "two"]).unwrap(),
        "ok"
    );
    assert_eq!(
        std::fs::read_to_string(f.root.path().join("sub/w.txt")).unwrap(),
        "two"
    );
    assert_eq!(
        run(&writer, &["std-write", "/docs/std.txt", "wasi"]).unwrap(),
        "ok"
    );
    assert_eq!(
        std::fs::read_to_string(f.root.path().join("std.txt")).unwrap(),
        "wasi"
    );
}

#[test]
fn ungranted_and_unmapped_directories() {
    let f = fixture();
    let p = load(&f, []);
    let err = run(&p, &["fs-read", "docs", "a.txt"]).unwrap_err();
    assert!(
        err.starts_with("missing-grant") && err.contains("plinth grant caps fs.read:docs"),
        "{err}"
    );
    assert!(
        run(&p, &["std-read", "/docs/a.txt"]).is_err(),
        "no preopen without a grant"
    );

    for dir in ["unmapped", "gone"] {
        let err = f
            .host
            .load_with(
                test_programs::CAPS,
                LoadOptions::default().with_grants([Grant::FsRead(dir.into())]),
            )
            .unwrap_err();
        assert!(
            matches!(&err, HostError::FsDenied { dir: d, .. } if d == dir),
            "{err}"
        );
        assert_eq!(err.to_diagnostic().code, Code::FsDenied);
        assert!(err.to_string().contains(dir), "{err}");
    }
}

/// Hostile: `[dirs]` entries overlapping Plinth's own directories. A write grant on the
/// directory holding the home, on a folder inside the home, or on the data directory
/// (protected without being declared) fails at load with `fs-denied` naming the reason;
/// on main all three loaded and the plugin could rewrite `plugins.toml`, the trust store
/// or the KV database. A read grant on the same directory still loads.
#[test]
fn write_grants_on_the_plinth_home_are_refused() {
    let top = tempfile::tempdir().unwrap();
    let home = top.path().join("home");
    std::fs::create_dir_all(home.join("plugins/x")).unwrap();
    std::fs::create_dir_all(home.join("data")).unwrap();
    let host = Host::builder()
        .protected_dir(&home)
        .data_dir(home.join("data"))
        .dir("top", top.path())
        .dir("inside", home.join("plugins/x"))
        .dir("data", home.join("data"))
        .build()
        .unwrap();
    let load = |grant: Grant| {
        host.load_with(
            test_programs::CAPS,
            LoadOptions::default().with_grants([grant]),
        )
    };
    for (name, relation) in [
        ("top", "contains"),
        ("inside", "lies inside"),
        ("data", "lies inside"),
    ] {
        let err = load(Grant::FsWrite(name.into())).unwrap_err();
        let diagnostic = err.to_diagnostic();
        assert_eq!(diagnostic.code, Code::FsDenied, "{diagnostic:?}");
        assert!(diagnostic.message.contains(relation), "{diagnostic:?}");
        assert!(
            diagnostic.message.contains(&format!("fs.write:{name}")),
            "{diagnostic:?}"
        );
    }
    load(Grant::FsRead("top".into())).unwrap();

    // Without the data directory, a host with no protected paths maps what it likes.
    let plain = Host::builder().dir("top", top.path()).build().unwrap();
    plain
        .load_with(
            test_programs::CAPS,
            LoadOptions::default().with_grants([Grant::FsWrite("top".into())]),
        )
        .unwrap();
}
