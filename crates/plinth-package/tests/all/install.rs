//! Signing, verifying and installing: every signature refusal has its code and leaves the home
//! unchanged; installs and uninstalls are atomic and keep the lockfile in step.

use std::fs;
use std::path::Path;

use crate::common::*;
use plinth_manifest::{Code, PluginId};
use plinth_package::{
    Continuity, Home, INSTALLED_SIGNATURE, InstallOptions, LayoutEntry, ReplacePolicy, SecretKey,
    SignaturePolicy, TrustStore, Verification, check_installed, install_bytes, install_path, pack,
    package_signature_path, uninstall,
};

struct World {
    _dir: tempfile::TempDir,
    home: Home,
    alice: SecretKey,
    mallory: SecretKey,
}

/// A home whose trust store has `alice` (and not `mallory`).
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path().join("home"));
    let alice = SecretKey::from_seed([1; 32]);
    let mallory = SecretKey::from_seed([2; 32]);
    let mut trust = TrustStore::default();
    trust.add("alice", alice.public_key()).unwrap();
    trust.save(&home.trust_store_path()).unwrap();
    World {
        _dir: dir,
        home,
        alice,
        mallory,
    }
}

fn require() -> InstallOptions {
    InstallOptions::new(SignaturePolicy::Require)
}

#[test]
fn signature_refusals_have_their_codes_and_leave_the_home_unchanged() {
    let w = world();
    let v1 = pack(plugin_dir("example.hello", "0.1.0").path()).unwrap();
    let v2 = pack(plugin_dir("example.hello", "0.2.0").path()).unwrap();
    let other = pack(plugin_dir("example.other", "0.1.0").path()).unwrap();
    let sig_v1 = w.alice.sign(&v1.package.subject()).to_text();
    let sig_v2 = w.alice.sign(&v2.package.subject()).to_text();
    let sig_other = w.alice.sign(&other.package.subject()).to_text();
    let by_mallory = w.mallory.sign(&v1.package.subject()).to_text();
    // One changed byte inside the compressed stream: the archive may still read, but its
    // digest is not the signed one.
    let mut tampered = v1.bytes.clone();
    let at = tampered.len() - 9;
    tampered[at] ^= 0x01;
    // The same manifest with one more capability: a different package, same id and version.
    let widened = plugin_dir("example.hello", "0.1.0");
    fs::write(
        widened.path().join("plugin.toml"),
        manifest("example.hello", "0.1.0") + "kv = true\n",
    )
    .unwrap();
    let widened = pack(widened.path()).unwrap();

    // Install v1 first, so there is a previous version a bad install must not disturb.
    install_bytes(&w.home, &v1.bytes, Some(sig_v1.as_bytes()), &require()).unwrap();
    let before = listing(w.home.root());

    // The subject lines of a signature file edited to claim the other version.
    let relabelled = sig_v1.replace(
        &format!("digest {}", v1.package.digest()),
        &format!("digest {}", v2.package.digest()),
    );
    let relabelled = relabelled.replace("version 0.1.0", "version 0.2.0");
    let bare_by_mallory = w.mallory.sign(&v1.package.subject()).to_bare().to_text();

    let cases: Vec<(&str, &[u8], Option<&str>, Code)> = vec![
        (
            "tampered byte",
            &tampered,
            Some(&sig_v1),
            Code::BadSignature,
        ),
        (
            "moved to another version",
            &v2.bytes,
            Some(&sig_v1),
            Code::BadSignature,
        ),
        (
            "moved from another version",
            &v1.bytes,
            Some(&sig_v2),
            Code::BadSignature,
        ),
        (
            "moved to another id",
            &v1.bytes,
            Some(&sig_other),
            Code::BadSignature,
        ),
        (
            "relabelled signature",
            &v2.bytes,
            Some(&relabelled),
            Code::BadSignature,
        ),
        (
            "manifest changed",
            &widened.bytes,
            Some(&sig_v1),
            Code::BadSignature,
        ),
        (
            "untrusted key",
            &v1.bytes,
            Some(&by_mallory),
            Code::UntrustedKey,
        ),
        (
            "bare, untrusted key",
            &v1.bytes,
            Some(&bare_by_mallory),
            Code::UntrustedKey,
        ),
        ("unsigned", &v2.bytes, None, Code::Unsigned),
        (
            "malformed signature",
            &v2.bytes,
            Some("not a signature"),
            Code::BadSignature,
        ),
    ];
    for (name, bytes, sig, code) in cases {
        let err = install_bytes(&w.home, bytes, sig.map(str::as_bytes), &require()).unwrap_err();
        assert_eq!(err.code(), code, "{name}: {err}");
        assert_eq!(listing(w.home.root()), before, "{name} changed the home");
    }
    // A moved signature is refused because of what it covers, not because it is malformed.
    let moved = install_bytes(&w.home, &v2.bytes, Some(sig_v1.as_bytes()), &require());
    assert!(
        moved
            .unwrap_err()
            .to_string()
            .contains("belongs to another package"),
    );
    // The bare form of a trusted signature is accepted (it is checked against each key).
    let bare = w.alice.sign(&v2.package.subject()).to_bare().to_text();
    install_bytes(&w.home, &v2.bytes, Some(bare.as_bytes()), &require()).unwrap();
}

