//! Server-Sent Events: status changes and plugin logs.

use serde_json::json;

use crate::common::{Events, Served, hello_dir};

#[tokio::test(flavor = "multi_thread")]
async fn status_changes_stream_in_order() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served.install(&hello_dir(plugins.path())).await;

    let mut events = Events::open(&served, "/api/events").await;
    let (name, snapshot) = events.next().await.unwrap();
    assert_eq!(name, "statuses");
    assert_eq!(snapshot["tenant"], "");

    served
        .post("/api/plugins/example.hello/enable", json!({}))
        .await;
    let loading = events
        .wait_for(|name, data| name == "status" && data["id"] == "example.hello")
        .await;
    assert_eq!(loading["status"]["state"], "loading", "{loading}");
    let (name, ready) = events.next().await.unwrap();
    assert_eq!(name, "status");
    assert_eq!(ready["status"]["state"], "ready", "{ready}");
    assert_eq!(ready["serving"], "0.1.0");
    assert_eq!(ready["seq"], loading["seq"].as_u64().unwrap() + 1);

    served
        .post("/api/plugins/example.hello/disable", json!({}))
        .await;
    let disabled = events
        .wait_for(|name, data| {
            name == "status"
                && data["id"] == "example.hello"
                && data["status"]["state"] == "disabled"
        })
        .await;
    assert_eq!(disabled["serving"], serde_json::Value::Null, "{disabled}");
}

#[tokio::test(flavor = "multi_thread")]
async fn plugin_logs_stream_per_plugin() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served
        .install_enabled(&hello_dir(plugins.path()), "example.hello")
        .await;
    served
        .post(
            "/api/plugins/example.hello/grant",
            json!({"grants": ["log"]}),
        )
        .await;

    let mut logs = Events::open(&served, "/api/logs?plugin=example.hello").await;
    let (name, _) = logs.next().await.unwrap();
    assert_eq!(name, "ready");
    served
        .post(
            "/api/plugins/example.hello/call",
            json!({"export": "run", "args": [["Grace"]]}),
        )
        .await;
    let line = logs
        .wait_for(|name, data| name == "log" && data["message"] == "greeting Grace")
        .await;
    assert_eq!(line["plugin"], "example.hello");
    assert_eq!(line["level"], "info");
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_end_when_the_server_stops() {
    let home = tempfile::tempdir().unwrap();
    let mut served = Served::start(home.path()).await;
    let mut events = Events::open(&served, "/api/events").await;
    assert_eq!(events.next().await.unwrap().0, "statuses");
    served.begin_stop();
    assert!(events.next().await.is_none());
    served.stopped().await;
}
