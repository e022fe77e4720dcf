//! Loading: what is refused before anything runs, the compile cache, manifests.

use crate::common;

use std::path::Path;

use plinth_host::{CacheOutcome, Host, HostError, LoadOptions};
use plinth_manifest::diagnostic::{Code, ToDiagnostic};
use plinth_manifest::digest::Digest;
use plinth_manifest::grant::Grant;
use serde_json::json;

fn load_error(bytes: &[u8]) -> HostError {
    common::host()
        .load_bytes("fixture", bytes, LoadOptions::default())
        .expect_err("must be refused")
}

#[test]
fn a_core_module_is_not_a_component() {
    let error = load_error(&common::bytes(test_programs::CORE_MODULE));
    let diagnostic = error.to_diagnostic();
    assert_eq!(diagnostic.code, Code::NotAComponent);
    assert!(diagnostic.hint.unwrap().contains("wasm32-wasip2"));
    assert_eq!(
        load_error(b"not wasm at all").to_diagnostic().code,
        Code::NotAComponent
    );
}

#[test]
fn an_unknown_import_is_named() {
    let error = load_error(&common::bytes(test_programs::UNSUPPORTED_IMPORT));
    let diagnostic = error.to_diagnostic();
    assert_eq!(diagnostic.code, Code::UnsupportedHostApi);
    assert!(
        diagnostic.message.contains("acme:secret/vault@1.0.0"),
        "{}",
        diagnostic.message
    );
}

#[test]
fn a_plain_wasi_command_runs() {
    let plugin = common::host()
        .load_bytes(
            "command",
            &common::bytes(test_programs::COMMAND),
            LoadOptions::default(),
        )
        .unwrap();
    assert_eq!(
        plugin.call_json("wasi:cli/run#run", &[]).unwrap(),
        json!({"ok": null})
    );
    let printed: Vec<String> = common::records_of("command")
        .into_iter()
        .map(|r| r.message)
        .collect();
    assert!(
        printed.contains(&"hello from command".to_string()),
        "{printed:?}"
    );
}

#[test]
fn the_second_load_does_not_compile() {
    let cache = tempfile::tempdir().unwrap();
    let bytes = common::bytes(test_programs::TINY);
    let first_host = Host::builder().cache_dir(cache.path()).build().unwrap();
    let first = first_host
        .load_bytes("tiny", &bytes, LoadOptions::default())
        .unwrap();
    assert_eq!(first.cache_outcome(), CacheOutcome::Compiled);
    let again = first_host
        .load_bytes("tiny", &bytes, LoadOptions::default())
        .unwrap();
    assert_eq!(again.cache_outcome(), CacheOutcome::Memory);
    // A new host (as a new process would) finds it on disk.
    let second_host = Host::builder().cache_dir(cache.path()).build().unwrap();
    let from_disk = second_host
        .load_bytes("tiny", &bytes, LoadOptions::default())
        .unwrap();
    assert_eq!(from_disk.cache_outcome(), CacheOutcome::Disk);
    assert_eq!(from_disk.call_json("run", &[]).unwrap(), json!(42));
    // A corrupt entry is recompiled, not trusted. (Replaced by rename: a file mapped by
    // a live component must never be modified in place.)
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        let path = entry.unwrap().path();
        let garbage = cache.path().join("garbage.tmp");
        std::fs::write(&garbage, b"garbage").unwrap();
        std::fs::rename(&garbage, &path).unwrap();
    }
    let third_host = Host::builder().cache_dir(cache.path()).build().unwrap();
    let rebuilt = third_host
        .load_bytes("tiny", &bytes, LoadOptions::default())
        .unwrap();
    assert_eq!(rebuilt.cache_outcome(), CacheOutcome::Compiled);
    assert_eq!(rebuilt.call_json("run", &[]).unwrap(), json!(42));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A cache directory the host creates is private to the user.
        let nested = cache.path().join("nested");
        let host = Host::builder().cache_dir(&nested).build().unwrap();
        host.load_bytes("tiny", &bytes, LoadOptions::default())
            .unwrap();
        let mode = std::fs::metadata(&nested).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}

