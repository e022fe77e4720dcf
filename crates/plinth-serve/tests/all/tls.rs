//! HTTPS: a certificate made in the test, a client that trusts it and one that does not,
//! and the rules for serving the network.

use plinth_serve::{Exposure, ServeError, ServeOptions, Server, TlsFiles};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Served, read};

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM files.
fn certificate(dir: &std::path::Path) -> (TlsFiles, reqwest::Certificate) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&files.cert, cert.pem()).unwrap();
    std::fs::write(&files.key, signing_key.serialize_pem()).unwrap();
    let trusted = reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap();
    (files, trusted)
}

#[tokio::test(flavor = "multi_thread")]
async fn https_serves_a_client_that_trusts_the_certificate() {
    let home = tempfile::tempdir().unwrap();
    let (files, trusted) = certificate(home.path());
    let mut served = Served::start_with(home.path(), |o| o.tls = Some(files)).await;
    assert!(
        served.base.starts_with("https://127.0.0.1:"),
        "{}",
        served.base
    );
    served.client = reqwest::Client::builder()
        .tls_certs_only([trusted])
        .build()
        .unwrap();

    let (status, health) = served.get("/api/health").await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!(health["ok"], true);
    let (status, tenant) = served.post("/api/tenants", json!({"name": "acme"})).await;
    assert_eq!(status, StatusCode::CREATED, "{tenant}");
    // The page's own origin is the https one.
    let own = served
        .authorized(
            reqwest::Method::POST,
            "/api/tenants",
            &json!({"name": "beta"}),
        )
        .header("origin", served.base.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::CREATED);
    let plain_origin = served.base.replace("https://", "http://");
    let (status, _) = read(
        served
            .authorized(
                reqwest::Method::POST,
                "/api/tenants",
                &json!({"name": "gamma"}),
            )
            .header("origin", plain_origin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A client that does not trust the certificate, and plain HTTP, get nothing.
    let stranger = reqwest::Client::builder().build().unwrap();
    assert!(
        stranger
            .get(served.url("/api/health"))
            .send()
            .await
            .is_err()
    );
    let plain = served.base.replace("https://", "http://");
    let answer = reqwest::Client::new()
        .get(format!("{plain}/api/health"))
        .send()
        .await;
    assert!(
        answer.is_err() || !answer.unwrap().status().is_success(),
        "plain HTTP is not served on the TLS port"
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_network_needs_tls_or_an_explicit_opt_out() {
    let home = tempfile::tempdir().unwrap();
    let any: std::net::SocketAddr = "0.0.0.0:0".parse().unwrap();
    let refused = Server::bind(ServeOptions::new(home.path(), any)).await;
    assert!(
        matches!(refused, Err(ServeError::NotLoopback { .. })),
        "{refused:?}"
    );
    let mut remote = ServeOptions::new(home.path(), any);
    remote.exposure = Exposure::Remote;
    let refused = Server::bind(remote).await;
    assert!(
        matches!(refused, Err(ServeError::TlsRequired { .. })),
        "{refused:?}"
    );
    assert!(!home.path().join("serve.token").exists());

    let (mut files, _) = certificate(home.path());
    std::fs::write(home.path().join("empty.pem"), "").unwrap();
    files.key = home.path().join("empty.pem");
    let mut bad = ServeOptions::new(home.path(), "127.0.0.1:0".parse().unwrap());
    bad.tls = Some(files);
    let refused = Server::bind(bad).await;
    assert!(matches!(refused, Err(ServeError::Tls(_))), "{refused:?}");
}
