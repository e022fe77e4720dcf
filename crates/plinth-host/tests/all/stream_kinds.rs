//! The streaming kinds through the typed host API (docs/design/0046): a content transform
//! fed through `wasi:io` streams and passed whole, the host's checks before and after it
//! runs, a gibibyte streamed through it with the host's peak RSS measured, and the two
//! reference storage providers (files in a granted directory, chunks in KV).

use std::io::Write as _;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use plinth_host::kinds::{
    ContentTransform, KindError, StorageProvider, TransformRequest, key_violation,
};
use plinth_host::{Host, Limits, LoadOptions, Plugin};
use plinth_manifest::{Code, Kind, Manifest};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The manifest of the `pdk-transform` guest after `[runtime]`.
pub(crate) const TRANSFORM_MANIFEST: &str = r#"
[capabilities]
kv = true

[[provides.content-transform]]
name = "upper"
media_types = ["text/plain"]
output_media_type = "text/plain"

[[provides.content-transform]]
name = "copy"
media_types = ["application/octet-stream"]
output_media_type = "application/octet-stream"
"#;

/// The manifest of the `pdk-storage-fs` guest after `[runtime]`.
pub(crate) const FS_STORE_MANIFEST: &str = r#"
[capabilities]
fs = { write = ["objects"] }

[[provides.storage-provider]]
name = "files"
"#;

/// The manifest of the `pdk-storage-kv` guest after `[runtime]`.
pub(crate) const KV_STORE_MANIFEST: &str = r#"
[capabilities]
kv = true

[[provides.storage-provider]]
name = "kv"
"#;

/// A plugin folder: `component` copied in, `id`, then manifest text after `[runtime]`.
pub(crate) fn write_plugin_dir(dir: &Path, component: &str, id: &str, rest: &str) {
    std::fs::copy(component, dir.join("plugin.wasm")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n\n{rest}"
        ),
    )
    .unwrap();
}

/// A host with a key-value store and the directory `objects`, under `home`.
pub(crate) fn host_in(home: &Path, limits: Limits) -> Host {
    let objects = home.join("objects");
    std::fs::create_dir_all(&objects).unwrap();
    Host::builder()
        .data_dir(home.join("kv"))
        .dir("objects", &objects)
        .limits(limits)
        .build()
        .unwrap()
}

/// Loads a plugin folder with every capability its manifest requests.
fn load(host: &Host, component: &str, id: &str, manifest: &str) -> (Plugin, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    write_plugin_dir(dir.path(), component, id, manifest);
    let requested = Manifest::load(dir.path())
        .unwrap()
        .manifest
        .requested_grants();
    let plugin = host
        .load_with(dir.path(), LoadOptions::default().with_grants(requested))
        .unwrap();
    (plugin, dir)
}

/// A writer into memory the test keeps a handle on.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Sink {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The period of [`pattern`]: a prime, so it never lines up with a chunk.
const PERIOD: usize = 65_521;

/// One period of the pattern streams are made of.
fn block() -> &'static [u8] {
    static BLOCK: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BLOCK.get_or_init(|| {
        (0..PERIOD as u64)
            .map(|i| (i.wrapping_mul(31) ^ (i >> 7)) as u8)
            .collect()
    })
}

/// The byte at `i` of a [`Generated`] stream.
fn pattern(i: u64) -> u8 {
    block()[(i % PERIOD as u64) as usize]
}

/// `len` bytes of [`pattern`], made as they are read: nothing is stored.
struct Generated {
    len: u64,
    at: u64,
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let offset = (self.at % PERIOD as u64) as usize;
        let n = (buf.remaining() as u64)
            .min(self.len - self.at)
            .min((PERIOD - offset) as u64) as usize;
        buf.put_slice(&block()[offset..offset + n]);
        self.at += n as u64;
        Poll::Ready(Ok(()))
    }
}

/// A writer that checks what it is given against [`pattern`] and keeps only counts:
/// (bytes, bytes that differ).
#[derive(Clone, Default)]
struct Checked(Arc<Mutex<(u64, u64)>>);

