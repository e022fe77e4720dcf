//! NovyWave's plugin lifecycle on Plinth (seed 004):
//!
//! 1. read the `[plugins]` table of a `.novywave` file (schema_version, migrations included);
//! 2. replay it into a [`Manager`]: enabled entries load, status events (`Loading`, `Ready`,
//!    `Error`) stream to a subscriber — the `plugin_status_relay`;
//! 3. for the waveform scanner, offer it the files of the entry's `watch.directories` and
//!    publish what it discovered — the `plugin_discovery_relay`;
//! 4. replay the same section again: nothing reloads (the no-op replay).
//!
//! Usage: `embed-novywave CONFIG.novywave [--watch SECONDS]`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use plinth_host::Host;
use plinth_host::log::LogRecord;
use plinth_manager::state::{PluginEntry, StateFile};
use plinth_manager::{Manager, Status};
use serde_json::{Value, json};

const SCANNER: &str = "novywave.waveform_scanner";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(config) = args.next() else {
        bail!("usage: embed-novywave CONFIG.novywave [--watch SECONDS]");
    };
    let watch_for = match (args.next().as_deref(), args.next()) {
        (Some("--watch"), Some(secs)) => Some(Duration::from_secs(secs.parse()?)),
        _ => None,
    };

    let state = StateFile::new(&config);
    let loaded = state.load().with_context(|| format!("reading {config}"))?;
    if let Some(from) = loaded.migrated_from {
        println!("config: [plugins] schema_version {from} migrated in memory");
    }

    // Plugin log records go to stdout, as NovyWave's per-plugin log view would show them.
    let host = Host::builder()
        .log_sink(Arc::new(|r: &LogRecord| {
            println!("log [{}] {}", r.plugin, r.message)
        }))
        .build()?;
    let manager = Manager::builder(host).base_dir(state.base_dir()).build();

    // plugin_status_relay: a subscriber thread printing every status change.
    let mut statuses = manager.subscribe();
    let relay = std::thread::spawn(move || {
        while let Ok(event) = statuses.blocking_recv() {
            let detail = match &event.status {
                Status::Error(d) => format!(" {}", d.message),
                _ => String::new(),
            };
            println!("status {} {}{detail}", event.id, event.status.name());
        }
    });

    let report = manager.apply(&loaded.section);
    println!("replay: loaded {:?}", report.loaded);

    if let Some(entry) = loaded.section.entry(SCANNER).filter(|e| e.enabled) {
        scan(&manager, entry, &state.base_dir())?;
    }

    let again = manager.apply(&loaded.section);
    println!("replay again: unchanged = {}", again.unchanged);

    if let Some(duration) = watch_for {
        let _watcher = manager.watch(Duration::from_millis(250))?;
        println!("watching plugin folders for {} s", duration.as_secs());
        std::thread::sleep(duration);
    }
    drop(manager);
    let _ = relay.join();
    Ok(())
}

/// Offers the scanner the files of its `watch.directories` and publishes its discoveries.
fn scan(manager: &Manager, entry: &PluginEntry, base: &Path) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for dir in entry.watch.iter().flat_map(|w| &w.directories) {
        let dir = base.join(dir);
        for item in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let path: PathBuf = item?.path();
            if path.is_file() {
                files.push(path.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    let mut args = vec!["scan".to_string()];
    args.extend(files);
    let answer = manager.call_json(SCANNER, "run", &[json!(args)])?;
    let Some(text) = answer["ok"].as_str() else {
        bail!("the scanner failed: {answer}");
    };
    let discovered: Value = serde_json::from_str(text)?;
    // plugin_discovery_relay.
    println!(
        "discovery {}",
        json!({"plugin": SCANNER, "discovered": discovered["discovered"]})
    );
    Ok(())
}
