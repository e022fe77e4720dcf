//! Signatures on every load and hot reload: a tampered, unsigned or untrusted new version
//! is refused with its code, the old version keeps serving, and the refusal is a status
//! event. Checked for the three signed layouts: a plugin folder with `x.sig`, the Stack
//! Composer `x.wasm` + `x.sig` + `x.toml`, and an installed package's `package.sig`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use plinth_manager::discovery::PluginDirs;
use plinth_manager::state::InstanceMode;
use plinth_manager::{Manager, ManagerError, SignatureCheck, SignaturePolicy, Status, StatusEvent};
use plinth_manifest::Code;
use plinth_package::{
    Home, InstallOptions, LayoutEntry, SecretKey, TRUST_FILE, TrustStore, install_bytes, pack,
};
use tokio::sync::broadcast;

use crate::common::*;

const ID: &str = "test.signed";

fn alice() -> SecretKey {
    SecretKey::from_seed([1; 32])
}

fn mallory() -> SecretKey {
    SecretKey::from_seed([2; 32])
}

/// A home whose trust store holds alice's key only.
fn home_trusting_alice() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let mut trust = TrustStore::default();
    trust.add("alice", alice().public_key()).unwrap();
    trust.save(&home.path().join(TRUST_FILE)).unwrap();
    home
}

/// Writes `version` of the plugin into `root/ID`, its `plugin.sig` by `key` (or none).
fn version_signed_by(
    root: &Path,
    (version, component): (&str, &str),
    key: Option<&SecretKey>,
) -> PathBuf {
    let dir = plugin_dir(root, ID, version, component);
    let unit = LayoutEntry::for_plugin_dir(&dir).unwrap();
    match key {
        Some(key) => {
            unit.sign(key).unwrap();
        }
        None => {
            let _ = std::fs::remove_file(&unit.signature);
        }
    }
    dir
}

fn manager(home: &Path, policy: SignaturePolicy) -> Manager {
    Manager::builder(host())
        .signatures(SignatureCheck::in_home(home, policy))
        .build()
}

/// The last status event of `id` so far.
fn last_event(rx: &mut broadcast::Receiver<StatusEvent>, id: &str) -> StatusEvent {
    std::iter::from_fn(|| rx.try_recv().ok())
        .filter(|e| e.id == id)
        .last()
        .unwrap_or_else(|| panic!("no status event of {id}"))
}