impl AsyncWrite for Checked {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut state = self.0.lock().unwrap();
        let mut rest = buf;
        while !rest.is_empty() {
            let offset = (state.0 % PERIOD as u64) as usize;
            let n = rest.len().min(PERIOD - offset);
            if rest[..n] != block()[offset..offset + n] {
                let wrong = rest[..n]
                    .iter()
                    .zip(&block()[offset..offset + n])
                    .filter(|(a, b)| a != b)
                    .count();
                state.1 += wrong as u64;
            }
            state.0 += n as u64;
            rest = &rest[n..];
        }
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn text_streams_through_and_is_passed_whole_alike() {
    let home = tempfile::tempdir().unwrap();
    let host = host_in(home.path(), Limits::default().with_timeout_ms(10_000));
    let (plugin, _dir) = load(
        &host,
        test_programs::PDK_TRANSFORM,
        "test.transform",
        TRANSFORM_MANIFEST,
    );
    assert_eq!(plugin.kinds(), [Kind::ContentTransform]);
    let transforms = plugin.kind::<ContentTransform>().unwrap();
    assert_eq!(
        transforms.media_types(),
        ["text/plain", "application/octet-stream"]
    );

    let text = "Quarterly report: ünïcode stays.\nRevenue rose.\n".repeat(5_000);
    let sink = Sink::default();
    let request = TransformRequest::new("Text/Plain; charset=utf-8").with_param("mode", "upper");
    let meta = transforms
        .transform(
            &request,
            std::io::Cursor::new(text.clone().into_bytes()),
            sink.clone(),
        )
        .unwrap();
    let expected = text.to_ascii_uppercase();
    assert_eq!(sink.bytes(), expected.as_bytes());
    assert_eq!(meta.media_type, "text/plain");
    assert_eq!(meta.entry("lines"), Some("10000"));
    assert_eq!(meta.output_bytes, expected.len() as u64);

    let (whole, bytes) = transforms
        .transform_bytes(&TransformRequest::new("text/plain"), text.as_bytes())
        .unwrap();
    assert_eq!(bytes, expected.as_bytes());
    assert_eq!(whole.entries, meta.entries);
}

#[test]
fn the_host_refuses_before_and_after_the_plugin() {
    let home = tempfile::tempdir().unwrap();
    let host = host_in(home.path(), Limits::default().with_timeout_ms(10_000));
    let (plugin, _dir) = load(
        &host,
        test_programs::PDK_TRANSFORM,
        "test.transform",
        TRANSFORM_MANIFEST,
    );
    let transforms = plugin.kind::<ContentTransform>().unwrap();

    // An undeclared media type: `unknown-format`, and the plugin never ran (its counter in
    // KV did not move).
    let before = plugin.usage().calls;
    let err = transforms
        .transform(
            &TransformRequest::new("image/png"),
            std::io::Cursor::new(vec![1, 2, 3]),
            Sink::default(),
        )
        .unwrap_err();
    assert!(matches!(err, KindError::NotAccepted { .. }), "{err}");
    assert_eq!(err.code(), Code::UnknownFormat);
    assert_eq!(plugin.usage().calls, before, "the plugin ran");

    // Output over the embedder's cap: `too-large`, and no more than the cap was written.
    let sink = Sink::default();
    let err = transforms
        .with_output_limit(1000)
        .transform(
            &TransformRequest::new("application/octet-stream"),
            Generated {
                len: 1 << 20,
                at: 0,
            },
            sink.clone(),
        )
        .unwrap_err();
    assert!(
        matches!(err, KindError::OutputTooLarge { limit: 1000, .. }),
        "{err}"
    );
    assert_eq!(err.code(), Code::TooLarge);
    assert!(
        sink.bytes().len() <= 1000,
        "{} bytes passed the cap",
        sink.bytes().len()
    );

    // Bytes that are not UTF-8 as `text/plain`: the plugin's own `invalid-input`.
    let err = transforms
        .transform(
            &TransformRequest::new("text/plain"),
            std::io::Cursor::new(vec![b'a', 0xff, b'b']),
            Sink::default(),
        )
        .unwrap_err();
    match &err {
        KindError::PluginFailed { code, .. } => assert_eq!(code, "invalid-input"),
        other => panic!("{other}"),
    }
    // A whole input over the cap for whole inputs: `too-large` before anything runs.
    let big = vec![b'a'; plinth_host::kinds::MAX_WHOLE_BYTES + 1];
    let err = transforms
        .transform_bytes(&TransformRequest::new("text/plain"), &big)
        .unwrap_err();
    assert_eq!(err.code(), Code::TooLarge);
}

#[test]
fn a_transform_that_runs_away_is_stopped_and_the_next_call_works() {
    let home = tempfile::tempdir().unwrap();
    let host = host_in(
        home.path(),
        Limits::default()
            .with_timeout_ms(10_000)
            .with_fuel(20_000_000),
    );
    let (heavy, _dir) = load(
        &host,
        test_programs::PDK_TRANSFORM,
        "test.transform.mutant-ct-heavy",
        TRANSFORM_MANIFEST,
    );
    let err = heavy
        .kind::<ContentTransform>()
        .unwrap()
        .transform(
            &TransformRequest::new("text/plain"),
            std::io::Cursor::new(b"x\n".to_vec()),
            Sink::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), Code::FuelExhausted, "{err}");
    let (plugin, _dir2) = load(
        &host,
        test_programs::PDK_TRANSFORM,
        "test.transform",
        TRANSFORM_MANIFEST,
    );
    let sink = Sink::default();
    plugin
        .kind::<ContentTransform>()
        .unwrap()
        .transform(
            &TransformRequest::new("text/plain"),
            std::io::Cursor::new(b"ok\n".to_vec()),
            sink.clone(),
        )
        .unwrap();
    assert_eq!(sink.bytes(), b"OK\n");
}

