//! Interop with a second client: ORAS (the `oras` Python package) pulls what Plinth pushed,
//! and Plinth pulls what ORAS pushed, byte for byte, through a real docker-registry.

use std::process::Command;

use crate::support::{RegistryServer, make_package, plugin_toml, skipped};
use bytes::Bytes;
use plinth_registry::oci::ARTIFACT_TYPE;
use plinth_registry::{OciClient, OciReference, PluginArtifact, Silent};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/all/oras_interop.py");

fn oras(args: &[&str]) -> String {
    let output = Command::new("python3")
        .arg(SCRIPT)
        .args(args)
        .output()
        .expect("python3 is needed for the ORAS interop test");
    assert!(
        output.status.success(),
        "oras_interop.py {args:?} failed (is the `oras` PyPI package installed? \
         pip install oras):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oras_pulls_what_plinth_pushed_and_plinth_pulls_what_oras_pushed() {
    if skipped("oras_interop") {
        return;
    }
    let server = RegistryServer::start();
    let client = OciClient::default();

    // Plinth → ORAS.
    let package = make_package("example.interop", "1.0.0", b"component for oras");
    let signature = "0123456789abcdef".repeat(8);
    let artifact = PluginArtifact {
        id: "example.interop".into(),
        version: "1.0.0".parse().unwrap(),
        name: None,
        manifest_toml: plugin_toml("example.interop", "1.0.0"),
        package: Bytes::from(package.clone()),
        file_name: "interop-1.0.0.plinth".into(),
        signature: Some(signature.clone()),
    };
    let target: OciReference = format!("oci://{}/interop:1.0.0", server.address())
        .parse()
        .unwrap();
    client.push(&target, &artifact).await.unwrap();

    let out = tempfile::tempdir().unwrap();
    let manifest = oras(&[
        "pull",
        &format!("{}/interop:1.0.0", server.address()),
        out.path().to_str().unwrap(),
    ]);
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["artifactType"], ARTIFACT_TYPE);
    assert_eq!(
        std::fs::read(out.path().join("interop-1.0.0.plinth")).unwrap(),
        package
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("interop-1.0.0.plinth.sig")).unwrap(),
        signature
    );

    // ORAS → Plinth.
    let dir = tempfile::tempdir().unwrap();
    let oras_package = make_package("example.oras", "2.0.0", b"component from oras");
    let files = |name: &str| dir.path().join(name);
    std::fs::write(files("oras-2.0.0.plinth"), &oras_package).unwrap();
    std::fs::write(files("oras-2.0.0.plinth.sig"), "fedcba9876543210").unwrap();
    std::fs::write(files("plugin.toml"), plugin_toml("example.oras", "2.0.0")).unwrap();
    let path = |name: &str| files(name).to_str().unwrap().to_owned();
    oras(&[
        "push",
        &format!("{}/from-oras:2.0.0", server.address()),
        &path("oras-2.0.0.plinth"),
        &path("oras-2.0.0.plinth.sig"),
        &path("plugin.toml"),
    ]);
    let pulled = client
        .pull(
            &format!("oci://{}/from-oras:2.0.0", server.address())
                .parse()
                .unwrap(),
            &Silent,
        )
        .await
        .unwrap();
    assert_eq!(pulled.package, oras_package);
    assert_eq!(pulled.signature.as_deref(), Some("fedcba9876543210"));
    assert_eq!(pulled.file_name.as_deref(), Some("oras-2.0.0.plinth"));
    assert_eq!(pulled.id.as_deref(), Some("example.oras"));
    assert_eq!(
        pulled.manifest_toml.as_deref(),
        Some(plugin_toml("example.oras", "2.0.0").as_str())
    );
}
