//! `plinth restore` with the real binary: a clean home gets every plugin `plinth.lock` pins
//! back from the recorded sources, and a package that is not the pinned one is refused with
//! its code, leaving the home unchanged.

use crate::common::{Setup, listing, plinth_in};

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;

/// Alice's key trusted in `s.home`; `hello.plinth` packed and signed by her; a second plugin
/// directory `greeter` (the same component under another id) with a component signature.
fn author(s: &Setup) {
    assert_eq!(s.run(&["keygen", "alice"]).code, 0);
    assert_eq!(s.run(&["trust", "add", "alice.pub"]).code, 0);
    assert_eq!(s.run(&["pack", "hello", "-o", "hello.plinth"]).code, 0);
    let run = s.run(&["sign", "hello.plinth", "--key", "alice.key"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let greeter = s.work.join("greeter");
    copy_plugin(&s.work.join("hello"), &greeter, "example.greeter", "0.1.0");
    let run = s.run(&["sign", "greeter", "--key", "alice.key"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Copies the hello plugin directory to `to` with another id and version.
fn copy_plugin(from: &Path, to: &Path, id: &str, version: &str) {
    fs::create_dir_all(to).unwrap();
    for name in ["settings.schema.json", "README.md", "hello.wasm"] {
        fs::copy(from.join(name), to.join(name)).unwrap();
    }
    let manifest = fs::read_to_string(from.join("plugin.toml")).unwrap();
    let manifest = manifest
        .replace("id = \"example.hello\"", &format!("id = \"{id}\""))
        .replace("version = \"0.1.0\"", &format!("version = \"{version}\""));
    fs::write(to.join("plugin.toml"), manifest).unwrap();
}

/// A second machine: a new home with only the lockfile and the trust store copied over.
fn clean_home(s: &Setup, name: &str) -> PathBuf {
    let home = s.root.path().join(name);
    fs::create_dir_all(&home).unwrap();
    for file in ["plinth.lock", "trusted_keys.toml"] {
        fs::copy(s.home.join(file), home.join(file)).unwrap();
    }
    home
}

#[test]
fn restore_reinstalls_every_locked_plugin_on_a_clean_home() {
    let s = Setup::new();
    author(&s);
    let run = s.run(&["--json", "install", "hello.plinth"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let hello_digest = run.json()["digest"].as_str().unwrap().to_owned();
    let run = s.run(&["--json", "install", "greeter"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let lock = fs::read_to_string(s.home.join("plinth.lock")).unwrap();

    let home = clean_home(&s, "second");
    let on = |args: &[&str]| plinth_in(&home, &s.work, args);
    let run = on(&["--json", "restore"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["ok"], json!(true));
    assert_eq!(
        doc["summary"],
        json!({"restored": 2, "skipped": 0, "refused": 0})
    );
    let restored = doc["restored"].as_array().unwrap();
    assert_eq!(restored[0]["id"], json!("example.greeter"));
    assert_eq!(restored[0]["signer"], json!("alice"));
    assert_eq!(restored[0]["previous"], json!("missing"));
    assert_eq!(restored[1]["id"], json!("example.hello"));
    assert_eq!(restored[1]["digest"], json!(hello_digest));
    assert_eq!(restored[1]["signer"], json!("alice"));
    assert_eq!(
        restored[1]["source"],
        json!(s.work.join("hello.plinth").display().to_string())
    );
    // The same files as on the first machine, and the lockfile is as it was.
    for id in ["example.hello", "example.greeter"] {
        let dir = format!("plugins/{id}");
        assert_eq!(
            listing(&home.join(&dir)),
            listing(&s.home.join(&dir)),
            "{id}"
        );
    }
    assert_eq!(fs::read_to_string(home.join("plinth.lock")).unwrap(), lock);

    // Restoring enables nothing; once enabled and granted, the plugin runs by id.
    let run = on(&["call", "example.hello", "run", r#"["Ada"]"#]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(on(&["enable", "example.hello"]).code, 0);
    assert_eq!(on(&["grant", "example.hello", "log"]).code, 0);
    let run = on(&["call", "example.hello", "run", r#"["Ada"]"#]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), r#"{"ok":"Hello, Ada!"}"#);

    // Everything installed as pinned: skipped, nothing written.
    let before = listing(&home);
    let run = on(&["restore"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("restore: 0 restored, 2 already installed, 0 refused"),
        "{}",
        run.stdout
    );
    assert_eq!(listing(&home), before);

    // A home missing one plugin and with another one's files changed gets both back; the
    // state file (enablement, grants) is not touched.
    fs::remove_dir_all(home.join("plugins/example.greeter")).unwrap();
    fs::write(home.join("plugins/example.hello/README.md"), "edited").unwrap();
    let run = on(&["--json", "restore"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["restored"][0]["previous"], json!("missing"));
    assert_eq!(doc["restored"][1]["previous"], json!("changed"));
    assert_eq!(listing(&home), before);
}

#[test]
fn restore_refuses_a_swapped_package_and_leaves_the_home_unchanged() {
    let s = Setup::new();
    author(&s);
    assert_eq!(s.run(&["install", "hello.plinth"]).code, 0);
    assert_eq!(s.run(&["install", "greeter"]).code, 0);
    let home = clean_home(&s, "second");
    let on = |args: &[&str]| plinth_in(&home, &s.work, args);
    // One plugin is restored already, so the refusal has something to leave alone.
    fs::write(
        home.join("plinth.lock"),
        fs::read_to_string(s.home.join("plinth.lock"))
            .unwrap()
            .replace("example.hello", "example.absent"),
    )
    .unwrap();
    // The package at the source is another plugin than the entry pins.
    let run = on(&["--json", "restore"]);
    assert_eq!(
        (run.code, run.first_code().as_str()),
        (1, "package-rejected")
    );
    assert!(!home.join("plugins/example.absent").exists());
    fs::copy(s.home.join("plinth.lock"), home.join("plinth.lock")).unwrap();
    let run = on(&["--json", "restore"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    fs::remove_dir_all(home.join("plugins/example.hello")).unwrap();
    let original = fs::read(s.work.join("hello.plinth")).unwrap();
    let original_sig = fs::read(s.work.join("hello.plinth.sig")).unwrap();

    // Same id and version, other bytes, still carrying the original signature: the pin is
    // checked first, so this is a digest mismatch, not a signature problem.
    fs::write(s.work.join("hello/README.md"), "swapped").unwrap();
    assert_eq!(s.run(&["pack", "hello", "-o", "hello.plinth"]).code, 0);
    let before = listing(&home);
    let run = on(&["--json", "restore"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["ok"], json!(false));
    assert_eq!(doc["diagnostics"][0]["code"], json!("digest-mismatch"));
    assert_eq!(doc["diagnostics"][0]["plugin"], json!("example.hello"));
    assert!(
        doc["diagnostics"][0]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("plinth.lock")),
        "{doc}"
    );
    assert_eq!(doc["skipped"][0]["id"], json!("example.greeter"));
    assert_eq!(
        doc["summary"],
        json!({"restored": 0, "skipped": 1, "refused": 1})
    );
    assert_eq!(listing(&home), before, "a refused restore changed the home");

    // Signed by the trusted key, it is still not the pinned package.
    let run = s.run(&["sign", "hello.plinth", "--key", "alice.key"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = on(&["restore"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("error[digest-mismatch]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("restore: 0 restored, 1 already installed, 1 refused"),
        "{}",
        run.stdout
    );
    assert_eq!(listing(&home), before);

    // Another version at the source is a version mismatch.
    let v2 = s.work.join("hello-v2");
    copy_plugin(&s.work.join("hello"), &v2, "example.hello", "0.2.0");
    assert_eq!(s.run(&["pack", "hello-v2", "-o", "hello.plinth"]).code, 0);
    assert_eq!(
        s.run(&["sign", "hello.plinth", "--key", "alice.key"]).code,
        0
    );
    let run = on(&["--json", "restore"]);
    assert_eq!(
        (run.code, run.first_code().as_str()),
        (1, "version-mismatch")
    );
    assert_eq!(listing(&home), before);

    // A source that is gone is missing-package.
    fs::remove_file(s.work.join("hello.plinth")).unwrap();
    let run = on(&["--json", "restore"]);
    assert_eq!(
        (run.code, run.first_code().as_str()),
        (1, "missing-package")
    );
    assert_eq!(listing(&home), before);

    // The pinned package back at the source restores.
    fs::write(s.work.join("hello.plinth"), original).unwrap();
    fs::write(s.work.join("hello.plinth.sig"), original_sig).unwrap();
    let run = on(&["--json", "restore"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["restored"][0]["id"], json!("example.hello"));
}

#[test]
fn restore_needs_a_lockfile_and_verifies_like_install() {
    let s = Setup::new();
    let run = s.run(&["--json", "restore"]);
    assert_eq!(
        (run.code, run.first_code().as_str()),
        (1, "missing-package")
    );
    assert!(!s.home.exists(), "a failed restore created the home");

    // Installed unsigned with --allow-unsigned: a restore needs the same permission.
    assert_eq!(s.run(&["pack", "hello", "-o", "hello.plinth"]).code, 0);
    assert_eq!(
        s.run(&["install", "--allow-unsigned", "hello.plinth"]).code,
        0
    );
    fs::remove_dir_all(s.home.join("plugins/example.hello")).unwrap();
    let before = s.listing();
    let run = s.run(&["--json", "restore"]);
    assert_eq!((run.code, run.first_code().as_str()), (1, "unsigned"));
    assert_eq!(s.listing(), before);
    let run = s.run(&["--json", "restore", "--allow-unsigned"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["restored"][0]["signer"], json!(null));
}
