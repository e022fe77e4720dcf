//! Services in the server: an enabled `service` plugin runs as a service whose status and
//! counters the API shows and the event stream follows, and whose queue `POST
//! /api/plugins/{id}/events` feeds, with the queue's own refusals.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Events, Served, codes};

const ID: &str = "test.bridge";

/// The `service` test program as `test.bridge`, with a queue of one event and a 3 s
/// deadline per event.
fn bridge_dir(root: &std::path::Path) -> std::path::PathBuf {
    let dir = root.join("bridge");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(test_programs::SERVICE, dir.join("service.wasm")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{ID}\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"service.wasm\"\n\n[[provides.service]]\nqueue = 1\noverflow = \"reject\"\ndeadline_ms = 3000\n"
        ),
    )
    .unwrap();
    dir
}

async fn send(served: &Served, body: Value) -> (StatusCode, Value) {
    served
        .post(&format!("/api/plugins/{ID}/events"), body)
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_plugin_runs_takes_events_and_reports_its_counters() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    // No watcher: its reload after the install would restart the service (and its counters)
    // in the middle of the test.
    let served = Served::start_with(home.path(), |options| options.watch = false).await;
    let mut events = Events::open(&served, "/api/events").await;
    served.install(&bridge_dir(plugins.path())).await;
    served
        .post(&format!("/api/plugins/{ID}/enable"), json!({}))
        .await;
    let ready = events
        .wait_for(|name, data| {
            name == "service" && data["id"] == ID && data["status"]["state"] == "ready"
        })
        .await;
    assert_eq!(ready["version"], "0.1.0");
    assert_eq!(ready["event"], "status");

    let (status, answer) = send(&served, json!({"kind": "echo", "body": "hi", "wait": true})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["delivery"], "handled");
    assert_eq!(answer["reply"]["body"], "hi");
    let (status, answer) = send(
        &served,
        json!({"kind": "reject", "body": "no", "wait": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["delivery"], "dead-lettered");
    assert_eq!(answer["dead"]["reason"], "rejected");
    assert_eq!(answer["dead"]["message"], "refused: no");
    let dead = events
        .wait_for(|name, data| name == "service" && data["event"] == "dead-lettered")
        .await;
    assert_eq!(dead["sequence"], answer["sequence"]);

    // One event blocks the only worker until its deadline; the queue holds one more; the
    // next is refused with `queue-full`, a 503 to retry after a second.
    let (status, queued) = send(&served, json!({"kind": "block"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["queued"], true);
    let mut refused = None;
    for _ in 0..10 {
        let response = served
            .authorized(
                reqwest::Method::POST,
                &format!("/api/plugins/{ID}/events"),
                &json!({"kind": "count"}),
            )
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(response.headers()["retry-after"], "1");
            refused = Some(crate::common::read(response).await.1);
            break;
        }
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let refused = refused.expect("a full queue refuses within ten events");
    assert_eq!(codes(&refused), ["queue-full"]);

    let (status, shown) = served.get(&format!("/api/plugins/{ID}/service")).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    let stats = &shown["stats"];
    let n = |key: &str| stats[key].as_u64().unwrap();
    assert_eq!(
        n("pushed"),
        n("accepted") + n("rejected") + n("shed"),
        "{shown}"
    );
    assert!(n("rejected") >= 1, "{shown}");
    assert_eq!(n("delivered"), 1, "{shown}");
    assert_eq!(n("dead_lettered"), 1, "{shown}");
    let (_, listed) = served.get(&format!("/api/plugins/{ID}")).await;
    assert!(
        listed["service"]["stats"]["pushed"].as_u64().unwrap() >= 3,
        "{listed}"
    );

    // A disabled service takes nothing, and a malformed event is refused.
    served
        .post(&format!("/api/plugins/{ID}/disable"), json!({}))
        .await;
    let (status, error) = send(&served, json!({"kind": "echo"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(codes(&error), ["disabled"]);
    let (_, listed) = served.get(&format!("/api/plugins/{ID}")).await;
    assert_eq!(listed["service"], Value::Null, "{listed}");
    let (status, error) = send(&served, json!({"kind": "echo", "bogus": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    served.stop().await;
}
