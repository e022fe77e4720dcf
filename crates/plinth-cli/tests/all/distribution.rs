//! `plinth keygen`, `pack`, `sign`, `verify`, `trust`, `install` and `uninstall` with the real
//! binary: the author-to-user round trip, and each refusal with its code, its exit status and
//! an unchanged home.

use crate::common::Setup;

use std::fs;

use serde_json::json;

#[test]
fn author_to_user_round_trip() {
    let s = Setup::new();

    // Author: key pair, package, signature.
    let run = s.run(&["--json", "keygen", "alice"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let key = run.json()["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("ed25519:"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(s.work.join("alice.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let run = s.run(&["keygen", "alice"]);
    assert_eq!(run.code, 2, "keygen never overwrites a key: {}", run.stderr);

    let run = s.run(&["pack", "hello", "-o", "hello.plinth"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let digest = run.stdout.trim().to_owned();
    assert!(digest.starts_with("sha256:"), "{digest}");
    let run = s.run(&["--json", "pack", "hello", "-o", "again.plinth"]);
    assert_eq!(run.json()["digest"], json!(digest), "pack is deterministic");
    assert_eq!(
        fs::read(s.work.join("hello.plinth")).unwrap(),
        fs::read(s.work.join("again.plinth")).unwrap()
    );
    assert_eq!(
        run.json()["members"],
        json!([
            "README.md",
            "hello.wasm",
            "plugin.toml",
            "settings.schema.json"
        ])
    );

    let run = s.run(&["--json", "sign", "hello.plinth", "--key", "alice.key"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["digest"], json!(digest));
    assert!(s.work.join("hello.plinth.sig").is_file());

    // User: the key is not trusted yet.
    let run = s.run(&["--json", "verify", "hello.plinth"]);
    assert_eq!((run.code, run.first_code().as_str()), (1, "untrusted-key"));
    let run = s.run(&["--json", "trust", "add", "alice.pub"]);
    assert_eq!(run.json(), json!({"ok": true, "name": "alice", "key": key}));
    let run = s.run(&["--json", "trust", "list"]);
    assert_eq!(run.json(), json!({"keys": [{"name": "alice", "key": key}]}));
    let run = s.run(&["--json", "verify", "hello.plinth"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["results"][0]["signer"], json!("alice"));
    assert_eq!(run.json()["results"][0]["digest"], json!(digest));

    // A package is a path target of `check` and `call` too.
    let run = s.run(&["--json", "check", "hello.plinth"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.json()["digest"],
        json!(format!("sha256:{}", sha256_hex(test_programs::HELLO)))
    );
    assert_eq!(
        run.json()["signature"],
        json!({"status": "trusted", "signer": "alice"})
    );
    let run = s.run(&["call", "--grant", "log", "hello.plinth", "run", r#"["Bo"]"#]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), r#"{"ok":"Hello, Bo!"}"#);

    // Install: verified, locked, not enabled, the grant command printed.
    let run = s.run(&["--json", "install", "hello.plinth"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["id"], json!("example.hello"));
    assert_eq!(doc["digest"], json!(digest));
    assert_eq!(doc["signer"], json!("alice"));
    assert_eq!(doc["enabled"], json!(false));
    assert_eq!(doc["requested_capabilities"], json!(["log", "config"]));
    assert_eq!(
        doc["grant_command"],
        json!("plinth grant example.hello log config")
    );
    let plugin_dir = s.home.join("plugins/example.hello");
    assert_eq!(
        fs::read(plugin_dir.join("hello.wasm")).unwrap(),
        fs::read(test_programs::HELLO).unwrap()
    );
    let lock = fs::read_to_string(s.home.join("plinth.lock")).unwrap();
    assert!(lock.contains(&format!("digest = \"{digest}\"")), "{lock}");
    assert!(lock.contains("signer = \"alice\""), "{lock}");
    assert!(
        !s.home.join("plugins.toml").exists(),
        "installing never enables"
    );

    // Text output names the capabilities and the exact grant command.
    let run = s.run(&["install", "hello.plinth"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("  plinth grant example.hello log config\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("replacing 0.1.0"), "{}", run.stdout);

    // The installed plugin runs from its directory.
    let dir = plugin_dir.display().to_string();
    let run = s.run(&["call", "--grant", "log", &dir, "run", r#"["Ada"]"#]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), r#"{"ok":"Hello, Ada!"}"#);

    // Uninstall removes the directory and the lock entry.
    let run = s.run(&["--json", "uninstall", "example.hello"]);
    assert_eq!(
        run.json(),
        json!({"ok": true, "id": "example.hello", "version": "0.1.0", "review_reset": null})
    );
    assert!(!plugin_dir.exists());
    let lock = fs::read_to_string(s.home.join("plinth.lock")).unwrap();
    assert!(!lock.contains("[plugins.\"example.hello\"]"), "{lock}");
    // The key pin stays (design record 0034).
    assert!(
        lock.contains(&format!("\"example.hello\" = \"{key}\"")),
        "{lock}"
    );
    let run = s.run(&["--json", "uninstall", "example.hello"]);
    assert_eq!(
        (run.code, run.first_code().as_str()),
        (1, "missing-package")
    );

    // Removing the key makes the signature untrusted again.
    let run = s.run(&["trust", "remove", "alice"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = s.run(&["--json", "verify", "hello.plinth"]);
    assert_eq!(run.first_code(), "untrusted-key");
    let run = s.run(&["--json", "trust", "remove", "alice"]);
    assert_eq!((run.code, run.first_code().as_str()), (2, "bad-argument"));
}

#[test]
fn refused_installs_have_their_codes_and_leave_the_home_unchanged() {
    let s = Setup::new();
    assert_eq!(s.run(&["keygen", "alice"]).code, 0);
    assert_eq!(s.run(&["keygen", "mallory"]).code, 0);
    assert_eq!(s.run(&["trust", "add", "alice.pub"]).code, 0);
    assert_eq!(s.run(&["pack", "hello", "-o", "hello.plinth"]).code, 0);
    let w = &s.work;

    // Another version of the same plugin, for a signature moved between versions.
    let v2 = w.join("hello2");
    fs::create_dir(&v2).unwrap();
    for name in ["settings.schema.json", "README.md", "hello.wasm"] {
        fs::copy(w.join("hello").join(name), v2.join(name)).unwrap();
    }
    let manifest = fs::read_to_string(w.join("hello/plugin.toml")).unwrap();
    fs::write(
        v2.join("plugin.toml"),
        manifest.replace("version = \"0.1.0\"", "version = \"0.2.0\""),
    )
    .unwrap();
    assert_eq!(s.run(&["pack", "hello2", "-o", "v2.plinth"]).code, 0);

    let make = |name: &str, bytes: Vec<u8>, sig: Option<String>| {
        fs::write(w.join(name), bytes).unwrap();
        if let Some(sig) = sig {
            fs::write(w.join(format!("{name}.sig")), sig).unwrap();
        }
    };
    let package = fs::read(w.join("hello.plinth")).unwrap();
    assert_eq!(
        s.run(&["sign", "hello.plinth", "--key", "alice.key"]).code,
        0
    );
    let good_sig = fs::read_to_string(w.join("hello.plinth.sig")).unwrap();

    let mut tampered = package.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x20;
    make("tampered.plinth", tampered, Some(good_sig.clone()));
    make(
        "moved.plinth",
        fs::read(w.join("v2.plinth")).unwrap(),
        Some(good_sig.clone()),
    );
    make("mallory.plinth", package.clone(), None);
    assert_eq!(
        s.run(&["sign", "mallory.plinth", "--key", "mallory.key"])
            .code,
        0
    );
    make("unsigned.plinth", package.clone(), None);
    make("zip-slip.plinth", zip_slip(), None);
    make("bomb.plinth", bomb(), None);

    // Something installed already, so there is something to disturb.
    assert_eq!(s.run(&["install", "hello.plinth"]).code, 0);
    let before = s.listing();
    let cases = [
        ("tampered.plinth", "bad-signature"),
        ("moved.plinth", "bad-signature"),
        ("mallory.plinth", "untrusted-key"),
        ("unsigned.plinth", "unsigned"),
        ("zip-slip.plinth", "package-rejected"),
        ("bomb.plinth", "package-rejected"),
    ];
    for (file, code) in cases {
        let run = s.run(&["--json", "install", file]);
        assert_eq!((run.code, run.first_code().as_str()), (1, code), "{file}");
        let hint = &run.json()["diagnostics"][0]["hint"];
        assert!(hint.as_str().is_some_and(|h| !h.is_empty()), "{file}");
        assert_eq!(s.listing(), before, "{file} changed the home");
        let text = s.run(&["install", file]);
        assert!(
            text.stderr.contains(&format!("error[{code}]")),
            "{}",
            text.stderr
        );
    }
    let run = s.run(&["--json", "verify", "moved.plinth"]);
    assert_eq!(run.first_code(), "bad-signature");

    // `--allow-unsigned`, or the host config, lets an unsigned package in; a bad signature
    // stays refused.
    // An unsigned package never continues a signed plugin: without `--replace` it is
    // another identity.
    let run = s.run(&["--json", "install", "--allow-unsigned", "unsigned.plinth"]);
    assert_eq!(run.first_code(), "identity-changed");
    let run = s.run(&[
        "--json",
        "install",
        "--allow-unsigned",
        "--replace",
        "unsigned.plinth",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["signer"], json!(null));
    let run = s.run(&["--json", "install", "--allow-unsigned", "tampered.plinth"]);
    assert_eq!(run.first_code(), "bad-signature");
    fs::write(
        s.home.join("config.toml"),
        "[security]\nrequire_signatures = false\n",
    )
    .unwrap();
    let run = s.run(&["--json", "install", "unsigned.plinth"]);
    assert_eq!(run.code, 0, "{}", run.stdout);

    // Usage errors exit 2.
    let run = s.run(&["--json", "sign", "hello.plinth", "--key", "alice.pub"]);
    assert_eq!((run.code, run.first_code().as_str()), (2, "bad-argument"));
    let run = s.run(&["--json", "uninstall", "Not An Id"]);
    assert_eq!((run.code, run.first_code().as_str()), (2, "bad-argument"));
}

#[test]
fn directories_verify_and_install_with_component_signatures() {
    let s = Setup::new();
    assert_eq!(s.run(&["keygen", "alice", "--out", "keys"]).code, 0);
    assert_eq!(
        s.run(&["trust", "add", "keys/alice.pub", "--name", "al"])
            .code,
        0
    );

    // A plugin directory: `sign DIR` writes hello.sig beside hello.wasm.
    let run = s.run(&["--json", "verify", "hello"]);
    assert_eq!(run.first_code(), "unsigned");
    let run = s.run(&["--json", "install", "hello"]);
    assert_eq!(run.first_code(), "unsigned");
    assert_eq!(s.run(&["sign", "hello", "--key", "keys/alice.key"]).code, 0);
    assert!(s.work.join("hello/hello.sig").is_file());
    let run = s.run(&["--json", "verify", "hello"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["results"][0]["signer"], json!("al"));
    let run = s.run(&["--json", "install", "hello"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(s.home.join("plugins/example.hello/hello.sig").is_file());

    // `plinth check` reports the signature; a changed component fails the check.
    let run = s.run(&["--json", "check", "hello"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.json()["signature"],
        json!({"status": "trusted", "signer": "al"})
    );
    let manifest = s.work.join("hello/plugin.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        text.replace("version = \"0.1.0\"", "version = \"0.1.9\""),
    )
    .unwrap();
    let run = s.run(&["--json", "check", "hello"]);
    assert_eq!((run.code, run.first_code().as_str()), (1, "bad-signature"));
    fs::write(&manifest, text).unwrap();

    // The Stack Composer layout: x.wasm + x.sig + x.toml side by side.
    let sc = s.work.join("composer");
    fs::create_dir(&sc).unwrap();
    fs::copy(test_programs::HELLO, sc.join("hello-plugin.wasm")).unwrap();
    fs::write(
        sc.join("hello-plugin.toml"),
        "[plugin]\nid = \"org.example.hello\"\nversion = \"0.1.0\"\nsignature = \"file:hello-plugin.sig\"\n",
    )
    .unwrap();
    let run = s.run(&["--json", "verify", "composer"]);
    assert_eq!(run.first_code(), "unsigned");
    let run = s.run(&[
        "sign",
        "composer/hello-plugin.wasm",
        "--key",
        "keys/alice.key",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(sc.join("hello-plugin.sig").is_file());
    let run = s.run(&["--json", "verify", "composer"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["results"][0]["id"], json!("org.example.hello"));
    // The signature does not move to another version.
    let manifest = fs::read_to_string(sc.join("hello-plugin.toml")).unwrap();
    fs::write(
        sc.join("hello-plugin.toml"),
        manifest.replace("0.1.0", "0.1.1"),
    )
    .unwrap();
    let run = s.run(&["--json", "verify", "composer/hello-plugin.wasm"]);
    assert_eq!((run.code, run.first_code().as_str()), (1, "bad-signature"));
}

fn sha256_hex(path: &str) -> String {
    let digest = plinth_manifest::Digest::of(&fs::read(path).unwrap());
    digest.to_hex()
}

/// A member of a hand-written archive: bytes, or that many zero bytes (streamed, for bombs).
enum Body<'a> {
    Bytes(&'a [u8]),
    Zeros(u64),
}

const HOSTILE_MANIFEST: &[u8] = b"[plugin]\nid = \"x\"\nversion = \"1.0.0\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"x.wasm\"\n";

/// A package with a `../` entry.
fn zip_slip() -> Vec<u8> {
    raw_package(&[
        ("plugin.toml", Body::Bytes(HOSTILE_MANIFEST)),
        ("x.wasm", Body::Bytes(b"\0asm\x0d\x00\x01\x00")),
        ("../../evil.sh", Body::Bytes(b"echo owned")),
    ])
}

/// A decompression bomb: a few hundred KiB that inflate to a 200 MiB component.
fn bomb() -> Vec<u8> {
    raw_package(&[
        ("plugin.toml", Body::Bytes(HOSTILE_MANIFEST)),
        ("x.wasm", Body::Zeros(200 << 20)),
    ])
}

/// A gzip'd tar written with raw ustar headers, so it can hold what `tar::Builder` refuses.
fn raw_package(entries: &[(&str, Body)]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for (name, body) in entries {
        let size = match body {
            Body::Bytes(data) => data.len() as u64,
            Body::Zeros(n) => *n,
        };
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..107].copy_from_slice(b"0000644");
        header[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        header[136..147].copy_from_slice(b"00000000000");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        gz.write_all(&header).unwrap();
        match body {
            Body::Bytes(data) => gz.write_all(data).unwrap(),
            Body::Zeros(n) => {
                let chunk = vec![0u8; 1 << 20];
                let mut left = *n;
                while left > 0 {
                    let take = left.min(chunk.len() as u64);
                    gz.write_all(&chunk[..take as usize]).unwrap();
                    left -= take;
                }
            }
        }
        let padding = (512 - size % 512) % 512;
        gz.write_all(&vec![0u8; padding as usize]).unwrap();
    }
    gz.write_all(&[0u8; 1024]).unwrap();
    gz.finish().unwrap()
}
