//! Settings: read with their schema, refused when they break it (nothing written), applied
//! to the running plugin when they pass.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Served, codes, hello_dir};

#[tokio::test(flavor = "multi_thread")]
async fn settings_are_validated_written_and_applied() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    // `hello` reads its greeting in `on-load`, which a long-lived instance gets.
    std::fs::write(
        home.path().join("plugins.toml"),
        "[plugins]\nschema_version = 1\n\n[[plugins.entries]]\nid = \"example.hello\"\ninstance = \"long-lived\"\n",
    )
    .unwrap();
    let served = Served::start(home.path()).await;
    served.install(&hello_dir(plugins.path())).await;
    served
        .post(
            "/api/plugins/example.hello/grant",
            json!({"grants": ["log", "config"]}),
        )
        .await;
    served
        .post("/api/plugins/example.hello/enable", json!({}))
        .await;
    served.wait_ready("example.hello", "").await;

    let (status, read) = served.get("/api/plugins/example.hello/settings").await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["settings"], json!({}));
    assert_eq!(read["schema"]["properties"]["greeting"]["type"], "string");

    let before = std::fs::read_to_string(home.path().join("plugins.toml")).unwrap();
    let (status, error) = served
        .put(
            "/api/plugins/example.hello/settings",
            json!({"greeting": 7}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(codes(&error), ["rejected-schema"]);
    assert!(
        error["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("/greeting")
    );
    let (status, error) = served
        .put(
            "/api/plugins/example.hello/settings",
            json!({"colour": "red"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let after = std::fs::read_to_string(home.path().join("plugins.toml")).unwrap();
    assert_eq!(before, after, "a refused write changes nothing");

    let (status, written) = served
        .put(
            "/api/plugins/example.hello/settings",
            json!({"greeting": "Salut"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{written}");
    // Taken live (`on-setting-change`) by the long-lived instance.
    assert_eq!(written["applied"], "live", "{written}");
    let entry = served.entry("example.hello").unwrap();
    assert_eq!(entry["config"]["greeting"].as_str(), Some("Salut"));
    // `hello` reads its greeting in `on-load` only: a reload (the retry) starts it anew.
    let (status, reloaded) = served
        .post("/api/plugins/example.hello/reload", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{reloaded}");
    assert_eq!(reloaded["reloaded"], true, "{reloaded}");

    let (_, answer) = served
        .post(
            "/api/plugins/example.hello/call",
            json!({"export": "run", "args": [["Ada"]]}),
        )
        .await;
    assert_eq!(answer["result"], json!({"ok": "Salut, Ada!"}), "{answer}");
    let (_, read) = served.get("/api/plugins/example.hello/settings").await;
    assert_eq!(read["settings"], json!({"greeting": "Salut"}));
}
