//! What a registry can make the client do with its blobs and its token: foreign layer URLs
//! are never fetched, and the registry's token never goes to another scheme, host or port,
//! neither through a blob redirect nor through an upload `Location`.

use bytes::Bytes;
use plinth_manifest::Code;
use plinth_manifest::diagnostic::ToDiagnostic;
use plinth_registry::{OciClient, OciReference, PluginArtifact, Silent};

use super::server::{Hostile, respond};
use super::{Artifact, bounded};
use crate::support::plugin_toml;

const TOKEN: &str = "registry-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_layer_urls_are_never_fetched() {
    let foreign_bytes = Artifact::new(None).package;
    let foreign = Hostile::start(move |_, stream| respond(stream, "200 OK", &[], &foreign_bytes));
    // The package layer lists a foreign URL; the registry itself does not have the blob.
    let artifact = Artifact::new(Some(vec![foreign.url("layer.plinth")]));
    let registry = Hostile::start(move |request, stream| {
        if !artifact.answer(request, stream) {
            let unknown = br#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"#;
            respond(stream, "404 Not Found", &[], unknown);
        }
    });
    let reference: OciReference = format!("oci://{}/foreign:1", registry.address())
        .parse()
        .unwrap();
    let error = bounded(OciClient::default().pull(&reference, &Silent))
        .await
        .unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::MissingPackage, "{error}");
    assert!(foreign.seen().is_empty(), "the foreign URL was fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_token_never_leaves_its_scheme_host_and_port() {
    let artifact = Artifact::new(None);
    // Another port of the same host: the blob store and upload target the registry sends
    // us to. It records every request, with its headers.
    let package = artifact.package.clone();
    let elsewhere = Hostile::start(move |request, stream| match request.method.as_str() {
        "GET" => respond(stream, "200 OK", &[], &package),
        _ => respond(stream, "201 Created", &[], b""),
    });
    let blob_url = elsewhere.url("blob");
    let upload_url = elsewhere.url("upload/1");
    let package_blob = artifact.package_blob();
    let registry = Hostile::start(move |request, stream| {
        if request.path.starts_with("/token") {
            let token = format!(r#"{{"token": "{TOKEN}"}}"#);
            return respond(stream, "200 OK", &[], token.as_bytes());
        }
        if request.header("authorization") != Some(format!("Bearer {TOKEN}").as_str()) {
            let host = request.header("host").unwrap_or_default();
            let challenge = format!(r#"Bearer realm="http://{host}/token",service="hostile""#);
            return respond(
                stream,
                "401 Unauthorized",
                &[("WWW-Authenticate", challenge.as_str())],
                b"",
            );
        }
        if artifact.answer(request, stream) {
            return;
        }
        match request.method.as_str() {
            "GET" if request.path.ends_with(&package_blob) => respond(
                stream,
                "307 Temporary Redirect",
                &[("Location", blob_url.as_str())],
                b"",
            ),
            "POST" => respond(
                stream,
                "202 Accepted",
                &[("Location", upload_url.as_str())],
                b"",
            ),
            "PUT" => respond(stream, "201 Created", &[], b""),
            _ => respond(stream, "404 Not Found", &[], b""),
        }
    });
    let client = OciClient::default();

    let pull_ref: OciReference = format!("oci://{}/tokens:1", registry.address())
        .parse()
        .unwrap();
    let pulled = bounded(client.pull(&pull_ref, &Silent)).await.unwrap();
    assert_eq!(pulled.package, Artifact::new(None).package);

    let push_ref: OciReference = format!("oci://{}/tokens:2", registry.address())
        .parse()
        .unwrap();
    let artifact = PluginArtifact {
        id: "example.hostile".into(),
        version: "1.0.0".parse().unwrap(),
        name: None,
        manifest_toml: plugin_toml("example.hostile", "1.0.0"),
        package: Bytes::from(Artifact::new(None).package),
        file_name: "hostile.plinth".into(),
        signature: None,
    };
    bounded(client.push(&push_ref, &artifact)).await.unwrap();

    // The token was in use with the registry itself …
    let authorized = |method: &str, part: &str| {
        registry.seen().iter().any(|r| {
            r.method == method
                && r.path.contains(part)
                && r.header("authorization") == Some(format!("Bearer {TOKEN}").as_str())
        })
    };
    assert!(authorized("GET", "/manifests/1"), "{:#?}", registry.seen());
    assert!(authorized("PUT", "/manifests/2"), "{:#?}", registry.seen());
    // … and never reached the other port: not by the blob redirect, not by the uploads.
    let seen = elsewhere.seen();
    assert!(seen.iter().any(|r| r.method == "GET"), "{seen:#?}");
    assert_eq!(
        seen.iter().filter(|r| r.method == "PUT").count(),
        2,
        "{seen:#?}"
    );
    for request in &seen {
        assert_eq!(request.header("authorization"), None, "{request:#?}");
    }
}
