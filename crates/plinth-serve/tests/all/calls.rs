//! Calling plugins: exports with JSON arguments, a kind's typed operation (a tool), the
//! errors as coded diagnostics, and the metrics the calls leave.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Served, codes, hello_dir, word_count_dir};

#[tokio::test(flavor = "multi_thread")]
async fn an_export_call_returns_json_and_counts_in_the_metrics() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served.install(&hello_dir(plugins.path())).await;

    let (status, error) = served
        .post(
            "/api/plugins/example.hello/call",
            json!({"export": "run", "args": [["Ada"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(codes(&error), ["disabled"]);

    served
        .post("/api/plugins/example.hello/enable", json!({}))
        .await;
    let (status, answer) = served
        .post(
            "/api/plugins/example.hello/call",
            json!({"export": "run", "args": [["Ada"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer,
        json!({"result": {"ok": "Hello, Ada!"}, "version": "0.1.0"})
    );

    let (status, error) = served
        .post(
            "/api/plugins/example.hello/call",
            json!({"export": "nothing"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(codes(&error), ["unknown-export"]);
    let (status, error) = served
        .post(
            "/api/plugins/example.hello/call",
            json!({"export": "run", "args": [42]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(codes(&error), ["bad-argument"]);

    // The watcher may still be reloading the freshly installed plugin.
    served.wait_ready("example.hello", "").await;
    let metrics = served.metrics().await;
    let labels = "tenant=\"\",plugin=\"example.hello\"";
    for line in [
        format!("plinth_api_call_duration_seconds_count{{{labels}}} 4"),
        format!("plinth_api_call_errors_total{{{labels}}} 3"),
        format!("plinth_plugin_status{{{labels},status=\"ready\"}} 1"),
        "plinth_api_calls_in_flight 0".to_owned(),
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in\n{metrics}"
        );
    }
    let calls = metrics
        .lines()
        .find(|l| l.starts_with(&format!("plinth_plugin_calls_total{{{labels}}}")))
        .unwrap_or_else(|| panic!("no calls counter in\n{metrics}"));
    let calls: u64 = calls.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(calls >= 1, "{calls}");
    let fuel = metrics
        .lines()
        .find(|l| l.starts_with(&format!("plinth_plugin_fuel_used_total{{{labels}}}")))
        .unwrap();
    assert_ne!(fuel.rsplit(' ').next(), Some("0"), "{fuel}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tool_is_called_with_its_typed_input() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served
        .install_enabled(&word_count_dir(plugins.path()), "example.word-count")
        .await;
    let (status, answer) = served
        .post(
            "/api/plugins/example.word-count/tools/word_count",
            json!({"text": "one two three"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"]["words"], 3, "{answer}");

    let (status, error) = served
        .post(
            "/api/plugins/example.word-count/tools/word_count",
            json!({"txt": "one"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(codes(&error), ["invalid-input"]);
    let (status, error) = served
        .post("/api/plugins/example.word-count/tools/nothing", json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(codes(&error), ["unknown-tool"]);
}