/// A plugin directory holding the hello example's component and `manifest`.
fn plugin_dir(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(test_programs::HELLO, dir.path().join("hello.wasm")).unwrap();
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    dir
}

const HELLO: &str = r#"
[plugin]
id = "example.hello"
version = "0.1.0"

[runtime]
kind = "wasm-component"
component = "hello.wasm"
api = "0.1.0"
world = "plugin"

[capabilities]
log = true
"#;

fn load_dir(dir: &Path, grants: &[Grant]) -> Result<plinth_host::Plugin, HostError> {
    common::host().load_with(
        dir,
        LoadOptions::default().with_grants(grants.iter().cloned()),
    )
}

#[test]
fn a_plugin_directory_loads_and_runs() {
    let dir = plugin_dir(HELLO);
    let plugin = load_dir(dir.path(), &[Grant::Log, Grant::Config]).unwrap();
    assert_eq!(plugin.id(), "example.hello");
    // `config` was granted by the host but not requested: not effective.
    assert!(plugin.grants().contains(&Grant::Log));
    assert!(!plugin.grants().contains(&Grant::Config));
    let said = plugin.call_json("run", &[json!(["Ada"])]).unwrap();
    assert_eq!(said, json!({"ok": "Hello, Ada!"}));
}

#[test]
fn digest_pin_is_checked() {
    let good = Digest::of(&common::bytes(test_programs::HELLO));
    let pinned = |digest: &str| {
        HELLO.replace(
            "world = \"plugin\"",
            &format!("world = \"plugin\"\ndigest = \"{digest}\""),
        )
    };
    let dir = plugin_dir(&pinned(&good.to_string()));
    load_dir(dir.path(), &[]).expect("the right digest loads");
    let wrong = Digest::of(b"something else");
    let dir = plugin_dir(&pinned(&wrong.to_string()));
    let error = load_dir(dir.path(), &[]).unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::DigestMismatch);
}

#[test]
fn legacy_runtime_is_refused() {
    let dir = plugin_dir(&HELLO.replace("wasm-component", "wasm-module"));
    let error = load_dir(dir.path(), &[]).unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::LegacyRuntime);
}

#[test]
fn declared_world_and_api_must_match_the_component() {
    let dir = plugin_dir(&HELLO.replace("world = \"plugin\"", "world = \"tool\""));
    let error = load_dir(dir.path(), &[]).unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::RuntimeMismatch, "{error}");
    let dir = plugin_dir(&HELLO.replace("api = \"0.1.0\"", "api = \"0.9.0\""));
    let error = load_dir(dir.path(), &[]).unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::RuntimeMismatch, "{error}");
}

#[test]
fn a_missing_component_is_a_missing_package() {
    let dir = plugin_dir(HELLO);
    std::fs::remove_file(dir.path().join("hello.wasm")).unwrap();
    let error = load_dir(dir.path(), &[]).unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::MissingPackage);
}

#[test]
fn manifest_limits_only_lower_the_hosts() {
    let dir = plugin_dir(&format!(
        "{HELLO}\n[limits]\nfuel_units = 1000\nwall_timeout_ms = 99999999\n"
    ));
    let plugin = load_dir(dir.path(), &[]).unwrap();
    assert_eq!(plugin.limits().fuel_units, 1000);
    assert_eq!(
        plugin.limits().wall_timeout_ms,
        common::host().limits().wall_timeout_ms
    );
    let error = plugin.call_json("run", &[json!([])]).unwrap_err();
    assert_eq!(error.code(), Code::FuelExhausted);
}

#[test]
fn ungranted_log_is_dropped_and_reported() {
    let dir = plugin_dir(&HELLO.replace("example.hello", "example.quiet"));
    let plugin = load_dir(dir.path(), &[]).unwrap();
    plugin.call_json("run", &[json!(["x"])]).unwrap();
    let records = common::records_of("example.quiet");
    assert!(
        records
            .iter()
            .any(|r| r.message.contains("missing-grant") && r.message.contains("--grant log")),
        "{records:?}"
    );
}
