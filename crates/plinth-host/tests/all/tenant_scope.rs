//! Tenant- and path-bound storage (docs/design/0047): a plugin invoked on behalf of one
//! tenant, about one object folder, sees that tenant's key-value namespace and that folder
//! alone, whatever path or key spelling it tries; through `plinth:host/fs` and through
//! `wasi:filesystem` alike.

use plinth_host::manifest::diagnostic::{Code, ToDiagnostic};
use plinth_host::manifest::grant::Grant;
use plinth_host::{Host, HostError, InvocationScope, LoadOptions, Plugin};
use serde_json::{Value, json};

struct Fixture {
    _home: tempfile::TempDir,
    objects: tempfile::TempDir,
    host: Host,
}

/// `objects/` holds `acme/photos/cat.txt` and `globex/secret.txt`; inside acme's folder,
/// `link` and `abs` are symlinks to globex's (relative, and absolute), and
/// `acme/shortcut` is a symlink to `globex`.
fn fixture() -> Fixture {
    let home = tempfile::tempdir().unwrap();
    let objects = tempfile::tempdir().unwrap();
    let root = objects.path();
    std::fs::create_dir_all(root.join("acme/photos")).unwrap();
    std::fs::create_dir_all(root.join("globex")).unwrap();
    std::fs::write(root.join("acme/photos/cat.txt"), "acme cat").unwrap();
    std::fs::write(root.join("globex/secret.txt"), "globex secret").unwrap();
    std::os::unix::fs::symlink("../../globex", root.join("acme/photos/link")).unwrap();
    std::os::unix::fs::symlink(root.join("globex"), root.join("acme/photos/abs")).unwrap();
    std::os::unix::fs::symlink("../globex", root.join("acme/shortcut")).unwrap();
    let host = Host::builder()
        .data_dir(home.path().join("kv"))
        .dir("objects", root)
        .build()
        .unwrap();
    Fixture {
        _home: home,
        objects,
        host,
    }
}

fn load(f: &Fixture) -> Plugin {
    f.host
        .load_with(
            test_programs::CAPS,
            LoadOptions::default().with_grants([Grant::FsWrite("objects".into()), Grant::Kv]),
        )
        .unwrap()
}

fn run(plugin: &Plugin, args: &[&str]) -> Result<String, String> {
    match plugin.call_json("run", &[json!(args)]).unwrap() {
        Value::Object(map) if map.contains_key("ok") => Ok(map["ok"].as_str().unwrap().into()),
        Value::Object(map) => Err(map["err"].as_str().unwrap().into()),
        other => panic!("unexpected result {other}"),
    }
}

fn acme(plugin: &Plugin) -> Plugin {
    plugin
        .scoped(&InvocationScope::tenant("acme").with_path("objects", "acme/photos"))
        .unwrap()
}

/// Every spelling of a path to globex's secret a plugin of acme might try.
const SPELLINGS: &[&str] = &[
    "../../globex/secret.txt",
    "../globex/secret.txt",
    "./../../globex/secret.txt",
    "cat.txt/../../../globex/secret.txt",
    "/globex/secret.txt",
    "/objects/globex/secret.txt",
    "globex/secret.txt",
    "link/secret.txt",
    "abs/secret.txt",
    "%2e%2e/%2e%2e/globex/secret.txt",
    "..%2f..%2fglobex%2fsecret.txt",
    "..\\..\\globex\\secret.txt",
    "../../GLOBEX/secret.txt",
    "../../Globex/SECRET.TXT",
];

#[test]
fn a_scoped_call_sees_its_folder_as_the_whole_directory() {
    let f = fixture();
    let plugin = acme(&load(&f));
    assert_eq!(
        run(&plugin, &["fs-read", "objects", "cat.txt"]).unwrap(),
        "acme cat"
    );
    assert_eq!(
        run(&plugin, &["std-read", "/objects/cat.txt"]).unwrap(),
        "acme cat"
    );
    assert_eq!(
        run(&plugin, &["fs-list", "objects", ""]).unwrap(),
        "abs,cat.txt,link"
    );
    // Writes land in the folder too.
    run(&plugin, &["fs-write", "objects", "thumb.txt", "small cat"]).unwrap();
    assert_eq!(
        std::fs::read_to_string(f.objects.path().join("acme/photos/thumb.txt")).unwrap(),
        "small cat"
    );
}

