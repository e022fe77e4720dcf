//! NovyWave's plugin lifecycle on Plinth (seed 004):
//!
//! 1. read the `[plugins]` table of a `.novywave` file (schema_version, migrations included);
//! 2. subscribe to the `discovery` channel — the `plugin_discovery_relay` — whose payloads
//!    the host checks against NovyWave's JSON Schema before forwarding them;
//! 3. replay the section into a [`Manager`] that delivers events itself: enabled entries
//!    load, status events (`Loading`, `Ready`, `Error`) stream to a subscriber — the
//!    `plugin_status_relay`. The manager maps the scanner's `watch.directories` seeds (which
//!    its `fs.read:` and `watch:` grants name) and watches them for it; the scanner lists its
//!    directory through `fs` on load and publishes each waveform file;
//! 4. replay the same section again: nothing reloads (the no-op replay);
//! 5. with `--watch SECONDS`: also watch the plugin folders (hot reload), and print what the
//!    scanner publishes as files are created (the manager delivers its `fs-change` events).
//!
//! Usage: `embed-novywave CONFIG.novywave [--watch SECONDS]`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use plinth_host::log::LogRecord;
use plinth_host::{EventSubscription, Host};
use plinth_manager::{Manager, Status};
use serde_json::{Value, json};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(config) = args.next() else {
        bail!("usage: embed-novywave CONFIG.novywave [--watch SECONDS]");
    };
    let watch_for = match (args.next().as_deref(), args.next()) {
        (Some("--watch"), Some(secs)) => Some(Duration::from_secs(secs.parse()?)),
        _ => None,
    };

    let state = plinth_manager::state::StateFile::new(&config);
    let loaded = state.load().with_context(|| format!("reading {config}"))?;
    if let Some(from) = loaded.migrated_from {
        println!("config: [plugins] schema_version {from} migrated in memory");
    }

    // Plugin log records go to stdout, as NovyWave's per-plugin log view would show them.
    let host = Host::builder()
        .log_sink(Arc::new(|r: &LogRecord| {
            println!("log [{}] {}", r.plugin, r.message)
        }))
        // What NovyWave reads from the channel: the host refuses anything else before it
        // is forwarded (the publishing call fails with `rejected-schema`).
        .event_schema(
            "discovery",
            json!({
                "type": "object",
                "required": ["dir", "path"],
                "properties": {"dir": {"type": "string"}, "path": {"type": "string"}},
                "additionalProperties": false
            }),
        )
        .build()?;
    let mut discoveries = host.subscribe_events(vec!["discovery".into()]);
    let manager = Manager::builder(host)
        .base_dir(state.base_dir())
        .deliver_events(true)
        .build();

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
    // The scanner published during its on-load, inside apply.
    while let Some(event) = discoveries.try_recv() {
        print_discovery(&event.plugin, &event.payload);
    }

    let again = manager.apply(&loaded.section);
    println!("replay again: unchanged = {}", again.unchanged);

    if let Some(duration) = watch_for {
        let _watcher = manager.watch(Duration::from_millis(250))?;
        println!("watching for {} s", duration.as_secs());
        relay_discoveries(&mut discoveries, Instant::now() + duration);
    }
    drop(manager);
    let _ = relay.join();
    Ok(())
}

/// plugin_discovery_relay: prints what the plugins publish until `deadline`.
fn relay_discoveries(discoveries: &mut EventSubscription, deadline: Instant) {
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if let Some(event) = discoveries.recv_timeout(left) {
            print_discovery(&event.plugin, &event.payload);
        }
    }
}

fn print_discovery(plugin: &str, payload: &str) {
    let found: Value = serde_json::from_str(payload).unwrap_or(Value::String(payload.into()));
    println!(
        "discovery {}",
        json!({"plugin": plugin, "dir": found["dir"], "path": found["path"]})
    );
}
