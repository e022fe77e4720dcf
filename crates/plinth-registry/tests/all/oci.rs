//! Push and pull plugin artifacts against a real `docker-registry` on 127.0.0.1.

use crate::support;

use crate::support::{RegistryServer, http_get_with, make_package, plugin_toml, sha256, skipped};
use bytes::Bytes;
use plinth_manifest::Code;
use plinth_manifest::diagnostic::ToDiagnostic;
use plinth_registry::oci::{
    ANNOTATION_ID, ANNOTATION_TITLE, ANNOTATION_VERSION, ARTIFACT_TYPE, CONFIG_MEDIA_TYPE,
    PACKAGE_MEDIA_TYPE, SIGNATURE_MEDIA_TYPE,
};
use plinth_registry::{
    OciClient, OciReference, PluginArtifact, RegistryError, Silent, SizeCaps, Transport,
};

fn artifact(id: &str, version: &str, signature: Option<&str>) -> PluginArtifact {
    let component = format!("component bytes of {id} {version}").repeat(100);
    PluginArtifact {
        id: id.to_owned(),
        version: version.parse().unwrap(),
        name: Some(format!("Test {id}")),
        manifest_toml: plugin_toml(id, version),
        package: Bytes::from(make_package(id, version, component.as_bytes())),
        file_name: format!("{id}-{version}.plinth"),
        signature: signature.map(str::to_owned),
    }
}

fn reference(server: &RegistryServer, repo_tag: &str) -> OciReference {
    format!("oci://{}/{repo_tag}", server.address())
        .parse()
        .unwrap()
}

