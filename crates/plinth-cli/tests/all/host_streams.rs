//! Python and JavaScript plugins reading a stream an app-defined host function returns
//! (docs/design/0065) with their PDKs' `items`: 10 000 deltas in order, and a plugin that
//! stops early stops the producer. The guests import an app interface of the test's own
//! (`test:counter/numbers`), so they are built with the pinned toolchains directly, for a
//! world that adds it to `plinth:plugin/plugin`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use plinth_build::Language;
use plinth_host::manifest::Grant;
use plinth_host::{
    HostCallContext, HostFnError, HostInterface, LoadOptions, Plugin, STREAM_BUFFER, StreamSender,
};
use serde_json::json;

const NUMBERS: &str = "test:counter/numbers@0.1.0";

const WIT: &str = r#"package test:counter@0.1.0;

/// Deltas `d0`, `d1`, … streamed by the host.
interface numbers {
    resource deltas {
        next: func() -> option<string>;
    }
    count: func(n: u32) -> deltas;
}

world plugin {
    include plinth:plugin/plugin@0.1.0;
    import numbers;
}
"#;

const MANIFEST: &str = r#"[plugin]
id = "stream-reader"
version = "0.1.0"
name = "stream-reader"

[runtime]
kind = "wasm-component"
component = "stream_reader.wasm"
api = "0.1.0"
world = "plugin"

[capabilities]
numbers = true
"#;

/// `run([n, stop])` reads `count(n)` until its end, or `stop` deltas when not 0, checking
/// their order, and answers "READ LAST".
const PYTHON: &str = r#"from plinth_pdk import command, items
from plinth_pdk.exports import Command, Lifecycle  # noqa: F401

from wit_world.imports import numbers


@command
def run(args):
    n, stop = int(args[0]), int(args[1])
    read, last = 0, ""
    for delta in items(numbers.count(n)):
        if delta != f"d{read}":
            return f"out of order at {read}: {delta}"
        read, last = read + 1, delta
        if stop and read == stop:
            break
    return f"{read} {last}"
"#;

const JS: &str = r#"import { onRun, items } from './plinth-pdk.js';
import { count } from 'test:counter/numbers@0.1.0';

export { lifecycle, command } from './plinth-pdk.js';

onRun(([n, stop]) => {
  let read = 0;
  let last = '';
  for (const delta of items(count(Number(n)))) {
    if (delta !== `d${read}`) return `out of order at ${read}: ${delta}`;
    read++;
    last = delta;
    if (Number(stop) && read === Number(stop)) break;
  }
  return `${read} ${last}`;
});
"#;

/// The deltas the producer handed to the stream.
#[derive(Default)]
struct Sent(AtomicU64);

fn numbers(sent: Arc<Sent>) -> HostInterface {
    HostInterface::new("numbers", NUMBERS).func_stream(
        "count",
        "deltas",
        move |_cx: HostCallContext, (n,): (u32,), out: StreamSender<String>| {
            let sent = sent.clone();
            async move {
                for i in 0..n {
                    if out.send(format!("d{i}")).await.is_err() {
                        break;
                    }
                    sent.0.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, HostFnError>(())
            }
        },
    )
}

/// The test's WIT folder: its package, with Plinth's under `deps/`.
fn wit_folder(root: &Path) -> PathBuf {
    let wit = root.join("wit");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
    for (dep, package) in [
        ("plinth-plugin", "plinth-plugin@0.1.0"),
        ("plinth-host", "plinth-host@0.1.0"),
    ] {
        let to = wit.join("deps").join(dep);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(repo.join(package)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "wit") {
                std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    std::fs::write(wit.join("counter.wit"), WIT).unwrap();
    wit
}

/// Builds the `lang` guest into a plugin folder with its manifest.
fn build(root: &Path, wit: &Path, language: Language) -> PathBuf {
    let dir = root.join(format!("reader-{language:?}").to_lowercase());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plugin.toml"), MANIFEST).unwrap();
    let output = dir.join("stream_reader.wasm");
    let program = plinth_build::find_toolchain(language).expect("the pinned toolchain");
    let pdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pdk");
    let mut command = Command::new(program);
    match language {
        Language::Python => {
            std::fs::write(dir.join("app.py"), PYTHON).unwrap();
            command
                .arg("-d")
                .arg(wit)
                .args(["-w", "plugin", "componentize", "-p", ".", "-p"])
                .arg(pdk.join("python"))
                .args(["app", "-o"])
                .arg(&output);
        }
        _ => {
            std::fs::write(dir.join("app.js"), JS).unwrap();
            std::fs::copy(pdk.join("js/plinth-pdk.js"), dir.join("plinth-pdk.js")).unwrap();
            command
                .arg("app.js")
                .arg("--wit")
                .arg(wit)
                .args(["-n", "plugin", "-d", "http", "fetch-event", "-o"])
                .arg(&output);
        }
    }
    let ran = command
        .current_dir(&dir)
        .output()
        .expect("run the toolchain");
    assert!(
        ran.status.success() && output.is_file(),
        "build the {language:?} reader: {}\n{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr)
    );
    dir
}

fn run(plugin: &Plugin, n: u32, stop: u32) -> serde_json::Value {
    plugin
        .call_json("run", &[json!([n.to_string(), stop.to_string()])])
        .unwrap_or_else(|e| panic!("run({n}, {stop}): {e}"))
}

#[test]
fn python_and_javascript_plugins_iterate_host_streams_and_stop_them_early() {
    let root = tempfile::Builder::new()
        .prefix("plinth-host-streams")
        .tempdir()
        .expect("temp dir");
    let root = root.path();
    let wit = wit_folder(root);
    for language in [Language::Python, Language::JavaScript] {
        let dir = build(root, &wit, language);
        let sent = Arc::new(Sent::default());
        let host = plinth_host::Host::builder()
            .cache_dir(root.join("cache"))
            .host_interface(numbers(sent.clone()))
            .build()
            .expect("host");
        let grants = vec!["numbers".parse::<Grant>().unwrap()];
        let plugin = host
            .load_with(&dir, LoadOptions::default().with_grants(grants))
            .unwrap_or_else(|e| panic!("{language:?}: {e}"));

        // Every delta, in order, then the end of the stream.
        assert_eq!(
            run(&plugin, 10_000, 0),
            json!({"ok": "10000 d9999"}),
            "{language:?}"
        );
        assert_eq!(sent.0.load(Ordering::Relaxed), 10_000, "{language:?}");

        // Stopping after 5 drops the stream: the producer ends with at most the buffer
        // (and the one it was sending) beyond what was read.
        sent.0.store(0, Ordering::Relaxed);
        assert_eq!(
            run(&plugin, 10_000, 5),
            json!({"ok": "5 d4"}),
            "{language:?}"
        );
        let produced = sent.0.load(Ordering::Relaxed);
        assert!(
            produced <= 5 + STREAM_BUFFER as u64 + 1,
            "{language:?}: {produced} deltas sent for 5 read"
        );

        // Without the grant no stream starts.
        let denied = host
            .load_with(&dir, LoadOptions::default())
            .unwrap_or_else(|e| panic!("{language:?}: {e}"));
        sent.0.store(0, Ordering::Relaxed);
        let refused = denied.call_json("run", &[json!(["3", "0"])]);
        assert!(
            refused.is_err(),
            "{language:?}: ran without the grant: {refused:?}"
        );
        assert_eq!(sent.0.load(Ordering::Relaxed), 0, "{language:?}");
    }
}
