//! Stack Composer's whole plugin-host scenario (seed 002) through [`PluginHost`]: flat
//! plugins in a user and a system directory, only those signed by a key of
//! `trusted_keys.toml` loaded, every host function behind its capability, the limits of
//! `plugin-host.toml`, hot reload of a plugin replaced on disk (and a tampered replacement
//! refused), and the network modes `offline` and proxy against real loopback servers.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use embed_stack_composer::{
    Embedding, ModelStats, PluginHost, PluginHostConfig, PluginHostError, deltas,
};
use plinth_host::log::LogRecord;
use plinth_host::manifest::diagnostic::{Code, Severity};
use plinth_manager::StatusEvent;
use plinth_manager::discovery::Origin;
use plinth_package::{LayoutEntry, SecretKey};
use test_programs::http_proxy::HttpProxy;
use tokio::sync::broadcast;

const HELLO: &str = "org.example.hello";
const LIMITED: &str = "org.example.limited";
const SYSTEM: &str = "org.example.system";
const TAMPERED: &str = "org.example.tampered";
const STRANGER: &str = "org.example.stranger";
const UNSIGNED: &str = "org.example.unsigned";
const EVERY_CAPABILITY: &[&str] = &["log", "retrieval", "llm", "plan", "network"];

/// A Stack Composer installation in a temporary folder: the two plugin directories
/// (standing for `~/.local/share/stack-composer/plugins/` and `/opt/stack-composer/plugins/`),
/// `trusted_keys.toml` trusting Jane's key (in its bare-hex form), and Mallory's key that
/// nobody trusts.
struct Install {
    root: tempfile::TempDir,
    jane: SecretKey,
    mallory: SecretKey,
}

impl Install {
    fn new() -> Install {
        let root = tempfile::tempdir().unwrap();
        let install = Install {
            root,
            jane: SecretKey::from_seed([1; 32]),
            mallory: SecretKey::from_seed([2; 32]),
        };
        std::fs::create_dir_all(install.user_dir()).unwrap();
        std::fs::create_dir_all(install.system_dir()).unwrap();
        let jane = install.jane.public_key().to_string();
        let bare = jane.trim_start_matches("ed25519:");
        std::fs::write(
            install.share().join("trusted_keys.toml"),
            format!("[keys]\njane = \"{bare}\"\n"),
        )
        .unwrap();
        install
    }

    fn share(&self) -> PathBuf {
        self.root.path().join("home/.local/share/stack-composer")
    }

    fn user_dir(&self) -> PathBuf {
        self.share().join("plugins")
    }

    fn system_dir(&self) -> PathBuf {
        self.root.path().join("opt/stack-composer/plugins")
    }

    /// Places the flat plugin `stem` (`stem.wasm`, `stem.toml`, `stem.sig` when `key`).
    fn place(&self, dir: &Path, stem: &str, id: &str, version: &str, key: Option<&SecretKey>) {
        std::fs::copy(
            test_programs::COMPOSER_HELLO,
            dir.join(format!("{stem}.wasm")),
        )
        .unwrap();
        write_renamed(
            &dir.join(format!("{stem}.toml")),
            manifest(stem, id, version),
        );
        if let Some(key) = key {
            sign(&dir.join(format!("{stem}.wasm")), key);
        }
    }

    /// `plugin-host.toml`, with `network` as its `[network]` section.
    fn config(&self, network: &str) -> PluginHostConfig {
        let text = format!(
            r#"
[limits]
fuel_units = 10000000
mem_bytes = 33554432
wall_timeout_ms = 2000

[paths]
user_dir = "{user}"
system_dir = "{system}"
trusted_keys = "{share}/trusted_keys.toml"
state_dir = "{share}/plinth"

[network]
{network}

[permissions]
"{HELLO}" = ["log", "retrieval", "llm", "plan", "network"]
"{SYSTEM}" = ["log"]
"{LIMITED}" = ["log", "retrieval"]
"{TAMPERED}" = ["log"]
"{STRANGER}" = ["log"]
"{UNSIGNED}" = ["log"]

[reload]
debounce_ms = 100
"#,
            user = self.user_dir().display(),
            system = self.system_dir().display(),
            share = self.share().display(),
        );
        let file = self.root.path().join("plugin-host.toml");
        std::fs::write(&file, text).unwrap();
        PluginHostConfig::load(&file).unwrap()
    }
}

