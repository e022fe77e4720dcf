//! Safe by default: the token, its file, the origin and host checks, the JSON content type,
//! the body cap, loopback only.

use plinth_serve::{ServeOptions, Server, TOKEN_FILE};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Served, codes, hello_dir, read};

#[tokio::test(flavor = "multi_thread")]
async fn the_token_is_private_to_the_home_and_kept_across_restarts() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    let file = home.path().join(TOKEN_FILE);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.trim(), served.token);
    assert_eq!(served.token.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token = served.token.clone();
    served.stop().await;
    let again = Served::start(home.path()).await;
    assert_eq!(again.token, token);
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_need_the_token_and_reads_do_not() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    let dir = hello_dir(plugins.path());
    let body = serde_json::to_vec(&json!({"source": dir})).unwrap();

    let missing = served
        .client
        .post(served.url("/api/plugins"))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    let (status, error) = read(missing).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(codes(&error), ["unauthorized"]);

    let wrong = served
        .client
        .post(served.url("/api/plugins"))
        .bearer_auth("0".repeat(64))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, error) = read(wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
    assert!(!home.path().join("plugins/example.hello").exists());

    let (status, listed) = served.get("/api/plugins").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["plugins"], json!([]));
    served.install(&dir).await;
    assert!(
        home.path()
            .join("plugins/example.hello/plugin.toml")
            .is_file()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn other_origins_and_host_names_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    let cross = served
        .authorized(
            Method::POST,
            "/api/plugins/example.hello/enable",
            &json!({}),
        )
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    let (status, error) = read(cross).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(codes(&error), ["forbidden"]);

    // A page of another site that rebound its name to 127.0.0.1 reads nothing.
    let rebound = served
        .client
        .get(served.url("/api/plugins"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(read(rebound).await.0, StatusCode::FORBIDDEN);

    // The server's own origin is fine.
    let own = served
        .client
        .get(served.url("/api/plugins"))
        .header("origin", served.base.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(read(own).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_need_a_json_body_under_the_cap() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    let form = served
        .client
        .post(served.url("/api/tenants"))
        .bearer_auth(&served.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=acme")
        .send()
        .await
        .unwrap();
    let (status, error) = read(form).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(codes(&error), ["bad-argument"]);

    let huge = json!({"name": "x".repeat(plinth_serve::MAX_BODY_BYTES)});
    let (status, error) = served.post("/api/tenants", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(codes(&error), ["too-large"]);

    let (status, error) = served.post("/api/tenants", json!({"nom": "acme"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&error), ["bad-argument"]);
    assert!(!home.path().join("tenants").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_network_address_needs_the_operator_to_say_so() {
    let home = tempfile::tempdir().unwrap();
    let options = ServeOptions::new(home.path(), "0.0.0.0:0".parse().unwrap());
    let error = Server::bind(options).await.unwrap_err();
    assert!(
        matches!(error, plinth_serve::ServeError::NotLoopback { .. }),
        "{error}"
    );
    assert!(!home.path().join(TOKEN_FILE).exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_are_coded_errors() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    let (status, error) = served.get("/api/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(codes(&error), ["bad-argument"]);
    let (status, error) = served.get("/api/plugins/example.none").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(codes(&error), ["missing-package"]);
}
