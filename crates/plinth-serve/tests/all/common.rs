//! Shared by the server's tests: a running server over a home, requests, plugin folders,
//! an event stream reader.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use plinth_serve::{ServeError, ServeOptions, Server};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a test waits for anything before it fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A server running in this process over `home`.
pub struct Served {
    pub home: PathBuf,
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
}

impl Served {
    /// Starts a server over `home` on 127.0.0.1, port 0.
    pub async fn start(home: &Path) -> Served {
        let options = ServeOptions::new(home, "127.0.0.1:0".parse().unwrap());
        let server = Server::bind(options).await.expect("server starts");
        let base = format!("http://{}", server.local_addr());
        let token = server.token().to_owned();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Served {
            home: home.to_path_buf(),
            base,
            token,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Asks the server to shut down, and waits until it has.
    pub async fn stop(mut self) {
        self.begin_stop();
        self.stopped().await;
    }

    /// Asks the server to shut down.
    pub fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits until the server has shut down.
    pub async fn stopped(&mut self) {
        if let Some(task) = self.task.take() {
            tokio::time::timeout(DEADLINE, task)
                .await
                .expect("the server stops in time")
                .expect("the server task ends")
                .expect("the server ends without error");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        read(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    /// A request with the token and a JSON body.
    pub fn authorized(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap())
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        read(
            self.authorized(reqwest::Method::POST, path, &body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        read(
            self.authorized(reqwest::Method::PUT, path, &body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let request = self
            .client
            .delete(self.url(path))
            .bearer_auth(&self.token)
            .send();
        read(request.await.unwrap()).await
    }

    /// `POST /api/plugins` of `dir` (unsigned), which must succeed.
    pub async fn install(&self, dir: &Path) -> Value {
        let (status, body) = self
            .post(
                "/api/plugins",
                serde_json::json!({"source": dir, "allow_unsigned": true}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Installs and enables `dir`'s plugin `id`, which must reach `ready`.
    pub async fn install_enabled(&self, dir: &Path, id: &str) {
        self.install(dir).await;
        let (status, body) = self
            .post(&format!("/api/plugins/{id}/enable"), serde_json::json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.wait_ready(id, "").await;
    }

    /// Polls `GET /api/plugins/{id}` until the plugin is `ready` (the watcher may be
    /// reloading it after an install).
    pub async fn wait_ready(&self, id: &str, query: &str) -> Value {
        let deadline = std::time::Instant::now() + DEADLINE;
        loop {
            let (_, shown) = self.get(&format!("/api/plugins/{id}{query}")).await;
            if shown["status"]["state"] == "ready" {
                return shown;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{id} is not ready: {shown}"
            );
            tokio::task::yield_now().await;
        }
    }

    /// The text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        let response = self.client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }

    /// The plugins.toml of the home, parsed.
    pub fn state(&self) -> toml::Table {
        let text = std::fs::read_to_string(self.home.join("plugins.toml")).unwrap_or_default();
        text.parse().unwrap()
    }

    /// The state entry of `id`.
    pub fn entry(&self, id: &str) -> Option<toml::Table> {
        entry_in(&self.state(), id)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.begin_stop();
    }
}

pub fn entry_in(state: &toml::Table, id: &str) -> Option<toml::Table> {
    state
        .get("plugins")?
        .get("entries")?
        .as_array()?
        .iter()
        .filter_map(|e| e.as_table())
        .find(|e| e.get("id").and_then(|v| v.as_str()) == Some(id))
        .cloned()
}

/// A response's status and JSON body (`null` when it has none).
pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
    };
    (status, body)
}

/// The codes of an error body's diagnostics.
pub fn codes(body: &Value) -> Vec<String> {
    body["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("no diagnostics in {body}"))
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_owned())
        .collect()
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("{} → {}: {e}", from.display(), to.display()));
}

/// A plugin folder of the `hello` example (`example.hello`: log, config, a settings schema).
pub fn hello_dir(root: &Path) -> PathBuf {
    let dir = root.join("hello");
    std::fs::create_dir_all(&dir).unwrap();
    let example = test_programs::example_dir("hello");
    copy(&example.join("plugin.toml"), &dir.join("plugin.toml"));
    copy(
        &example.join("settings.schema.json"),
        &dir.join("settings.schema.json"),
    );
    copy(Path::new(test_programs::HELLO), &dir.join("hello.wasm"));
    dir
}

/// A plugin folder of the `word-count` example (`example.word-count`: the tool
/// `word_count`).
pub fn word_count_dir(root: &Path) -> PathBuf {
    let dir = root.join("word-count");
    std::fs::create_dir_all(&dir).unwrap();
    let example = test_programs::example_dir("word-count");
    for file in [
        "plugin.toml",
        "word_count.schema.json",
        "word_count.output.json",
    ] {
        copy(&example.join(file), &dir.join(file));
    }
    copy(
        Path::new(test_programs::WORD_COUNT),
        &dir.join("word_count.wasm"),
    );
    dir
}

/// A plugin folder of the `sleepy` test program (`test.sleepy`: `sleep-ms` blocks in the
/// host).
pub fn sleepy_dir(root: &Path) -> PathBuf {
    let dir = root.join("sleepy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        "[plugin]\nid = \"test.sleepy\"\nversion = \"0.1.0\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"sleepy.wasm\"\n",
    )
    .unwrap();
    copy(Path::new(test_programs::SLEEPY), &dir.join("sleepy.wasm"));
    dir
}

/// A Server-Sent Events stream being read.
pub struct Events {
    stream: Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl Events {
    pub async fn open(served: &Served, path: &str) -> Events {
        let response = served.client.get(served.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Events {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event's name and data; `None` when the stream ended.
    pub async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(at) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..at + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                match name {
                    Some(name) => return Some((name, serde_json::from_str(&data).unwrap())),
                    None => continue, // a keep-alive comment
                }
            }
            let chunk = tokio::time::timeout(DEADLINE, self.stream.next())
                .await
                .expect("an event in time")?;
            self.buffer
                .push_str(&String::from_utf8_lossy(&chunk.expect("the stream reads")));
        }
    }

    /// Reads events until one that `wanted` accepts.
    pub async fn wait_for(&mut self, wanted: impl Fn(&str, &Value) -> bool) -> Value {
        loop {
            let (name, data) = self.next().await.expect("the stream stays open");
            if wanted(&name, &data) {
                return data;
            }
        }
    }
}

impl Served {
    /// Starts a server over `home` on 127.0.0.1, port 0, with `options` changed by `edit`.
    pub async fn start_with(home: &Path, edit: impl FnOnce(&mut ServeOptions)) -> Served {
        let mut options = ServeOptions::new(home, "127.0.0.1:0".parse().unwrap());
        edit(&mut options);
        let server = Server::bind(options).await.expect("server starts");
        let base = server.url();
        let token = server.token().to_owned();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Served {
            home: home.to_path_buf(),
            base,
            token,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Polls `GET /api/plugins/{id}` until `done` accepts it.
    pub async fn wait_until(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + DEADLINE;
        loop {
            let (_, shown) = self.get(&format!("/api/plugins/{id}")).await;
            if done(&shown) {
                return shown;
            }
            assert!(std::time::Instant::now() < deadline, "{id}: {shown}");
            tokio::task::yield_now().await;
        }
    }
}

/// The id of the `reload-v1`/`reload-v2` test programs (`run(["version"])` says `v1`/`v2`).
pub const RELOAD_ID: &str = "test.reload";

/// A packed and signed release of the reload test program.
pub struct Release {
    pub version: String,
    pub bytes: Vec<u8>,
    pub signature: String,
}

/// Packs `component` as `test.reload` at `version` and signs it with `key`.
pub fn release(
    root: &Path,
    version: &str,
    component: &str,
    key: &plinth_package::SecretKey,
) -> Release {
    let dir = root.join(format!("src-{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{RELOAD_ID}\"\nversion = \"{version}\"\nname = \"Reload\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n[capabilities]\nlog = true\nconfig = true\n"
        ),
    )
    .unwrap();
    std::fs::copy(component, dir.join("plugin.wasm")).unwrap();
    let packed = plinth_package::pack(&dir).unwrap();
    let signature = key.sign(&packed.package.subject()).to_text();
    Release {
        version: version.to_owned(),
        bytes: packed.bytes,
        signature,
    }
}

/// Writes `releases` (`.plinth` and `.sig` files) into `dir` and an `index.json` listing
/// them; returns the index's path.
pub fn write_index(dir: &Path, releases: &[&Release]) -> PathBuf {
    let mut versions = Vec::new();
    for r in releases {
        let file = format!("reload-{}.plinth", r.version);
        std::fs::write(dir.join(&file), &r.bytes).unwrap();
        std::fs::write(dir.join(format!("{file}.sig")), &r.signature).unwrap();
        versions.push(serde_json::json!({
            "version": r.version,
            "digest": plinth_manifest::Digest::of(&r.bytes).to_string(),
            "url": file,
            "signature_url": format!("{file}.sig"),
            "capabilities": ["log", "config"],
        }));
    }
    let index = serde_json::json!({"schema_version": 1, "plugins": [
        {"id": RELOAD_ID, "name": "Reload", "description": "Says which version it is.", "versions": versions}
    ]});
    let path = dir.join("index.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&index).unwrap()).unwrap();
    path
}

/// Trusts `key` as `name` in `home` (`<home>/trusted-keys.toml`).
pub fn trust(home: &Path, name: &str, key: &plinth_package::SecretKey) {
    std::fs::create_dir_all(home).unwrap();
    let home = plinth_package::Home::new(home);
    let mut trust = home.trust_store().unwrap_or_default();
    trust.add(name, key.public_key()).unwrap();
    trust.save(&home.trust_store_path()).unwrap();
}

/// A home whose configuration names `index` as `[registry] index`.
pub fn with_index(options: &mut ServeOptions, index: &Path) {
    options.config.registry.index = Some(index.display().to_string());
}
