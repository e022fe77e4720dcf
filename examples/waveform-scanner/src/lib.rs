//! NovyWave's waveform scanner (seed 004): finds waveform files by extension.
//!
//! Settings (`[plugins.entries.config]`): `extensions = ["fst", "vcd"]`.
//!
//! | call | result |
//! | --- | --- |
//! | `run(["scan", PATH…])` | JSON `{"discovered": [PATH…]}`: the paths with a configured extension, each also logged as `discovered PATH` |
//! | `run(["extensions"])` | the extensions in force, as JSON |
//!
//! Today the host hands the plugin the file names it offers (from the entry's
//! `watch.directories`); with the `fs`, `watch` and `events` host APIs the plugin lists
//! the directories itself, subscribes to changes and publishes on `events.publish:discovery`.

use std::sync::Mutex;

use plinth_pdk::prelude::*;

static EXTENSIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());

const DEFAULT_EXTENSIONS: &[&str] = &["vcd", "fst", "ghw"];

struct Scanner;

impl Plugin for Scanner {
    fn on_load(settings: Settings) -> Result<(), String> {
        let extensions = match settings.get("extensions") {
            None => DEFAULT_EXTENSIONS.iter().map(|e| e.to_string()).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(|s| s.trim_start_matches('.').to_lowercase())
                        .ok_or_else(|| format!("invalid config key `extensions`: {v} is not a string"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(other) => {
                return Err(format!("invalid config key `extensions`: expected a list, got {other}"));
            }
        };
        log::info(format!("scanning for {}", extensions.join(", ")));
        *EXTENSIONS.lock().map_err(|e| e.to_string())? = extensions;
        Ok(())
    }
}

impl Command for Scanner {
    fn run(args: Vec<String>) -> Result<String, String> {
        let extensions = EXTENSIONS.lock().map_err(|e| e.to_string())?.clone();
        match args.split_first() {
            Some((verb, paths)) if verb == "scan" => {
                let discovered: Vec<&String> = paths
                    .iter()
                    .filter(|p| {
                        p.rsplit_once('.')
                            .is_some_and(|(_, ext)| extensions.contains(&ext.to_lowercase()))
                    })
                    .collect();
                for path in &discovered {
                    log::info(format!("discovered {path}"));
                }
                Ok(json!({ "discovered": discovered }).to_string())
            }
            Some((verb, [])) if verb == "extensions" => Ok(json!(extensions).to_string()),
            _ => Err(format!("usage: run([\"scan\", PATH...]) or run([\"extensions\"]); got {args:?}")),
        }
    }
}

plinth_pdk::export_command!(Scanner);
