//! The whole distribution round trip with the real binary and a real OCI registry on
//! 127.0.0.1: author → keygen → pack → sign → push; then, on clean homes, trust add →
//! search/install (through an index entry pointing at the OCI reference, and straight from
//! `oci://`) → verify → enable → grant → call, and a restore from the lockfile alone. Then `plinth update` from the index, and
//! `--tenant` homes that never see each other's plugins.

use crate::common;
use crate::common::{Setup, listing, plinth_in};

use std::fs;
use std::path::Path;

use crate::support::{RegistryServer, skipped};
use serde_json::json;

/// Writes an index listing `example.hello` versions as (version, digest, url) triples.
fn write_index(path: &Path, versions: &[(&str, &str, &str)]) {
    let versions: Vec<_> = versions
        .iter()
        .map(|(version, digest, url)| {
            let mut entry = json!({"version": version, "digest": digest, "url": url,
                                   "capabilities": ["log", "config"]});
            // A package on disk has its signature beside it; an OCI artifact carries its own.
            if !url.starts_with("oci://") {
                entry["signature_url"] = json!(format!("{url}.sig"));
            }
            entry
        })
        .collect();
    let index = json!({"schema_version": 1, "plugins": [
        {"id": "example.hello", "name": "Hello", "description": "Greets whoever calls it.",
         "versions": versions}]});
    fs::write(path, serde_json::to_vec_pretty(&index).unwrap()).unwrap();
}

