//! Three `plinth serve` hosts behind one imagined load balancer (docs/deployment.md): one
//! `docker-registry`, one PostgreSQL (`[kv]`) and one NATS (`[events]`) on 127.0.0.1. A
//! plugin pushed once installs, verified, on all three with the same grants; a key-value
//! write on one host is read on the others; an event the plugin publishes on one host
//! reaches the channel subscribers (`GET /api/channels`) of the others; an update rolls to
//! all three.

use std::path::Path;
use std::time::{Duration, Instant};

use plinth_host::{EventSettings, KvBackendKind, KvSettings};
use plinth_package::SecretKey;
use plinth_registry::{OciClient, PluginArtifact, SizeCaps, Transport};
use reqwest::StatusCode;
use serde_json::{Value, json};
use test_programs::nats::Nats;
use test_programs::postgres::{PASSWORD, Postgres, USER};

use crate::common::{Events, Served, trust};
use crate::registry::RegistryServer;

const ID: &str = "test.shared";

/// Packs `component` as [`ID`] at `version` (asking for `kv`) and signs it with `key`.
fn release(root: &Path, version: &str, component: &str, key: &SecretKey) -> (Vec<u8>, String) {
    let dir = root.join(format!("shared-{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{ID}\"\nversion = \"{version}\"\nname = \"Shared\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n[capabilities]\nkv = true\n[capabilities.events]\npublish = [\"shared.news\"]\n"
        ),
    )
    .unwrap();
    std::fs::copy(component, dir.join("plugin.wasm")).unwrap();
    let packed = plinth_package::pack(&dir).unwrap();
    let signature = key.sign(&packed.package.subject()).to_text();
    (packed.bytes, signature)
}

/// Pushes a release to `oci://REGISTRY/plugins/shared:VERSION`; returns the reference.
async fn push(
    registry: &RegistryServer,
    version: &str,
    (bytes, signature): (Vec<u8>, String),
) -> String {
    let reference = format!("oci://{}/plugins/shared:{version}", registry.address());
    let (manifest_toml, manifest) =
        plinth_package::read_package_manifest(&bytes, &plinth_package::UnpackLimits::default())
            .unwrap();
    let artifact = PluginArtifact {
        id: manifest.plugin.id.to_string(),
        version: manifest.plugin.version.clone(),
        name: manifest.plugin.name.clone(),
        manifest_toml,
        package: bytes::Bytes::from(bytes),
        file_name: format!("shared-{version}.plinth"),
        signature: Some(signature),
    };
    OciClient::new(Transport::Auto, SizeCaps::default())
        .push(&reference.parse().unwrap(), &artifact)
        .await
        .unwrap();
    reference
}

