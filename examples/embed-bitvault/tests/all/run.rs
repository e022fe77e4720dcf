//! Runs `embed-bitvault` on a BitVault folder whose plugins are all built from source, with
//! a registry index served on 127.0.0.1, and checks each step of BitVault's scenario: a
//! signed thumbnail transform installed for one tenant (refused for a tenant that does not
//! trust its key), its grants reviewed and then given; real PNG and JPEG uploads whose
//! thumbnails, stored through the storage provider, decode to the expected sizes; object
//! events answered `ok`, `retry` (delivered again) and `reject` (the object removed);
//! a transform that panics and one that runs away failing with their codes while the
//! thumbnails are still made, upload after upload; per-tenant counters; and a second
//! tenant that sees none of the first one's objects or counters.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use image::{ImageFormat, RgbImage};
use plinth_package::SecretKey;
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(120);
const THUMBNAIL_ID: &str = "bitvault.thumbnail";

/// A static file server on 127.0.0.1 (the registry's index, packages and signatures),
/// stopped when dropped.
struct StaticServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    fn start(files: HashMap<String, Vec<u8>>) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                serve(stream, &files);
            }
        });
        StaticServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop up so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, files: &HashMap<String, Vec<u8>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let response = match files.get(path) {
        Some(body) => {
            let mut head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            head.extend_from_slice(body);
            head
        }
        None => {
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
        }
    };
    let _ = stream.write_all(&response);
}

/// The thumbnail example packed as `.plinth` and signed by `key`: (package, signature).
fn signed_thumbnail(root: &Path, key: &SecretKey) -> (Vec<u8>, String) {
    let dir = root.join("thumbnail-src");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        test_programs::example_dir("bitvault-thumbnail").join("plugin.toml"),
        dir.join("plugin.toml"),
    )
    .unwrap();
    std::fs::copy(
        test_programs::BITVAULT_THUMBNAIL,
        dir.join("bitvault_thumbnail.wasm"),
    )
    .unwrap();
    let packed = plinth_package::pack(&dir).unwrap();
    let signature = key.sign(&packed.package.subject()).to_text();
    (packed.bytes, signature)
}

/// A registry index listing the signed thumbnail package, served on 127.0.0.1.
fn registry(package: Vec<u8>, signature: String) -> StaticServer {
    let index = json!({"schema_version": 1, "plugins": [{
        "id": THUMBNAIL_ID,
        "name": "Thumbnails",
        "description": "PNG thumbnails of PNG and JPEG images",
        "versions": [{
            "version": "1.0.0",
            "digest": plinth_manifest::Digest::of(&package).to_string(),
            "url": "packages/bitvault-thumbnail-1.0.0.plinth",
            "signature_url": "packages/bitvault-thumbnail-1.0.0.plinth.sig",
            "capabilities": ["kv"],
        }],
    }]});
    let mut files = HashMap::new();
    files.insert(
        "/index.json".to_owned(),
        serde_json::to_vec(&index).unwrap(),
    );
    files.insert(
        "/packages/bitvault-thumbnail-1.0.0.plinth".to_owned(),
        package,
    );
    files.insert(
        "/packages/bitvault-thumbnail-1.0.0.plinth.sig".to_owned(),
        signature.into_bytes(),
    );
    StaticServer::start(files)
}

/// `plugins/ID` holding `component` and a manifest: `manifest` with its id replaced.
fn operator_plugin(root: &Path, id: &str, component: &str, wasm: &str, manifest: &str) {
    let dir = root.join("plugins").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(wasm, dir.join(component)).unwrap();
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
}

/// The example's own manifest with another plugin id.
fn example_manifest(example: &str, id: &str) -> String {
    let text =
        std::fs::read_to_string(test_programs::example_dir(example).join("plugin.toml")).unwrap();
    let original = text
        .lines()
        .find(|l| l.starts_with("id = "))
        .unwrap()
        .to_owned();
    text.replacen(&original, &format!("id = \"{id}\""), 1)
}

