//! Watch seeds and event delivery by the manager (docs/design/0064): an entry's
//! `[plugins.entries.watch]` directories are watched on the plugin's behalf, and with
//! `deliver_events` the changes reach its `handle-event` with no call from the embedder.

use std::time::{Duration, Instant};

use plinth_manager::state::{InstanceMode, PluginEntry, WatchSeed};
use plinth_manager::{Manager, Status};
use plinth_manifest::diagnostic::Code;

use crate::common::{host, logs, replace, section, wait_for};

/// The `http` test program (it logs `event KIND SUBJECT PAYLOAD` for each event) as `id`,
/// with a manifest requesting `watch:<dir>` for each of `dirs`.
fn watching_entry(root: &std::path::Path, id: &str, dirs: &[&str]) -> PluginEntry {
    let dir = root.join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let watch = dirs
        .iter()
        .map(|d| format!("{d:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"1.0.0\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n[capabilities]\nlog = true\nwatch = [{watch}]\n"
        ),
    )
    .unwrap();
    replace(&dir.join("plugin.wasm"), test_programs::HTTP);
    let mut entry = PluginEntry::new(id);
    entry.enabled = true;
    entry.artifact_path = Some(dir.join("plugin.wasm"));
    entry.grants = std::iter::once("log".to_string())
        .chain(dirs.iter().map(|d| format!("watch:{d}")))
        .collect();
    entry.instance = InstanceMode::LongLived;
    entry
}

/// The `fs-change` log lines of `id` so far.
fn changes(id: &str) -> Vec<String> {
    let prefix = format!("{id}: event fs-change ");
    logs()
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with(&prefix))
        .cloned()
        .collect()
}

/// Waits (at most 30 s) for an `fs-change` log line of `id` naming `file`.
fn wait_for_change(id: &str, file: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(line) = changes(id).into_iter().find(|l| l.contains(file)) {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no fs-change of {file} for {id}: {:?}",
            changes(id)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn seeded_directories_are_watched_and_their_changes_delivered() {
    let root = tempfile::tempdir().unwrap();
    let waves = root.path().join("data").join("waves");
    std::fs::create_dir_all(&waves).unwrap();
    let mut entry = watching_entry(root.path(), "test.seeded", &["waves"]);
    // A path relative to the state file's directory, mapped under its last component.
    entry.watch = Some(WatchSeed {
        directories: vec!["data/waves".into()],
        debounce_ms: 20,
    });
    let manager = Manager::builder(host())
        .base_dir(root.path())
        .deliver_events(true)
        .build();
    let mut events = manager.subscribe();
    manager.apply(&section(vec![entry]));
    wait_for(&mut events, "test.seeded", |s| s.name() == "ready");

    std::fs::write(waves.join("first.vcd"), "x").unwrap();
    let line = wait_for_change("test.seeded", "first.vcd");
    assert!(line.contains("\"dir\":\"waves\""), "{line}");
    // Delivery keeps going, with nothing called by the embedder.
    std::fs::write(waves.join("second.vcd"), "y").unwrap();
    wait_for_change("test.seeded", "second.vcd");
}

#[test]
fn a_seed_needs_its_watch_grant_and_an_existing_directory() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("logs")).unwrap();
    let manager = Manager::builder(host()).base_dir(root.path()).build();
    let mut events = manager.subscribe();

    // Requested by the manifest but not granted in the entry.
    let mut ungranted = watching_entry(root.path(), "test.ungranted", &["logs"]);
    ungranted.grants = vec!["log".into()];
    ungranted.watch = Some(WatchSeed {
        directories: vec!["logs".into()],
        debounce_ms: 20,
    });
    // Granted, but the directory is not there.
    let mut missing = watching_entry(root.path(), "test.missing", &["gone"]);
    missing.watch = Some(WatchSeed {
        directories: vec!["gone".into()],
        debounce_ms: 20,
    });
    let mut refused = |entry: PluginEntry| {
        let id = entry.id.clone();
        manager.apply(&section(vec![entry]));
        match wait_for(&mut events, &id, |s| s.name() == "error").status {
            Status::Error(diagnostic) => diagnostic,
            other => panic!("{other:?}"),
        }
    };
    let ungranted = refused(ungranted);
    assert_eq!(ungranted.code, Code::MissingGrant, "{ungranted:?}");
    assert!(ungranted.message.contains("watch:logs"), "{ungranted:?}");
    let missing = refused(missing);
    assert_eq!(missing.code, Code::FsDenied, "{missing:?}");
    assert!(missing.message.contains("gone"), "{missing:?}");
}

#[test]
fn without_delivery_events_wait_for_the_embedder() {
    let root = tempfile::tempdir().unwrap();
    let waves = root.path().join("quiet");
    std::fs::create_dir_all(&waves).unwrap();
    let mut entry = watching_entry(root.path(), "test.waiting", &["quiet"]);
    entry.watch = Some(WatchSeed {
        directories: vec![waves.display().to_string()],
        debounce_ms: 20,
    });
    let manager = Manager::builder(host()).base_dir(root.path()).build();
    let mut events = manager.subscribe();
    manager.apply(&section(vec![entry]));
    wait_for(&mut events, "test.waiting", |s| s.name() == "ready");
    std::fs::write(waves.join("later.vcd"), "z").unwrap();
    // The change is queued for the plugin (the subscription is the manager's), then
    // delivered when the embedder asks.
    let deadline = Instant::now() + Duration::from_secs(30);
    let delivered = loop {
        let n = manager.deliver_pending("test.waiting").unwrap();
        if n > 0 {
            break n;
        }
        assert!(Instant::now() < deadline, "no change queued");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(delivered >= 1);
    wait_for_change("test.waiting", "later.vcd");
}
