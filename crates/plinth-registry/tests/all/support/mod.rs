//! Test helpers: a real `docker-registry` on 127.0.0.1, a tiny static HTTP server, packages.
//!
//! Shared by this crate's tests and the CLI's (`#[path]` include), so it uses only std and the
//! archive crates.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The Debian package that provides the registry binary.
pub const REGISTRY_PACKAGE: &str = "docker-registry";
/// The registry binary (`PLINTH_REGISTRY_BIN` overrides it).
pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";
/// Set to skip the tests that need external servers or clients.
pub const SKIP_VAR: &str = "PLINTH_SKIP_REGISTRY_TESTS";

/// Whether the registry tests are switched off by `PLINTH_SKIP_REGISTRY_TESTS`.
pub fn skipped(test: &str) -> bool {
    if std::env::var_os(SKIP_VAR).is_some_and(|v| !v.is_empty() && v != "0") {
        eprintln!("{test}: skipped because {SKIP_VAR} is set");
        return true;
    }
    false
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A `docker-registry serve` process on 127.0.0.1 with its own storage; killed on drop.
pub struct RegistryServer {
    child: Child,
    pub port: u16,
    pub storage: PathBuf,
    _dir: tempfile::TempDir,
}

impl RegistryServer {
    /// Starts a registry and waits until `GET /v2/` answers 200. Panics (naming the Debian
    /// package) when the binary is missing.
    pub fn start() -> RegistryServer {
        let bin = std::env::var("PLINTH_REGISTRY_BIN").unwrap_or_else(|_| REGISTRY_BIN.into());
        assert!(
            Path::new(&bin).exists(),
            "{bin} is missing: install Debian's `{REGISTRY_PACKAGE}` package \
             (apt-get install -y {REGISTRY_PACKAGE}), or set {SKIP_VAR}=1 to skip these tests"
        );
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("storage");
        std::fs::create_dir(&storage).unwrap();
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\n\
                 log:\n  level: error\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 http:\n  addr: 127.0.0.1:{port}\n",
                storage.display()
            ),
        )
        .unwrap();
        let child = Command::new(&bin)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut server = RegistryServer {
            child,
            port,
            storage,
            _dir: dir,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("docker-registry exited early ({status}): {stderr}");
            }
            if http_get(self.port, "/v2/").is_some_and(|(status, _)| status == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer GET /v2/ on port {} within 30 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The file holding the blob with this digest (`sha256:…`) in the registry's storage.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.0 GET on 127.0.0.1: (status, body), or `None` when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, Vec<u8>)> {
    http_get_with(port, path, &[])
}

/// Like [`http_get`] with extra request headers.
pub fn http_get_with(port: u16, path: &str, headers: &[(&str, &str)]) -> Option<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&response[..end]).to_string();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, response[end + 4..].to_vec()))
}

/// Files served by [`StaticServer`], by path; tests may change them while it runs.
pub type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// A static HTTP server on 127.0.0.1 (one thread, HTTP/1.0, GET only); stopped on drop.
pub struct StaticServer {
    pub port: u16,
    pub files: Files,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    pub fn start(files: HashMap<String, Vec<u8>>) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let files: Files = Arc::new(Mutex::new(files));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let files = files.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &files);
                    }
                }
            })
        };
        StaticServer {
            port,
            files,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }

    pub fn set(&self, path: &str, body: Vec<u8>) {
        self.files.lock().unwrap().insert(path.to_owned(), body);
    }
}

fn serve(mut stream: TcpStream, files: &Files) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let body = files.lock().unwrap().get(&path).cloned();
    let response = match body {
        Some(body) => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(&body);
            r
        }
        None => {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
    };
    let _ = stream.write_all(&response);
    let _ = stream.shutdown(Shutdown::Both);
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A `plugin.toml` for `id` at `version`.
pub fn plugin_toml(id: &str, version: &str) -> String {
    format!(
        "[plugin]\nid = \"{id}\"\nversion = \"{version}\"\nname = \"Test {id}\"\n\n\
         [runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n\n\
         [capabilities]\nlog = true\n"
    )
}

/// A `.plinth`-shaped archive (gzip'd tar with `plugin.toml` and `plugin.wasm`), deterministic.
pub fn make_package(id: &str, version: &str, component: &[u8]) -> Vec<u8> {
    let manifest = plugin_toml(id, version);
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("plugin.toml", manifest.as_bytes()),
        ("plugin.wasm", component),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, name, data).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

/// `sha256:<hex>` of bytes.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}
