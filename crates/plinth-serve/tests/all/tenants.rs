//! Tenants: their own plugins, state and consent, apart from the main home's.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Served, codes, entry_in, hello_dir};

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_has_its_own_plugins_and_state() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    let (status, created) = served.post("/api/tenants", json!({"name": "acme"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, listed) = served.get("/api/tenants").await;
    assert_eq!(listed["tenants"], json!(["acme"]));
    let (status, error) = served.post("/api/tenants", json!({"name": "../up"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(codes(&error), ["bad-argument"]);

    let dir = hello_dir(plugins.path());
    let (status, installed) = served
        .post(
            "/api/plugins?tenant=acme",
            json!({"source": dir, "allow_unsigned": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    let tenant_home = home.path().join("tenants/acme");
    assert!(
        tenant_home
            .join("plugins/example.hello/plugin.toml")
            .is_file()
    );
    assert!(!home.path().join("plugins/example.hello").exists());

    let (status, enabled) = served
        .post("/api/plugins/example.hello/enable?tenant=acme", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    served.wait_ready("example.hello", "?tenant=acme").await;
    let state: toml::Table = std::fs::read_to_string(tenant_home.join("plugins.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        entry_in(&state, "example.hello").unwrap()["enabled"].as_bool(),
        Some(true)
    );
    assert!(served.entry("example.hello").is_none());

    let (_, main) = served.get("/api/plugins").await;
    assert_eq!(main["plugins"], json!([]));
    let (_, acme) = served.get("/api/plugins?tenant=acme").await;
    assert_eq!(acme["plugins"][0]["tenant"], "acme");
    let (status, answer) = served
        .post(
            "/api/plugins/example.hello/call?tenant=acme",
            json!({"export": "run", "args": [["Ada"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let metrics = served.metrics().await;
    assert!(
        metrics.contains(
            "plinth_api_call_duration_seconds_count{tenant=\"acme\",plugin=\"example.hello\"} 1"
        ),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_decisions_are_recorded_per_tenant() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    let (status, approved) = served
        .post(
            "/api/consent/approve",
            json!({"plugin": "example.fetch", "host": "api.example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    let (status, _) = served
        .post(
            "/api/consent/deny?tenant=acme",
            json!({"plugin": "example.fetch", "host": "evil.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, listed) = served.get("/api/consent").await;
    assert_eq!(
        listed["consent"],
        json!([{"plugin": "example.fetch", "host": "api.example.com", "state": "approved"}])
    );
    let (_, acme) = served.get("/api/consent?tenant=acme").await;
    assert_eq!(acme["consent"][0]["state"], "denied");
    let (_, pending) = served.get("/api/consent?pending=true").await;
    assert_eq!(pending["consent"], json!([]));
    let text = std::fs::read_to_string(home.path().join("consent.toml")).unwrap();
    assert!(text.contains("api.example.com"), "{text}");
    assert!(home.path().join("tenants/acme/consent.toml").is_file());
}