async fn run(served: &Served, args: &[&str]) -> Value {
    let (status, answer) = served
        .post(
            &format!("/api/plugins/{ID}/call"),
            json!({"export": "run", "args": [args]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["result"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_hosts_share_a_registry_a_database_and_an_event_server() {
    if crate::registry::skipped("three_hosts_share_a_registry") {
        return;
    }
    let started = Instant::now();
    let registry = RegistryServer::start();
    let postgres = Postgres::start();
    let nats = Nats::start();
    let kv_url = format!(
        "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/postgres",
        postgres.port
    );
    let tmp = tempfile::tempdir().unwrap();
    let alice = SecretKey::generate().unwrap();
    // Pushed once; every host installs this reference.
    let v1 = push(
        &registry,
        "1.0.0",
        release(tmp.path(), "1.0.0", test_programs::CAPS, &alice),
    )
    .await;

    let mut hosts = Vec::new();
    for n in 0..3 {
        let home = tmp.path().join(format!("host-{n}"));
        trust(&home, "alice", &alice);
        let served = Served::start_with(&home, |options| {
            options.config.kv = KvSettings::server(KvBackendKind::Postgres, kv_url.clone());
            options.config.events = EventSettings::nats(nats.url());
        })
        .await;
        let (status, installed) = served.post("/api/plugins", json!({"source": v1})).await;
        assert_eq!(status, StatusCode::CREATED, "{installed}");
        assert_eq!(installed["version"], "1.0.0");
        assert_eq!(
            installed["signer"], "alice",
            "verified against the trust store"
        );
        let (status, granted) = served
            .post(
                &format!("/api/plugins/{ID}/grant"),
                json!({"grants": ["kv", "events.publish:shared.news"]}),
            )
            .await;
        assert!(status.is_success(), "{granted}");
        served
            .post(&format!("/api/plugins/{ID}/enable"), json!({}))
            .await;
        served.wait_ready(ID, "").await;
        hosts.push((home, served));
    }

    // The same verified package and the same grants everywhere.
    let locked: Vec<String> = hosts
        .iter()
        .map(|(home, _)| {
            let lock = std::fs::read_to_string(home.join("plinth.lock")).unwrap();
            let digest = lock
                .lines()
                .find(|l| l.trim_start().starts_with("digest"))
                .unwrap_or_default()
                .to_owned();
            assert!(!digest.is_empty(), "{lock}");
            digest
        })
        .collect();
    assert!(locked.windows(2).all(|w| w[0] == w[1]), "{locked:?}");
    let grants: Vec<String> = hosts
        .iter()
        .map(|(_, served)| served.entry(ID).unwrap()["grants"].to_string())
        .collect();
    assert!(grants.windows(2).all(|w| w[0] == w[1]), "{grants:?}");
    assert!(grants[0].contains("kv"), "{grants:?}");

    // A write on one host is read on the others.
    assert_eq!(
        run(&hosts[0].1, &["kv-set", "greeting", "hello"]).await["ok"],
        "ok"
    );
    for (_, served) in &hosts[1..] {
        assert_eq!(run(served, &["kv-get", "greeting"]).await["ok"], "hello");
    }
    for (_, served) in &hosts {
        run(served, &["kv-inc", "hits", "1"]).await;
    }
    assert_eq!(run(&hosts[1].1, &["kv-get", "hits"]).await["ok"], "3");

    // An event published by the plugin on one host reaches the channel subscribers of
    // the other two, through NATS (`GET /api/channels`).
    let mut listening = Vec::new();
    for (_, served) in &hosts {
        let mut stream = Events::open(served, "/api/channels?channels=shared.*").await;
        assert_eq!(stream.next().await.unwrap().0, "ready");
        listening.push(stream);
    }
    // Each host subscribes to NATS in the background: first, publish until hosts 1 and 2
    // have heard host 0 at all (a bounded wait, not a pause).
    for attempt in 0..40 {
        assert!(
            attempt < 39,
            "hosts 1 and 2 never heard host 0 through NATS"
        );
        let warm = format!("warm-{attempt}");
        let sent = run(&hosts[0].1, &["publish", "shared.news", &warm]).await;
        assert_eq!(sent["ok"], "ok", "{sent}");
        let mut heard = 0;
        for stream in &mut listening[1..] {
            if let Ok(Some((name, _))) =
                tokio::time::timeout(Duration::from_millis(500), stream.next()).await
            {
                heard += usize::from(name == "event");
            }
        }
        if heard == 2 {
            break;
        }
    }
    let sent = run(
        &hosts[0].1,
        &["publish", "shared.news", "{\"hello\":\"all\"}"],
    )
    .await;
    assert_eq!(sent["ok"], "ok", "{sent}");
    for (n, stream) in listening.iter_mut().enumerate() {
        let event = stream
            .wait_for(|name, data| {
                assert_ne!(name, "missed", "host {n}: {data}");
                name == "event" && !data["payload"].as_str().unwrap_or("").starts_with("warm-")
            })
            .await;
        assert_eq!(event["channel"], "shared.news", "host {n}");
        assert_eq!(event["plugin"], ID, "host {n}");
        assert_eq!(event["payload"], "{\"hello\":\"all\"}", "host {n}");
        assert_eq!(event["tenant"], Value::Null, "host {n}");
    }

    // An update rolls to all three: each verifies and swaps in 1.1.0; the data stays.
    let v2 = push(
        &registry,
        "1.1.0",
        release(tmp.path(), "1.1.0", test_programs::CAPS, &alice),
    )
    .await;
    for (home, served) in &hosts {
        let (status, updated) = served
            .post(&format!("/api/plugins/{ID}/update"), json!({"source": v2}))
            .await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(updated["to"], "1.1.0");
        assert_eq!(updated["signer"], "alice");
        let lock = std::fs::read_to_string(home.join("plinth.lock")).unwrap();
        assert!(lock.contains("1.1.0"), "{lock}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, shown) = served.get(&format!("/api/plugins/{ID}")).await;
            if shown["version"] == "1.1.0" {
                break;
            }
            assert!(Instant::now() < deadline, "{shown}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(run(served, &["kv-get", "hits"]).await["ok"], "3");
    }
    for (_, served) in hosts {
        served.stop().await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
}