#[test]
fn a_tampered_member_is_a_bad_signature() {
    // Rebuild the archive with one member's byte changed (a valid archive this time).
    let w = world();
    let packed = pack(plugin_dir("example.hello", "0.1.0").path()).unwrap();
    let sig = w.alice.sign(&packed.package.subject()).to_text();
    let mut entries: Vec<Entry> = packed
        .package
        .members()
        .map(|(path, bytes)| file(path, bytes.to_vec()))
        .collect();
    let wasm = entries
        .iter_mut()
        .find(|e| e.path == b"hello.wasm")
        .unwrap();
    *wasm.data.last_mut().unwrap() ^= 1;
    let tampered = archive(&entries);
    let err = install_bytes(&w.home, &tampered, Some(sig.as_bytes()), &require()).unwrap_err();
    assert_eq!(err.code(), Code::BadSignature, "{err}");
    assert!(!w.home.root().join("plugins").exists());
}

#[test]
fn install_replace_restore_and_uninstall() {
    let w = world();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("hello.plinth");
    let v1 = pack(plugin_dir("example.hello", "0.1.0").path()).unwrap();
    fs::write(&file, &v1.bytes).unwrap();
    fs::write(
        package_signature_path(&file),
        w.alice.sign(&v1.package.subject()).to_text(),
    )
    .unwrap();

    let installed = install_path(&w.home, &file, &require()).unwrap();
    let id = PluginId::new("example.hello").unwrap();
    assert_eq!(installed.id, id);
    assert_eq!(installed.verification.signer(), Some("alice"));
    let requested: Vec<String> = installed.requested.iter().map(|g| g.to_string()).collect();
    assert_eq!(requested, ["log", "http:api.example.com"]);
    let dir = w.home.plugin_dir(&id);
    assert!(dir.join("hello.wasm").is_file() && dir.join(INSTALLED_SIGNATURE).is_file());
    let lock = w.home.lockfile().unwrap();
    let entry = lock.get(&id).unwrap();
    assert_eq!(entry.digest, v1.package.digest());
    assert_eq!(entry.version.to_string(), "0.1.0");
    assert_eq!(entry.source, file.display().to_string());
    assert_eq!(entry.signer.as_deref(), Some("alice"));
    // Installing does not enable: no state file is written.
    assert!(!w.home.root().join("plugins.toml").exists());

    // Restoring the locked package (from the source it records) passes; another version or
    // other bytes do not.
    let mut pinned = require();
    pinned.expect = Some(entry.clone());
    pinned.source = Some(entry.source.clone());
    let sig = w.alice.sign(&v1.package.subject()).to_text();
    install_bytes(&w.home, &v1.bytes, Some(sig.as_bytes()), &pinned).unwrap();
    let v2 = pack(plugin_dir("example.hello", "0.2.0").path()).unwrap();
    let sig2 = w.alice.sign(&v2.package.subject()).to_text();
    let changed = plugin_dir("example.hello", "0.1.0");
    fs::write(changed.path().join("README.md"), "changed").unwrap();
    let changed = pack(changed.path()).unwrap();
    let sig_changed = w.alice.sign(&changed.package.subject()).to_text();
    let before = listing(w.home.root());
    for (bytes, sig, code) in [
        (&v2.bytes, &sig2, Code::VersionMismatch),
        (&changed.bytes, &sig_changed, Code::DigestMismatch),
    ] {
        let err = install_bytes(&w.home, bytes, Some(sig.as_bytes()), &pinned).unwrap_err();
        assert_eq!(err.code(), code);
        assert_eq!(listing(w.home.root()), before);
    }
    let lock = w.home.lockfile().unwrap();
    assert!(
        lock.check(&id, v2.package.version(), &v2.package.digest())
            .is_err()
    );

    // The installed directory still matches its pin; a changed file does not.
    assert_eq!(
        check_installed(&w.home, &id).unwrap().digest,
        v1.package.digest()
    );
    let readme = dir.join("README.md");
    let original = fs::read(&readme).unwrap();
    fs::write(&readme, "changed on disk").unwrap();
    assert_eq!(
        check_installed(&w.home, &id).unwrap_err().code(),
        Code::DigestMismatch
    );
    fs::write(&readme, original).unwrap();
    assert!(check_installed(&w.home, &id).is_ok());

    // A new version from the same folder, signed by the same key, replaces the old one in
    // place: an update.
    let mut update = require();
    update.source = Some(work.path().join("hello-0.2.0.plinth").display().to_string());
    let replaced = install_bytes(&w.home, &v2.bytes, Some(sig2.as_bytes()), &update).unwrap();
    assert_eq!(replaced.replaced.unwrap().version.to_string(), "0.1.0");
    assert_eq!(replaced.continuity, Continuity::Same);
    assert!(
        fs::read_to_string(dir.join("plugin.toml"))
            .unwrap()
            .contains("0.2.0")
    );
    assert_eq!(
        w.home.lockfile().unwrap().get(&id).unwrap().digest,
        v2.package.digest()
    );
    let names: Vec<String> = fs::read_dir(w.home.plugins_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["example.hello"], "no staging directory remains");

    let removed = uninstall(&w.home, &id).unwrap().unwrap();
    assert_eq!(removed.digest, v2.package.digest());
    assert!(!dir.exists());
    assert!(w.home.lockfile().unwrap().get(&id).is_none());
    assert_eq!(
        uninstall(&w.home, &id).unwrap_err().code(),
        Code::MissingPackage
    );
}