#[test]
fn tenant_a_cannot_read_tenant_b_files_by_any_path_spelling() {
    let f = fixture();
    let plugin = acme(&load(&f));
    for path in SPELLINGS {
        let through_fs = run(&plugin, &["fs-read", "objects", path]);
        assert!(
            through_fs.is_err(),
            "plinth:host/fs read {path:?}: {through_fs:?}"
        );
        let wasi_path = if path.starts_with('/') {
            (*path).to_string()
        } else {
            format!("/objects/{path}")
        };
        let through_wasi = run(&plugin, &["std-read", &wasi_path]);
        assert!(
            through_wasi.is_err(),
            "wasi read {wasi_path:?}: {through_wasi:?}"
        );
        // A write either fails or lands in acme's folder under that literal name (`%2f`
        // is no separator): globex's folder stays as it was.
        let _ = run(&plugin, &["fs-write", "objects", path, "overwritten"]);
    }
    assert_eq!(
        std::fs::read_to_string(f.objects.path().join("globex/secret.txt")).unwrap(),
        "globex secret"
    );
    let globex: Vec<_> = std::fs::read_dir(f.objects.path().join("globex"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(globex, ["secret.txt"]);
    // The unscoped plugin reaches globex's file: the refusals above are the scope's.
    assert_eq!(
        run(&load(&f), &["fs-read", "objects", "globex/secret.txt"]).unwrap(),
        "globex secret"
    );
}

#[test]
fn tenant_a_cannot_read_tenant_b_keys_by_any_key_spelling() {
    let f = fixture();
    let base = load(&f);
    let globex = base
        .scoped(&InvocationScope::tenant("globex").with_path("objects", "globex"))
        .unwrap();
    run(&globex, &["kv-set", "secret", "globex kv"]).unwrap();
    let acme = acme(&base);
    run(&acme, &["kv-set", "secret", "acme kv"]).unwrap();
    assert_eq!(run(&acme, &["kv-get", "secret"]).unwrap(), "acme kv");
    assert_eq!(run(&globex, &["kv-get", "secret"]).unwrap(), "globex kv");
    for key in [
        "globex/secret",
        "../globex/secret",
        "globex:secret",
        "globex\0secret",
        "GLOBEX/secret",
        "[\"globex\",\"secret\"]",
        "{\"tenant\":\"globex\"}/secret",
    ] {
        let got = run(&acme, &["kv-get", key]);
        assert!(
            matches!(&got, Ok(v) if v == "<none>") || got.is_err(),
            "acme read {key:?}: {got:?}"
        );
    }
    let listed = run(&acme, &["kv-list", "", "100"]).unwrap();
    assert_eq!(listed, "secret", "acme lists only its own keys");
    // Tenant names are exact: `ACME` is another tenant.
    let upper = base.scoped(&InvocationScope::tenant("ACME")).unwrap();
    assert_eq!(run(&upper, &["kv-get", "secret"]).unwrap(), "<none>");
}

#[test]
fn scopes_that_leave_the_directory_are_refused() {
    let f = fixture();
    let plugin = load(&f);
    for folder in [
        "../globex",
        "/etc",
        "acme/../../x",
        "acme/shortcut",
        "acme\\..\\globex",
        "acme/photos/cat.txt",
        "acme/none",
    ] {
        let err = plugin
            .scoped(&InvocationScope::tenant("acme").with_path("objects", folder))
            .unwrap_err();
        assert!(
            matches!(err, HostError::FsDenied { .. }),
            "{folder}: {err:?}"
        );
        assert_eq!(err.to_diagnostic().code, Code::FsDenied);
    }
    let err = plugin
        .scoped(&InvocationScope::tenant("acme").with_path("elsewhere", "x"))
        .unwrap_err();
    assert_eq!(err.to_diagnostic().code, Code::FsDenied, "{err}");
    for tenant in ["../globex", "", "a/b", ".hidden"] {
        let err = plugin.scoped(&InvocationScope::tenant(tenant)).unwrap_err();
        assert_eq!(
            err.to_diagnostic().code,
            Code::BadArgument,
            "{tenant:?}: {err}"
        );
    }
}
