//! Plugin identity (design record 0034): an installed id keeps its origin and signer unless
//! replaced on purpose; the key pin outlives `uninstall`; `BeforeWrite` runs after every
//! check and before the first write; `verify_dir` reads an installed folder once and checks
//! it against its lock entry, key pin and signature.

use std::fs;
use std::sync::{Arc, Mutex};

use crate::common::*;
use plinth_manifest::{Code, Diagnostic, PluginId};
use plinth_package::{
    BeforeWrite, Continuity, Home, InstallOptions, Lockfile, ReplacePolicy, SecretKey,
    SignaturePolicy, TrustStore, install_bytes, pack, uninstall, verify_dir,
};

struct World {
    _dir: tempfile::TempDir,
    home: Home,
    alice: SecretKey,
    bob: SecretKey,
}

/// A home trusting both `alice` and `bob`.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path().join("home"));
    let alice = SecretKey::from_seed([1; 32]);
    let bob = SecretKey::from_seed([3; 32]);
    let mut trust = TrustStore::default();
    trust.add("alice", alice.public_key()).unwrap();
    trust.add("bob", bob.public_key()).unwrap();
    trust.save(&home.trust_store_path()).unwrap();
    World {
        _dir: dir,
        home,
        alice,
        bob,
    }
}

/// Options recording `source`.
fn from(source: &str) -> InstallOptions {
    let mut options = InstallOptions::new(SignaturePolicy::Require);
    options.source = Some(source.to_owned());
    options
}

fn signed(version: &str, readme: &str, key: &SecretKey) -> (Vec<u8>, String) {
    let dir = plugin_dir("example.hello", version);
    fs::write(dir.path().join("README.md"), readme).unwrap();
    let packed = pack(dir.path()).unwrap();
    let signature = key.sign(&packed.package.subject()).to_text();
    (packed.bytes, signature)
}

#[test]
fn another_signer_or_origin_is_refused_unless_replaced() {
    let w = world();
    let (v1, sig1) = signed("0.1.0", "one", &w.alice);
    let first = install_bytes(
        &w.home,
        &v1,
        Some(sig1.as_bytes()),
        &from("/srv/a/h-1.plinth"),
    );
    assert_eq!(first.unwrap().continuity, Continuity::New);
    let id = PluginId::new("example.hello").unwrap();
    let lock = w.home.lockfile().unwrap();
    assert_eq!(lock.pinned_key(&id), Some(w.alice.public_key()));

    let (by_bob, sig_bob) = signed("0.2.0", "bob's", &w.bob);
    let (v2, sig2) = signed("0.2.0", "two", &w.alice);
    let before = listing(w.home.root());
    for (name, bytes, sig, source) in [
        ("another key", &by_bob, &sig_bob, "/srv/a/h-2.plinth"),
        ("another folder", &v2, &sig2, "/tmp/h-2.plinth"),
        (
            "another registry",
            &v2,
            &sig2,
            "https://plugins.example.org/h-2.plinth",
        ),
    ] {
        let err = install_bytes(&w.home, bytes, Some(sig.as_bytes()), &from(source)).unwrap_err();
        assert_eq!(err.code(), Code::IdentityChanged, "{name}: {err}");
        assert_eq!(listing(w.home.root()), before, "{name} changed the home");
    }

    let update = install_bytes(
        &w.home,
        &v2,
        Some(sig2.as_bytes()),
        &from("/srv/a/h-2.plinth"),
    );
    assert_eq!(update.unwrap().continuity, Continuity::Same);

    let mut replace = from("/srv/b/h.plinth");
    replace.replace = ReplacePolicy::Replace;
    let replaced = install_bytes(&w.home, &by_bob, Some(sig_bob.as_bytes()), &replace).unwrap();
    assert_eq!(replaced.continuity, Continuity::Replaced);
    let lock = w.home.lockfile().unwrap();
    assert_eq!(lock.pinned_key(&id), Some(w.bob.public_key()));

    // The pin outlives `uninstall`: alice's package is now the other identity.
    uninstall(&w.home, &id).unwrap();
    assert_eq!(
        w.home.lockfile().unwrap().pinned_key(&id),
        Some(w.bob.public_key())
    );
    let err = install_bytes(
        &w.home,
        &v2,
        Some(sig2.as_bytes()),
        &from("/srv/b/h.plinth"),
    );
    assert_eq!(err.unwrap_err().code(), Code::IdentityChanged);
    let again = install_bytes(
        &w.home,
        &by_bob,
        Some(sig_bob.as_bytes()),
        &from("/x/h.plinth"),
    );
    assert_eq!(again.unwrap().continuity, Continuity::New);
}

