//! Host-driven events: `tick` at the configured interval and `config-updated` when the
//! settings change, each delivered to `handle-event`; the async API.

use std::time::{Duration, Instant};

use plinth_manager::Manager;
use plinth_manager::state::{InstanceMode, PluginEntry};
use serde_json::json;

use crate::common::{host, logs, plugin_dir, section, wait_for};

/// The `http` test program (it logs `event KIND SUBJECT PAYLOAD` for each event) as `id`.
fn entry(root: &std::path::Path, id: &str, mode: InstanceMode) -> PluginEntry {
    let dir = plugin_dir(root, id, "1.0.0", test_programs::HTTP);
    let mut entry = PluginEntry::new(id);
    entry.enabled = true;
    entry.artifact_path = Some(dir.join("plugin.wasm"));
    entry.grants = vec!["log".into(), "config".into()];
    entry.instance = mode;
    entry
}

/// Waits (at most 30 s) until a log line of `id` contains `wanted`.
fn wait_for_log(id: &str, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let prefix = format!("{id}: ");
    loop {
        if let Some(line) = logs()
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.starts_with(&prefix) && l.contains(wanted))
        {
            return line.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no log line of {id} with {wanted:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ticks_reach_plugins_that_handle_events_at_the_interval() {
    let root = tempfile::tempdir().unwrap();
    let manager = Manager::builder(host())
        .tick_every(Duration::from_millis(20))
        .build();
    let mut events = manager.subscribe();
    manager.apply(&section(vec![entry(
        root.path(),
        "test.ticked",
        InstanceMode::LongLived,
    )]));
    wait_for(&mut events, "test.ticked", |s| s.name() == "ready");
    let first = wait_for_log("test.ticked", "event tick ");
    assert!(first.contains("{\"tick\":"), "{first}");
    // Ticks keep coming: a later one than the first seen.
    let n: u64 = first
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('}')
        .parse()
        .unwrap();
    wait_for_log("test.ticked", &format!("{{\"tick\":{}}}", n + 2));
}

#[test]
fn a_settings_change_is_a_config_updated_event() {
    let root = tempfile::tempdir().unwrap();
    let manager = Manager::builder(host()).build();
    let mut events = manager.subscribe();
    let mut first = entry(root.path(), "test.configured", InstanceMode::PerCall);
    first.config = json!({"greeting": "one"}).as_object().unwrap().clone();
    manager.apply(&section(vec![first.clone()]));
    wait_for(&mut events, "test.configured", |s| s.name() == "ready");
    let mut second = first;
    second.config = json!({"greeting": "two"}).as_object().unwrap().clone();
    manager.apply(&section(vec![second]));
    let line = wait_for_log("test.configured", "event config-updated ");
    assert!(line.ends_with("{\"greeting\":\"two\"}"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_api_does_not_block_the_callers_thread() {
    let root = tempfile::tempdir().unwrap();
    let manager = Manager::builder(host()).build();
    let report = manager
        .apply_async(section(vec![entry(
            root.path(),
            "test.async",
            InstanceMode::PerCall,
        )]))
        .await;
    assert_eq!(report.loaded, ["test.async"], "{report:?}");
    let answer = manager
        .call_json_async("test.async", "run", vec![json!(["nothing"])])
        .await
        .unwrap();
    assert!(answer.get("err").is_some(), "{answer}");
    assert_eq!(manager.tick_async().await, 1);
    wait_for_log("test.async", "event tick ");
    assert!(manager.reload_async("test.async").await);
    assert_eq!(
        manager.deliver_pending_async("test.async").await.unwrap(),
        0
    );
}
