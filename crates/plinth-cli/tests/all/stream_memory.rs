//! Where a Python or JavaScript content transform's memory goes while bytes stream through
//! it (docs/design/0070). One probe per language, built with the pinned toolchains, copies
//! its input three ways: `forward` (the host splices input to output), `read` (reads every
//! chunk, writes nothing) and `copy` (writes back each chunk it read). Under a 16 MiB
//! memory limit 48 MiB pass by `forward` in both languages and by `read` in Python; a
//! `copy` runs into the limit in both, since the bytes of every `write` stay in linear
//! memory for the call; JavaScript's reads do too, since the engine collects read chunks
//! only tens of MiB apart.

use std::io::Cursor;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use plinth_host::kinds::{ContentTransform, TransformRequest};
use plinth_host::{Host, Limits, LoadOptions};

use crate::common::{assert_ok, plinth_project};

const MIB: u64 = 1024 * 1024;
/// The kit's `bounded-memory` case: 48 MiB through a plugin limited to 16 MiB.
const STREAMED: u64 = 48 * MIB;
const LIMIT: u64 = 16 * MIB;

const MANIFEST: &str = r#"[plugin]
id = "memory-probe"
version = "0.1.0"
name = "memory-probe"

[runtime]
kind = "wasm-component"
component = "memory_probe.wasm"

[[provides.content-transform]]
name = "probe"
media_types = ["text/x-forward", "text/x-read", "text/x-copy"]
"#;

const PYTHON: &str = r#"from plinth_pdk import TransformOutput, content_transform
from plinth_pdk.exports import ContentTransform, Lifecycle  # noqa: F401


@content_transform("text/x-forward")
def forward(request, input, output):
    return TransformOutput("text/plain").with_entry("bytes", output.forward(input))


@content_transform("text/x-read")
def read(request, input, output):
    return TransformOutput("text/plain").with_entry("bytes", sum(len(c) for c in input))


@content_transform("text/x-copy")
def copy(request, input, output):
    total = 0
    for chunk in input:
        output.write(chunk)
        total += len(chunk)
    return TransformOutput("text/plain").with_entry("bytes", total)
"#;

const JS: &str = r#"import { contentTransform, transformOutput } from './plinth-pdk.js';

export { lifecycle, contentTransformExport as contentTransform } from './plinth-pdk.js';

contentTransform(['text/x-forward'], (request, input, output) =>
  transformOutput('text/plain').withEntry('bytes', output.forward(input)));

contentTransform(['text/x-read'], (request, input, output) => {
  let total = 0;
  for (const chunk of input) total += chunk.length;
  return transformOutput('text/plain').withEntry('bytes', total);
});

contentTransform(['text/x-copy'], (request, input, output) => {
  let total = 0;
  for (const chunk of input) {
    output.write(chunk);
    total += chunk.length;
  }
  return transformOutput('text/plain').withEntry('bytes', total);
});
"#;

/// An output that counts what it is given.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

impl tokio::io::AsyncWrite for Counter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// One probe run: whether it answered, the bytes that reached the output and the peak
/// memory of its instance.
#[derive(Debug)]
struct Run {
    answered: Result<(), String>,
    output: u64,
    peak: u64,
}

fn stream(host: &Host, dir: &Path, media_type: &str, bytes: u64, memory: u64) -> Run {
    let plugin = host
        .load_with(
            dir,
            LoadOptions::default().with_limits(Limits::default().with_memory(memory)),
        )
        .unwrap_or_else(|e| panic!("load {}: {e}", dir.display()));
    let transforms = plugin
        .kind::<ContentTransform>()
        .expect("a content transform");
    let content = b"line: the quick brown fox jumps\n"
        .iter()
        .copied()
        .cycle()
        .take(bytes as usize)
        .collect::<Vec<u8>>();
    let counter = Counter::default();
    let request = TransformRequest::new(media_type).with_size(bytes);
    let answered = transforms
        .transform(&request, Cursor::new(content), counter.clone())
        .map(drop)
        .map_err(|e| e.to_string());
    Run {
        answered,
        output: counter.0.load(Ordering::Relaxed),
        peak: plugin.usage().peak_memory_bytes,
    }
}

fn build_probe(root: &Path, lang: &str) -> std::path::PathBuf {
    let dir = root.join(format!("probe-{lang}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plugin.toml"), MANIFEST).unwrap();
    let (file, source) = match lang {
        "python" => ("app.py", PYTHON),
        _ => ("app.js", JS),
    };
    std::fs::write(dir.join(file), source).unwrap();
    let built = plinth_project(root, &["build", dir.to_str().unwrap()]);
    assert_ok(&built, &format!("build the {lang} probe"));
    dir
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / MIB as f64)
}

#[test]
fn forwarded_bytes_stay_out_of_python_and_javascript_memory_and_written_ones_do_not() {
    let root = tempfile::Builder::new()
        .prefix("plinth-stream-memory")
        .tempdir()
        .expect("temp dir");
    let root = root.path();
    let host = Host::builder()
        .cache_dir(root.join("home/cache"))
        .build()
        .expect("host");
    for lang in ["python", "js"] {
        let dir = build_probe(root, lang);

        // Under the kit's limit: forwarding passes, and so does reading in Python.
        let forward = stream(&host, &dir, "text/x-forward", STREAMED, LIMIT);
        eprintln!(
            "{lang} forward {}: {forward:?} peak {}",
            mib(STREAMED),
            mib(forward.peak)
        );
        assert_eq!(forward.answered, Ok(()), "{lang}: forward");
        assert_eq!(forward.output, STREAMED, "{lang}: forward");
        assert!(
            forward.peak <= LIMIT,
            "{lang}: forward peaked at {}",
            mib(forward.peak)
        );

        let read = stream(&host, &dir, "text/x-read", STREAMED, LIMIT);
        eprintln!(
            "{lang} read {}: {read:?} peak {}",
            mib(STREAMED),
            mib(read.peak)
        );
        match lang {
            "python" => assert_eq!(read.answered, Ok(()), "python: read"),
            _ => assert!(read.answered.is_err(), "js: read passed: {read:?}"),
        }

        let copy = stream(&host, &dir, "text/x-copy", STREAMED, LIMIT);
        eprintln!(
            "{lang} copy {}: {copy:?} peak {}",
            mib(STREAMED),
            mib(copy.peak)
        );
        assert!(copy.answered.is_err(), "{lang}: copy passed: {copy:?}");
        assert!(copy.output < STREAMED, "{lang}: copy wrote everything");

        // Without the limit's pressure a copy's memory grows by about what it wrote (the
        // heap's free room at rest absorbs the first MiB): the written bytes are not freed
        // during the call.
        let roomy = 256 * MIB;
        let baseline = stream(&host, &dir, "text/x-forward", 32 * MIB, roomy).peak;
        let copied = stream(&host, &dir, "text/x-copy", 32 * MIB, roomy);
        eprintln!(
            "{lang} copy 32 MiB: peak {} over a forward's {}",
            mib(copied.peak),
            mib(baseline)
        );
        assert_eq!(copied.answered, Ok(()), "{lang}: copy 32 MiB");
        assert!(
            copied.peak >= baseline + 28 * MIB,
            "{lang}: a 32 MiB copy grew memory by only {}",
            mib(copied.peak.saturating_sub(baseline))
        );
    }
}
