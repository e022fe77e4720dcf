//! Hot reload through the file watcher: swaps made on disk (folders renamed over, as
//! `plinth install` does), the plugin directories followed, new folders discovered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use plinth_manager::Manager;
use plinth_manager::Status;
use plinth_manager::discovery::{InventoryEvent, PluginDirs};
use plinth_manager::state::InstanceMode;
use plinth_manifest::Code;
use plinth_package::Home;
use tokio::sync::broadcast;

use crate::common::*;

const DEBOUNCE: Duration = Duration::from_millis(20);

/// Waits (up to 20 s) for an inventory event that `wanted` accepts.
fn wait_for_inventory(
    rx: &mut broadcast::Receiver<InventoryEvent>,
    wanted: impl Fn(&InventoryEvent) -> bool,
) -> InventoryEvent {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "no matching inventory event");
        match rx.try_recv() {
            Ok(event) if wanted(&event) => return event,
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

#[test]
fn swaps_through_the_watcher_under_load_never_fail_or_mix() {
    const ID: &str = "test.hot-watched";
    const SWAPS: usize = 50;
    let home_dir = tempfile::tempdir().unwrap();
    let home = Home::new(home_dir.path());
    install(&home, ID, RELOAD_VERSIONS[0]);
    let manager = Manager::builder(host())
        .plugin_dirs(PluginDirs::user_only(home.plugins_dir()))
        .build();
    manager.apply(&section(vec![entry_by_id(ID)]));
    assert_eq!(manager.serving_version(ID).as_deref(), Some("1.0.0"));
    let _watcher = manager.watch(DEBOUNCE).unwrap();
    let mut rx = manager.subscribe();
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let callers = spawn_callers(&manager, ID, &stop, &tally);
    let mut events = Vec::new();
    for i in 0..SWAPS {
        let next = RELOAD_VERSIONS[(i + 1) % 2];
        // A new folder is renamed over the plugin's folder; nothing calls the manager.
        install(&home, ID, next);
        events.extend(wait_for_serving(&mut rx, ID, next.0));
        tally.wait_for_calls_on(next.0);
    }
    stop.store(true, Ordering::Relaxed);
    let calls: u64 = callers.into_iter().map(|c| c.join().unwrap()).sum();
    let [v1, v2] = tally.per_version();
    eprintln!("{SWAPS} swaps on disk, {calls} calls ({v1} v1, {v2} v2), 0 failed, 0 mixed");
    let errors: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.status, Status::Error(_)))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(v1 > 0 && v2 > 0);
    assert_eq!(manager.counters(ID).unwrap().errors, 0);
    assert_eq!(manager.serving_version(ID).as_deref(), Some("1.0.0"));
}

#[test]
fn a_plugin_folder_replaced_by_rename_is_still_watched() {
    const ID: &str = "test.renamed-over";
    let home_dir = tempfile::tempdir().unwrap();
    let home = Home::new(home_dir.path());
    install(&home, ID, RELOAD_VERSIONS[0]);
    let dir = home.plugins_dir().join(ID);
    // Named by artifact_path, without plugin directories: the watcher watches the folder
    // and its parent.
    let manager = Manager::builder(host()).build();
    manager.apply(&section(vec![entry(ID, &dir, InstanceMode::PerCall)]));
    let _watcher = manager.watch(DEBOUNCE).unwrap();
    let mut rx = manager.subscribe();

    install(&home, ID, RELOAD_VERSIONS[1]);
    wait_for_serving(&mut rx, ID, "2.0.0");
    assert_eq!(run(&manager, ID, "version").unwrap(), "v2");
    install(&home, ID, RELOAD_VERSIONS[0]);
    wait_for_serving(&mut rx, ID, "1.0.0");
    assert_eq!(run(&manager, ID, "version").unwrap(), "v1");

    // A change inside the folder that replaced the watched one: only a watch on the new
    // folder sees it. Component first, manifest last, so the final load reads both new.
    replace(&dir.join("plugin.wasm"), test_programs::RELOAD_V2);
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    let temp = dir.join("plugin.toml.tmp");
    std::fs::write(&temp, manifest.replace("1.0.0", "3.0.0")).unwrap();
    std::fs::rename(&temp, dir.join("plugin.toml")).unwrap();
    wait_for_serving(&mut rx, ID, "3.0.0");
    assert_eq!(run(&manager, ID, "version").unwrap(), "v2");
}

#[test]
fn a_new_plugin_folder_is_discovered_and_never_enabled_by_presence() {
    let home_dir = tempfile::tempdir().unwrap();
    let home = Home::new(home_dir.path());
    install(&home, "test.present", RELOAD_VERSIONS[0]);
    let manager = Manager::builder(host())
        .plugin_dirs(PluginDirs::user_only(home.plugins_dir()))
        .build();
    // `test.later` is enabled in the state but not installed yet.
    manager.apply(&section(vec![
        entry_by_id("test.present"),
        entry_by_id("test.later"),
    ]));
    let Some(Status::Error(missing)) = manager.status("test.later") else {
        panic!("{:?}", manager.status("test.later"))
    };
    assert_eq!(missing.code, Code::MissingPackage);
    let mut inventory = manager.subscribe_inventory();
    let mut rx = manager.subscribe();
    let _watcher = manager.watch(DEBOUNCE).unwrap();
    let loads = manager.stats().loads;

    // A folder made in place, its manifest written last (a copy in progress).
    let stray = home.plugins_dir().join("test.stray");
    std::fs::create_dir(&stray).unwrap();
    replace(&stray.join("plugin.wasm"), test_programs::RELOAD_V1);
    std::fs::write(
        stray.join("plugin.toml"),
        "[plugin]\nid = \"test.stray\"\nversion = \"0.1.0\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n",
    )
    .unwrap();
    let event = wait_for_inventory(&mut inventory, |e| {
        e.added.iter().any(|id| id == "test.stray")
    });
    assert!(event.removed.is_empty(), "{event:?}");
    let found = manager.inventory();
    assert_eq!(found.get("test.stray").unwrap().dir, stray);
    // Found, not enabled: no status, nothing loaded, not callable.
    assert_eq!(manager.status("test.stray"), None);
    assert_eq!(manager.stats().loads, loads, "discovery loads nothing");
    assert!(manager.call_json("test.stray", "run", &[]).is_err());
    assert!(
        std::iter::from_fn(|| rx.try_recv().ok()).all(|e| e.id != "test.stray"),
        "no status event for a plugin that is only found"
    );

    // The plugin the state enables arrives: found by the rescan, loaded because enabled.
    install(&home, "test.later", RELOAD_VERSIONS[1]);
    wait_for_serving(&mut rx, "test.later", "2.0.0");
    assert_eq!(run(&manager, "test.later", "version").unwrap(), "v2");

    // A folder removed is reported too.
    std::fs::remove_dir_all(&stray).unwrap();
    wait_for_inventory(&mut inventory, |e| {
        e.removed.iter().any(|id| id == "test.stray")
    });
    assert!(manager.inventory().get("test.stray").is_none());
}
