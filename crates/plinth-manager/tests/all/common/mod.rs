//! Shared by the manager's integration tests: one host, plugin folders, entries, events.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use plinth_host::Host;
use plinth_host::log::LogRecord;
use plinth_manager::state::{InstanceMode, PluginEntry, PluginsSection};
use plinth_manager::{Answer, Manager, ManagerError, Status, StatusEvent};
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

/// The two builds of the reload guest and the manifest version each is given.
pub const RELOAD_VERSIONS: [(&str, &str); 2] = [
    ("1.0.0", test_programs::RELOAD_V1),
    ("2.0.0", test_programs::RELOAD_V2),
];

/// Answers of `run(["answer"])` counted per version; a mixed answer panics.
#[derive(Default)]
pub struct Tally {
    per_version: [AtomicU64; 2],
}

impl Tally {
    /// Checks that the build that computed the answer (all three of its fields) and the
    /// version the manager says served it are one version, and counts it.
    pub fn record(&self, answer: &Answer) {
        let build = answer.value["ok"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", answer.value));
        let index = match (build, answer.version.as_str()) {
            ("v1|alpha-v1|omega-v1", "1.0.0") => 0,
            ("v2|alpha-v2|omega-v2", "2.0.0") => 1,
            (build, version) => {
                panic!("a mixed answer: the guest said {build}, the manager said {version}")
            }
        };
        self.per_version[index].fetch_add(1, Ordering::Relaxed);
    }

    /// Answers so far, of 1.0.0 and of 2.0.0.
    pub fn per_version(&self) -> [u64; 2] {
        [0, 1].map(|i| self.per_version[i].load(Ordering::Relaxed))
    }

    /// Waits (up to 20 s) until the callers got two more answers from `version`.
    pub fn wait_for_calls_on(&self, version: &str) {
        let index = RELOAD_VERSIONS
            .iter()
            .position(|(v, _)| *v == version)
            .unwrap();
        let counter = &self.per_version[index];
        let wanted = counter.load(Ordering::Relaxed) + 2;
        let deadline = Instant::now() + Duration::from_secs(20);
        while counter.load(Ordering::Relaxed) < wanted {
            assert!(Instant::now() < deadline, "no calls answered by {version}");
            std::thread::yield_now();
        }
    }
}

/// Two threads calling `run(["answer"])` of `id` until `stop`; every call must succeed and
/// be whole. Each returns how many calls it made.
pub fn spawn_callers(
    manager: &Manager,
    id: &'static str,
    stop: &Arc<AtomicBool>,
    tally: &Arc<Tally>,
) -> Vec<std::thread::JoinHandle<u64>> {
    (0..2)
        .map(|_| {
            let (manager, stop, tally) = (manager.clone(), stop.clone(), tally.clone());
            std::thread::spawn(move || {
                let mut calls = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let answer = manager
                        .call(id, "run", &[json!(["answer"])])
                        .unwrap_or_else(|e| panic!("a call failed: {e}"));
                    tally.record(&answer);
                    calls += 1;
                }
                calls
            })
        })
        .collect()
}

/// Waits (up to 20 s) for `id` to be `Ready` with `version` serving, and returns the
/// events of `id` seen on the way.
pub fn wait_for_serving(
    rx: &mut broadcast::Receiver<StatusEvent>,
    id: &str,
    version: &str,
) -> Vec<StatusEvent> {
    let mut seen = Vec::new();
    loop {
        let event = wait_for(rx, id, |_| true);
        seen.push(event.clone());
        if event.status == Status::Ready && event.serving.as_deref() == Some(version) {
            return seen;
        }
    }
}

/// Installs `id` as `version` with `component` into `home`'s plugin directory the way
/// `plinth install DIR` does: packed, staged beside it, and renamed over the old folder.
pub fn install(home: &plinth_package::Home, id: &str, (version, component): (&str, &str)) {
    let author = tempfile::tempdir().unwrap();
    let dir = plugin_dir(author.path(), id, version, component);
    let mut options =
        plinth_package::InstallOptions::new(plinth_package::SignaturePolicy::AllowUnsigned);
    // Every version from one author's folder: updates of the same plugin (design 0034).
    options.source = Some(format!("/authors/{id}/{version}"));
    plinth_package::install_dir(home, &dir, &options).unwrap();
}

/// An entry enabled by id only: the manager finds its folder in the inventory.
pub fn entry_by_id(id: &str) -> PluginEntry {
    let mut entry = PluginEntry::new(id);
    entry.enabled = true;
    entry.grants = vec!["log".into(), "config".into()];
    entry
}