const SIGNATURE: &str = "00112233445566778899aabbccddeeff";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_then_pull_round_trips_package_signature_and_metadata() {
    if skipped("push_then_pull") {
        return;
    }
    let server = RegistryServer::start();
    let client = OciClient::default();
    let artifact = artifact("example.hello", "1.2.0", Some(SIGNATURE));
    let target = reference(&server, "plugins/hello:1.2.0");

    let pushed = client.push(&target, &artifact).await.unwrap();
    assert_eq!(pushed.package_digest.to_string(), sha256(&artifact.package));

    let pulled = client.pull(&target, &Silent).await.unwrap();
    assert_eq!(pulled.package, artifact.package);
    assert_eq!(pulled.signature.as_deref(), Some(SIGNATURE));
    assert_eq!(pulled.manifest_digest, pushed.manifest_digest);
    assert_eq!(pulled.id.as_deref(), Some("example.hello"));
    assert_eq!(pulled.version.as_deref(), Some("1.2.0"));
    assert_eq!(
        pulled.manifest_toml.as_deref(),
        Some(artifact.manifest_toml.as_str())
    );
    assert_eq!(
        pulled.file_name.as_deref(),
        Some("example.hello-1.2.0.plinth")
    );

    // The same manifest by digest; pushing the same artifact again gives the same digest.
    let by_digest = client.pull(&pushed.pinned, &Silent).await.unwrap();
    assert_eq!(by_digest.package, artifact.package);
    let again = client.push(&target, &artifact).await.unwrap();
    assert_eq!(again.manifest_digest, pushed.manifest_digest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manifest_is_a_typed_oci_artifact_with_annotations() {
    if skipped("manifest_layout") {
        return;
    }
    let server = RegistryServer::start();
    let artifact = artifact("example.layout", "0.3.1", Some(SIGNATURE));
    let target = reference(&server, "layout:0.3.1");
    OciClient::default().push(&target, &artifact).await.unwrap();

    let (status, body) = http_get_with(
        server.port,
        "/v2/layout/manifests/0.3.1",
        &[("Accept", "application/vnd.oci.image.manifest.v1+json")],
    )
    .unwrap();
    assert_eq!(status, 200);
    let manifest: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(manifest["artifactType"], ARTIFACT_TYPE);
    assert_eq!(manifest["config"]["mediaType"], CONFIG_MEDIA_TYPE);
    assert_eq!(
        manifest["config"]["digest"],
        sha256(artifact.manifest_toml.as_bytes())
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0]["mediaType"], PACKAGE_MEDIA_TYPE);
    assert_eq!(layers[0]["digest"], sha256(&artifact.package));
    assert_eq!(layers[0]["size"], artifact.package.len());
    assert_eq!(
        layers[0]["annotations"][ANNOTATION_TITLE],
        "example.layout-0.3.1.plinth"
    );
    assert_eq!(layers[1]["mediaType"], SIGNATURE_MEDIA_TYPE);
    assert_eq!(
        layers[1]["annotations"][ANNOTATION_TITLE],
        "example.layout-0.3.1.plinth.sig"
    );
    let annotations = &manifest["annotations"];
    assert_eq!(annotations[ANNOTATION_ID], "example.layout");
    assert_eq!(annotations[ANNOTATION_VERSION], "0.3.1");
    assert_eq!(annotations[ANNOTATION_TITLE], "Test example.layout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_package_pulls_without_signature() {
    if skipped("unsigned") {
        return;
    }
    let server = RegistryServer::start();
    let artifact = artifact("example.unsigned", "1.0.0", None);
    let target = reference(&server, "unsigned:1");
    let client = OciClient::default();
    client.push(&target, &artifact).await.unwrap();
    let pulled = client.pull(&target, &Silent).await.unwrap();
    assert_eq!(pulled.signature, None);
    assert_eq!(pulled.package, artifact.package);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_blob_is_a_digest_mismatch() {
    if skipped("tampered") {
        return;
    }
    let server = RegistryServer::start();
    let artifact = artifact("example.tampered", "1.0.0", Some(SIGNATURE));
    let target = reference(&server, "tampered:1");
    let client = OciClient::default();
    client.push(&target, &artifact).await.unwrap();

    // Same size, one byte flipped, behind the registry's back.
    let blob = server.blob_path(&sha256(&artifact.package));
    let mut bytes = std::fs::read(&blob).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();

    let error = client.pull(&target, &Silent).await.unwrap_err();
    assert!(
        matches!(error, RegistryError::DigestMismatch { .. }),
        "{error}"
    );
    assert_eq!(error.to_diagnostic().code, Code::DigestMismatch);

    // A longer blob than the manifest declares is refused as it streams.
    bytes.extend_from_slice(&[0u8; 4096]);
    std::fs::write(&blob, &bytes).unwrap();
    let error = client.pull(&target, &Silent).await.unwrap_err();
    assert!(
        matches!(
            error,
            RegistryError::TooLarge { .. } | RegistryError::DigestMismatch { .. }
        ),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_over_the_caps_are_refused_before_download() {
    if skipped("caps") {
        return;
    }
    let server = RegistryServer::start();
    let artifact = artifact("example.big", "1.0.0", Some(SIGNATURE));
    let target = reference(&server, "big:1");
    OciClient::default().push(&target, &artifact).await.unwrap();

    let small = SizeCaps {
        package: artifact.package.len() as u64 - 1,
        ..SizeCaps::default()
    };
    let error = OciClient::new(Transport::Auto, small)
        .pull(&target, &Silent)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::TooLarge { size, cap, .. }
            if size == artifact.package.len() as u64 && cap == small.package),
        "{error}"
    );
    assert_eq!(error.to_diagnostic().code, Code::TooLarge);

    let tiny_signature = SizeCaps {
        signature: 4,
        ..SizeCaps::default()
    };
    let error = OciClient::new(Transport::Auto, tiny_signature)
        .pull(&target, &Silent)
        .await
        .unwrap_err();
    assert!(matches!(error, RegistryError::TooLarge { .. }), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_tags_foreign_artifacts_and_dead_registries_are_coded() {
    if skipped("coded_errors") {
        return;
    }
    let server = RegistryServer::start();
    let client = OciClient::default();

    let error = client
        .pull(&reference(&server, "nothing:here"), &Silent)
        .await
        .unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::MissingPackage, "{error}");

    // A generic OCI artifact (not a Plinth plugin), pushed with oci-client directly.
    let foreign: OciReference = reference(&server, "foreign:1");
    let oci = oci_client::Client::new(oci_client::client::ClientConfig {
        protocol: oci_client::client::ClientProtocol::Http,
        ..Default::default()
    });
    let layer = oci_client::client::ImageLayer::oci_v1(b"not a plugin".to_vec(), None);
    let config = oci_client::client::Config::new(
        b"{}".to_vec(),
        "application/vnd.oci.empty.v1+json".into(),
        None,
    );
    let oci_ref: oci_client::Reference = format!("{}/foreign:1", server.address()).parse().unwrap();
    oci.push(
        &oci_ref,
        &[layer],
        config,
        &oci_client::secrets::RegistryAuth::Anonymous,
        None,
    )
    .await
    .unwrap();
    let error = client.pull(&foreign, &Silent).await.unwrap_err();
    assert!(matches!(error, RegistryError::NotAPlugin { .. }), "{error}");
    assert_eq!(error.to_diagnostic().code, Code::PackageRejected);

    let digest_target: OciReference =
        format!("oci://{}/x@sha256:{}", server.address(), "0".repeat(64))
            .parse()
            .unwrap();
    let error = client
        .push(&digest_target, &artifact("example.x", "1.0.0", None))
        .await
        .unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::BadArgument);

    let dead: OciReference = format!("oci://127.0.0.1:{}/x:1", support::free_port())
        .parse()
        .unwrap();
    let error = client.pull(&dead, &Silent).await.unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::RegistryError, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localhost_is_plain_http_too() {
    if skipped("localhost") {
        return;
    }
    let server = RegistryServer::start();
    let target: OciReference = format!("oci://localhost:{}/local:1", server.port)
        .parse()
        .unwrap();
    let artifact = artifact("example.local", "1.0.0", None);
    let client = OciClient::default();
    client.push(&target, &artifact).await.unwrap();
    assert_eq!(
        client.pull(&target, &Silent).await.unwrap().package,
        artifact.package
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_entry_may_point_at_an_oci_reference() {
    if skipped("index_oci") {
        return;
    }
    use plinth_registry::{IndexLocation, PreReleases, PrivateAddresses, RegistryClient};
    let server = RegistryServer::start();
    let artifact = artifact("example.indexed", "1.0.0", Some(SIGNATURE));
    let target = reference(&server, "indexed:1.0.0");
    OciClient::default().push(&target, &artifact).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let write_index = |digest: &str| {
        let json = format!(
            r#"{{"schema_version": 1, "plugins": [{{"id": "example.indexed", "versions": [
                {{"version": "1.0.0", "digest": "{digest}", "url": "{target}"}}]}}]}}"#
        );
        std::fs::write(dir.path().join("index.json"), json).unwrap();
    };
    write_index(&sha256(&artifact.package));
    let location = IndexLocation::parse(dir.path().join("index.json").to_str().unwrap()).unwrap();
    // An index may send a download to a registry on loopback only when the operator allows
    // private addresses: the index, not the operator, named that host.
    let strict = RegistryClient::new(SizeCaps::default(), Transport::Auto).unwrap();
    let index = strict.load_index(&location).await.unwrap();
    let error = strict
        .fetch(
            &index,
            "example.indexed",
            &semver::VersionReq::STAR,
            PreReleases::Exclude,
            &Silent,
        )
        .await
        .unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::HttpDenied, "{error}");
    let client = RegistryClient::new(SizeCaps::default(), Transport::Auto)
        .unwrap()
        .private_addresses(PrivateAddresses::Allow);
    let fetched = client
        .fetch(
            &index,
            "example.indexed",
            &semver::VersionReq::STAR,
            PreReleases::Exclude,
            &Silent,
        )
        .await
        .unwrap();
    assert_eq!(fetched.package, artifact.package);
    assert_eq!(
        fetched.signature.as_deref(),
        Some(SIGNATURE),
        "from the artifact"
    );

    // The index pins another digest: the registry's bytes are refused.
    write_index(&sha256(b"something else"));
    let index = client.load_index(&location).await.unwrap();
    let error = client
        .fetch(
            &index,
            "example.indexed",
            &semver::VersionReq::STAR,
            PreReleases::Exclude,
            &Silent,
        )
        .await
        .unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::DigestMismatch, "{error}");
}
