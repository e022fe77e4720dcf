//! The server's life: state resumed after a restart, in-flight calls finished on
//! shutdown, edits of plugins.toml by someone else followed.

use std::time::Instant;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{DEADLINE, Events, Served, hello_dir, sleepy_dir};

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_server_resumes_the_state() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served
        .install_enabled(&hello_dir(plugins.path()), "example.hello")
        .await;
    served
        .put(
            "/api/plugins/example.hello/settings",
            json!({"greeting": "Hej"}),
        )
        .await;
    served
        .post(
            "/api/plugins/example.hello/grant",
            json!({"grants": ["config"]}),
        )
        .await;
    served.stop().await;

    let again = Served::start(home.path()).await;
    // Started with the state applied: no request enabled it this time.
    let shown = again.wait_ready("example.hello", "").await;
    assert_eq!(shown["granted"], json!(["config"]));
    let (status, answer) = again
        .post(
            "/api/plugins/example.hello/call",
            json!({"export": "run", "args": [["Ada"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], json!({"ok": "Hello, Ada!"}));
    let (_, settings) = again.get("/api/plugins/example.hello/settings").await;
    assert_eq!(settings["settings"], json!({"greeting": "Hej"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_lets_calls_in_flight_finish() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let mut served = Served::start(home.path()).await;
    served
        .install_enabled(&sleepy_dir(plugins.path()), "test.sleepy")
        .await;
    let call = served.authorized(
        reqwest::Method::POST,
        "/api/plugins/test.sleepy/call",
        &json!({"export": "sleep-ms", "args": [400]}),
    );
    let in_flight = tokio::spawn(async move { call.send().await });
    // Poll until the server counts the call as running.
    let deadline = Instant::now() + DEADLINE;
    while !served
        .metrics()
        .await
        .lines()
        .any(|l| l == "plinth_api_calls_in_flight 1")
    {
        assert!(Instant::now() < deadline, "the call never started");
        tokio::task::yield_now().await;
    }
    served.begin_stop();
    let response = in_flight.await.unwrap().expect("the call is answered");
    let (status, answer) = crate::common::read(response).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], serde_json::Value::Null);
    served.stopped().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_of_the_state_file_is_applied() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served.install(&hello_dir(plugins.path())).await;
    let mut events = Events::open(&served, "/api/events").await;
    events.next().await.unwrap();
    // As `plinth enable example.hello` would write it, with the server running.
    std::fs::write(
        home.path().join("plugins.toml"),
        "[plugins]\nschema_version = 1\n\n[[plugins.entries]]\nid = \"example.hello\"\nenabled = true\n",
    )
    .unwrap();
    let ready = events
        .wait_for(|name, data| {
            name == "status" && data["id"] == "example.hello" && data["status"]["state"] == "ready"
        })
        .await;
    assert_eq!(ready["serving"], "0.1.0");
}