/// Stack Composer's manifest shape (seed § 3), rebuilt for `wasm32-wasip2`.
fn manifest(stem: &str, id: &str, version: &str) -> String {
    format!(
        r#"[plugin]
id          = "{id}"
version     = "{version}"
wasm_target = "wasm32-wasip2"
signature   = "file:{stem}.sig"
capabilities = {caps:?}

[meta]
name        = "Hello Plugin"
description = "Echo back the user input."
license     = "MIT"
authors     = ["Jane Dev <jane@example.org>"]
"#,
        caps = EVERY_CAPABILITY,
    )
}

/// Signs `x.wasm` with the id and version of `x.toml`, as `plinth sign` does.
fn sign(component: &Path, key: &SecretKey) {
    LayoutEntry::for_component(component)
        .unwrap()
        .sign(key)
        .unwrap();
}

/// Writes `bytes` to `path` by renaming a complete hidden file over it (discovery and the
/// watcher skip hidden files), as an installer replaces a file.
fn write_renamed(path: &Path, bytes: impl AsRef<[u8]>) {
    let name = path.file_name().unwrap().to_string_lossy();
    let staging = path.with_file_name(format!(".{name}.new"));
    std::fs::write(&staging, bytes).unwrap();
    std::fs::rename(&staging, path).unwrap();
}

fn logs_into(records: &Arc<Mutex<Vec<LogRecord>>>) -> Embedding {
    let records = records.clone();
    Embedding {
        log_sink: Some(Arc::new(move |r: &LogRecord| {
            records.lock().unwrap().push(r.clone())
        })),
        ..Embedding::default()
    }
}

/// The code of a failure in the host (not the plugin's own error).
fn code(result: Result<String, PluginHostError>) -> Code {
    match result {
        Err(PluginHostError::Plugin(d)) => d.code,
        other => panic!("not a failure in the host: {other:?}"),
    }
}