#[test]
fn directory_installs_check_the_component_signature() {
    let w = world();
    let dir = plugin_dir("example.hello", "0.1.0");
    let before = listing(w.home.root());
    let err = install_path(&w.home, dir.path(), &require()).unwrap_err();
    assert_eq!(err.code(), Code::Unsigned);
    assert_eq!(listing(w.home.root()), before);

    let entry = LayoutEntry::for_plugin_dir(dir.path()).unwrap();
    assert_eq!(entry.signature, dir.path().join("hello.sig"));
    entry.sign(&w.alice).unwrap();
    let installed = install_path(&w.home, dir.path(), &require()).unwrap();
    assert_eq!(installed.verification.signer(), Some("alice"));
    let installed_dir = w.home.plugin_dir(&installed.id);
    assert!(installed_dir.join("hello.sig").is_file());
    // The installed directory verifies as a directory layout too, and packs to the digest the
    // lockfile pins.
    let again = LayoutEntry::for_plugin_dir(&installed_dir).unwrap();
    let trust = w.home.trust_store().unwrap();
    assert!(again.verify(&trust, SignaturePolicy::Require).is_ok());
    assert_eq!(
        pack(&installed_dir).unwrap().package.digest(),
        installed.digest
    );

    // Unsigned is accepted only when the policy allows it.
    let unsigned = plugin_dir("example.unsigned", "0.1.0");
    let allow = InstallOptions::new(SignaturePolicy::AllowUnsigned);
    let installed = install_path(&w.home, unsigned.path(), &allow).unwrap();
    assert_eq!(installed.verification, Verification::Unsigned);
    let lock = w.home.lockfile().unwrap();
    assert_eq!(lock.get(&installed.id).unwrap().signer, None);
}

/// The Stack Composer layout: `x.wasm`, `x.sig`, `x.toml` in one directory.
fn composer_dir(id: &str, version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("hello-plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"{version}\"\nwasm_target = \"wasm32-wasi\"\nsignature = \"file:hello-plugin.sig\"\ncapabilities = [\"log\"]\n\n[meta]\nname = \"Hello Plugin\"\n"
        ),
    )
    .unwrap();
    fs::write(dir.path().join("hello-plugin.wasm"), component_bytes(b"sc")).unwrap();
    fs::write(dir.path().join("readme.md"), "docs").unwrap();
    dir
}

