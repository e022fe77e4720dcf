//! Runs the embedding on a `.novywave` file pointing at the built scanner.

use std::process::Command;

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
grants = ["log", "config"]
instance = "long-lived"
[plugins.entries.settings]
extensions = ["fst", "vcd"]
[plugins.entries.watch]
directories = ["waves"]
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_embed-novywave"))
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{stdout}"))
    };
    assert!(at("migrated in memory") < at("status novywave.waveform_scanner loading"));
    assert!(at("loading") < at("status novywave.waveform_scanner ready"));
    assert!(stdout.contains("log [novywave.waveform_scanner] scanning for fst, vcd"));
    let waves = waves.to_string_lossy();
    let discovery = lines[at("discovery ")];
    assert!(
        discovery.contains(&format!("{waves}/counter.vcd")),
        "{discovery}"
    );
    assert!(
        discovery.contains(&format!("{waves}/cpu.FST")),
        "{discovery}"
    );
    assert!(
        !discovery.contains("notes.txt") && !discovery.contains("dump.ghw"),
        "{discovery}"
    );
    assert!(stdout.contains("replay again: unchanged = true"));
    // The file itself was only read.
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("path = ")
    );
}