/// A BitVault folder: the operator's plugins, its configuration, and the tenant `acme`
/// trusting the publisher's key.
fn bitvault_dir(root: &Path, index: &str, publisher: &SecretKey) -> PathBuf {
    let dir = root.join("bitvault");
    // The fs reference storage provider.
    operator_plugin(
        &dir,
        "bitvault.files",
        "plugin.wasm",
        test_programs::PDK_STORAGE_FS,
        "[plugin]\nid = \"bitvault.files\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n\n[capabilities]\nfs = { write = [\"objects\"] }\n\n[[provides.storage-provider]]\nname = \"files\"\n",
    );
    operator_plugin(
        &dir,
        "bitvault.events",
        "bitvault_events.wasm",
        test_programs::BITVAULT_EVENTS,
        &example_manifest("bitvault-events", "bitvault.events"),
    );
    // One component, two bugs: chosen by the argument `[plugins.ID] args` gives it.
    for id in ["bitvault.watermark", "bitvault.ocr"] {
        operator_plugin(
            &dir,
            id,
            "bitvault_faulty.wasm",
            test_programs::BITVAULT_FAULTY,
            &example_manifest("bitvault-faulty", id),
        );
    }
    std::fs::write(
        dir.join("bitvault.toml"),
        format!(
            r#"[app]
index = "{index}"
storage = "bitvault.files"
max_attempts = 3

[plugins."bitvault.files"]
grants = ["fs.write:objects"]

[plugins."bitvault.events"]
grants = ["kv"]

[plugins."bitvault.watermark"]
args = ["panic"]

[plugins."bitvault.ocr"]
args = ["spin"]
limits = {{ fuel_units = 300000000, wall_timeout_ms = 20000 }}
"#
        ),
    )
    .unwrap();
    // acme's operators trust the publisher; globex trusts no key.
    let acme = plinth_package::Home::new(dir.join("home"))
        .tenant("acme")
        .unwrap();
    std::fs::create_dir_all(acme.root()).unwrap();
    let mut trust = acme.trust_store().unwrap_or_default();
    trust
        .add("bitvault-publisher", publisher.public_key())
        .unwrap();
    trust.save(&acme.trust_store_path()).unwrap();
    dir
}

/// The running program: its input, and its output lines as they come.
struct BitVault {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<Value>,
}

impl BitVault {
    fn start(dir: &Path) -> BitVault {
        let mut child = Command::new(env!("CARGO_BIN_EXE_embed-bitvault"))
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
        BitVault {
            child,
            stdin,
            lines,
        }
    }

    /// The next output line.
    fn next(&self) -> Value {
        self.lines
            .recv_timeout(PATIENCE)
            .expect("an answer in time")
    }

    /// Sends `command` and returns its answer: the value under `key`, or the test fails
    /// with the answer.
    fn ask(&mut self, command: &str, key: &str) -> Value {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        let answer = self.next();
        answer
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("`{command}`: no `{key}` in {answer}"))
    }
}

/// A `width`×`height` gradient, encoded as `format`, written to `path`.
fn image_file(path: &Path, width: u32, height: u32, format: ImageFormat) {
    let image = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    image.save_with_format(path, format).unwrap();
}

/// Decodes the PNG at `path`: its size.
fn png_size(path: &Path) -> (u32, u32) {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    let image = image::load_from_memory_with_format(&bytes, ImageFormat::Png).unwrap();
    (image.width(), image.height())
}

