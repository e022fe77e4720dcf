//! Registry installs and updates end to end, from an index on disk: resolve, download, verify,
//! install, and swap the new version into a running manager while calls are in flight. Every
//! refused update leaves the plugin directory, the lockfile and the serving version as they
//! were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use plinth_host::Host;
use plinth_manager::Manager;
use plinth_manager::discovery::{PluginDirs, discover};
use plinth_manager::state::{PluginEntry, PluginsSection};
use plinth_manifest::{Code, PluginId, ToDiagnostic};
use plinth_package::{Home, InstallOptions, SecretKey, SignaturePolicy, TrustStore, pack};
use plinth_registry::{
    IndexLocation, LoadedIndex, PreReleases, RegistryClient, Silent, SizeCaps, Transport,
    UpdateOutcome, Updater, install_from_index,
};
use semver::VersionReq;
use serde_json::{Value, json};

const ID: &str = "test.reload";

/// A packed and signed version of the reload guest.
struct Release {
    version: &'static str,
    bytes: Vec<u8>,
    signature: String,
}

fn release(root: &Path, version: &'static str, component: &str, key: &SecretKey) -> Release {
    let dir = root.join(format!("src-{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{ID}\"\nversion = \"{version}\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n[capabilities]\nlog = true\nconfig = true\n"
        ),
    )
    .unwrap();
    std::fs::copy(component, dir.join("plugin.wasm")).unwrap();
    let packed = pack(&dir).unwrap();
    let signature = key.sign(&packed.package.subject()).to_text();
    Release {
        version,
        bytes: packed.bytes,
        signature,
    }
}

