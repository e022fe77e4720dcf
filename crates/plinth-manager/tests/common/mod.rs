//! Shared by the manager's integration tests: one host, plugin folders, entries, events.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use plinth_host::Host;
use plinth_host::log::LogRecord;
use plinth_manager::state::{InstanceMode, PluginEntry, PluginsSection};
use plinth_manager::{Manager, ManagerError, Status, StatusEvent};
use serde_json::json;
use tokio::sync::broadcast;

/// Plugin log lines, shared by every test (one host per process).
pub fn logs() -> &'static Mutex<Vec<String>> {
    static LOGS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    LOGS.get_or_init(Default::default)
}

pub fn host() -> Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| {
        Host::builder()
            .log_sink(Arc::new(|r: &LogRecord| {
                logs()
                    .lock()
                    .unwrap()
                    .push(format!("{}: {}", r.plugin, r.message));
            }))
            .build()
            .unwrap()
    })
    .clone()
}

/// A plugin folder `test.ID` with a manifest of `version` and the given component.
pub fn plugin_dir(root: &Path, id: &str, version: &str, component: &str) -> PathBuf {
    let dir = root.join(id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"{version}\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n[capabilities]\nlog = true\nconfig = true\n"
        ),
    )
    .unwrap();
    replace(&dir.join("plugin.wasm"), component);
    dir
}

/// Replaces a file atomically (as a build tool's copy + rename would).
pub fn replace(target: &Path, from: &str) {
    let temp = target.with_extension("tmp");
    std::fs::copy(from, &temp).unwrap();
    std::fs::rename(&temp, target).unwrap();
}

pub fn entry(id: &str, dir: &Path, mode: InstanceMode) -> PluginEntry {
    let mut entry = PluginEntry::new(id);
    entry.enabled = true;
    entry.artifact_path = Some(dir.join("plugin.wasm"));
    entry.grants = vec!["log".into(), "config".into()];
    entry.instance = mode;
    entry
}

pub fn section(entries: Vec<PluginEntry>) -> PluginsSection {
    PluginsSection {
        entries,
        ..PluginsSection::new()
    }
}

pub fn drain(rx: &mut broadcast::Receiver<StatusEvent>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Ok(event) = rx.try_recv() {
        out.push((event.id, event.status.name().to_string()));
    }
    out
}

pub fn run(manager: &Manager, id: &str, verb: &str) -> Result<String, ManagerError> {
    let value = manager.call_json(id, "run", &[json!([verb])])?;
    Ok(value["ok"]
        .as_str()
        .unwrap_or_else(|| panic!("{value}"))
        .to_string())
}

/// Waits (up to 20 s) for a status event of `id` that `wanted` accepts.
pub fn wait_for(
    rx: &mut broadcast::Receiver<StatusEvent>,
    id: &str,
    wanted: impl Fn(&Status) -> bool,
) -> StatusEvent {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(
            Instant::now() < deadline,
            "no matching status event of {id}"
        );
        match rx.try_recv() {
            Ok(event) if event.id == id && wanted(&event.status) => return event,
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}
