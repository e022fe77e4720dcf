//! Private addresses: an index, a redirect or a registry may not steer a request to a
//! loopback, private or link-local address the operator did not name; the rule holds on the
//! addresses a name resolves to, at connect time, and `PrivateAddresses::Allow` lifts it.

use plinth_manifest::Code;
use plinth_manifest::diagnostic::ToDiagnostic;
use plinth_registry::{
    Fetched, IndexLocation, OciClient, OciReference, PreReleases, PrivateAddresses, RegistryClient,
    RegistryError, Result, Silent,
};
use semver::VersionReq;

use super::server::{Hostile, respond};
use super::{Artifact, bounded, client, index_json};
use crate::support::make_package;

/// Loads the index at `index_url` and fetches `id` from it.
async fn fetch(client: &RegistryClient, index_url: &str, id: &str) -> Result<Fetched> {
    let location = IndexLocation::parse(index_url)?;
    let index = client.load_index(&location).await?;
    bounded(client.fetch(&index, id, &VersionReq::STAR, PreReleases::Exclude, &Silent)).await
}

fn assert_refused(error: &RegistryError, mentions: &str) {
    assert!(
        matches!(error, RegistryError::PrivateAddress { reason, .. } if reason.contains(mentions)),
        "expected a private-address refusal mentioning `{mentions}`, got {error}"
    );
    assert_eq!(error.to_diagnostic().code, Code::HttpDenied);
}

/// A server on 127.0.0.1 holding the package at `/pkg.plinth`, counting who comes.
fn origin(package: Vec<u8>) -> Hostile {
    Hostile::start(move |_, stream| respond(stream, "200 OK", &[], &package))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_urls_to_private_addresses_are_refused_before_connecting() {
    let package = make_package("example.meta", "1.0.0", b"x");
    let link_local = "a link-local address";
    let cases = [
        (
            "example.metadata",
            "http://169.254.169.254/latest/meta-data/pkg.plinth",
            link_local,
        ),
        (
            "example.decimal",
            "http://2852039166/pkg.plinth",
            link_local,
        ),
        (
            "example.lan",
            "http://10.0.0.1/pkg.plinth",
            "a private-network address",
        ),
        (
            "example.linklocal6",
            "http://[fe80::1]/pkg.plinth",
            link_local,
        ),
        (
            "example.mapped",
            "http://[::ffff:a9fe:a9fe]/pkg.plinth",
            "an IPv6 address embedding an IPv4 one",
        ),
        (
            "example.oci",
            "oci://10.1.2.3:5000/plugins/x:1",
            "a private-network address",
        ),
    ];
    let entries: Vec<(&str, &str, &[u8])> = cases
        .iter()
        .map(|(id, url, _)| (*id, *url, package.as_slice()))
        .collect();
    let index = index_json(&entries);
    let server = Hostile::start(move |_, stream| respond(stream, "200 OK", &[], &index));
    let url = server.url("index.json");
    for (id, _, mentions) in cases {
        let error = fetch(&client(), &url, id).await.unwrap_err();
        assert_refused(&error, mentions);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_resolves_to_loopback_is_refused_at_connect_time() {
    let package = make_package("example.named", "1.0.0", b"x");
    let origin = origin(package.clone());
    // The index is on 127.0.0.1 (named by the operator); its URL names `localhost`, which
    // only our resolver sees resolve to a loopback address.
    let target = format!("http://localhost:{}/pkg.plinth", origin.port);
    let index = index_json(&[("example.named", &target, &package)]);
    let server = Hostile::start(move |_, stream| respond(stream, "200 OK", &[], &index));
    let url = server.url("index.json");

    let error = fetch(&client(), &url, "example.named").await.unwrap_err();
    assert_refused(&error, "localhost resolves to");
    assert!(
        origin.seen().is_empty(),
        "nothing reached the loopback host"
    );

    let allowed = client().private_addresses(PrivateAddresses::Allow);
    let fetched = fetch(&allowed, &url, "example.named").await.unwrap();
    assert_eq!(fetched.package, package);
    assert_eq!(origin.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_private_addresses_are_refused() {
    let package = make_package("example.redirected", "1.0.0", b"x");
    let origin = origin(package.clone());
    let to_localhost = format!("http://localhost:{}/pkg.plinth", origin.port);
    let index = index_json(&[
        ("example.metadata", "metadata.plinth", &package),
        ("example.redirected", "named.plinth", &package),
    ]);
    let server = Hostile::start(move |request, stream| match request.path.as_str() {
        "/index.json" => respond(stream, "200 OK", &[], &index),
        "/metadata.plinth" => respond(
            stream,
            "302 Found",
            &[("Location", "http://169.254.169.254/latest/meta-data/")],
            b"",
        ),
        _ => respond(
            stream,
            "302 Found",
            &[("Location", to_localhost.as_str())],
            b"",
        ),
    });
    let url = server.url("index.json");

    let error = fetch(&client(), &url, "example.metadata")
        .await
        .unwrap_err();
    assert_refused(&error, "169.254.169.254 is a link-local address");
    let error = fetch(&client(), &url, "example.redirected")
        .await
        .unwrap_err();
    assert_refused(&error, "localhost resolves to");
    assert!(origin.seen().is_empty(), "no redirect was followed");

    let allowed = client().private_addresses(PrivateAddresses::Allow);
    let fetched = fetch(&allowed, &url, "example.redirected").await.unwrap();
    assert_eq!(fetched.package, package);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_may_not_steer_blobs_or_tokens_to_private_addresses() {
    let artifact = Artifact::new(None);
    let origin = origin(artifact.package.clone());
    let elsewhere = format!("http://localhost:{}/blob", origin.port);
    let package_blob = artifact.package_blob();
    let registry = Hostile::start(move |request, stream| {
        if !artifact.answer(request, stream) && request.path.ends_with(&package_blob) {
            respond(
                stream,
                "307 Temporary Redirect",
                &[("Location", elsewhere.as_str())],
                b"",
            );
        }
    });
    let reference: OciReference = format!("oci://{}/steer:1", registry.address())
        .parse()
        .unwrap();
    let error = bounded(OciClient::default().pull(&reference, &Silent))
        .await
        .unwrap_err();
    assert_refused(&error, "localhost resolves to");
    assert!(
        origin.seen().is_empty(),
        "the blob redirect was not followed"
    );

    // A token realm on the cloud metadata address.
    let challenger = Hostile::start(|_, stream| {
        let challenge = r#"Bearer realm="http://169.254.169.254/token",service="hostile""#;
        respond(
            stream,
            "401 Unauthorized",
            &[("WWW-Authenticate", challenge)],
            b"",
        );
    });
    let reference: OciReference = format!("oci://{}/steer:1", challenger.address())
        .parse()
        .unwrap();
    let error = bounded(OciClient::default().pull(&reference, &Silent))
        .await
        .unwrap_err();
    assert_refused(&error, "169.254.169.254 is a link-local address");
}