#[test]
fn a_transform_that_holds_its_input_runs_out_of_memory() {
    let home = tempfile::tempdir().unwrap();
    let limits = Limits::default()
        .with_timeout_ms(30_000)
        .with_memory(16 << 20);
    let host = host_in(home.path(), limits);
    let request = TransformRequest::new("application/octet-stream");
    let (buffers, _dir) = load(
        &host,
        test_programs::PDK_TRANSFORM,
        "test.transform.mutant-ct-buffers",
        TRANSFORM_MANIFEST,
    );
    let err = buffers
        .kind::<ContentTransform>()
        .unwrap()
        .transform(
            &request,
            Generated {
                len: 48 << 20,
                at: 0,
            },
            Sink::default(),
        )
        .unwrap_err();
    // The guest's allocator fails inside `read_to_end`, which the plugin reports.
    assert!(err.to_string().contains("out of memory"), "{err}");
    // The same 48 MiB streams through the reference under the same limit.
    let (plugin, _dir2) = load(
        &host,
        test_programs::PDK_TRANSFORM,
        "test.transform",
        TRANSFORM_MANIFEST,
    );
    let checked = Checked::default();
    plugin
        .kind::<ContentTransform>()
        .unwrap()
        .transform(
            &request,
            Generated {
                len: 48 << 20,
                at: 0,
            },
            checked.clone(),
        )
        .unwrap();
    assert_eq!(*checked.0.lock().unwrap(), (48 << 20, 0));
}

/// A reader whose bytes never come.
struct Never;

impl AsyncRead for Never {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Pending
    }
}

