//! The registry client against hostile servers on 127.0.0.1 (design record 0033): an endless
//! manifest, servers that never answer or trickle, indexes and registries that steer requests
//! to private addresses, foreign layer URLs, and redirects that would carry the token away.
//! Each test fails against a client without the rule it checks.

mod addresses;
mod bounds;
mod registry;
mod server;

use std::future::Future;
use std::net::TcpStream;
use std::time::Duration;

use plinth_registry::oci::{ARTIFACT_TYPE, CONFIG_MEDIA_TYPE, PACKAGE_MEDIA_TYPE};
use plinth_registry::{RegistryClient, SizeCaps, Transport};
use serde_json::json;

use crate::support::{make_package, plugin_toml, sha256};
use server::{Seen, respond};

/// A Plinth artifact as a fake registry serves it.
struct Artifact {
    config: Vec<u8>,
    package: Vec<u8>,
    manifest: Vec<u8>,
}

impl Artifact {
    /// `example.hostile` 1.0.0; the package layer lists `urls` when given.
    fn new(package_urls: Option<Vec<String>>) -> Artifact {
        let config = plugin_toml("example.hostile", "1.0.0").into_bytes();
        let package = make_package("example.hostile", "1.0.0", b"hostile component");
        let mut layer = json!({
            "mediaType": PACKAGE_MEDIA_TYPE,
            "digest": sha256(&package),
            "size": package.len(),
        });
        if let Some(urls) = package_urls {
            layer["urls"] = json!(urls);
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": ARTIFACT_TYPE,
            "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": sha256(&config), "size": config.len()},
            "layers": [layer],
        });
        Artifact {
            config,
            package,
            manifest: serde_json::to_vec(&manifest).unwrap(),
        }
    }

    fn package_blob(&self) -> String {
        format!("blobs/{}", sha256(&self.package))
    }

    /// Answers a manifest or config request of any repository; `false` for anything else.
    fn answer(&self, request: &Seen, stream: &mut TcpStream) -> bool {
        if request.method == "GET" && request.path.contains("/manifests/") {
            let media = [("Content-Type", "application/vnd.oci.image.manifest.v1+json")];
            respond(stream, "200 OK", &media, &self.manifest);
            return true;
        }
        if request
            .path
            .ends_with(&format!("blobs/{}", sha256(&self.config)))
        {
            respond(stream, "200 OK", &[], &self.config);
            return true;
        }
        false
    }
}

/// An index listing one version of each `(id, url, package)`.
fn index_json(entries: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let plugins: Vec<_> = entries
        .iter()
        .map(|(id, url, package)| {
            json!({"id": id, "versions": [
                {"version": "1.0.0", "digest": sha256(package), "url": url}]})
        })
        .collect();
    serde_json::to_vec(&json!({"schema_version": 1, "plugins": plugins})).unwrap()
}

fn client() -> RegistryClient {
    RegistryClient::new(SizeCaps::default(), Transport::Auto).unwrap()
}

/// Runs `future`, failing the test instead of hanging when a client has no bound of its own.
async fn bounded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), future)
        .await
        .expect("the client did not give up on its own within 120 s")
}
