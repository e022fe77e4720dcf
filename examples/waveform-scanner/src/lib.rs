//! NovyWave's waveform scanner (seed 004): finds waveform files by extension in the
//! directories it is granted, and publishes each one on the `discovery` channel.
//!
//! Settings (`[plugins.entries.config]`): `extensions = ["fst", "vcd"]` (default `vcd`,
//! `fst`, `ghw`), `dirs = ["waves"]` (the directory names the host maps; default `waves`).
//!
//! - `on-load`: lists every directory through `fs.read` (`list-dir`) and publishes one
//!   `{"dir": DIR, "path": PATH}` on `events.publish:discovery` per waveform file;
//! - `handle-event` (`fs-change`): publishes the changed paths that are waveform files
//!   still present (`read-metadata`), so files created after load are discovered too. The
//!   host watches the directories for it: the entry's `[plugins.entries.watch]` seeds,
//!   under its `watch:` grants (the scanner has no watcher code of its own).
//!
//! | call | result |
//! | --- | --- |
//! | `run(["scan"])` | JSON `{"discovered": [{"dir", "path"}…]}`: a fresh listing, also published |
//! | `run(["extensions"])` | the extensions in force, as JSON |

use std::sync::Mutex;

use plinth_pdk::fs::EntryKind;
use plinth_pdk::prelude::*;

/// What `on-load` read from the settings.
struct Config {
    extensions: Vec<String>,
    dirs: Vec<String>,
}

static CONFIG: Mutex<Config> = Mutex::new(Config {
    extensions: Vec::new(),
    dirs: Vec::new(),
});

const DEFAULT_EXTENSIONS: &[&str] = &["vcd", "fst", "ghw"];
const DEFAULT_DIRS: &[&str] = &["waves"];
const CHANNEL: &str = "discovery";

struct Scanner;

/// A list of strings from the settings, or `default` when the key is unset.
fn strings(settings: &Settings, key: &str, default: &[&str]) -> Result<Vec<String>, String> {
    match settings.get(key) {
        None => Ok(default.iter().map(|e| e.to_string()).collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("invalid config key `{key}`: {v} is not a string"))
            })
            .collect(),
        Some(other) => Err(format!(
            "invalid config key `{key}`: expected a list, got {other}"
        )),
    }
}

impl Plugin for Scanner {
    fn on_load(settings: Settings) -> Result<(), String> {
        let extensions: Vec<String> = strings(&settings, "extensions", DEFAULT_EXTENSIONS)?
            .iter()
            .map(|e| e.trim_start_matches('.').to_lowercase())
            .collect();
        let dirs = strings(&settings, "dirs", DEFAULT_DIRS)?;
        log::info(format!(
            "scanning {} for {}",
            dirs.join(", "),
            extensions.join(", ")
        ));
        {
            let mut config = CONFIG.lock().map_err(|e| e.to_string())?;
            config.extensions = extensions;
            config.dirs = dirs.clone();
        }
        scan()?;
        Ok(())
    }

    fn handle_event(event: Event) -> Result<(), String> {
        if event.kind != "fs-change" {
            return Ok(());
        }
        let change: Value = serde_json::from_str(&event.payload).map_err(|e| e.to_string())?;
        let dir = change["dir"].as_str().unwrap_or_default();
        for path in change["paths"].as_array().into_iter().flatten() {
            let Some(path) = path.as_str() else { continue };
            // A removed or renamed-away file has no metadata: nothing to discover.
            let is_file = fs::read_metadata(dir, path).is_ok_and(|m| m.kind == EntryKind::File);
            if is_file && is_waveform(path)? {
                publish(dir, path)?;
            }
        }
        Ok(())
    }
}

fn is_waveform(path: &str) -> Result<bool, String> {
    let config = CONFIG.lock().map_err(|e| e.to_string())?;
    Ok(path
        .rsplit_once('.')
        .is_some_and(|(_, ext)| config.extensions.contains(&ext.to_lowercase())))
}

fn publish(dir: &str, path: &str) -> Result<Value, String> {
    let found = json!({ "dir": dir, "path": path });
    events::publish_json(CHANNEL, &found).map_err(|e| e.to_string())?;
    log::info(format!("discovered {dir}/{path}"));
    Ok(found)
}

/// Lists every directory and publishes the waveform files in it, sorted by name.
fn scan() -> Result<Vec<Value>, String> {
    let dirs = CONFIG.lock().map_err(|e| e.to_string())?.dirs.clone();
    let mut discovered = Vec::new();
    for dir in &dirs {
        for entry in fs::list_dir(dir, "").map_err(|e| e.to_string())? {
            if entry.kind == EntryKind::File && is_waveform(&entry.name)? {
                discovered.push(publish(dir, &entry.name)?);
            }
        }
    }
    Ok(discovered)
}

impl Command for Scanner {
    fn run(args: Vec<String>) -> Result<String, String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["scan"] => Ok(json!({ "discovered": scan()? }).to_string()),
            ["extensions"] => {
                let config = CONFIG.lock().map_err(|e| e.to_string())?;
                Ok(json!(config.extensions).to_string())
            }
            _ => Err(format!(
                "usage: run([\"scan\"]) or run([\"extensions\"]); got {args:?}"
            )),
        }
    }
}

plinth_pdk::export_command!(Scanner);
