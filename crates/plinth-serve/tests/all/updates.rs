//! The index and updates through the API: what the index offers, `update_available`, an
//! update to the newest compatible version or a chosen one swapped into the running plugin,
//! an update from a package file or an OCI registry (a real `docker-registry` on 127.0.0.1),
//! and refusals that change nothing.

use plinth_package::SecretKey;
use plinth_registry::{OciClient, PluginArtifact, SizeCaps, Transport};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{RELOAD_ID, Served, codes, release, trust, with_index, write_index};
use crate::registry::RegistryServer;

async fn run_version(served: &Served) -> String {
    let (status, answer) = served
        .post(
            &format!("/api/plugins/{RELOAD_ID}/call"),
            json!({"export": "run", "args": [["version"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["result"]["ok"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_from_the_index_is_verified_and_swapped_in() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let served_dir = tmp.path().join("index");
    std::fs::create_dir_all(&served_dir).unwrap();
    let alice = SecretKey::generate().unwrap();
    let v1 = release(tmp.path(), "1.0.0", test_programs::RELOAD_V1, &alice);
    let v11 = release(tmp.path(), "1.1.0", test_programs::RELOAD_V2, &alice);
    let v12 = release(tmp.path(), "1.2.0", test_programs::RELOAD_V2, &alice);
    let v2 = release(tmp.path(), "2.0.0", test_programs::RELOAD_V2, &alice);
    let index = write_index(&served_dir, &[&v1]);
    trust(&home, "alice", &alice);
    let served = Served::start_with(&home, |o| with_index(o, &index)).await;

    let (status, installed) = served
        .post(
            "/api/plugins",
            json!({"source": format!("{RELOAD_ID}@1.0.0")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    served
        .post(
            &format!("/api/plugins/{RELOAD_ID}/grant"),
            json!({"grants": ["log", "config"]}),
        )
        .await;
    served
        .post(&format!("/api/plugins/{RELOAD_ID}/enable"), json!({}))
        .await;
    served.wait_ready(RELOAD_ID, "").await;
    assert_eq!(run_version(&served).await, "v1");
    let (_, listed) = served.get("/api/plugins").await;
    assert_eq!(listed["plugins"][0]["update_available"], json!(null));

    write_index(&served_dir, &[&v1, &v11, &v12, &v2]);
    let (_, listed) = served.get("/api/plugins").await;
    assert_eq!(
        listed["plugins"][0]["update_available"], "1.2.0",
        "{listed}"
    );
    let (status, versions) = served
        .get(&format!("/api/plugins/{RELOAD_ID}/versions"))
        .await;
    assert_eq!(status, StatusCode::OK, "{versions}");
    let offered: Vec<&str> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(offered, ["2.0.0", "1.2.0", "1.1.0", "1.0.0"]);
    assert_eq!(versions["installed"], "1.0.0");
    assert_eq!(versions["update_available"], "1.2.0");
    assert_eq!(versions["versions"][3]["installed"], true);
    let (_, offers) = served.get("/api/index").await;
    assert_eq!(offers["plugins"][0]["id"], RELOAD_ID);
    assert_eq!(offers["plugins"][0]["installed"], "1.0.0");

    // A chosen version.
    let (status, updated) = served
        .post(
            &format!("/api/plugins/{RELOAD_ID}/update"),
            json!({"version": "1.1.0"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["updated"], true);
    assert_eq!(updated["from"], "1.0.0");
    assert_eq!(updated["to"], "1.1.0");
    assert_eq!(updated["swapped"], true, "{updated}");
    assert_eq!(updated["signer"], "alice");
    assert_eq!(run_version(&served).await, "v2");
    // The review carried over: still enabled, same grants.
    let entry = served.entry(RELOAD_ID).unwrap();
    assert_eq!(entry["enabled"].as_bool(), Some(true));
    let lock = std::fs::read_to_string(home.join("plinth.lock")).unwrap();
    assert!(lock.contains("1.1.0"), "{lock}");

    // The newest compatible one (not 2.0.0), then nothing newer.
    let (_, updated) = served
        .post(&format!("/api/plugins/{RELOAD_ID}/update"), json!({}))
        .await;
    assert_eq!(updated["to"], "1.2.0", "{updated}");
    let (status, same) = served
        .post(&format!("/api/plugins/{RELOAD_ID}/update"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_eq!(same["updated"], false);
    assert_eq!(same["reason"], "up-to-date");

    // A version the index lacks, and an update of what is not installed.
    let (status, error) = served
        .post(
            &format!("/api/plugins/{RELOAD_ID}/update"),
            json!({"version": "1.9.0"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert_eq!(codes(&error), ["missing-package"]);
    let (status, error) = served
        .post("/api/plugins/example.nothing/update", json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_from_a_package_must_be_the_same_plugin_and_signer() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let alice = SecretKey::generate().unwrap();
    let mallory = SecretKey::generate().unwrap();
    trust(&home, "alice", &alice);
    trust(&home, "mallory", &mallory);
    let v1 = release(tmp.path(), "1.0.0", test_programs::RELOAD_V1, &alice);
    let v2 = release(tmp.path(), "1.1.0", test_programs::RELOAD_V2, &alice);
    let forged = release(tmp.path(), "1.2.0", test_programs::RELOAD_V2, &mallory);
    let packages = tmp.path().join("packages");
    std::fs::create_dir_all(&packages).unwrap();
    let file = |r: &crate::common::Release| {
        let path = packages.join(format!("reload-{}.plinth", r.version));
        std::fs::write(&path, &r.bytes).unwrap();
        std::fs::write(
            packages.join(format!("reload-{}.plinth.sig", r.version)),
            &r.signature,
        )
        .unwrap();
        path
    };
    let (p1, p2, p3) = (file(&v1), file(&v2), file(&forged));
    let served = Served::start(&home).await;
    let (status, body) = served.post("/api/plugins", json!({"source": p1})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    served
        .post(&format!("/api/plugins/{RELOAD_ID}/enable"), json!({}))
        .await;
    served.wait_ready(RELOAD_ID, "").await;
    assert_eq!(run_version(&served).await, "v1");

    let before = std::fs::read_to_string(home.join("plinth.lock")).unwrap();
    let (status, error) = served
        .post(
            &format!("/api/plugins/{RELOAD_ID}/update"),
            json!({"source": p3}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(codes(&error), ["identity-changed"]);
    assert_eq!(
        before,
        std::fs::read_to_string(home.join("plinth.lock")).unwrap()
    );
    let (status, error) = served
        .post("/api/plugins/example.hello/update", json!({"source": p2}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert_eq!(run_version(&served).await, "v1");

    let (status, updated) = served
        .post(
            &format!("/api/plugins/{RELOAD_ID}/update"),
            json!({"source": p2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["to"], "1.1.0");
    assert_eq!(run_version(&served).await, "v2");
}

/// Pushes `release` to `oci://REGISTRY/plugins/reload:VERSION` with its signature, as
/// `plinth push` does; returns the reference.
async fn push(registry: &RegistryServer, release: &crate::common::Release) -> String {
    let reference = format!(
        "oci://{}/plugins/reload:{}",
        registry.address(),
        release.version
    );
    let (manifest_toml, manifest) = plinth_package::read_package_manifest(
        &release.bytes,
        &plinth_package::UnpackLimits::default(),
    )
    .unwrap();
    let artifact = PluginArtifact {
        id: manifest.plugin.id.to_string(),
        version: manifest.plugin.version.clone(),
        name: manifest.plugin.name.clone(),
        manifest_toml,
        package: bytes::Bytes::from(release.bytes.clone()),
        file_name: format!("reload-{}.plinth", release.version),
        signature: Some(release.signature.clone()),
    };
    OciClient::new(Transport::Auto, SizeCaps::default())
        .push(&reference.parse().unwrap(), &artifact)
        .await
        .unwrap();
    reference
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_from_an_oci_registry_is_verified_and_swapped_in() {
    if crate::registry::skipped("an_update_from_an_oci_registry") {
        return;
    }
    let registry = RegistryServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let alice = SecretKey::generate().unwrap();
    let mallory = SecretKey::generate().unwrap();
    trust(&home, "alice", &alice);
    trust(&home, "mallory", &mallory);
    let v1 = push(
        &registry,
        &release(tmp.path(), "1.0.0", test_programs::RELOAD_V1, &alice),
    )
    .await;
    let v2 = push(
        &registry,
        &release(tmp.path(), "1.1.0", test_programs::RELOAD_V2, &alice),
    )
    .await;
    let forged = push(
        &registry,
        &release(tmp.path(), "1.2.0", test_programs::RELOAD_V2, &mallory),
    )
    .await;
    let served = Served::start(&home).await;

    let (status, installed) = served.post("/api/plugins", json!({"source": v1})).await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    assert_eq!(installed["version"], "1.0.0");
    assert_eq!(installed["signer"], "alice");
    served
        .post(
            &format!("/api/plugins/{RELOAD_ID}/grant"),
            json!({"grants": ["log", "config"]}),
        )
        .await;
    served
        .post(&format!("/api/plugins/{RELOAD_ID}/enable"), json!({}))
        .await;
    served.wait_ready(RELOAD_ID, "").await;
    assert_eq!(run_version(&served).await, "v1");

    // A tag the registry lacks is an error, and nothing changes.
    let before = std::fs::read_to_string(home.join("plinth.lock")).unwrap();
    let missing = format!("oci://{}/plugins/reload:9.9.9", registry.address());
    let (status, error) = served
        .post(
            &format!("/api/plugins/{RELOAD_ID}/update"),
            json!({"source": missing}),
        )
        .await;
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{error}"
    );
    assert!(!codes(&error).is_empty(), "{error}");
    // Another signer's package under the same id is refused, and nothing changes.
    let (status, error) = served
        .post(
            &format!("/api/plugins/{RELOAD_ID}/update"),
            json!({"source": forged}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(codes(&error), ["identity-changed"]);
    assert_eq!(
        before,
        std::fs::read_to_string(home.join("plinth.lock")).unwrap()
    );
    assert_eq!(run_version(&served).await, "v1");

    let (status, updated) = served
        .post(
            &format!("/api/plugins/{RELOAD_ID}/update"),
            json!({"source": v2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["updated"], true);
    assert_eq!(updated["from"], "1.0.0");
    assert_eq!(updated["to"], "1.1.0");
    assert_eq!(updated["signer"], "alice");
    assert_eq!(updated["swapped"], true, "{updated}");
    assert_eq!(run_version(&served).await, "v2");
    let entry = served.entry(RELOAD_ID).unwrap();
    assert_eq!(entry["enabled"].as_bool(), Some(true));
    let lock = std::fs::read_to_string(home.join("plinth.lock")).unwrap();
    assert!(lock.contains("1.1.0"), "{lock}");
    served.stop().await;
}