#[test]
fn stack_composer_layout_verifies() {
    let w = world();
    let trust = w.home.trust_store().unwrap();
    let dir = composer_dir("org.example.hello", "0.1.0");
    let entries = LayoutEntry::scan_dir(dir.path()).unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.signature, dir.path().join("hello-plugin.sig"));
    let verify = |e: &LayoutEntry| {
        e.verify(&trust, SignaturePolicy::Require)
            .map(|(_, v)| v)
            .map_err(|e| e.code())
    };

    assert_eq!(verify(entry), Err(Code::Unsigned));
    let subject = entry.sign(&w.alice).unwrap();
    assert_eq!(subject.id.as_str(), "org.example.hello");
    assert!(matches!(verify(entry), Ok(Verification::Trusted { name, .. }) if name == "alice"));

    // The bare hex form Stack Composer writes verifies against the trusted keys too.
    let sig = w.alice.sign(&subject);
    fs::write(&entry.signature, hex_of(&sig.to_bytes())).unwrap();
    assert!(verify(entry).is_ok());

    // Moved: the same signature beside another version's manifest.
    let text = fs::read_to_string(&entry.manifest).unwrap();
    fs::write(&entry.manifest, text.replace("0.1.0", "0.1.1")).unwrap();
    fs::write(&entry.signature, sig.to_text()).unwrap();
    assert_eq!(verify(entry), Err(Code::BadSignature));
    fs::write(&entry.manifest, &text).unwrap();
    assert!(verify(entry).is_ok());

    // Tampered component.
    let mut wasm = fs::read(&entry.component).unwrap();
    wasm.push(0);
    fs::write(&entry.component, &wasm).unwrap();
    assert_eq!(verify(entry), Err(Code::BadSignature));
    wasm.pop();
    fs::write(&entry.component, &wasm).unwrap();

    // Signed by a stranger.
    entry.sign(&w.mallory).unwrap();
    assert_eq!(verify(entry), Err(Code::UntrustedKey));
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn install_path_refuses_what_is_not_a_plugin() {
    let w = world();
    let work = tempfile::tempdir().unwrap();
    let stray = work.path().join("notes.txt");
    fs::write(&stray, "x").unwrap();
    let cases: [(&Path, Code); 2] = [
        (&stray, Code::BadArgument),
        (Path::new("/no/such/plugin"), Code::MissingPackage),
    ];
    for (path, code) in cases {
        let err = install_path(&w.home, path, &require()).unwrap_err();
        assert_eq!(err.code(), code, "{}", path.display());
    }
}

#[test]
fn concurrent_installs_into_one_home_all_land_in_the_lockfile() {
    let w = world();
    let packages: Vec<_> = (0..6)
        .map(|i| pack(plugin_dir(&format!("example.p{i}"), "0.1.0").path()).unwrap())
        .collect();
    let allow = InstallOptions::new(SignaturePolicy::AllowUnsigned);
    std::thread::scope(|scope| {
        for packed in &packages {
            let (home, allow) = (&w.home, &allow);
            scope.spawn(move || install_bytes(home, &packed.bytes, None, allow).unwrap());
        }
    });
    let lock = w.home.lockfile().unwrap();
    let ids: Vec<&str> = lock.entries().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "example.p0",
            "example.p1",
            "example.p2",
            "example.p3",
            "example.p4",
            "example.p5"
        ]
    );
    for packed in &packages {
        assert!(
            w.home
                .plugin_dir(packed.package.id())
                .join("plugin.toml")
                .is_file()
        );
    }
}

#[test]
fn restore_check_on_bytes_names_how_they_differ() {
    let id = PluginId::new("example.hello").unwrap();
    let v1 = pack(plugin_dir("example.hello", "0.1.0").path()).unwrap();
    let v2 = pack(plugin_dir("example.hello", "0.2.0").path()).unwrap();
    let other = pack(plugin_dir("example.other", "0.1.0").path()).unwrap();
    let changed = plugin_dir("example.hello", "0.1.0");
    fs::write(changed.path().join("README.md"), "changed").unwrap();
    let changed = pack(changed.path()).unwrap();
    let pin = plinth_package::LockEntry {
        version: v1.package.version().clone(),
        digest: v1.package.digest(),
        source: "hello.plinth".into(),
        signer: None,
    };
    let limits = plinth_package::UnpackLimits::default();
    let cases: [(&[u8], Result<(), Code>); 5] = [
        (&v1.bytes, Ok(())),
        (&changed.bytes, Err(Code::DigestMismatch)),
        (&v2.bytes, Err(Code::VersionMismatch)),
        (&other.bytes, Err(Code::PackageRejected)),
        (b"not a package", Err(Code::DigestMismatch)),
    ];
    for (i, (bytes, expected)) in cases.into_iter().enumerate() {
        let got = pin.check_bytes(&id, bytes, &limits).map_err(|e| e.code());
        assert_eq!(got, expected, "case {i}");
    }
}

