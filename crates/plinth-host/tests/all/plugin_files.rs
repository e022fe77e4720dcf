//! Hostile plugin folders (docs/design/0032): a component or settings schema that is a FIFO
//! or a device, or is over its size cap, is refused at once with a coded diagnostic.

use crate::common;

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use plinth_host::{HostError, LoadOptions};
use plinth_manifest::diagnostic::{Code, ToDiagnostic};

fn manifest(root: &Path, schema: bool) {
    let mut text = String::from(
        "[plugin]\nid = \"files.test\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n",
    );
    if schema {
        text.push_str("\n[settings]\nschema = \"settings.schema.json\"\n");
    }
    std::fs::write(root.join("plugin.toml"), text).unwrap();
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success());
}

/// Loads `root` on another thread and fails the test if the load does not return in time
/// (a blocked read is the failure this module guards against).
fn load_in_time(root: &Path) -> Result<(), HostError> {
    let (done, result) = mpsc::channel();
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        let loaded = common::host().load_with(&root, LoadOptions::default());
        let _ = done.send(loaded.map(|_| ()));
    });
    result
        .recv_timeout(Duration::from_secs(10))
        .expect("loading the plugin blocked")
}

/// Hostile: `plugin.wasm` is a FIFO nobody writes to. On main `std::fs::read` opened it and
/// blocked forever (`plinth check` hung); now it is `not-a-regular-file` at once.
#[test]
fn a_fifo_component_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    manifest(dir.path(), false);
    mkfifo(&dir.path().join("plugin.wasm"));
    let err = load_in_time(dir.path()).unwrap_err();
    let diagnostic = err.to_diagnostic();
    assert_eq!(diagnostic.code, Code::NotARegularFile, "{diagnostic:?}");
    assert!(diagnostic.message.contains("fifo"), "{diagnostic:?}");
}

/// Hostile: `plugin.wasm` is a symlink to `/dev/zero`. On main the host read it until
/// memory ran out; now it is refused as a character device.
#[test]
fn a_device_component_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    manifest(dir.path(), false);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("plugin.wasm")).unwrap();
    let err = load_in_time(dir.path()).unwrap_err();
    assert_eq!(err.to_diagnostic().code, Code::NotARegularFile, "{err}");
}

/// Hostile: the settings schema is a FIFO, then a 2 MiB file. On main the first blocked
/// the load and the second was read and parsed whole; now they are refused.
#[test]
fn a_fifo_or_oversized_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    manifest(dir.path(), true);
    std::fs::copy(test_programs::PDK_PLUGIN, dir.path().join("plugin.wasm")).unwrap();
    let schema = dir.path().join("settings.schema.json");
    mkfifo(&schema);
    let err = load_in_time(dir.path()).unwrap_err();
    assert_eq!(err.to_diagnostic().code, Code::NotARegularFile, "{err}");

    std::fs::remove_file(&schema).unwrap();
    let padding = " ".repeat(2 << 20);
    std::fs::write(&schema, format!("{{{padding}}}")).unwrap();
    let err = load_in_time(dir.path()).unwrap_err();
    assert_eq!(err.to_diagnostic().code, Code::TooLarge, "{err}");
}