#[test]
fn a_transform_waiting_on_a_stream_that_never_comes_times_out() {
    let home = tempfile::tempdir().unwrap();
    let host = host_in(home.path(), Limits::default().with_timeout_ms(500));
    let (plugin, _dir) = load(
        &host,
        test_programs::PDK_TRANSFORM,
        "test.transform",
        TRANSFORM_MANIFEST,
    );
    let started = std::time::Instant::now();
    let err = plugin
        .kind::<ContentTransform>()
        .unwrap()
        .transform(&TransformRequest::new("text/plain"), Never, Sink::default())
        .unwrap_err();
    assert_eq!(err.code(), Code::Timeout, "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// The bytes the gibibyte test streams.
const GIBIBYTE: u64 = 1 << 30;

/// The child of [`a_gibibyte_streams_through_with_bounded_host_memory`]: with
/// `PLINTH_STREAM_CHILD` set, streams a gibibyte through the copy transform and prints
/// `bytes=N mismatched=N vmhwm_kib=N seconds=S`. Without it, nothing.
#[test]
fn gibibyte_child() {
    if std::env::var_os("PLINTH_STREAM_CHILD").is_none() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let limits = Limits::default()
        .with_timeout_ms(600_000)
        .with_fuel(u64::MAX / 4)
        .with_memory(16 << 20);
    let host = host_in(home.path(), limits);
    let (plugin, _dir) = load(
        &host,
        test_programs::PDK_TRANSFORM,
        "test.transform",
        TRANSFORM_MANIFEST,
    );
    let checked = Checked::default();
    let started = std::time::Instant::now();
    let meta = plugin
        .kind::<ContentTransform>()
        .unwrap()
        .transform(
            &TransformRequest::new("application/octet-stream").with_size(GIBIBYTE),
            Generated {
                len: GIBIBYTE,
                at: 0,
            },
            checked.clone(),
        )
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let (bytes, mismatched) = *checked.0.lock().unwrap();
    assert_eq!(meta.output_bytes, bytes);
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let vmhwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap();
    let mut out = std::io::stdout();
    writeln!(
        out,
        "STREAM bytes={bytes} mismatched={mismatched} vmhwm_kib={vmhwm} seconds={seconds:.2}"
    )
    .unwrap();
}

/// Streams 1 GiB, generated as it is read and checked as it is written, through the copy
/// transform in a child process (this test binary, running [`gibibyte_child`] alone) and
/// asserts the child's peak RSS (`VmHWM`) stayed under 256 MiB.
#[test]
fn a_gibibyte_streams_through_with_bounded_host_memory() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "stream_kinds::gibibyte_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("PLINTH_STREAM_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("STREAM ").map(|(_, figures)| figures))
        .unwrap_or_else(|| panic!("the child printed no figures: {stdout}"));
    let field = |name: &str| -> f64 {
        line.split(' ')
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    eprintln!("1 GiB through the copy transform: {line}");
    assert_eq!(field("bytes") as u64, GIBIBYTE);
    assert_eq!(field("mismatched") as u64, 0);
    let peak_mib = field("vmhwm_kib") / 1024.0;
    assert!(peak_mib < 256.0, "peak RSS {peak_mib:.1} MiB");
}

#[test]
fn both_reference_providers_store_list_and_delete() {
    let home = tempfile::tempdir().unwrap();
    let host = host_in(home.path(), Limits::default().with_timeout_ms(30_000));
    for (component, manifest) in [
        (test_programs::PDK_STORAGE_FS, FS_STORE_MANIFEST),
        (test_programs::PDK_STORAGE_KV, KV_STORE_MANIFEST),
    ] {
        let (plugin, _dir) = load(&host, component, "test.store", manifest);
        let store = plugin.kind::<StorageProvider>().unwrap();
        let big: Vec<u8> = (0..3 * 1024 * 1024 + 17u64).map(pattern).collect();
        assert_eq!(
            store.put_bytes("photos/big.bin", &big).unwrap().size,
            big.len() as u64
        );
        store.put_bytes("photos/a.txt", b"alpha").unwrap();
        store.put_bytes("notes/n.txt", b"").unwrap();
        assert_eq!(
            store.get_bytes("photos/big.bin").unwrap().1,
            big,
            "{component}"
        );
        assert_eq!(store.head("notes/n.txt").unwrap().size, 0);
        assert_eq!(
            store.list_all("photos/", 1).unwrap(),
            ["photos/a.txt", "photos/big.bin"]
        );
        let page = store.list("", None, 2).unwrap();
        assert_eq!(page.keys, ["notes/n.txt", "photos/a.txt"]);
        store.delete("photos/a.txt").unwrap();
        let err = store.head("photos/a.txt").unwrap_err();
        assert!(
            matches!(&err, KindError::PluginFailed { code, .. } if code == "not-found"),
            "{err}"
        );
        // The host refuses a bad key before the plugin runs.
        let err = store.put_bytes("../escape", b"x").unwrap_err();
        assert!(matches!(err, KindError::InvalidKey { .. }), "{err}");
        assert_eq!(err.code(), Code::InvalidInput);
        assert!(key_violation("a/../b").is_some());
    }
    // The fs provider's objects are files in the granted directory, named so that no key
    // spelling is a path.
    let names: Vec<String> = std::fs::read_dir(home.path().join("objects"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.bytes().all(|b| b.is_ascii_hexdigit())),
        "{names:?}"
    );
}