/// Writes `releases` into `dir` and an index listing them; `edit` may change an entry.
fn write_index(dir: &Path, releases: &[&Release], edit: impl Fn(&str, &mut Value)) -> PathBuf {
    let mut versions = Vec::new();
    for r in releases {
        let file = format!("reload-{}.plinth", r.version);
        std::fs::write(dir.join(&file), &r.bytes).unwrap();
        std::fs::write(dir.join(format!("{file}.sig")), &r.signature).unwrap();
        let mut entry = json!({
            "version": r.version,
            "digest": plinth_manifest::Digest::of(&r.bytes).to_string(),
            "url": file,
            "signature_url": format!("{file}.sig"),
            "capabilities": ["log", "config"],
        });
        edit(r.version, &mut entry);
        versions.push(entry);
    }
    let index = json!({"schema_version": 1, "plugins": [{"id": ID, "versions": versions}]});
    let path = dir.join("index.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&index).unwrap()).unwrap();
    path
}

fn load(client: &RegistryClient, path: &Path) -> LoadedIndex {
    let location = IndexLocation::File(path.to_path_buf());
    tokio_run(client.load_index(&location)).unwrap()
}

fn tokio_run<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Every file under `root` with its contents (directories marked), to compare before/after.
fn listing(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            if path.is_dir() {
                out.insert(rel, b"<dir>".to_vec());
                walk(root, &path, out);
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn version_served(manager: &Manager) -> String {
    let answer = manager.call_json(ID, "run", &[json!(["version"])]).unwrap();
    answer["ok"].as_str().unwrap().to_owned()
}

#[test]
fn update_swaps_the_running_version_and_refusals_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (alice, mallory) = (
        SecretKey::generate().unwrap(),
        SecretKey::generate().unwrap(),
    );
    let v1 = release(tmp.path(), "1.0.0", test_programs::RELOAD_V1, &alice);
    let v2 = release(tmp.path(), "1.1.0", test_programs::RELOAD_V2, &alice);
    let major = release(tmp.path(), "2.0.0", test_programs::RELOAD_V2, &alice);
    let by_mallory = release(tmp.path(), "1.1.0", test_programs::RELOAD_V2, &mallory);
    let served = tmp.path().join("served");
    std::fs::create_dir(&served).unwrap();

    let home = Home::new(tmp.path().join("home"));
    let mut trust = TrustStore::default();
    trust.add("alice", alice.public_key()).unwrap();
    trust.save(&home.trust_store_path()).unwrap();
    let client = RegistryClient::new(SizeCaps::default(), Transport::Auto).unwrap();
    let options = InstallOptions::new(SignaturePolicy::Require);
    let id = PluginId::new(ID).unwrap();

    // Install 1.0.0 through the index (`^1.0` with 2.0.0 listed too), and run it.
    let index = load(&client, &write_index(&served, &[&v1, &major], |_, _| {}));
    let request = VersionReq::parse("~1.0").unwrap();
    let installed = tokio_run(install_from_index(
        &client,
        &home,
        &index,
        ID,
        &request,
        PreReleases::Exclude,
        &options,
        &Silent,
    ))
    .unwrap();
    assert_eq!(installed.version.to_string(), "1.0.0");
    assert_eq!(installed.verification.signer(), Some("alice"));
    let manager = Manager::builder(Host::new().unwrap())
        .inventory(discover(&PluginDirs::user_only(home.plugins_dir())))
        .build();
    let mut entry = PluginEntry::new(ID);
    entry.enabled = true;
    entry.grants = vec!["log".into(), "config".into()];
    manager.apply(&PluginsSection {
        entries: vec![entry],
        ..PluginsSection::new()
    });
    assert_eq!(version_served(&manager), "v1");

    // Refusals: wrong digest, untrusted signer, a signature moved from another version.
    let before = listing(home.root());
    let cases = [
        ("digest", &v2, Code::DigestMismatch),
        ("untrusted", &by_mallory, Code::UntrustedKey),
        ("moved", &v2, Code::BadSignature),
    ];
    for (case, candidate, code) in cases {
        let path = write_index(&served, &[&v1, candidate, &major], |version, entry| {
            if case == "digest" && version == "1.1.0" {
                entry["digest"] = json!(plinth_manifest::Digest::of(b"other").to_string());
            }
        });
        if case == "moved" {
            std::fs::write(served.join("reload-1.1.0.plinth.sig"), &v1.signature).unwrap();
        }
        let index = load(&client, &path);
        let updater = Updater::new(&client, &home, &index, options.clone()).manager(&manager);
        let report = tokio_run(updater.update(&id, &Silent));
        match report.outcome {
            UpdateOutcome::Failed(error) => assert_eq!(error.to_diagnostic().code, code, "{case}"),
            other => panic!("{case}: expected a refusal, got {other:?}"),
        }
        assert_eq!(listing(home.root()), before, "{case} changed the home");
        assert_eq!(version_served(&manager), "v1", "{case}");
    }

    // The good update swaps v2 in while calls keep running; no call fails or sees a mix.
    let index = load(
        &client,
        &write_index(&served, &[&v1, &v2, &major], |_, _| {}),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let caller = {
        let (manager, stop) = (manager.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let answer = manager.call_json(ID, "run", &[json!(["answer"])]).unwrap();
                let text = answer["ok"].as_str().unwrap().to_owned();
                assert!(
                    text == "v1|alpha-v1|omega-v1" || text == "v2|alpha-v2|omega-v2",
                    "{text}"
                );
                seen.push(text);
            }
            seen
        })
    };
    let updater = Updater::new(&client, &home, &index, options.clone()).manager(&manager);
    let report = tokio_run(updater.update(&id, &Silent));
    match &report.outcome {
        UpdateOutcome::Updated {
            from,
            installed,
            swapped,
        } => {
            assert_eq!(from.to_string(), "1.0.0");
            assert_eq!(
                installed.version.to_string(),
                "1.1.0",
                "2.0.0 is not compatible"
            );
            assert!(*swapped);
        }
        other => panic!("expected an update, got {other:?}"),
    }
    assert_eq!(version_served(&manager), "v2");
    stop.store(true, Ordering::Relaxed);
    let seen = caller.join().unwrap();
    assert!(!seen.is_empty());
    let lock = home.lockfile().unwrap();
    let entry = lock.get(&id).unwrap();
    assert_eq!(entry.version.to_string(), "1.1.0");
    assert_eq!(entry.digest, plinth_manifest::Digest::of(&v2.bytes));
    assert_eq!(entry.signer.as_deref(), Some("alice"));

    // Nothing newer and compatible: up to date.
    let reports = tokio_run(updater.update_all(&Silent)).unwrap();
    assert_eq!(reports.len(), 1);
    assert!(
        matches!(&reports[0].outcome, UpdateOutcome::UpToDate { version } if version.to_string() == "1.1.0"),
        "{:?}",
        reports[0].outcome
    );
}

#[test]
fn an_index_entry_cannot_install_another_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    let key = SecretKey::generate().unwrap();
    let other = release(tmp.path(), "1.0.0", test_programs::RELOAD_V1, &key);
    let served = tmp.path().join("served");
    std::fs::create_dir(&served).unwrap();
    let path = write_index(&served, &[&other], |_, entry| {
        entry.as_object_mut().unwrap().remove("signature_url");
    });
    // The same package, listed under another id.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(ID, "test.innocent");
    std::fs::write(&path, text).unwrap();
    let home = Home::new(tmp.path().join("home"));
    let client = RegistryClient::new(SizeCaps::default(), Transport::Auto).unwrap();
    let index = load(&client, &path);
    let result = tokio_run(install_from_index(
        &client,
        &home,
        &index,
        "test.innocent",
        &VersionReq::STAR,
        PreReleases::Exclude,
        &InstallOptions::new(SignaturePolicy::AllowUnsigned),
        &Silent,
    ));
    let error = result.unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::PackageRejected, "{error}");
    assert!(!home.root().exists(), "nothing was written");
}
