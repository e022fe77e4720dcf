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

/// A valid component whose memory starts past the host's memory limit is refused for its
/// memory, with the limit to raise, not called an invalid component.
#[test]
fn a_memory_that_starts_too_large_is_a_memory_limit() {
    let error = load_error(&common::bytes(test_programs::BIG_MEMORY));
    let diagnostic = error.to_diagnostic();
    assert_eq!(diagnostic.code, Code::MemoryLimit, "{diagnostic:?}");
    assert!(
        diagnostic
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("mem_bytes"),
        "{diagnostic:?}"
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
fn a_function_the_host_does_not_serve_is_named() {
    // A plugin built against a later `plinth:host` that added `log.shout`.
    let error = load_error(&common::bytes(test_programs::UNSERVED_FUNCTION));
    let diagnostic = error.to_diagnostic();
    assert_eq!(diagnostic.code, Code::UnsupportedHostApi);
    assert!(
        diagnostic.message.contains("plinth:host/log@0.1.0")
            && diagnostic.message.contains("shout"),
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

/// The `fidelity` guest, loaded bare under `id` with `options`.
fn fidelity(id: &str, options: LoadOptions) -> plinth_host::Plugin {
    common::host()
        .load_bytes(id, &common::bytes(test_programs::FIDELITY), options)
        .unwrap()
}

const PROBE: &str = "test:fidelity/probe";

#[test]
fn an_explicit_exit_ends_the_call_with_its_status() {
    let plugin = fidelity("fidelity.exit", LoadOptions::default());
    let export = |f: &str| format!("{PROBE}#{f}");
    // Status 0: success; `null` without result, `ok` for a result without payload.
    assert_eq!(
        plugin.call_json(&export("exit-with"), &[json!(0)]).unwrap(),
        json!(null)
    );
    assert_eq!(
        plugin.call_json(&export("exit-run"), &[json!(0)]).unwrap(),
        json!({"ok": null})
    );
    let () = plugin.call(&export("exit-with"), (0u8,)).unwrap();
    let (run,): (Result<(), ()>,) = plugin.call(&export("exit-run"), (0u8,)).unwrap();
    assert_eq!(run, Ok(()));
    // Status 0 where a value is due, and any other status: `exit-status`, not a trap.
    let error = plugin
        .call_json(&export("exit-before-value"), &[json!(0)])
        .unwrap_err();
    assert_eq!(
        (error.code(), error.exit_status()),
        (Code::ExitStatus, Some(0))
    );
    let error = plugin.call::<(u8,), (u32,)>(&export("exit-before-value"), (0,));
    assert_eq!(error.unwrap_err().exit_status(), Some(0));
    for status in [1u8, 7] {
        let error = plugin
            .call_json(&export("exit-with"), &[json!(status)])
            .unwrap_err();
        // Rust's std exits with `exit(err)` for every non-zero status: status 1.
        assert_eq!(error.code(), Code::ExitStatus, "{error}");
        assert_eq!(error.exit_status(), Some(1), "{error}");
        assert!(!error.is_guest_failure());
        assert!(
            error.to_string().contains("exited with status 1"),
            "{error}"
        );
        assert!(error.to_string().contains("leaving with"), "{error}");
        let typed = plugin.call::<(u8,), ()>(&export("exit-with"), (status,));
        assert_eq!(typed.unwrap_err().exit_status(), Some(1));
    }
    // A command's `main` calling `exit`.
    let cmd = common::host()
        .load_bytes(
            "fidelity.cmd",
            &common::bytes(test_programs::FIDELITY_CMD),
            LoadOptions::default().with_args(["exit", "0"]),
        )
        .unwrap();
    assert_eq!(
        cmd.call_json("wasi:cli/run#run", &[]).unwrap(),
        json!({"ok": null})
    );
}

#[test]
fn a_live_instance_that_exited_is_replaced() {
    let plugin = fidelity("fidelity.live", LoadOptions::default());
    let count = format!("{PROBE}#count");
    let exit_with = format!("{PROBE}#exit-with");
    let mut live = plugin.instantiate().unwrap();
    assert_eq!(live.call_json(&count, &[]).unwrap(), json!(1));
    assert_eq!(live.call_json(&count, &[]).unwrap(), json!(2));
    // A successful exit: the call succeeds, the instance is gone.
    assert_eq!(
        live.call_json(&exit_with, &[json!(0)]).unwrap(),
        json!(null)
    );
    assert!(!live.is_live());
    assert_eq!(live.call_json(&count, &[]).unwrap(), json!(1));
    assert_eq!(live.instantiations(), 2);
    // A failed exit, typed.
    let error = live.call::<(u8,), ()>(&exit_with, (3,)).unwrap_err();
    assert_eq!(error.exit_status(), Some(1));
    let (n,): (u32,) = live.call(&count, ()).unwrap();
    assert_eq!((n, live.instantiations()), (1, 3));
}

#[test]
fn a_world_level_resource_type_import_loads() {
    let bytes = common::bytes(test_programs::WORLD_RESOURCE_TYPE);
    let host = common::host();
    let plugin = host
        .load_bytes("world-resource-type", &bytes, LoadOptions::default())
        .unwrap();
    assert_eq!(plugin.call_json("answer", &[]).unwrap(), json!(42));
    let inspection = host.inspect(&bytes).unwrap();
    assert!(
        inspection.imports.iter().all(|import| import.provided),
        "{:?}",
        inspection.imports
    );
    assert!(
        inspection
            .imports
            .iter()
            .any(|import| import.name == "output-stream")
    );
}

#[test]
fn argv_is_the_program_name_then_the_given_arguments() {
    let args = format!("{PROBE}#args");
    let plugin = fidelity("fidelity.args", LoadOptions::default());
    assert_eq!(
        plugin.call_json(&args, &[]).unwrap(),
        json!(["fidelity.args"])
    );
    let plugin = fidelity(
        "fidelity.args2",
        LoadOptions::default().with_args(["--verbose", "two words"]),
    );
    assert_eq!(
        plugin.call_json(&args, &[]).unwrap(),
        json!(["fidelity.args2", "--verbose", "two words"])
    );
    // A `.wasm` loaded by path: its file name.
    let plugin = common::host().load(test_programs::FIDELITY).unwrap();
    assert_eq!(
        plugin.call_json(&args, &[]).unwrap(),
        json!(["fidelity.wasm"])
    );
    let plugin = common::host()
        .load_with(
            test_programs::FIDELITY,
            LoadOptions::default().with_program("tool").with_args(["x"]),
        )
        .unwrap();
    assert_eq!(plugin.call_json(&args, &[]).unwrap(), json!(["tool", "x"]));
}

/// Hostile: compile-cache entries are mapped as executable code, so an entry someone else
/// could have planted is recompiled, never deserialized: one in a directory writable by
/// others, and one that is a symlink (to a genuine entry elsewhere). On main both were
/// loaded from disk (`CacheOutcome::Disk`).
#[cfg(unix)]
#[test]
fn untrusted_cache_entries_are_recompiled() {
    use std::os::unix::fs::PermissionsExt;
    let cache = tempfile::tempdir().unwrap();
    let bytes = common::bytes(test_programs::TINY);
    let load = |dir: &std::path::Path| {
        let host = Host::builder().cache_dir(dir).build().unwrap();
        host.load_bytes("tiny", &bytes, LoadOptions::default())
            .unwrap()
            .cache_outcome()
    };
    assert_eq!(load(cache.path()), CacheOutcome::Compiled);
    assert_eq!(load(cache.path()), CacheOutcome::Disk);

    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(
        load(cache.path()),
        CacheOutcome::Compiled,
        "world-writable dir"
    );
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(load(cache.path()), CacheOutcome::Disk);

    let elsewhere = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        let path = entry.unwrap().path();
        let moved = elsewhere.path().join(path.file_name().unwrap());
        std::fs::rename(&path, &moved).unwrap();
        std::os::unix::fs::symlink(&moved, &path).unwrap();
    }
    assert_eq!(
        load(cache.path()),
        CacheOutcome::Compiled,
        "symlinked entry"
    );
}

/// Waits until `file` was last changed more than 2 s ago: the digest index keeps only
/// files that have settled (docs/design/0071). A wait for the clock, bounded, not a guess.
#[cfg(unix)]
fn settle(file: &Path) {
    use std::os::unix::fs::MetadataExt;
    let ctime = std::fs::metadata(file).unwrap().ctime();
    let until = std::time::UNIX_EPOCH + std::time::Duration::from_secs(ctime as u64 + 3);
    while let Ok(left) = until.duration_since(std::time::SystemTime::now()) {
        std::thread::sleep(left);
    }
}

#[cfg(unix)]
#[test]
fn a_cached_plugin_loads_without_hashing_until_its_file_changes() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tiny.wasm");
    let tiny = common::bytes(test_programs::TINY);
    std::fs::write(&file, &tiny).unwrap();
    settle(&file);
    let host = || Host::builder().cache_dir(cache.path()).build().unwrap();

    let first = host().load(&file).unwrap();
    assert!(first.hashed());
    assert_eq!(first.cache_outcome(), CacheOutcome::Compiled);
    // A new host, as a new process: the index and the compile cache answer, the file is
    // not read.
    let second = host().load(&file).unwrap();
    assert!(!second.hashed());
    assert_eq!(second.cache_outcome(), CacheOutcome::Disk);
    assert_eq!(second.digest(), &Digest::of(&tiny));
    assert_eq!(second.call_json("run", &[]).unwrap(), json!(42));

    // Other bytes written in place, their modification time set back to the old one: the
    // change time moved, so the file is hashed again and the new bytes run.
    let before = std::fs::metadata(&file).unwrap().modified().unwrap();
    let hello = common::bytes(test_programs::HELLO);
    std::fs::write(&file, &hello).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(before)
        .unwrap();
    let changed = host().load(&file).unwrap();
    assert!(changed.hashed());
    assert_eq!(changed.digest(), &Digest::of(&hello));
    assert_eq!(
        changed.call_json("run", &[json!(["Ada"])]).unwrap(),
        json!({"ok": "Hello, Ada!"})
    );
}

#[cfg(unix)]
#[test]
fn a_pin_is_checked_against_a_digest_the_index_knows() {
    let cache = tempfile::tempdir().unwrap();
    let good = Digest::of(&common::bytes(test_programs::HELLO));
    let dir = plugin_dir(&HELLO.replace(
        "world = \"plugin\"",
        &format!("world = \"plugin\"\ndigest = \"{good}\""),
    ));
    let component = dir.path().join("hello.wasm");
    settle(&component);
    let host = || Host::builder().cache_dir(cache.path()).build().unwrap();
    assert!(host().load(dir.path()).unwrap().hashed());
    assert!(!host().load(dir.path()).unwrap().hashed());
    // The component swapped for another: hashed again and refused by the pin.
    let other = dir.path().join("other.wasm");
    std::fs::write(&other, common::bytes(test_programs::TINY)).unwrap();
    std::fs::rename(&other, &component).unwrap();
    let error = host().load(dir.path()).unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::DigestMismatch);
}
