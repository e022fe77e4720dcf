//! Loading the `service` guest with a manifest, and running a test on a runtime of its
//! own (the host is made and dropped outside it).

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use plinth_host::kinds::IngressEvent;
use plinth_host::{Host, LoadOptions, Plugin};
use plinth_manifest::{Grant, Manifest};
use plinth_service::{Delivery, Service};

/// Runs `test` on a multi-threaded runtime with `host`.
pub fn run<F, Fut>(host: Host, test: F)
where
    F: FnOnce(Host) -> Fut,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(test(host.clone()));
    drop(runtime);
    drop(host);
}

/// The `service` guest as plugin `id`, with `rest` added to its manifest (capabilities,
/// the `[[provides.service]]` table's keys) and `grants` given.
pub fn load(host: &Host, id: &str, service: &str, rest: &str, grants: &[&str]) -> Plugin {
    let text = format!(
        "[plugin]\nid = \"{id}\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"service.wasm\"\n\n{rest}\n\n[[provides.service]]\n{service}\n"
    );
    let manifest = Manifest::parse(&text, Path::new("plugin.toml"))
        .unwrap()
        .manifest;
    let bytes = std::fs::read(test_programs::SERVICE).unwrap();
    let grants: Vec<Grant> = grants.iter().map(|g| g.parse().unwrap()).collect();
    host.load_manifest_bytes(manifest, &bytes, LoadOptions::default().with_grants(grants))
        .unwrap()
}

/// An event of `kind` from the application, with `body`.
pub fn event(kind: &str, body: &str) -> IngressEvent {
    IngressEvent::new("app", kind, body.as_bytes().to_vec())
}

/// Pushes `kind` with `body` and waits for its delivery.
pub async fn ask(service: &Service, kind: &str, body: &str) -> Delivery {
    let (_, receiver) = service.request(event(kind, body)).unwrap();
    tokio::time::timeout(Duration::from_secs(30), receiver)
        .await
        .expect("delivered within 30 s")
        .expect("a delivery")
}

/// The text of a delivery's reply.
pub fn reply_text(delivery: &Delivery) -> String {
    match delivery {
        Delivery::Handled { reply: Some(reply) } => String::from_utf8(reply.body.clone()).unwrap(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// Waits until `condition` holds, checking every millisecond, for at most 30 s.
pub async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the condition did not hold within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
