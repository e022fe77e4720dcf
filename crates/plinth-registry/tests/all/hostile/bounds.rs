//! Size and time: a manifest is read under its cap as it streams, and every operation ends
//! by its deadline whatever the server does.

use std::io::Write;
use std::time::{Duration, Instant};

use bytes::Bytes;
use plinth_manifest::Code;
use plinth_manifest::diagnostic::ToDiagnostic;
use plinth_registry::{
    DEFAULT_DEADLINE, IndexLocation, OciClient, OciReference, PluginArtifact, PreReleases,
    RegistryError, Silent, SizeCaps,
};
use semver::VersionReq;

use super::server::{Hostile, never_answer, respond, trickle};
use super::{bounded, client, index_json};
use crate::support::make_package;

fn reference(server: &Hostile, repo_tag: &str) -> OciReference {
    format!("oci://{}/{repo_tag}", server.address())
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_manifest_is_cut_off_at_its_cap() {
    let cap = SizeCaps::default().manifest;
    assert_eq!(cap, 4 << 20, "the OCI distribution spec's 4 MiB");
    // No Content-Length: the body ends when the server closes, which it does only after
    // 64 MiB (a client that buffers first would hold all of them).
    let endless = Hostile::start(|_, stream| {
        let head = "HTTP/1.1 200 OK\r\n\
                    Content-Type: application/vnd.oci.image.manifest.v1+json\r\n\
                    Connection: close\r\n\r\n";
        let _ = stream.write_all(head.as_bytes());
        let chunk = vec![b' '; 64 << 10];
        for _ in 0..1024 {
            if stream.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let error = bounded(OciClient::default().pull(&reference(&endless, "endless:1"), &Silent))
        .await
        .unwrap_err();
    match &error {
        RegistryError::TooLarge {
            size, cap: limit, ..
        } => {
            assert_eq!(*limit, cap);
            // Stopped within one read of the cap, not after the whole body.
            assert!(*size > cap && *size <= cap + (512 << 10), "{error}");
        }
        other => panic!("expected too-large, got {other}"),
    }
    assert_eq!(error.to_diagnostic().code, Code::TooLarge);

    // A manifest announcing 1 GiB is refused on its header; the body never comes.
    let announced = Hostile::start(|_, stream| {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\n";
        let _ = stream.write_all(head.as_bytes());
        never_answer(stream);
    });
    let error = bounded(OciClient::default().pull(&reference(&announced, "big:1"), &Silent))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::TooLarge { size, .. } if size == 1 << 30),
        "{error}"
    );
}

fn assert_deadline(error: &RegistryError, deadline: Duration) {
    assert!(
        matches!(error, RegistryError::Deadline { limit, .. } if *limit == deadline),
        "expected the deadline, got {error}"
    );
    assert_eq!(error.to_diagnostic().code, Code::RegistryError);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_trickling_servers_hit_the_deadline() {
    assert_eq!(DEFAULT_DEADLINE, Duration::from_secs(300));
    let deadline = Duration::from_millis(500);
    let started = Instant::now();

    // A registry that accepts the connection and never answers: pull and push.
    let silent = Hostile::start(|_, stream| never_answer(stream));
    let oci = OciClient::default().deadline(deadline);
    let error = bounded(oci.pull(&reference(&silent, "silent:1"), &Silent))
        .await
        .unwrap_err();
    assert_deadline(&error, deadline);
    let artifact = PluginArtifact {
        id: "example.slow".into(),
        version: "1.0.0".parse().unwrap(),
        name: None,
        manifest_toml: String::new(),
        package: Bytes::from(make_package("example.slow", "1.0.0", b"x")),
        file_name: "slow.plinth".into(),
        signature: None,
    };
    let error = bounded(oci.push(&reference(&silent, "silent:1"), &artifact))
        .await
        .unwrap_err();
    assert_deadline(&error, deadline);

    // A registry whose manifest trickles in, one byte every 20 ms: never silent long enough
    // for a read timeout.
    let trickling_registry =
        Hostile::start(|_, stream| trickle(stream, 4096, Duration::from_millis(20)));
    let error = bounded(oci.pull(&reference(&trickling_registry, "slow:1"), &Silent))
        .await
        .unwrap_err();
    assert_deadline(&error, deadline);

    // An index that trickles, and a package that trickles behind a good index.
    let package = make_package("example.slow", "1.0.0", b"slow");
    let index = index_json(&[("example.slow", "slow.plinth", &package)]);
    let server = Hostile::start(move |request, stream| match request.path.as_str() {
        "/index.json" => respond(stream, "200 OK", &[], &index),
        // The slow index, and the package the good index lists.
        _ => trickle(stream, 1 << 20, Duration::from_millis(20)),
    });
    let client = client().deadline(deadline);
    let slow_index = IndexLocation::parse(&server.url("slow-index.json")).unwrap();
    let error = bounded(client.load_index(&slow_index)).await.unwrap_err();
    assert_deadline(&error, deadline);
    let location = IndexLocation::parse(&server.url("index.json")).unwrap();
    let loaded = client.load_index(&location).await.unwrap();
    let error = bounded(client.fetch(
        &loaded,
        "example.slow",
        &VersionReq::STAR,
        PreReleases::Exclude,
        &Silent,
    ))
    .await
    .unwrap_err();
    assert_deadline(&error, deadline);

    // Six operations, each cut off at its deadline; the 60 s read timeout never came into it.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}
