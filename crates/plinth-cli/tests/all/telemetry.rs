//! `[telemetry] otlp_endpoint` in the host config turns OpenTelemetry export on for a
//! `plinth` command; `OTEL_EXPORTER_OTLP_ENDPOINT` does too when the config names none.
//! Each process flushes what it recorded when it exits.

use std::path::Path;

use crate::common::{assert_ok, plinth_command};
use crate::otlp::Receiver;

/// A plugin folder whose component answers `run ["version"]` and traps on `run ["panic"]`.
fn plugin_dir(root: &Path) -> std::path::PathBuf {
    let dir = root.join("otel");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        "[plugin]\nid = \"test.otel\"\nversion = \"2.0.1\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"p.wasm\"\n",
    )
    .unwrap();
    std::fs::copy(test_programs::RELOAD_V1, dir.join("p.wasm")).unwrap();
    dir
}

fn call(home: &Path, dir: &Path, verb: &str, env: Option<&str>) -> crate::common::Run {
    let mut command = plinth_command();
    command.env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    if let Some(endpoint) = env {
        command.env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    }
    let output = command
        .arg("--home")
        .arg(home)
        .args([
            "call",
            dir.to_str().unwrap(),
            "run",
            &format!("[\"{verb}\"]"),
        ])
        .output()
        .unwrap();
    crate::common::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into(),
        stderr: String::from_utf8_lossy(&output.stderr).into(),
    }
}

#[test]
fn the_host_config_sends_a_calls_spans_and_metrics_to_the_collector() {
    let receiver = Receiver::start();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[telemetry]\notlp_endpoint = \"{}\"\nservice_name = \"plinth-cli-test\"\n",
            receiver.endpoint()
        ),
    )
    .unwrap();
    let dir = plugin_dir(tmp.path());

    let run = call(&home, &dir, "version", None);
    assert_ok(&run, "plinth call with telemetry");
    // The process has exited: what it recorded was flushed on the way out.
    let calls = receiver.total(
        "plinth.plugin.calls",
        &[
            ("plugin", "test.otel"),
            ("outcome", "ok"),
            ("version", "2.0.1"),
        ],
    );
    assert_eq!(calls, 1.0, "{}", run.stderr);
    assert!(receiver.total("plinth.plugin.fuel", &[("plugin", "test.otel")]) > 0.0);
    let spans = receiver.spans();
    let load = spans
        .iter()
        .find(|s| s.name == "plugin.load")
        .unwrap_or_else(|| panic!("no plugin.load span: {spans:?}"));
    assert_eq!(load.attributes["plugin"], "test.otel");
    assert_eq!(load.service, "plinth-cli-test");

    let run = call(&home, &dir, "panic", None);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        receiver.total(
            "plinth.plugin.errors",
            &[("plugin", "test.otel"), ("outcome", "trap")]
        ),
        1.0
    );
}

#[test]
fn the_standard_environment_variable_turns_export_on_without_a_config() {
    let receiver = Receiver::start();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let dir = plugin_dir(tmp.path());
    let run = call(&home, &dir, "version", Some(&receiver.endpoint()));
    assert_ok(&run, "plinth call with OTEL_EXPORTER_OTLP_ENDPOINT");
    assert_eq!(
        receiver.total("plinth.plugin.calls", &[("plugin", "test.otel")]),
        1.0
    );
    // The config file can refuse it.
    std::fs::write(home.join("config.toml"), "[telemetry]\nfrom_env = false\n").unwrap();
    let quiet = Receiver::start();
    let run = call(&home, &dir, "version", Some(&quiet.endpoint()));
    assert_ok(&run, "plinth call with from_env = false");
    assert_eq!(quiet.metric_exports(), 0);
    assert!(quiet.spans().is_empty());
}