fn codes(failed: &Value) -> Vec<(String, String)> {
    let mut codes: Vec<(String, String)> = failed
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["plugin"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    codes.sort();
    codes
}

fn contained() -> Vec<(String, String)> {
    vec![
        ("bitvault.ocr".to_owned(), "fuel-exhausted".to_owned()),
        ("bitvault.watermark".to_owned(), "trap".to_owned()),
    ]
}

#[test]
fn bitvault_installs_signed_plugins_per_tenant_and_contains_failures_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let publisher = SecretKey::generate().unwrap();
    let (package, signature) = signed_thumbnail(tmp.path(), &publisher);
    let server = registry(package, signature);
    let dir = bitvault_dir(tmp.path(), &server.url("index.json"), &publisher);
    let mut vault = BitVault::start(&dir);

    let ready = vault.next();
    assert_eq!(ready["ready"]["storage"], "bitvault.files", "{ready}");
    assert_eq!(ready["ready"]["handlers"], json!(["bitvault.events"]));
    assert_eq!(
        ready["ready"]["transforms"],
        json!(["bitvault.ocr", "bitvault.watermark"])
    );

    // globex does not trust the publisher's key: nothing is installed for it.
    let refused = vault.ask("install globex bitvault.thumbnail", "error");
    assert_eq!(refused["code"], "untrusted-key", "{refused}");
    // acme does: installed, then reviewed before anything is granted or run.
    let review = vault.ask("install acme bitvault.thumbnail", "review");
    assert_eq!(review["plugin"], THUMBNAIL_ID);
    assert_eq!(review["version"], "1.0.0");
    assert_eq!(review["signer"], "bitvault-publisher");
    assert_eq!(review["grants"], json!(["kv"]), "{review}");
    // Only what the plugin requests can be given.
    let extra = vault.ask(
        "approve acme bitvault.thumbnail kv fs.read:objects",
        "error",
    );
    assert_eq!(extra["code"], "bad-argument", "{extra}");
    let approved = vault.ask("approve acme bitvault.thumbnail kv", "approved");
    assert_eq!(approved["grants"], json!(["kv"]));
    assert_eq!(approved["transform"], true);

    // A PNG upload: stored, its event handled, a thumbnail made inside the guest and stored;
    // the transform that panics and the one that runs away fail with their codes.
    let cat = tmp.path().join("cat.png");
    image_file(&cat, 640, 480, ImageFormat::Png);
    let upload = vault.ask(
        &format!("upload acme photos/cat.png image/png {}", cat.display()),
        "upload",
    );
    assert_eq!(upload["stored"], true, "{upload}");
    assert_eq!(upload["size"], std::fs::metadata(&cat).unwrap().len());
    assert_eq!(upload["events"][0]["outcome"], "ok", "{upload}");
    assert_eq!(upload["events"][0]["attempts"], 1);
    let derived = &upload["derived"];
    assert_eq!(derived.as_array().unwrap().len(), 1, "{upload}");
    assert_eq!(derived[0]["plugin"], THUMBNAIL_ID);
    assert_eq!(derived[0]["key"], "derived/thumbnail/photos/cat.png");
    assert_eq!(derived[0]["media_type"], "image/png");
    assert_eq!(derived[0]["entries"]["width"], "128");
    assert_eq!(derived[0]["entries"]["height"], "96");
    assert_eq!(derived[0]["entries"]["source-width"], "640");
    assert_eq!(codes(&upload["failed"]), contained(), "{upload}");
    let thumb = tmp.path().join("cat-thumb.png");
    let got = vault.ask(
        &format!(
            "get acme derived/thumbnail/photos/cat.png {}",
            thumb.display()
        ),
        "get",
    );
    assert_eq!(got["size"], derived[0]["size"]);
    assert_eq!(png_size(&thumb), (128, 96));

    // The next upload, a JPEG under incoming/: the handler asks for a retry first, the
    // event is delivered again, and the failing transforms are contained again.
    let scan = tmp.path().join("scan.jpg");
    image_file(&scan, 300, 400, ImageFormat::Jpeg);
    let upload = vault.ask(
        &format!(
            "upload acme incoming/scan.jpg image/jpeg {}",
            scan.display()
        ),
        "upload",
    );
    assert_eq!(upload["events"][0]["outcome"], "ok", "{upload}");
    assert_eq!(upload["events"][0]["attempts"], 2, "{upload}");
    assert_eq!(upload["derived"][0]["entries"]["width"], "96", "{upload}");
    assert_eq!(upload["derived"][0]["entries"]["height"], "128");
    assert_eq!(codes(&upload["failed"]), contained(), "{upload}");
    let thumb = tmp.path().join("scan-thumb.png");
    vault.ask(
        &format!(
            "get acme derived/thumbnail/incoming/scan.jpg {}",
            thumb.display()
        ),
        "get",
    );
    assert_eq!(png_size(&thumb), (96, 128));

    // An executable: the handler rejects it and the object is removed again.
    let setup = tmp.path().join("setup.exe");
    std::fs::write(&setup, b"MZ\x90\x00 not really a program").unwrap();
    let upload = vault.ask(
        &format!(
            "upload acme tools/setup.exe application/x-msdownload {}",
            setup.display()
        ),
        "upload",
    );
    assert_eq!(upload["stored"], false, "{upload}");
    assert_eq!(upload["events"][0]["outcome"], "reject");
    assert_eq!(
        upload["events"][0]["reason"],
        "executables are not accepted"
    );
    let listed = vault.ask("list acme", "list");
    assert_eq!(
        listed["keys"],
        json!([
            "derived/thumbnail/incoming/scan.jpg",
            "derived/thumbnail/photos/cat.png",
            "incoming/scan.jpg",
            "photos/cat.png",
        ])
    );

    // globex: the same key, its own object; no thumbnail plugin, none of acme's objects.
    let other = tmp.path().join("other.png");
    image_file(&other, 64, 64, ImageFormat::Png);
    let upload = vault.ask(
        &format!("upload globex photos/cat.png image/png {}", other.display()),
        "upload",
    );
    assert_eq!(upload["derived"], json!([]), "{upload}");
    assert_eq!(codes(&upload["failed"]), contained(), "{upload}");
    let listed = vault.ask("list globex", "list");
    assert_eq!(listed["keys"], json!(["photos/cat.png"]));
    let fetched = tmp.path().join("fetched.png");
    let got = vault.ask(
        &format!("get globex photos/cat.png {}", fetched.display()),
        "get",
    );
    assert_eq!(got["size"], std::fs::metadata(&other).unwrap().len());
    assert_eq!(png_size(&fetched), (64, 64));
    // acme's keys name nothing for globex; a key cannot climb out of its folder.
    for key in ["derived/thumbnail/photos/cat.png", "incoming/scan.jpg"] {
        let error = vault.ask(&format!("get globex {key} {}", fetched.display()), "error");
        assert_eq!(error["code"], "plugin-failed", "{key}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains("(not-found)"),
            "{key}: {error}"
        );
    }
    let error = vault.ask(
        &format!("get globex ../acme/photos/cat.png {}", fetched.display()),
        "error",
    );
    assert_eq!(error["code"], "invalid-input", "{error}");

    // Deleting is an event too.
    let deleted = vault.ask("delete acme photos/cat.png", "deleted");
    assert_eq!(deleted["events"][0]["outcome"], "ok", "{deleted}");

    // Per-tenant counters, kept in the tenant's key-value namespaces.
    let acme = vault.ask("stats acme", "stats");
    let counters = &acme["counters"];
    assert_eq!(counters["bitvault"]["uploads"], 3, "{acme}");
    assert_eq!(counters["bitvault"]["rejected"], 1, "{acme}");
    assert_eq!(counters["bitvault"]["transform-failures"], 4, "{acme}");
    assert_eq!(counters[THUMBNAIL_ID]["thumbnails"], 2, "{acme}");
    assert_eq!(counters["bitvault.events"]["events:created"], 4, "{acme}");
    assert_eq!(counters["bitvault.events"]["events:deleted"], 1, "{acme}");
    let globex = vault.ask("stats globex", "stats");
    let counters = &globex["counters"];
    assert_eq!(counters["bitvault"]["uploads"], 1, "{globex}");
    assert_eq!(counters["bitvault"]["transform-failures"], 2, "{globex}");
    assert_eq!(counters["bitvault.events"]["events:created"], 1, "{globex}");
    assert!(counters.get(THUMBNAIL_ID).is_none(), "{globex}");
    assert!(counters["bitvault.events"].get("events:deleted").is_none());

    // On disk, each tenant's objects are in its own folder.
    let files = |tenant: &str| {
        std::fs::read_dir(dir.join("data/objects").join(tenant))
            .unwrap()
            .count()
    };
    assert_eq!(files("globex"), 1);
    assert_eq!(files("acme"), 3);

    let bad = vault.ask("stats ../acme", "error");
    assert_eq!(bad["code"], "bad-argument", "{bad}");

    writeln!(vault.stdin, "quit").unwrap();
    let status = vault.child.wait().unwrap();
    assert!(status.success(), "{status}");
    drop(server);
}