#[test]
fn before_write_runs_after_the_checks_and_can_refuse_with_nothing_written() {
    let w = world();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let mut options = from("/srv/a/h.plinth");
    options.before_write = Some(BeforeWrite::new(move |id, continuity| {
        record.lock().unwrap().push((id.to_string(), continuity));
        Ok(())
    }));
    let (v1, sig1) = signed("0.1.0", "one", &w.alice);
    install_bytes(&w.home, &v1, Some(sig1.as_bytes()), &options).unwrap();
    install_bytes(&w.home, &v1, Some(sig1.as_bytes()), &options).unwrap();
    // A refused package never reaches the hook.
    let (by_bob, sig_bob) = signed("0.2.0", "bob's", &w.bob);
    assert!(install_bytes(&w.home, &by_bob, Some(sig_bob.as_bytes()), &options).is_err());
    assert_eq!(
        *seen.lock().unwrap(),
        [
            ("example.hello".to_owned(), Continuity::New),
            ("example.hello".to_owned(), Continuity::Same)
        ]
    );

    let before = listing(w.home.root());
    options.before_write = Some(BeforeWrite::new(|_, _| {
        Err(Diagnostic::new(Code::IoError, "plugins.toml is read-only"))
    }));
    let (v2, sig2) = signed("0.2.0", "two", &w.alice);
    let err = install_bytes(&w.home, &v2, Some(sig2.as_bytes()), &options).unwrap_err();
    assert_eq!(err.code(), Code::IoError);
    assert_eq!(listing(w.home.root()), before);
}

#[test]
fn verify_dir_checks_an_installed_folder_against_its_pins() {
    let w = world();
    let trust = w.home.trust_store().unwrap();
    let id = PluginId::new("example.hello").unwrap();
    let dir = w.home.plugin_dir(&id);
    let (v1, sig1) = signed("0.1.0", "one", &w.alice);
    install_bytes(
        &w.home,
        &v1,
        Some(sig1.as_bytes()),
        &from("/srv/a/h-1.plinth"),
    )
    .unwrap();
    let old = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, old.path().join(path.file_name().unwrap())).unwrap();
    }
    let (v2, sig2) = signed("0.2.0", "two", &w.alice);
    install_bytes(
        &w.home,
        &v2,
        Some(sig2.as_bytes()),
        &from("/srv/a/h-2.plinth"),
    )
    .unwrap();
    let require = SignaturePolicy::Require;
    let check = || verify_dir(&dir, &w.home.lockfile().unwrap(), &trust, require);

    let verified = check().unwrap();
    assert!(verified.locked());
    assert_eq!(verified.verification().signer(), Some("alice"));
    assert_eq!(verified.manifest().dir, dir);
    assert_eq!(verified.manifest().plugin.version.to_string(), "0.2.0");
    assert_eq!(
        verified.component(),
        fs::read(dir.join("hello.wasm")).unwrap()
    );

    // A changed file: the kept signature no longer covers the folder.
    let wasm = dir.join("hello.wasm");
    let pristine = fs::read(&wasm).unwrap();
    fs::write(&wasm, component_bytes(b"other code")).unwrap();
    assert_eq!(check().unwrap_err().code(), Code::BadSignature);
    fs::write(&wasm, &pristine).unwrap();
    // The older version, validly signed, over the pinned one.
    for entry in fs::read_dir(old.path()).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    assert_eq!(check().unwrap_err().code(), Code::DigestMismatch);
    // Without the lockfile, the signature alone passes it.
    assert!(verify_dir(&dir, &Lockfile::default(), &trust, require).is_ok());
}
