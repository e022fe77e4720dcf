//! The grant review (requested capabilities against what the imports can use), the runtime
//! view, and the typed calls of the exporter and data-source kinds.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Served, codes, hello_dir};

#[tokio::test(flavor = "multi_thread")]
async fn the_review_matches_requests_with_the_component_imports() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served.install(&hello_dir(plugins.path())).await;
    served
        .post(
            "/api/plugins/example.hello/grant",
            json!({"grants": ["log"]}),
        )
        .await;
    let (status, review) = served.get("/api/plugins/example.hello/review").await;
    assert_eq!(status, StatusCode::OK, "{review}");
    let rows = review["requested"].as_array().unwrap();
    let row = |grant: &str| {
        rows.iter()
            .find(|r| r["grant"] == grant)
            .unwrap_or_else(|| panic!("{grant} in {review}"))
            .clone()
    };
    assert_eq!(rows.len(), 2, "{review}");
    assert_eq!(row("log")["granted"], true);
    assert_eq!(row("log")["usable"], true);
    assert_eq!(row("config")["granted"], false);
    assert_eq!(row("config")["usable"], true);
    let imports = review["imports"].as_array().unwrap();
    assert!(
        imports.iter().any(
            |i| i["name"].as_str().unwrap().starts_with("plinth:host/log")
                && i["capability"] == "log"
        ),
        "{review}"
    );
    assert_eq!(review["granted"], json!(["log"]));
    let (status, error) = served.get("/api/plugins/example.nothing/review").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_runtime_view_counts_calls_and_latency() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    // No watcher: its reload after the install would make the state `loading` for a moment.
    let served = Served::start_with(home.path(), |options| options.watch = false).await;
    served
        .install_enabled(&hello_dir(plugins.path()), "example.hello")
        .await;
    let (_, before) = served.get("/api/plugins/example.hello/runtime").await;
    assert_eq!(before["api"], json!(null), "{before}");
    for name in ["Ada", "Grace", "Linus"] {
        let (status, answer) = served
            .post(
                "/api/plugins/example.hello/call",
                json!({"export": "run", "args": [[name]]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (status, runtime) = served.get("/api/plugins/example.hello/runtime").await;
    assert_eq!(status, StatusCode::OK, "{runtime}");
    assert_eq!(runtime["status"]["state"], "ready");
    assert_eq!(runtime["api"]["calls"], 3, "{runtime}");
    assert_eq!(runtime["api"]["errors"], 0);
    assert!(runtime["api"]["p50_seconds"].as_f64().unwrap() > 0.0);
    assert!(
        runtime["api"]["p99_seconds"].as_f64().unwrap()
            >= runtime["api"]["p50_seconds"].as_f64().unwrap()
    );
    assert!(
        runtime["counters"]["calls"].as_u64().unwrap() >= 3,
        "{runtime}"
    );
    assert!(
        runtime["counters"]["fuel_used"].as_u64().unwrap() > 0,
        "{runtime}"
    );
    assert!(
        runtime["counters"]["peak_memory_bytes"].as_u64().unwrap() > 0,
        "{runtime}"
    );
}

fn thoth_dir(root: &std::path::Path) -> std::path::PathBuf {
    let dir = root.join("thoth");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(test_programs::THOTH_KINDS, dir.join("thoth.wasm")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        r#"[plugin]
id = "test.thoth"
version = "0.1.0"

[runtime]
kind = "wasm-component"
component = "thoth.wasm"

[capabilities]
kv = true

[[provides.exporter]]
name = "csv"
extension = "csv"
media_type = "text/csv"

[[provides.data-source]]
name = "numbers"
title = "Numbers"
"#,
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn exporters_and_data_sources_are_called_with_typed_tables() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served.install(&thoth_dir(plugins.path())).await;
    served
        .post("/api/plugins/test.thoth/grant", json!({"grants": ["kv"]}))
        .await;
    served
        .post("/api/plugins/test.thoth/enable", json!({}))
        .await;
    served.wait_ready("test.thoth", "").await;

    let table = json!({
        "columns": [{"name": "name", "type": "string"}, {"name": "age", "type": "int"}],
        "rows": [["Ada", 36], ["Grace", null]],
    });
    let (status, exported) = served
        .post("/api/plugins/test.thoth/exporters/csv", table)
        .await;
    assert_eq!(status, StatusCode::OK, "{exported}");
    assert_eq!(exported["media_type"], "text/csv");
    assert_eq!(exported["text"], "name,age\nAda,36\nGrace,\n");
    assert_eq!(exported["hex"], hex_of("name,age\nAda,36\nGrace,\n"));

    let (status, error) = served
        .post(
            "/api/plugins/test.thoth/exporters/parquet",
            json!({"columns": [], "rows": []}),
        )
        .await;
    assert_eq!(codes(&error), ["unknown-format"], "{status} {error}");
    let (status, error) = served
        .post(
            "/api/plugins/test.thoth/exporters/csv",
            json!({"columns": [{"name": "n", "type": "int"}], "rows": [["x"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(
        error["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("/rows/0/0")
    );

    let (status, read) = served
        .post(
            "/api/plugins/test.thoth/data-source",
            json!({"query": {"count": 5}, "max_rows": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["rows"].as_array().unwrap().len(), 3, "{read}");
    assert_eq!(read["complete"], false);
    let (_, read) = served
        .post(
            "/api/plugins/test.thoth/data-source",
            json!({"query": {"count": 5}}),
        )
        .await;
    assert_eq!(read["rows"].as_array().unwrap().len(), 5, "{read}");
    assert_eq!(read["complete"], true);
    let names: Vec<&str> = read["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{read}");
    assert_eq!(read["rows"][4][names[1]], 16, "{read}");
}

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}
