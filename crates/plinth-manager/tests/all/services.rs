//! Services under the manager: enabling a `service` plugin starts its service, a reload
//! starts the new version's and stops the old one's, disabling stops it; every service's
//! events reach [`Manager::subscribe_services`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plinth_host::kinds::IngressEvent;
use plinth_manager::state::{InstanceMode, PluginEntry};
use plinth_manager::{Manager, ServiceNotice};
use plinth_service::{Delivery, Service, ServiceError, ServiceEvent, Status};
use tokio::sync::broadcast;

use crate::common::{host, section, wait_for};

const ID: &str = "test.bridge";

fn service_dir(root: &Path, version: &str) -> PathBuf {
    let dir = root.join(ID);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(test_programs::SERVICE, dir.join("plugin.wasm")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{ID}\"\nversion = \"{version}\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n\n[[provides.service]]\nqueue = 8\n"
        ),
    )
    .unwrap();
    dir
}

fn entry(dir: &Path, enabled: bool) -> PluginEntry {
    let mut entry = PluginEntry::new(ID);
    entry.enabled = enabled;
    entry.artifact_path = Some(dir.join("plugin.wasm"));
    entry.instance = InstanceMode::PerCall;
    entry
}

/// Sends an `echo` event and returns the reply's text.
fn echo(runtime: &tokio::runtime::Runtime, service: &Service, text: &str) -> String {
    let (_, delivered) = service
        .request(IngressEvent::new("app", "echo", text.as_bytes().to_vec()))
        .unwrap();
    let delivery = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(30), delivered).await })
        .expect("delivered within 30 s")
        .expect("a delivery");
    match delivery {
        Delivery::Handled { reply: Some(reply) } => String::from_utf8(reply.body).unwrap(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// Waits until a status notice has been seen for each `(version, status)` of `wanted`, in
/// any order (a new version's service may be ready before or after the old one stops);
/// returns the notices that matched.
fn wait_statuses(
    notices: &mut broadcast::Receiver<ServiceNotice>,
    wanted: &[(&str, Status)],
) -> Vec<ServiceNotice> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut missing = wanted.to_vec();
    let mut seen = Vec::new();
    while !missing.is_empty() {
        match notices.try_recv() {
            Ok(notice) => {
                if let ServiceEvent::Status { status, .. } = &notice.event
                    && let Some(at) = missing
                        .iter()
                        .position(|(v, s)| *v == notice.version && s == status)
                {
                    missing.remove(at);
                    seen.push(notice);
                }
            }
            Err(broadcast::error::TryRecvError::Empty) => {
                assert!(Instant::now() < deadline, "still waiting for {missing:?}");
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("notices: {e}"),
        }
    }
    seen
}

#[test]
fn a_service_runs_while_its_plugin_serves_and_a_reload_replaces_it() {
    let root = tempfile::tempdir().unwrap();
    let dir = service_dir(root.path(), "1.0.0");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let manager = Manager::builder(host()).build();
    let mut events = manager.subscribe();
    let mut notices = manager.subscribe_services();
    manager.apply(&section(vec![entry(&dir, true)]));
    wait_for(&mut events, ID, |s| s.name() == "ready");
    let ready = wait_statuses(&mut notices, &[("1.0.0", Status::Ready)]);
    assert_eq!(ready[0].id, ID);
    let first = manager.service(ID).expect("a running service");
    assert_eq!(echo(&runtime, &first, "one"), "one");

    // A new version: its own service; the old one stops and refuses events.
    service_dir(root.path(), "1.1.0");
    assert!(manager.reload(ID));
    wait_statuses(
        &mut notices,
        &[("1.1.0", Status::Ready), ("1.0.0", Status::Stopped)],
    );
    let second = manager.service(ID).expect("the new version's service");
    assert!(!std::sync::Arc::ptr_eq(&first, &second));
    assert_eq!(echo(&runtime, &second, "two"), "two");
    assert_eq!(first.status(), Status::Stopped);
    let refused = first.push(IngressEvent::new("app", "echo", b"late".to_vec()));
    assert!(
        matches!(refused, Err(ServiceError::Stopped { .. })),
        "{refused:?}"
    );
    assert_eq!(first.stats().delivered, 1);

    // Disabled: no service, and the last one stopped.
    manager.apply(&section(vec![entry(&dir, false)]));
    wait_statuses(&mut notices, &[("1.1.0", Status::Stopped)]);
    assert!(manager.service(ID).is_none());
    assert_eq!(second.status(), Status::Stopped);
    assert_eq!(second.stats().delivered, 1);
}

#[test]
fn a_plugin_that_is_not_a_service_has_none() {
    let root = tempfile::tempdir().unwrap();
    let dir = crate::common::plugin_dir(root.path(), "test.plain", "1.0.0", test_programs::HELLO);
    let manager = Manager::builder(host()).build();
    let mut events = manager.subscribe();
    let mut plain = PluginEntry::new("test.plain");
    plain.enabled = true;
    plain.artifact_path = Some(dir.join("plugin.wasm"));
    manager.apply(&section(vec![plain]));
    wait_for(&mut events, "test.plain", |s| s.name() == "ready");
    assert!(manager.service("test.plain").is_none());
}