#[test]
fn installed_plugins_verify_by_their_kept_signature() {
    let w = world();
    let trust = w.home.trust_store().unwrap();
    let id = PluginId::new("example.hello").unwrap();
    let dir = w.home.plugin_dir(&id);
    let verify_now = || plinth_package::verify_installed(&dir, &trust, SignaturePolicy::Require);

    // A package install keeps package.sig, checked against what the folder packs to.
    let v1 = pack(plugin_dir("example.hello", "0.1.0").path()).unwrap();
    let sig = w.alice.sign(&v1.package.subject()).to_text();
    install_bytes(&w.home, &v1.bytes, Some(sig.as_bytes()), &require()).unwrap();
    assert_eq!(verify_now().unwrap().signer(), Some("alice"));
    fs::write(dir.join("README.md"), "changed after the install").unwrap();
    assert_eq!(verify_now().unwrap_err().code(), Code::BadSignature);

    // A directory install keeps x.sig beside the component.
    let src = plugin_dir("example.hello", "0.1.0");
    let entry = LayoutEntry::for_plugin_dir(src.path()).unwrap();
    entry.sign(&w.mallory).unwrap();
    let mut allow = require();
    allow.policy = SignaturePolicy::AllowUnsigned;
    assert_eq!(
        install_path(&w.home, src.path(), &allow)
            .unwrap_err()
            .code(),
        Code::UntrustedKey
    );
    entry.sign(&w.alice).unwrap();
    // From another folder than the package install: a replacement, on purpose.
    let mut replace = require();
    replace.replace = ReplacePolicy::Replace;
    let installed = install_path(&w.home, src.path(), &replace).unwrap();
    assert_eq!(installed.continuity, Continuity::Replaced);
    assert!(!dir.join(INSTALLED_SIGNATURE).exists());
    assert_eq!(verify_now().unwrap().signer(), Some("alice"));

    // Unsigned: the policy decides.
    fs::remove_file(dir.join("hello.sig")).unwrap();
    assert_eq!(verify_now().unwrap_err().code(), Code::Unsigned);
    let unsigned =
        plinth_package::verify_installed(&dir, &trust, SignaturePolicy::AllowUnsigned).unwrap();
    assert_eq!(unsigned, Verification::Unsigned);
}

/// A theme-only plugin folder (docs/design/0044): `plugin.toml` without `[runtime]`.
fn theme_dir(id: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"1.0.0\"\n\n[[provides.theme]]\nname = \"night\"\nfile = \"themes/night.json\"\n"
        ),
    )
    .unwrap();
    fs::create_dir(dir.path().join("themes")).unwrap();
    fs::write(
        dir.path().join("themes/night.json"),
        r##"{"name":"Night","appearance":"dark","colors":{"background":"#000","foreground":"#fff","accent":"#48f"}}"##,
    )
    .unwrap();
    dir
}

#[test]
fn a_theme_without_a_component_is_packed_signed_verified_and_installed() {
    let w = world();
    let dir = theme_dir("example.night");
    // Packed with its theme file; no component.
    let packed = pack(dir.path()).unwrap();
    assert_eq!(packed.package.component_path(), None);
    assert!(packed.package.member("themes/night.json").is_some());
    assert_eq!(packed.package.signature_member(), "plugin.sig");

    // Signed in the directory layout as `plugin.sig`, over the theme files.
    let entry = LayoutEntry::for_plugin_dir(dir.path()).unwrap();
    assert_eq!(entry.signature, dir.path().join("plugin.sig"));
    let subject = entry.sign(&w.alice).unwrap();
    assert_eq!(subject.digest, packed.package.payload_digest());
    let installed = install_path(&w.home, dir.path(), &require()).unwrap();
    assert_eq!(installed.verification.signer(), Some("alice"));
    let installed_dir = w.home.plugin_dir(&installed.id);
    assert!(installed_dir.join("themes/night.json").is_file());
    let trust = w.home.trust_store().unwrap();
    assert!(
        LayoutEntry::for_plugin_dir(&installed_dir)
            .unwrap()
            .verify(&trust, SignaturePolicy::Require)
            .is_ok()
    );

    // A changed colour breaks the signature.
    fs::write(
        dir.path().join("themes/night.json"),
        r##"{"name":"Night","appearance":"dark","colors":{"background":"#000","foreground":"#fff","accent":"#f00"}}"##,
    )
    .unwrap();
    let before = listing(w.home.root());
    let err = install_path(&w.home, dir.path(), &require()).unwrap_err();
    assert_eq!(err.code(), Code::BadSignature, "{err}");
    assert_eq!(listing(w.home.root()), before);

    // As a `.plinth` package signed by alice: installed like any other.
    let other = theme_dir("example.dawn");
    let packed = pack(other.path()).unwrap();
    let signature = w.alice.sign(&packed.package.subject()).to_text();
    let installed = install_bytes(
        &w.home,
        &packed.bytes,
        Some(signature.as_bytes()),
        &require(),
    )
    .unwrap();
    assert_eq!(installed.id.as_str(), "example.dawn");
}
