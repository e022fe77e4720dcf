//! The dashboard's page and assets: served from the binary, loading nothing from elsewhere.

use reqwest::StatusCode;

use crate::common::Served;

#[tokio::test(flavor = "multi_thread")]
async fn the_page_and_its_assets_come_from_the_server_alone() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/dashboard.js", "text/javascript"),
        ("/dashboard.css", "text/css"),
    ] {
        let response = served.client.get(served.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("default-src 'self'"), "{policy}");
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} loads from elsewhere"
        );
    }
    let page = served
        .client
        .get(served.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("src=\"/dashboard.js\""));
    assert!(page.contains("href=\"/dashboard.css\""));
}