fn refused_with(event: &StatusEvent) -> Code {
    match &event.status {
        Status::Error(d) => {
            assert_eq!(d.plugin.as_deref(), Some(event.id.as_str()), "{d}");
            d.code
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn a_reload_that_fails_its_signature_is_refused_and_the_old_version_serves() {
    let home = home_trusting_alice();
    let root = home.path().join("plugins");
    let dir = version_signed_by(&root, RELOAD_VERSIONS[0], Some(&alice()));
    let manager = manager(home.path(), SignaturePolicy::Require);
    manager.apply(&section(vec![entry(ID, &dir, InstanceMode::PerCall)]));
    assert_eq!(manager.status(ID), Some(Status::Ready));
    let mut rx = manager.subscribe();

    type Case = (&'static str, fn(&Path), Code);
    let cases: [Case; 3] = [
        (
            "tampered",
            |root| {
                let dir = version_signed_by(root, RELOAD_VERSIONS[1], Some(&alice()));
                replace(&dir.join("plugin.wasm"), test_programs::RELOAD_V1);
            },
            Code::BadSignature,
        ),
        (
            "unsigned",
            |root| {
                version_signed_by(root, RELOAD_VERSIONS[1], None);
            },
            Code::Unsigned,
        ),
        (
            "untrusted",
            |root| {
                version_signed_by(root, RELOAD_VERSIONS[1], Some(&mallory()));
            },
            Code::UntrustedKey,
        ),
    ];
    for (case, make, code) in cases {
        make(&root);
        assert!(!manager.reload(ID), "{case}: refused");
        let event = last_event(&mut rx, ID);
        assert_eq!(refused_with(&event), code, "{case}");
        assert_eq!(
            event.serving.as_deref(),
            Some("1.0.0"),
            "{case}: old serves"
        );
        let answer = manager
            .call(ID, "run", &[serde_json::json!(["version"])])
            .unwrap();
        assert_eq!(
            (answer.value["ok"].as_str(), answer.version.as_str()),
            (Some("v1"), "1.0.0"),
            "{case}"
        );
    }

    // Signed by a trusted key: swapped in.
    version_signed_by(&root, RELOAD_VERSIONS[1], Some(&alice()));
    assert!(manager.reload(ID));
    assert_eq!(manager.serving_version(ID).as_deref(), Some("2.0.0"));
    assert_eq!(run(&manager, ID, "version").unwrap(), "v2");

    // Through the watcher: the files change on disk, the refusal is a status event.
    let _watcher = manager.watch(Duration::from_millis(20)).unwrap();
    version_signed_by(&root, RELOAD_VERSIONS[0], Some(&mallory()));
    let refused = wait_for(
        &mut rx,
        ID,
        |s| matches!(s, Status::Error(d) if d.code == Code::UntrustedKey),
    );
    assert_eq!(refused.serving.as_deref(), Some("2.0.0"));
    assert_eq!(run(&manager, ID, "version").unwrap(), "v2");
}

#[test]
fn the_first_load_is_checked_too() {
    let home = home_trusting_alice();
    let root = home.path().join("plugins");
    let dir = version_signed_by(&root, RELOAD_VERSIONS[0], None);

    // Required and missing: refused, nothing serves.
    let strict = manager(home.path(), SignaturePolicy::Require);
    strict.apply(&section(vec![entry(ID, &dir, InstanceMode::PerCall)]));
    let Some(Status::Error(d)) = strict.status(ID) else {
        panic!("{:?}", strict.status(ID))
    };
    assert_eq!(d.code, Code::Unsigned, "{d}");
    assert!(strict.serving_version(ID).is_none());
    assert!(matches!(
        run(&strict, ID, "version"),
        Err(ManagerError::Unavailable { .. })
    ));

    // Unsigned allowed: it loads; a signature that is present must still verify.
    let lenient = manager(home.path(), SignaturePolicy::AllowUnsigned);
    lenient.apply(&section(vec![entry(ID, &dir, InstanceMode::PerCall)]));
    assert_eq!(lenient.status(ID), Some(Status::Ready));
    version_signed_by(&root, RELOAD_VERSIONS[0], Some(&mallory()));
    let lenient = manager(home.path(), SignaturePolicy::AllowUnsigned);
    lenient.apply(&section(vec![entry(ID, &dir, InstanceMode::PerCall)]));
    let Some(Status::Error(d)) = lenient.status(ID) else {
        panic!("{:?}", lenient.status(ID))
    };
    assert_eq!(d.code, Code::UntrustedKey, "{d}");
}

#[test]
fn the_stack_composer_layout_is_verified() {
    let home = home_trusting_alice();
    let dir = home.path().join("composer");
    std::fs::create_dir_all(&dir).unwrap();
    let wasm = dir.join("research.wasm");
    replace(&wasm, test_programs::RELOAD_V1);
    std::fs::write(
        dir.join("research.toml"),
        "[plugin]\nid = \"test.composer\"\nversion = \"1.2.0\"\n",
    )
    .unwrap();
    LayoutEntry::for_component(&wasm)
        .unwrap()
        .sign(&alice())
        .unwrap();
    let manager = manager(home.path(), SignaturePolicy::Require);
    let mut composer = entry("test.composer", &dir, InstanceMode::PerCall);
    composer.artifact_path = Some(wasm.clone());
    manager.apply(&section(vec![composer]));
    assert_eq!(manager.status("test.composer"), Some(Status::Ready));
    // A bare component's version is the one its signed `x.toml` names.
    assert_eq!(
        manager.serving_version("test.composer").as_deref(),
        Some("1.2.0")
    );

    let mut rx = manager.subscribe();
    replace(&wasm, test_programs::RELOAD_V2);
    assert!(!manager.reload("test.composer"));
    let event = last_event(&mut rx, "test.composer");
    assert_eq!(refused_with(&event), Code::BadSignature);
    assert_eq!(event.serving.as_deref(), Some("1.2.0"));
    assert_eq!(run(&manager, "test.composer", "version").unwrap(), "v1");
}

#[test]
fn an_installed_package_signature_covers_its_folder() {
    let home_dir = home_trusting_alice();
    let home = Home::new(home_dir.path());
    let author = tempfile::tempdir().unwrap();
    let source = plugin_dir(author.path(), ID, "1.0.0", test_programs::RELOAD_V1);
    let packed = pack(&source).unwrap();
    let signature = alice().sign(&packed.package.subject()).to_text();
    install_bytes(
        &home,
        &packed.bytes,
        Some(signature.as_bytes()),
        &InstallOptions::new(SignaturePolicy::Require),
    )
    .unwrap();
    let manager = Manager::builder(host())
        .signatures(SignatureCheck::in_home(
            home.root(),
            SignaturePolicy::Require,
        ))
        .plugin_dirs(PluginDirs::user_only(home.plugins_dir()))
        .build();
    manager.apply(&section(vec![entry_by_id(ID)]));
    assert_eq!(manager.status(ID), Some(Status::Ready));

    // One file of the installed folder changed: the package no longer matches.
    let mut rx = manager.subscribe();
    let installed = home.plugins_dir().join(ID);
    replace(&installed.join("plugin.wasm"), test_programs::RELOAD_V2);
    assert!(!manager.reload(ID));
    let event = last_event(&mut rx, ID);
    assert_eq!(refused_with(&event), Code::BadSignature);
    assert_eq!(event.serving.as_deref(), Some("1.0.0"));
    assert_eq!(run(&manager, ID, "version").unwrap(), "v1");
}

/// Installs `(version, component)` of the plugin into `home`, packed and signed by `key`
/// (or unsigned, allowed for this install).
fn install_version(home: &Home, (version, component): (&str, &str), key: Option<&SecretKey>) {
    let author = tempfile::tempdir().unwrap();
    let source = plugin_dir(author.path(), ID, version, component);
    let packed = pack(&source).unwrap();
    let signature = key.map(|k| k.sign(&packed.package.subject()).to_text());
    let mut options = InstallOptions::new(SignaturePolicy::Require);
    if key.is_none() {
        options.policy = SignaturePolicy::AllowUnsigned;
    }
    install_bytes(
        home,
        &packed.bytes,
        signature.as_deref().map(str::as_bytes),
        &options,
    )
    .unwrap();
}

fn installed_manager(home: &Home) -> Manager {
    let manager = Manager::builder(host())
        .signatures(SignatureCheck::in_home(
            home.root(),
            SignaturePolicy::Require,
        ))
        .plugin_dirs(PluginDirs::user_only(home.plugins_dir()))
        .build();
    manager.apply(&section(vec![entry_by_id(ID)]));
    manager
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

#[test]
fn an_installed_plugin_must_be_what_plinth_lock_pins_at_every_load() {
    let home_dir = home_trusting_alice();
    let home = Home::new(home_dir.path());
    install_version(&home, RELOAD_VERSIONS[0], Some(&alice()));
    let installed = home.plugins_dir().join(ID);
    let old = home_dir.path().join("old-1.0.0");
    copy_dir(&installed, &old);
    install_version(&home, RELOAD_VERSIONS[1], Some(&alice()));
    let manager = installed_manager(&home);
    assert_eq!(manager.status(ID), Some(Status::Ready));
    assert_eq!(run(&manager, ID, "version").unwrap(), "v2");

    // The older version, validly signed by the same key, copied over the pinned one.
    let mut rx = manager.subscribe();
    std::fs::remove_dir_all(&installed).unwrap();
    copy_dir(&old, &installed);
    assert!(!manager.reload(ID));
    let event = last_event(&mut rx, ID);
    assert_eq!(refused_with(&event), Code::DigestMismatch);
    assert_eq!(event.serving.as_deref(), Some("2.0.0"));
    assert_eq!(run(&manager, ID, "version").unwrap(), "v2");
    // A manager started now loads nothing.
    let fresh = installed_manager(&home);
    let Some(Status::Error(d)) = fresh.status(ID) else {
        panic!("{:?}", fresh.status(ID))
    };
    assert_eq!(d.code, Code::DigestMismatch, "{d}");
    assert!(fresh.serving_version(ID).is_none());
}

#[test]
fn an_installed_plugin_must_be_signed_by_the_key_its_id_is_pinned_to() {
    let home_dir = home_trusting_alice();
    let home = Home::new(home_dir.path());
    install_version(&home, RELOAD_VERSIONS[0], Some(&alice()));
    let manager = installed_manager(&home);
    assert_eq!(manager.status(ID), Some(Status::Ready));

    // The same bytes, re-signed by another trusted key: the signature verifies and the
    // digest is the pinned one, but the id is pinned to alice.
    let mut trust = TrustStore::load(&home.trust_store_path()).unwrap();
    trust.add("mallory", mallory().public_key()).unwrap();
    trust.save(&home.trust_store_path()).unwrap();
    let installed = home.plugins_dir().join(ID);
    let packed = pack(&installed).unwrap();
    std::fs::write(
        installed.join(plinth_package::INSTALLED_SIGNATURE),
        mallory().sign(&packed.package.subject()).to_text(),
    )
    .unwrap();
    let mut rx = manager.subscribe();
    assert!(!manager.reload(ID));
    assert_eq!(
        refused_with(&last_event(&mut rx, ID)),
        Code::IdentityChanged
    );

    // A plugin installed unsigned (on purpose) is vouched for by its digest pin, even
    // under `Require`; the same folder not in the lockfile is `unsigned`.
    let home_dir = home_trusting_alice();
    let home = Home::new(home_dir.path());
    install_version(&home, RELOAD_VERSIONS[0], None);
    let manager = installed_manager(&home);
    assert_eq!(manager.status(ID), Some(Status::Ready));
    std::fs::remove_file(home.lockfile_path()).unwrap();
    let manager = installed_manager(&home);
    let Some(Status::Error(d)) = manager.status(ID) else {
        panic!("{:?}", manager.status(ID))
    };
    assert_eq!(d.code, Code::Unsigned, "{d}");
}
