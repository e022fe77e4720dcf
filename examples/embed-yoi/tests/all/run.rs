//! Runs `embed-yoi` on a Yoi folder holding a tool, a hook and the chat bridge service, all
//! built from source, against a real WebSocket gateway and a webhook server on 127.0.0.1,
//! and checks each step of Yoi's scenario: the model-visible tool schemas, chat messages
//! answered through output commands, a tool run through the hook, a denied tool call, a
//! bridge that traps (restarted with backoff, the message dead-lettered), a dropped
//! gateway connection (reconnected), the webhook posts, and a flood counted exactly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const PATIENCE: Duration = Duration::from_secs(60);
const FLOOD: u64 = 20_000;

/// A webhook server on 127.0.0.1 keeping each request's body; it runs until the test
/// process ends.
fn webhook() -> (u16, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            if let Ok(value) = serde_json::from_slice(&body) {
                kept.lock().unwrap().push(value);
            }
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
    });
    (port, bodies)
}

/// A plugin folder `plugins/ID` from `examples/EXAMPLE` with its built component.
fn plugin(root: &Path, id: &str, example: &str, wasm: &str, component: &str) {
    let dir = root.join("plugins").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let source = test_programs::example_dir(example);
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".toml") && name != "Cargo.toml" || name.ends_with(".json") {
            std::fs::copy(&path, dir.join(&name)).unwrap();
        }
    }
    std::fs::copy(wasm, dir.join(component)).unwrap();
}

/// The running program: its input, and its output lines as they come.
struct Yoi {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl Yoi {
    fn start(dir: &Path) -> Yoi {
        let mut child = Command::new(env!("CARGO_BIN_EXE_embed-yoi"))
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if sender.send(value).is_err() {
                    break;
                }
            }
        });
        Yoi {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first line (seen or to come) with key `key` matching `wanted`.
    fn wait(&mut self, key: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(found) = self.seen.iter().find(|l| l.get(key).is_some_and(&wanted)) {
            return found[key].clone();
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no `{key}` line; seen {:?}", self.seen));
            self.seen.push(line.clone());
            if line.get(key).is_some_and(&wanted) {
                return line[key].clone();
            }
        }
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
    }
}

/// Sends a chat message on `socket` and returns the next reply text.
async fn chat<S>(socket: &mut tokio_tungstenite::WebSocketStream<S>, content: &str) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let frame = json!({ "author": "ada", "content": content }).to_string();
    socket.send(Message::text(frame)).await.unwrap();
    next_reply(socket).await
}

async fn next_reply<S>(socket: &mut tokio_tungstenite::WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a reply in time")
            .expect("the connection is open")
            .unwrap();
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            return value["reply"].as_str().unwrap().to_owned();
        }
    }
}