#[test]
fn author_to_user_through_an_oci_registry_on_loopback() {
    if skipped("round_trip") {
        return;
    }
    let registry = RegistryServer::start();
    let s = Setup::new();
    let ok = |run: common::Run| {
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        run
    };

    // Author: key, package, signature, push.
    ok(s.run(&["keygen", "alice"]));
    let digest = ok(s.run(&["pack", "hello", "-o", "hello.plinth"]))
        .stdout
        .trim()
        .to_owned();
    ok(s.run(&["sign", "hello.plinth", "--key", "alice.key"]));
    let reference = format!("oci://{}/plugins/hello:0.1.0", registry.address());
    let pushed = ok(s.run(&["--json", "push", "hello.plinth", &reference])).json();
    assert_eq!(pushed["signed"], json!(true));
    assert_eq!(pushed["package_digest"], json!(digest));
    let index = s.work.join("index.json");
    write_index(&index, &[("0.1.0", &digest, &reference)]);
    let index = index.display().to_string();

    // User, on a clean home: trust the author, find and install through the index. The
    // index (a file) points at a registry on loopback, which an index may only do with
    // --allow-private.
    let user = s.root.path().join("user");
    let run = |args: &[&str]| plinth_in(&user, &s.work, args);
    ok(run(&["trust", "add", "alice.pub"]));
    let found = ok(run(&["--json", "search", "hello", "--index", &index])).json();
    assert_eq!(found["plugins"][0]["id"], json!("example.hello"));
    assert_eq!(found["plugins"][0]["latest"], json!("0.1.0"));
    let refused = run(&["--json", "install", "example.hello", "--index", &index]);
    assert_eq!(
        (refused.code, refused.first_code().as_str()),
        (1, "http-denied"),
        "{}",
        refused.stdout
    );
    let installed = ok(run(&[
        "--json",
        "install",
        "example.hello",
        "--index",
        &index,
        "--allow-private",
    ]))
    .json();
    assert_eq!(installed["version"], json!("0.1.0"));
    assert_eq!(installed["digest"], json!(digest));
    assert_eq!(installed["signer"], json!("alice"));
    assert_eq!(installed["enabled"], json!(false));
    assert_eq!(
        installed["grant_command"],
        json!("plinth grant example.hello log config")
    );
    let lock = fs::read_to_string(user.join("plinth.lock")).unwrap();
    assert!(lock.contains(&format!("digest = \"{digest}\"")), "{lock}");

    // Verify what the registry serves, then enable, grant and call.
    let downloads = s.root.path().join("downloads");
    fs::create_dir(&downloads).unwrap();
    let pulled = ok(run(&[
        "--json",
        "pull",
        &reference,
        "-o",
        downloads.to_str().unwrap(),
    ]))
    .json();
    let pulled = pulled["package"].as_str().unwrap();
    let verified = ok(run(&["--json", "verify", pulled])).json();
    assert_eq!(verified["results"][0]["signer"], json!("alice"));
    let refused = run(&["--json", "call", "example.hello", "run", r#"["Ada"]"#]);
    assert_eq!(
        (refused.code, refused.first_code().as_str()),
        (1, "disabled")
    );
    ok(run(&["enable", "example.hello"]));
    ok(run(&["grant", "example.hello", "log", "config"]));
    let called = ok(run(&["call", "example.hello", "run", r#"["Ada"]"#]));
    assert_eq!(called.stdout.trim(), r#"{"ok":"Hello, Ada!"}"#);

    // Another clean home installs straight from oci://, pinned by manifest digest.
    let other = s.root.path().join("other");
    let run2 = |args: &[&str]| plinth_in(&other, &s.work, args);
    let before = listing(&other);
    let untrusted = run2(&["--json", "install", &reference]);
    assert_eq!(
        (untrusted.code, untrusted.first_code().as_str()),
        (1, "untrusted-key")
    );
    assert_eq!(listing(&other), before, "a refused install wrote nothing");
    ok(run2(&["trust", "add", "alice.pub"]));
    let installed = ok(run2(&["--json", "install", &reference])).json();
    assert_eq!(installed["digest"], json!(digest));
    let lock = fs::read_to_string(other.join("plinth.lock")).unwrap();
    let pinned = pushed["pinned"].as_str().unwrap();
    assert!(lock.contains(&format!("source = \"{pinned}\"")), "{lock}");
    ok(run2(&["enable", "example.hello"]));
    ok(run2(&["grant", "example.hello", "log"]));
    let called = ok(run2(&["call", "example.hello", "run", r#"["Bo"]"#]));
    assert_eq!(called.stdout.trim(), r#"{"ok":"Hello, Bo!"}"#);

    // A third home with only that lockfile and trust store restores the same bytes from
    // the registry, pinned by digest.
    let restored = s.root.path().join("restored");
    fs::create_dir(&restored).unwrap();
    for file in ["plinth.lock", "trusted_keys.toml"] {
        fs::copy(other.join(file), restored.join(file)).unwrap();
    }
    let run3 = |args: &[&str]| plinth_in(&restored, &s.work, args);
    let report = ok(run3(&["--json", "restore"])).json();
    assert_eq!(
        report["restored"][0]["id"],
        json!("example.hello"),
        "{report}"
    );
    let plugin_files = |home: &Path| listing(&home.join("plugins"));
    assert_eq!(plugin_files(&restored), plugin_files(&other));
    assert_eq!(
        fs::read(restored.join("plinth.lock")).unwrap(),
        fs::read(other.join("plinth.lock")).unwrap(),
        "the lockfile is unchanged"
    );
    ok(run3(&["enable", "example.hello"]));
    ok(run3(&["grant", "example.hello", "log"]));
    let called = ok(run3(&["call", "example.hello", "run", r#"["Cy"]"#]));
    assert_eq!(called.stdout.trim(), r#"{"ok":"Hello, Cy!"}"#);
}

#[test]
fn update_installs_the_newer_compatible_version_and_refusals_change_nothing() {
    let s = Setup::new();
    let ok = |run: common::Run| {
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        run
    };
    ok(s.run(&["keygen", "alice"]));
    ok(s.run(&["keygen", "mallory"]));
    ok(s.run(&["trust", "add", "alice.pub"]));
    let manifest = s.work.join("hello/plugin.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    let mut digests = Vec::new();
    for (version, key) in [("0.1.0", "alice"), ("0.1.1", "alice"), ("0.2.0", "alice")] {
        fs::write(
            &manifest,
            text.replace("version = \"0.1.0\"", &format!("version = \"{version}\"")),
        )
        .unwrap();
        let file = format!("hello-{version}.plinth");
        let digest = ok(s.run(&["pack", "hello", "-o", &file])).stdout;
        ok(s.run(&["sign", &file, "--key", &format!("{key}.key")]));
        digests.push(digest.trim().to_owned());
    }
    let index = s.work.join("index.json");
    let entries = |v2: &str| {
        vec![
            ("0.1.0", digests[0].clone(), "hello-0.1.0.plinth"),
            ("0.1.1", v2.to_owned(), "hello-0.1.1.plinth"),
            ("0.2.0", digests[2].clone(), "hello-0.2.0.plinth"),
        ]
    };
    let write = |entries: Vec<(&str, String, &str)>| {
        let borrowed: Vec<(&str, &str, &str)> = entries
            .iter()
            .map(|(v, d, u)| (*v, d.as_str(), *u))
            .collect();
        write_index(&index, &borrowed);
    };
    write(entries(&digests[1]));
    let index_arg = index.display().to_string();
    ok(s.run(&["install", "example.hello@=0.1.0", "--index", &index_arg]));

    // Refused: a digest the bytes do not have; a signature by an untrusted key.
    let before = s.listing();
    write(entries(&digests[0]));
    let run = s.run(&["--json", "update", "--index", &index_arg]);
    assert_eq!(
        (run.code, run.first_code().as_str()),
        (1, "digest-mismatch")
    );
    assert_eq!(run.json()["updated"], json!([]));
    assert_eq!(s.listing(), before, "a refused update changed the home");
    write(entries(&digests[1]));
    ok(s.run(&["sign", "hello-0.1.1.plinth", "--key", "mallory.key"]));
    let run = s.run(&["--json", "update", "example.hello", "--index", &index_arg]);
    assert_eq!((run.code, run.first_code().as_str()), (1, "untrusted-key"));
    assert_eq!(s.listing(), before, "a refused update changed the home");

    // Signed by alice again: 0.1.1 (0.2.0 is not compatible with 0.1.0).
    ok(s.run(&["sign", "hello-0.1.1.plinth", "--key", "alice.key"]));
    let run = ok(s.run(&["--json", "update", "--index", &index_arg]));
    assert_eq!(
        run.json()["updated"],
        json!([{"id": "example.hello", "from": "0.1.0", "to": "0.1.1",
                "digest": digests[1], "signer": "alice"}])
    );
    let run = ok(s.run(&["--json", "update", "--index", &index_arg]));
    assert_eq!(
        run.json()["skipped"],
        json!([{"id": "example.hello", "version": "0.1.1", "reason": "up-to-date"}])
    );
    let run = s.run(&["update", "example.other", "--index", &index_arg]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error[missing-package]"),
        "{}",
        run.stderr
    );
}

#[test]
fn tenants_have_their_own_installs_grants_and_trust() {
    let s = Setup::new();
    let ok = |run: common::Run| {
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        run
    };
    ok(s.run(&["keygen", "alice"]));
    ok(s.run(&["pack", "hello", "-o", "hello.plinth"]));
    ok(s.run(&["sign", "hello.plinth", "--key", "alice.key"]));
    let acme = |args: &[&str]| {
        let mut all = vec!["--tenant", "acme"];
        all.extend_from_slice(args);
        s.run(&all)
    };
    ok(acme(&["trust", "add", "alice.pub"]));
    ok(acme(&["install", "hello.plinth"]));
    ok(acme(&["enable", "example.hello"]));
    ok(acme(&["grant", "example.hello", "log"]));
    let called = ok(acme(&["call", "example.hello", "run", r#"["Ada"]"#]));
    assert_eq!(called.stdout.trim(), r#"{"ok":"Hello, Ada!"}"#);
    let tenant_home = s.home.join("tenants/acme");
    assert!(tenant_home.join("plugins/example.hello").is_dir());
    assert!(tenant_home.join("plinth.lock").is_file());
    assert!(tenant_home.join("plugins.toml").is_file());

    // globex, and the home itself, see none of it: not the plugin, its grants or the key.
    for tenant in [Some("globex"), None] {
        let run = |args: &[&str]| {
            let mut all: Vec<&str> = tenant.map(|t| vec!["--tenant", t]).unwrap_or_default();
            all.extend_from_slice(args);
            s.run(&all)
        };
        let listed = ok(run(&["--json", "list"])).json();
        assert!(!listed.to_string().contains("example.hello"), "{listed}");
        let keys = ok(run(&["--json", "trust", "list"])).json();
        assert_eq!(keys, json!({"keys": []}), "{tenant:?}");
        let call = run(&["--json", "call", "example.hello", "run", r#"["Bo"]"#]);
        assert_ne!(call.code, 0, "{tenant:?}");
        let install = run(&["--json", "install", "hello.plinth"]);
        assert_eq!(install.first_code(), "untrusted-key", "{tenant:?}");
    }
    let bad = s.run(&["--json", "--tenant", "../acme", "list"]);
    assert_eq!((bad.code, bad.first_code().as_str()), (2, "bad-argument"));
}
