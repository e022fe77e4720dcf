//! Plugin identity and verification at load (issue 15 items 2 and 3, design record 0034),
//! with the real binary: a package claiming an installed id from another signer or source
//! is refused unless `--replace`, which resets enablement and grants; an update keeps them,
//! a reinstall after `uninstall` resets them; `plinth update` needs the pinned key and the
//! lock entry's origin; a path target has its own key-value store; and `plinth call ID`
//! refuses an installed plugin whose files changed on disk, before any of its code runs.

use crate::common::Setup;

use std::fs;
use std::path::Path;

use serde_json::{Value, json};

/// `NAME.key`/`NAME.pub` in the work directory, the public key trusted in the home.
fn trusted_key(s: &Setup, name: &str) {
    assert_eq!(s.run(&["keygen", name]).code, 0);
    let run = s.run(&["trust", "add", &format!("{name}.pub")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Packs the plugin folder `dir` (relative to the work directory) into `out` and signs it
/// with `key`.
fn pack_signed(s: &Setup, dir: &str, out: &str, key: &str) {
    let run = s.run(&["pack", dir, "-o", out]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = s.run(&["sign", out, "--key", &format!("{key}.key")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Sets the version in the `plugin.toml` of `dir`.
fn set_version(dir: &Path, version: &str) {
    let path = dir.join("plugin.toml");
    let text = fs::read_to_string(&path).unwrap();
    let text: String = text
        .lines()
        .map(|line| {
            if line.starts_with("version = ") {
                format!("version = \"{version}\"")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(path, text + "\n").unwrap();
}

/// A copy of `from` at `to` whose README differs (another package of the same plugin id).
fn lookalike(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
    fs::write(to.join("README.md"), "# Not the hello you know\n").unwrap();
}

fn install_json(s: &Setup, args: &[&str]) -> Value {
    let mut all = vec!["--json", "install"];
    all.extend_from_slice(args);
    let run = s.run(&all);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    run.json()
}

fn grant_and_enable(s: &Setup, id: &str, grants: &[&str]) {
    let mut args = vec!["grant", id];
    args.extend_from_slice(grants);
    assert_eq!(s.run(&args).code, 0);
    assert_eq!(s.run(&["enable", id]).code, 0);
}

#[test]
fn a_package_claiming_an_installed_id_is_refused_unless_replaced_and_then_reviewed() {
    let s = Setup::new();
    trusted_key(&s, "alice");
    trusted_key(&s, "mallory");
    pack_signed(&s, "hello", "hello.plinth", "alice");
    let doc = install_json(&s, &["hello.plinth"]);
    assert_eq!(doc["continuity"], json!("new"));
    assert_eq!(
        (doc["enabled"].clone(), doc["grants"].clone()),
        (json!(false), json!([]))
    );
    grant_and_enable(&s, "example.hello", &["log", "config"]);
    let run = s.run(&["call", "example.hello", "run", r#"["Ada"]"#]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Another trusted key signs a package claiming the id, from the same folder.
    lookalike(&s.work.join("hello"), &s.work.join("evil"));
    pack_signed(&s, "evil", "evil.plinth", "mallory");
    // The author's own package, offered from another folder.
    fs::create_dir(s.work.join("mirror")).unwrap();
    for name in ["hello.plinth", "hello.plinth.sig"] {
        fs::copy(s.work.join(name), s.work.join("mirror").join(name)).unwrap();
    }
    let before = s.listing();
    for package in ["evil.plinth", "mirror/hello.plinth"] {
        let run = s.run(&["--json", "install", package]);
        assert_eq!(
            (run.code, run.first_code().as_str()),
            (1, "identity-changed"),
            "{package}: {}",
            run.stdout
        );
        let hint = run.json()["diagnostics"][0]["hint"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(hint.contains("--replace"), "{hint}");
        assert_eq!(s.listing(), before, "{package} changed the home");
    }
    let text = s.run(&["install", "evil.plinth"]);
    assert!(
        text.stderr.contains("error[identity-changed]"),
        "{}",
        text.stderr
    );
    let run = s.run(&["call", "example.hello", "run", r#"["Ada"]"#]);
    assert_eq!(
        run.stdout.trim(),
        r#"{"ok":"Hello, Ada!"}"#,
        "{}",
        run.stderr
    );

    // On purpose: installed, disabled, nothing granted; the id is pinned to the new key.
    let doc = install_json(&s, &["--replace", "evil.plinth"]);
    assert_eq!(doc["continuity"], json!("replaced"));
    assert_eq!(doc["signer"], json!("mallory"));
    assert_eq!(doc["enabled"], json!(false));
    assert_eq!(doc["grants"], json!([]));
    assert_eq!(
        doc["review_reset"],
        json!({"was_enabled": true, "grants": ["log", "config"]})
    );
    assert_eq!(
        doc["grant_command"],
        json!("plinth grant example.hello log config")
    );
    let run = s.run(&["--json", "call", "example.hello", "run", r#"["Ada"]"#]);
    assert_eq!((run.code, run.first_code().as_str()), (1, "disabled"));
    let state = fs::read_to_string(s.home.join("plugins.toml")).unwrap();
    assert!(state.contains("enabled = false"), "{state}");
    let lock = fs::read_to_string(s.home.join("plinth.lock")).unwrap();
    let mallory = fs::read_to_string(s.work.join("mallory.pub")).unwrap();
    let mallory = mallory.split_whitespace().next().unwrap();
    assert!(
        lock.contains(&format!("[keys]\n\"example.hello\" = \"{mallory}\"")),
        "{lock}"
    );

    // Now alice's package is the other identity.
    let run = s.run(&["--json", "install", "hello.plinth"]);
    assert_eq!(run.first_code(), "identity-changed");
}

#[test]
fn an_update_keeps_the_review_and_a_reinstall_after_uninstall_resets_it() {
    let s = Setup::new();
    trusted_key(&s, "alice");
    trusted_key(&s, "mallory");
    pack_signed(&s, "hello", "hello-0.1.0.plinth", "alice");
    install_json(&s, &["hello-0.1.0.plinth"]);
    grant_and_enable(&s, "example.hello", &["log", "config"]);

    // The same plugin, newer, same folder, same key: an update, the review stays.
    set_version(&s.work.join("hello"), "0.2.0");
    pack_signed(&s, "hello", "hello-0.2.0.plinth", "alice");
    let doc = install_json(&s, &["hello-0.2.0.plinth"]);
    assert_eq!(doc["continuity"], json!("same"));
    assert_eq!(doc["replaced"], json!("0.1.0"));
    assert_eq!(doc["enabled"], json!(true));
    assert_eq!(doc["grants"], json!(["log", "config"]));
    assert_eq!(doc["review_reset"], json!(null));
    assert_eq!(doc["grant_command"], json!(null));
    let run = s.run(&["call", "example.hello", "run", r#"["Ada"]"#]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = s.run(&["install", "hello-0.2.0.plinth"]);
    assert!(text.stdout.contains("  log (granted)\n"), "{}", text.stdout);
    assert!(text.stdout.contains("it is enabled"), "{}", text.stdout);

    // Uninstall takes the review back; a reinstall starts from nothing.
    let run = s.run(&["--json", "uninstall", "example.hello"]);
    assert_eq!(
        run.json()["review_reset"],
        json!({"was_enabled": true, "grants": ["log", "config"]})
    );
    let doc = install_json(&s, &["hello-0.2.0.plinth"]);
    assert_eq!(doc["continuity"], json!("new"));
    assert_eq!(
        (doc["enabled"].clone(), doc["grants"].clone()),
        (json!(false), json!([]))
    );
    // A state entry left from before (edited by hand) is reset by the reinstall too.
    grant_and_enable(&s, "example.hello", &["log"]);
    assert_eq!(s.run(&["uninstall", "example.hello"]).code, 0);
    grant_and_enable(&s, "example.hello", &["log"]);
    let doc = install_json(&s, &["hello-0.2.0.plinth"]);
    assert_eq!(
        doc["review_reset"],
        json!({"was_enabled": true, "grants": ["log"]})
    );
    assert_eq!(doc["enabled"], json!(false));

    // The key pin outlives the uninstall.
    assert_eq!(s.run(&["uninstall", "example.hello"]).code, 0);
    lookalike(&s.work.join("hello"), &s.work.join("evil"));
    pack_signed(&s, "evil", "evil.plinth", "mallory");
    let run = s.run(&["--json", "install", "evil.plinth"]);
    assert_eq!(run.first_code(), "identity-changed");
    assert!(!s.home.join("plugins/example.hello").exists());
}

/// The `caps` guest as plugin `test.caps` at `work/caps`, asking for `kv` and `fs.write:out`.
fn caps_plugin(s: &Setup, version: &str) {
    let dir = s.work.join("caps");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"test.caps\"\nversion = \"{version}\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"caps.wasm\"\n[capabilities]\nkv = true\nfs = {{ write = [\"out\"] }}\n"
        ),
    )
    .unwrap();
    fs::copy(test_programs::CAPS, dir.join("caps.wasm")).unwrap();
}

/// `[dirs] out` in the home's config, the folder the marker is written to.
fn out_dir(s: &Setup) -> std::path::PathBuf {
    let out = s.root.path().join("out");
    fs::create_dir_all(&out).unwrap();
    fs::create_dir_all(&s.home).unwrap();
    fs::write(
        s.home.join("config.toml"),
        format!("[dirs]\nout = \"{}\"\n", out.display()),
    )
    .unwrap();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

#[test]
fn plinth_call_refuses_an_installed_plugin_changed_on_disk_before_it_runs() {
    let s = Setup::new();
    let out = out_dir(&s);
    trusted_key(&s, "alice");
    caps_plugin(&s, "1.0.0");
    pack_signed(&s, "caps", "caps-1.0.0.plinth", "alice");
    install_json(&s, &["caps-1.0.0.plinth"]);
    let installed = s.home.join("plugins/test.caps");
    let old = s.root.path().join("installed-1.0.0");
    copy_dir(&installed, &old);
    caps_plugin(&s, "1.1.0");
    pack_signed(&s, "caps", "caps-1.1.0.plinth", "alice");
    install_json(&s, &["caps-1.1.0.plinth"]);
    grant_and_enable(&s, "test.caps", &["fs.write:out"]);

    let marker = out.join("marker");
    let write_marker = [
        "--json",
        "call",
        "test.caps",
        "run",
        r#"["fs-write","out","marker","ran"]"#,
    ];
    let run = s.run(&write_marker);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fs::read_to_string(&marker).unwrap(), "ran");
    fs::remove_file(&marker).unwrap();

    // The component changed after the install (a custom section appended: still a valid
    // component that would run and write the marker).
    let wasm = installed.join("caps.wasm");
    let pristine = fs::read(&wasm).unwrap();
    let mut tampered = pristine.clone();
    tampered.extend_from_slice(&[0x00, 0x05, 0x04, b'm', b'a', b'r', b'k']);
    fs::write(&wasm, &tampered).unwrap();
    let run = s.run(&write_marker);
    assert_eq!(
        (run.code, run.first_code().as_str()),
        (1, "bad-signature"),
        "{}",
        run.stdout
    );
    assert!(!marker.exists(), "the changed component ran");
    fs::write(&wasm, &pristine).unwrap();
    assert_eq!(s.run(&write_marker).code, 0);
    fs::remove_file(&marker).unwrap();

    // The older version, validly signed, copied over the newer one plinth.lock pins.
    fs::remove_dir_all(&installed).unwrap();
    copy_dir(&old, &installed);
    let run = s.run(&write_marker);
    assert_eq!(
        (run.code, run.first_code().as_str()),
        (1, "digest-mismatch"),
        "{}",
        run.stdout
    );
    assert!(!marker.exists(), "the older version ran");

    // `plinth restore` puts the pinned version back.
    let run = s.run(&["restore"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(s.run(&write_marker).code, 0);
    assert!(marker.exists());
}

#[test]
fn a_path_target_has_its_own_key_value_store() {
    let s = Setup::new();
    out_dir(&s);
    trusted_key(&s, "alice");
    caps_plugin(&s, "1.0.0");
    pack_signed(&s, "caps", "caps.plinth", "alice");
    install_json(&s, &["caps.plinth"]);
    grant_and_enable(&s, "test.caps", &["kv"]);
    let installed = |args: &str| {
        let run = s.run(&["call", "test.caps", "run", args]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout.trim().to_owned()
    };
    // `work/caps` claims the installed plugin's id.
    let path_target = |args: &str| {
        let run = s.run(&["call", "--grant", "kv", "caps", "run", args]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout.trim().to_owned()
    };
    assert_eq!(
        installed(r#"["kv-set","secret","installed"]"#),
        r#"{"ok":"ok"}"#
    );
    assert_eq!(path_target(r#"["kv-get","secret"]"#), r#"{"ok":"<none>"}"#);
    assert_eq!(
        path_target(r#"["kv-set","secret","path"]"#),
        r#"{"ok":"ok"}"#
    );
    assert_eq!(path_target(r#"["kv-get","secret"]"#), r#"{"ok":"path"}"#);
    assert_eq!(installed(r#"["kv-get","secret"]"#), r#"{"ok":"installed"}"#);
    let paths = s.home.join("data/paths");
    assert_eq!(
        fs::read_dir(&paths).unwrap().count(),
        1,
        "one store per path"
    );
}

/// A file index at `work/index/index.json` listing `versions` (version, package file name
/// relative to the index).
fn write_index(s: &Setup, versions: &[(&str, &str)]) -> String {
    let dir = s.work.join("index");
    let rows: Vec<Value> = versions
        .iter()
        .map(|(version, file)| {
            let bytes = fs::read(dir.join(file)).unwrap();
            json!({
                "version": version,
                "digest": plinth_manifest::Digest::of(&bytes).to_string(),
                "url": file,
                "signature_url": format!("{file}.sig"),
            })
        })
        .collect();
    let index = json!({"schema_version": 1, "plugins": [{
        "id": "example.hello", "name": "Hello", "description": "Says hello", "versions": rows,
    }]});
    let path = dir.join("index.json");
    fs::write(&path, index.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn update_needs_the_pinned_key_and_the_lock_entrys_origin() {
    let s = Setup::new();
    trusted_key(&s, "alice");
    trusted_key(&s, "mallory");
    let dir = s.work.join("index");
    fs::create_dir_all(&dir).unwrap();
    let package = |version: &str, key: &str, out: &str| {
        set_version(&s.work.join("hello"), version);
        pack_signed(&s, "hello", out, key);
    };
    package("1.0.0", "alice", "index/hello-1.0.0.plinth");
    let index = write_index(&s, &[("1.0.0", "hello-1.0.0.plinth")]);
    let doc = install_json(&s, &["example.hello", "--index", &index]);
    assert_eq!(doc["version"], json!("1.0.0"));
    grant_and_enable(&s, "example.hello", &["log"]);

    // A newer version in the same index, signed by another trusted key: refused.
    package("1.1.0", "mallory", "index/hello-1.1.0.plinth");
    let index = write_index(
        &s,
        &[
            ("1.0.0", "hello-1.0.0.plinth"),
            ("1.1.0", "hello-1.1.0.plinth"),
        ],
    );
    let before = s.listing();
    let run = s.run(&["--json", "update", "--index", &index]);
    assert_eq!(
        (run.code, run.first_code().as_str()),
        (1, "identity-changed"),
        "{}",
        run.stdout
    );
    assert_eq!(s.listing(), before);

    // Signed by the pinned key: updated, the review stays.
    package("1.1.0", "alice", "index/hello-1.1.0.plinth");
    let index = write_index(
        &s,
        &[
            ("1.0.0", "hello-1.0.0.plinth"),
            ("1.1.0", "hello-1.1.0.plinth"),
        ],
    );
    let run = s.run(&["--json", "update", "--index", &index]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["updated"][0]["to"], json!("1.1.0"));
    let run = s.run(&["call", "example.hello", "run", r#"["Ada"]"#]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // The index offers a newer version from another folder: not this plugin's origin.
    fs::create_dir_all(s.work.join("elsewhere")).unwrap();
    package("1.2.0", "alice", "elsewhere/hello-1.2.0.plinth");
    let index = write_index(
        &s,
        &[
            ("1.1.0", "hello-1.1.0.plinth"),
            ("1.2.0", "../elsewhere/hello-1.2.0.plinth"),
        ],
    );
    let before = s.listing();
    let run = s.run(&["--json", "update", "--index", &index]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["skipped"][0]["reason"], json!("other-source"));
    assert_eq!(s.listing(), before);
}