#[test]
fn yoi_runs_tools_hooks_and_a_chat_bridge_service_end_to_end() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let gateway = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let gateway_port = gateway.local_addr().unwrap().port();
    let (webhook_port, posts) = webhook();

    let root = tempfile::tempdir().unwrap();
    plugin(
        root.path(),
        "example.word-count",
        "word-count",
        test_programs::WORD_COUNT,
        "word_count.wasm",
    );
    plugin(
        root.path(),
        "example.tool-guard",
        "tool-guard",
        test_programs::TOOL_GUARD,
        "tool_guard.wasm",
    );
    plugin(
        root.path(),
        "yoi.bridge",
        "yoi-bridge",
        test_programs::YOI_BRIDGE,
        "yoi_bridge.wasm",
    );
    // The webhook listens on a port of its own: the manifest asks for that host and port.
    let manifest = root.path().join("plugins/yoi.bridge/plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        r#"http = { allow = ["127.0.0.1"] }"#,
        &format!(r#"http = {{ allow = ["127.0.0.1:{webhook_port}"] }}"#),
    );
    std::fs::write(&manifest, text).unwrap();
    std::fs::write(
        root.path().join("yoi.toml"),
        format!(
            r#"[app]
gateway = "ws://127.0.0.1:{gateway_port}/gateway"
bridge = "yoi.bridge"
flood = {FLOOD}
allow_loopback_ports = [{webhook_port}]

[plugins."example.word-count"]
grants = ["log"]

[plugins."yoi.bridge"]
grants = ["config", "websocket:discord", "http:127.0.0.1:{webhook_port}", "run_tool", "events.publish:yoi.audit"]
settings = {{ webhook_url = "http://127.0.0.1:{webhook_port}/hook" }}
"#
        ),
    )
    .unwrap();

    let mut yoi = Yoi::start(root.path());

    // The tool registry, as a model sees it.
    let tools = yoi.wait("tools", |_| true);
    assert_eq!(tools[0]["name"], "word_count");
    assert_eq!(tools[0]["input_schema"]["required"], json!(["text"]));

    runtime.block_on(async {
        // The host connects to the gateway by itself.
        let (tcp, _) = tokio::time::timeout(PATIENCE, gateway.accept())
            .await
            .unwrap()
            .unwrap();
        let mut socket = tokio_tungstenite::accept_async(tcp).await.unwrap();
        assert_eq!(chat(&mut socket, "hello").await, "ack: hello");
        // A tool call through the hook chain and the registry.
        assert_eq!(
            chat(&mut socket, "!word_count one two three").await,
            r#"word_count: {"words":3}"#
        );
        // The hook denies a payload that touches /etc.
        let denied = chat(&mut socket, "!word_count /etc/passwd").await;
        assert!(denied.starts_with("denied: "), "{denied}");
        assert!(denied.contains("example.tool-guard"), "{denied}");
        // A bridge that traps: no answer, the instance is replaced, the message ends as a
        // dead letter after its two attempts, and the next message is served.
        let crash = json!({ "author": "ada", "content": "!crash" }).to_string();
        socket.send(Message::text(crash)).await.unwrap();
        assert_eq!(
            chat(&mut socket, "after the crash").await,
            "ack: after the crash"
        );
        // The gateway drops the connection; the host reconnects on its own.
        drop(socket);
        let (tcp, _) = tokio::time::timeout(PATIENCE, gateway.accept())
            .await
            .unwrap()
            .unwrap();
        let mut socket = tokio_tungstenite::accept_async(tcp).await.unwrap();
        assert_eq!(chat(&mut socket, "again").await, "ack: again");
    });

    assert_eq!(yoi.wait("status", |s| s == "degraded"), "degraded");
    let letter = yoi.wait("dead_letter", |_| true);
    assert!(
        letter["reason"]
            .as_str()
            .unwrap()
            .contains("AttemptsExhausted"),
        "{letter}"
    );
    // Every chat message that was not a command reached the webhook, in order.
    let deadline = Instant::now() + PATIENCE;
    while posts.lock().unwrap().len() < 3 {
        if Instant::now() > deadline {
            let output: Vec<Value> = yoi.lines.try_iter().collect();
            panic!(
                "webhook posts: {:?}; output: {:?} {output:?}",
                posts.lock().unwrap(),
                yoi.seen
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let contents: Vec<Value> = posts
        .lock()
        .unwrap()
        .iter()
        .map(|p| p["content"].clone())
        .collect();
    assert_eq!(
        contents,
        [json!("hello"), json!("after the crash"), json!("again")]
    );

    // A flood: every event accounted for, and the plugin saw exactly the queued ones.
    yoi.send("flood");
    let flood = yoi.wait("flood", |_| true);
    let n = |key: &str| flood[key].as_u64().unwrap();
    assert_eq!(n("sent"), FLOOD);
    assert_eq!(n("queued") + n("rejected") + n("shed"), FLOOD);
    // Exactly the queued noise reached the plugin. (The service's own counters during the
    // flood may also count a late event, e.g. a webhook's answer, so they are at least that.)
    assert_eq!(n("handled_by_plugin"), n("queued"));
    assert!(
        n("delivered") + n("dead_lettered") >= n("queued"),
        "{flood}"
    );
    assert!(n("rejected") > 0, "the flood overflowed the queue: {flood}");

    yoi.send("quit");
    let stats = yoi.wait("stats", |_| true);
    assert_eq!(stats["dead_lettered"], 1, "{stats}");
    assert!(stats["restarts"].as_u64().unwrap() >= 2, "{stats}");
    assert_eq!(stats["commands_failed"], 0, "{stats}");
    let status = yoi.child.wait().unwrap();
    assert!(status.success(), "{status}");
}
