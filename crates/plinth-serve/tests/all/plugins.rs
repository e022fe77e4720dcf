//! Installed plugins through the API: install from a folder and a `.plinth`, list and show,
//! enable, grant, revoke, disable, uninstall; each checked against the files on disk.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Served, codes, hello_dir, word_count_dir};

/// The grants of `id` in the home's plugins.toml.
fn grants_of(served: &Served, id: &str) -> Vec<String> {
    served.entry(id).unwrap()["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_owned())
        .collect()
}

fn row<'a>(listed: &'a Value, id: &str) -> &'a Value {
    listed["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {listed}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn install_enable_grant_revoke_disable_uninstall() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;

    let installed = served.install(&hello_dir(plugins.path())).await;
    assert_eq!(installed["id"], "example.hello");
    assert_eq!(installed["enabled"], false);
    assert_eq!(
        installed["requested_capabilities"],
        json!(["log", "config"])
    );
    let folder = home.path().join("plugins/example.hello");
    assert!(folder.join("hello.wasm").is_file());
    let lock = std::fs::read_to_string(home.path().join("plinth.lock")).unwrap();
    assert!(lock.contains("example.hello"), "{lock}");

    let (_, listed) = served.get("/api/plugins").await;
    let hello = row(&listed, "example.hello");
    assert_eq!(hello["enabled"], false);
    assert_eq!(hello["status"]["state"], "disabled");
    assert_eq!(hello["signature"]["status"], "unsigned");
    assert_eq!(hello["requested"], json!(["log", "config"]));
    assert_eq!(hello["granted"], json!([]));
    assert_eq!(hello["version"], "0.1.0");

    let (status, enabled) = served
        .post("/api/plugins/example.hello/enable", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(enabled["changed"], true);
    assert_ne!(enabled["status"]["state"], "disabled", "{enabled}");
    served.wait_ready("example.hello", "").await;
    let entry = served.entry("example.hello").unwrap();
    assert_eq!(entry["enabled"].as_bool(), Some(true));
    assert!(
        entry["artifact_path"]
            .as_str()
            .unwrap()
            .ends_with("hello.wasm")
    );

    let (status, granted) = served
        .post(
            "/api/plugins/example.hello/grant",
            json!({"grants": ["log", "kv"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    assert_eq!(granted["added"], json!(["log", "kv"]));
    // `kv` is not requested: written, with a warning.
    assert_eq!(codes(&granted), ["missing-grant"]);
    assert_eq!(granted["diagnostics"][0]["severity"], "warning");
    assert_eq!(grants_of(&served, "example.hello"), ["log", "kv"]);

    let (status, error) = served
        .post(
            "/api/plugins/example.hello/grant",
            json!({"grants": ["http:"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(codes(&error), ["bad-argument"]);

    let (status, revoked) = served
        .post(
            "/api/plugins/example.hello/revoke",
            json!({"grants": ["kv"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["removed"], json!(["kv"]));
    assert_eq!(grants_of(&served, "example.hello"), ["log"]);

    let shown = served.wait_ready("example.hello", "").await;
    assert_eq!(shown["granted"], json!(["log"]));
    assert_eq!(shown["serving"], "0.1.0");

    let (status, disabled) = served
        .post("/api/plugins/example.hello/disable", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{disabled}");
    assert_eq!(disabled["status"]["state"], "disabled");
    assert_eq!(
        served.entry("example.hello").unwrap()["enabled"].as_bool(),
        Some(false)
    );

    let (status, gone) = served.delete("/api/plugins/example.hello").await;
    assert_eq!(status, StatusCode::OK, "{gone}");
    assert_eq!(gone["version"], "0.1.0");
    assert!(!folder.exists());
    assert!(grants_of(&served, "example.hello").is_empty());
    let (_, listed) = served.get("/api/plugins").await;
    assert_eq!(row(&listed, "example.hello")["origin"], "state");

    let (status, error) = served.delete("/api/plugins/example.hello").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn install_from_a_package_file() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    let packed = plinth_package::pack(&word_count_dir(plugins.path())).unwrap();
    let file = plugins.path().join("word-count.plinth");
    std::fs::write(&file, &packed.bytes).unwrap();

    let installed = served.install(&file).await;
    assert_eq!(installed["id"], "example.word-count");
    assert_eq!(installed["digest"], packed.package.digest().to_string());
    let (_, shown) = served.get("/api/plugins/example.word-count").await;
    assert_eq!(shown["kinds"], json!(["tool"]));
    assert_eq!(shown["tools"][0]["name"], "word_count");

    let (status, error) = served
        .post(
            "/api/plugins",
            json!({"source": plugins.path().join("nothing.plinth")}),
        )
        .await;
    assert!(status.is_client_error(), "{status} {error}");
    assert!(!codes(&error).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_grants_are_all_kept() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = std::sync::Arc::new(Served::start(home.path()).await);
    served.install(&hello_dir(plugins.path())).await;
    let grants = [
        "log",
        "config",
        "kv",
        "http:a.example",
        "http:b.example",
        "fs.read:data",
    ];
    let tasks: Vec<_> = grants
        .iter()
        .map(|grant| {
            let served = served.clone();
            let grant = (*grant).to_owned();
            tokio::spawn(async move {
                served
                    .post(
                        "/api/plugins/example.hello/grant",
                        json!({"grants": [grant]}),
                    )
                    .await
            })
        })
        .collect();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mut written = grants_of(&served, "example.hello");
    written.sort_unstable();
    let mut expected = grants.to_vec();
    expected.sort_unstable();
    assert_eq!(written, expected);
}
