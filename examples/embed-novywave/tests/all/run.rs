//! Runs the embedding on a `.novywave` file pointing at the built scanner: discoveries of
//! the files present at load, then of a file created while it watches.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Reads the child's stdout lines until one contains `needle` (or 60 s pass), keeping all.
fn read_until(lines: &mpsc::Receiver<String>, seen: &mut Vec<String>, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !seen.iter().any(|l| l.contains(needle)) {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("no `{needle}` in:\n{}", seen.join("\n")),
        }
    }
}

#[test]
fn replays_loads_the_scanner_and_publishes_discoveries() {
    let dir = tempfile::tempdir().unwrap();
    let waves = dir.path().join("waves");
    std::fs::create_dir_all(&waves).unwrap();
    for file in ["counter.vcd", "cpu.FST", "notes.txt", "dump.ghw"] {
        std::fs::write(waves.join(file), b"").unwrap();
    }
    let scanner_dir = dir.path().join("plugins/waveform_scanner");
    std::fs::create_dir_all(&scanner_dir).unwrap();
    std::fs::copy(
        test_programs::example_dir("waveform-scanner").join("plugin.toml"),
        scanner_dir.join("plugin.toml"),
    )
    .unwrap();
    std::fs::copy(
        test_programs::WAVEFORM_SCANNER,
        scanner_dir.join("waveform_scanner.wasm"),
    )
    .unwrap();
    let config = dir.path().join(".novywave");
    // A version-0 [plugins] table: migrated in memory on the way.
    std::fs::write(
        &config,
        r#"[workspace]
dock = "right"

[plugins]

[[plugins.entries]]
id = "novywave.waveform_scanner"
path = "plugins/waveform_scanner/waveform_scanner.wasm"
grants = ["log", "config", "fs.read:waves", "watch:waves", "events.publish:discovery"]
instance = "long-lived"
[plugins.entries.settings]
extensions = ["fst", "vcd"]
[plugins.entries.watch]
directories = ["waves"]
"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_embed-novywave"))
        .arg(&config)
        .args(["--watch", "60"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    read_until(&lines, &mut seen, "watching for");

    // Created after load: found through the watch subscription.
    std::fs::write(waves.join("late.vcd"), b"$date today $end").unwrap();
    std::fs::write(waves.join("late.txt"), b"not a waveform").unwrap();
    read_until(&lines, &mut seen, r#""path":"late.vcd""#);
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();

    let text = seen.join("\n");
    let at = |needle: &str| {
        seen.iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{text}"))
    };
    assert!(at("migrated in memory") < at("status novywave.waveform_scanner loading"));
    assert!(at("loading") < at("status novywave.waveform_scanner ready"));
    assert!(text.contains("log [novywave.waveform_scanner] scanning waves for fst, vcd"));
    let discovered: Vec<serde_json::Value> = seen
        .iter()
        .filter_map(|l| l.strip_prefix("discovery "))
        .map(|json| serde_json::from_str(json).unwrap())
        .collect();
    for path in ["counter.vcd", "cpu.FST", "late.vcd"] {
        let wanted = serde_json::json!({
            "plugin": "novywave.waveform_scanner", "dir": "waves", "path": path
        });
        assert!(discovered.contains(&wanted), "{path}: {discovered:?}");
    }
    // The files present at load come before the replay; the late one after watching began.
    assert!(at(r#""path":"counter.vcd""#) < at("replay again: unchanged = true"));
    assert!(at("watching for") < at(r#""path":"late.vcd""#));
    assert!(
        !text.contains("notes.txt") && !text.contains("dump.ghw") && !text.contains("late.txt"),
        "{text}"
    );
    // The file itself was only read.
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("path = ")
    );
}
