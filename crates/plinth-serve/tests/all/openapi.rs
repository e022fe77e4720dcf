//! The OpenAPI document: served as kept in docs/, and naming every route.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::Served;

#[tokio::test(flavor = "multi_thread")]
async fn the_served_document_is_the_one_in_docs_and_covers_every_route() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    let (status, document) = served.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let kept = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json"),
    )
    .unwrap();
    let kept: Value = serde_json::from_str(&kept).unwrap();
    assert_eq!(document, kept);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));

    let paths = document["paths"].as_object().unwrap();
    let routes = plinth_serve::routes();
    for route in &routes {
        let method = route.method.to_ascii_lowercase();
        assert!(
            paths.get(route.path).and_then(|p| p.get(&method)).is_some(),
            "{} {} is not in docs/openapi.json",
            route.method,
            route.path
        );
    }
    // And the document promises nothing the server does not answer.
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            assert!(
                routes
                    .iter()
                    .any(|r| r.path == path && r.method.eq_ignore_ascii_case(method)),
                "{method} {path} is documented but not served"
            );
        }
    }
}