/// The first status event that `what` accepts, within a bound.
async fn wait_for(
    events: &mut broadcast::Receiver<StatusEvent>,
    what: impl Fn(&StatusEvent) -> bool,
) -> StatusEvent {
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match events.recv().await {
                Ok(event) if what(&event) => return event,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("the status stream closed"),
            }
        }
    })
    .await;
    waited.expect("the awaited status event did not come")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_scenario_end_to_end() {
    let install = Install::new();
    let (user, system) = (install.user_dir(), install.system_dir());
    install.place(&user, "hello-plugin", HELLO, "0.1.0", Some(&install.jane));
    install.place(&user, "limited", LIMITED, "0.1.0", Some(&install.jane));
    install.place(&user, "stranger", STRANGER, "0.1.0", Some(&install.mallory));
    install.place(&user, "unsigned", UNSIGNED, "0.1.0", None);
    install.place(&user, "tampered", TAMPERED, "0.1.0", Some(&install.jane));
    let mut bytes = std::fs::read(user.join("tampered.wasm")).unwrap();
    bytes.extend_from_slice(b"\0\x07changed");
    std::fs::write(user.join("tampered.wasm"), bytes).unwrap();
    std::fs::write(user.join("README.md"), "# My plugins\n").unwrap();
    // The system directory has an older hello (shadowed) and a plugin of its own.
    install.place(&system, "hello-plugin", HELLO, "0.0.9", Some(&install.jane));
    install.place(&system, "system-tool", SYSTEM, "1.0.0", Some(&install.jane));
    std::fs::write(system.join("readme.md"), "shown in the marketplace\n").unwrap();

    let records = Arc::new(Mutex::new(Vec::new()));
    let model = Arc::new(ModelStats::default());
    let embedding = Embedding {
        model: model.clone(),
        ..logs_into(&records)
    };
    let ph = PluginHost::with_embedding(install.config("mode = \"online\""), embedding)
        .await
        .unwrap();

    // Discovery: both directories, the user's hello wins, docs ignored.
    let found = ph.discovered();
    let ids: Vec<&str> = found.plugins.keys().map(String::as_str).collect();
    assert_eq!(ids, [HELLO, LIMITED, STRANGER, SYSTEM, TAMPERED, UNSIGNED]);
    let hello = found.get(HELLO).unwrap();
    assert_eq!(hello.origin, Origin::User);
    assert_eq!(hello.manifest.plugin.version.to_string(), "0.1.0");
    assert_eq!(found.get(SYSTEM).unwrap().origin, Origin::System);
    let shadowed: Vec<_> = found
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::Shadowed)
        .collect();
    assert_eq!(shadowed.len(), 1, "{:?}", found.diagnostics);
    assert_eq!(shadowed[0].plugin.as_deref(), Some(HELLO));
    assert_eq!(shadowed[0].severity, Severity::Warning);
    assert!(shadowed[0].message.contains("the user directory wins"));
    assert!(
        !found
            .diagnostics
            .iter()
            .any(|d| d.message.contains("README") || d.message.contains("readme")),
        "{:?}",
        found.diagnostics
    );

    // Signatures: only plugins signed by a trusted key load; the others keep loading.
    let loaded = ph.load_discovered().await;
    let refusal = |id: &str| loaded[id].as_ref().err().map(|d| d.code);
    assert_eq!(refusal(HELLO), None, "{loaded:?}");
    assert_eq!(refusal(LIMITED), None, "{loaded:?}");
    assert_eq!(refusal(SYSTEM), None, "{loaded:?}");
    assert_eq!(refusal(TAMPERED), Some(Code::BadSignature));
    assert_eq!(refusal(STRANGER), Some(Code::UntrustedKey));
    assert_eq!(refusal(UNSIGNED), Some(Code::Unsigned));
    let listed = ph.list();
    let hello_info = listed.iter().find(|p| p.id == HELLO).unwrap();
    assert_eq!(hello_info.serving.as_deref(), Some("0.1.0"));
    assert!(hello_info.source.as_ref().unwrap().starts_with(&user));
    let system_info = listed.iter().find(|p| p.id == SYSTEM).unwrap();
    assert!(system_info.source.as_ref().unwrap().starts_with(&system));

    // The seed's call, and every host function behind its capability.
    assert_eq!(
        ph.call_plugin(HELLO, "run", &["hello"]).await.unwrap(),
        "hello"
    );
    assert!(
        records
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.plugin == HELLO && r.message == "echoing \"hello\""),
        "the plugin's log line reached the app"
    );
    assert_eq!(
        ph.call_plugin(HELLO, "run", &["search", "Plinth missing-grant"])
            .await
            .unwrap(),
        "docs/plinth"
    );
    let reply =
        "What is WIT? → [docs/wit] WIT describes the interfaces a component imports and exports.";
    assert_eq!(
        ph.call_plugin(HELLO, "run", &["chat", "What is WIT?"])
            .await
            .unwrap(),
        format!("{reply} ({} deltas)", deltas(reply).len())
    );
    assert_eq!(model.finished.load(Ordering::Relaxed), 1);
    assert_eq!(
        ph.call_plugin(HELLO, "run", &["plan", "kitchen", "boil water; brew tea"])
            .await
            .unwrap(),
        "1. kitchen: boil water\n2. kitchen: brew tea"
    );
    assert_eq!(
        ph.call_plugin(SYSTEM, "run", &["from", "/opt"])
            .await
            .unwrap(),
        "from /opt"
    );
    // `limited` is granted `log` and `retrieval` only.
    assert_eq!(
        ph.call_plugin(LIMITED, "run", &["search", "lunch"])
            .await
            .unwrap(),
        "notes/lunch"
    );
    // (A success between two refusals: three guest failures in a row would put the plugin
    // in backoff.)
    let refused: [&[&str]; 3] = [
        &["plan", "d", "g"],
        &["chat", "hi"],
        &["fetch", "http://127.0.0.1:9/"],
    ];
    for verb in refused {
        assert_eq!(
            code(ph.call_plugin(LIMITED, "run", verb).await),
            Code::MissingGrant,
            "{verb:?}"
        );
        assert_eq!(ph.call_plugin(LIMITED, "run", &["ok"]).await.unwrap(), "ok");
    }

    // Limits from plugin-host.toml: each runaway call ends with its code, and the plugin
    // (and the host) go on serving.
    let runaways: [(&[&str], Code); 3] = [
        (&["spin"], Code::FuelExhausted),
        (&["hog", "100"], Code::MemoryLimit),
        (&["chat", "stall"], Code::Timeout),
    ];
    for (verb, want) in runaways {
        assert_eq!(
            code(ph.call_plugin(HELLO, "run", verb).await),
            want,
            "{verb:?}"
        );
        assert_eq!(
            ph.call_plugin(HELLO, "run", &["still", "here"])
                .await
                .unwrap(),
            "still here"
        );
    }

    // Hot reload: a new version written over the old files is verified and swapped in.
    let mut events = ph.subscribe();
    write_renamed(
        &user.join("hello-plugin.toml"),
        manifest("hello-plugin", HELLO, "0.2.0"),
    );
    sign(&user.join("hello-plugin.wasm"), &install.jane);
    wait_for(&mut events, |e| {
        e.id == HELLO && e.status.name() == "ready" && e.serving.as_deref() == Some("0.2.0")
    })
    .await;
    assert_eq!(ph.call_plugin(HELLO, "run", &["v2"]).await.unwrap(), "v2");

    // A tampered replacement is refused; the verified version keeps serving.
    let other_bytes = std::fs::read(test_programs::HELLO).unwrap();
    write_renamed(&user.join("hello-plugin.wasm"), other_bytes);
    let refused = wait_for(&mut events, |e| e.id == HELLO && e.status.name() == "error").await;
    let plinth_manager::Status::Error(diagnostic) = &refused.status else {
        unreachable!()
    };
    assert_eq!(diagnostic.code, Code::BadSignature, "{diagnostic}");
    assert_eq!(refused.serving.as_deref(), Some("0.2.0"));
    assert_eq!(
        ph.call_plugin(HELLO, "run", &["hello"]).await.unwrap(),
        "hello"
    );

    assert!(ph.unload_plugin(SYSTEM).await);
    assert!(ph.call_plugin(SYSTEM, "run", &["gone"]).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_modes_offline_and_through_a_proxy() {
    let origin = OriginServer::start();
    let proxy = HttpProxy::start();
    let url = format!("http://127.0.0.1:{}/ping", origin.port);
    let install = Install::new();
    install.place(
        &install.user_dir(),
        "hello-plugin",
        HELLO,
        "0.1.0",
        Some(&install.jane),
    );
    install.place(
        &install.user_dir(),
        "limited",
        LIMITED,
        "0.1.0",
        Some(&install.jane),
    );
    let embedding = || Embedding {
        loopback_ports: vec![origin.port],
        ..Embedding::default()
    };

    // Offline: refused before any socket, even with the `network` grant.
    let offline = install.config("mode = \"offline\"\nallow_http = true");
    let ph = PluginHost::with_embedding(offline, embedding())
        .await
        .unwrap();
    let id = ph
        .load_plugin(install.user_dir().join("hello-plugin.wasm"))
        .await
        .unwrap();
    assert_eq!(id, HELLO);
    let Err(PluginHostError::Refused(message)) =
        ph.call_plugin(HELLO, "run", &["fetch", &url]).await
    else {
        panic!("an offline fetch was not refused");
    };
    assert!(
        message.starts_with("http-denied:") && message.contains("offline"),
        "{message}"
    );
    assert_eq!(origin.hits(), 0);
    assert!(proxy.asked().is_empty());
    drop(ph);

    // Through the proxy: the request reaches the origin by way of the proxy.
    let proxied = install.config(&format!("proxy = \"{}\"\nallow_http = true", proxy.url()));
    let ph = PluginHost::with_embedding(proxied, embedding())
        .await
        .unwrap();
    ph.load_plugin(install.user_dir().join("hello-plugin.wasm"))
        .await
        .unwrap();
    ph.load_plugin(install.user_dir().join("limited.wasm"))
        .await
        .unwrap();
    assert_eq!(
        ph.call_plugin(HELLO, "run", &["fetch", &url])
            .await
            .unwrap(),
        "pong"
    );
    assert_eq!(
        proxy.asked(),
        [format!(
            "GET http://127.0.0.1:{}/ping HTTP/1.1",
            origin.port
        )]
    );
    assert_eq!(origin.hits(), 1);
    // Without the `network` grant: `missing-grant`, nothing sent.
    assert_eq!(
        code(ph.call_plugin(LIMITED, "run", &["fetch", &url]).await),
        Code::MissingGrant
    );
    assert_eq!(origin.hits(), 1);
    assert_eq!(proxy.asked().len(), 1);
}

/// An HTTP origin server on 127.0.0.1: answers every request `pong`, counting them;
/// stopped when dropped.
struct OriginServer {
    port: u16,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl OriginServer {
    fn start() -> OriginServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counted, stopped) = (hits.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\npong",
                );
            }
        });
        OriginServer { port, hits, stop }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for OriginServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}
