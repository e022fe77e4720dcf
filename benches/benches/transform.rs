//! Content-transform throughput (docs/design/0046): 1 MiB and 64 MiB of text streamed
//! through the `pdk-transform` guest (`text/plain`: checked as UTF-8 across chunks, lines
//! counted, ASCII uppercased, a 64 KiB chunk at a time) beside the same loop compiled
//! natively, in the same run. `plinth_stream` goes through `wasi:io` streams lent by the
//! host; `plinth_whole` passes the input whole (`transform-bytes`, 1 MiB only); `native`
//! is [`native_upper`], the guest's loop without the PDK.
//!
//! `cargo bench -p plinth-benches --bench transform`; `docs/performance.md` records the
//! figures with the command that made them.

use std::hint::black_box;
use std::io::{Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use plinth_host::kinds::{ContentTransform, TransformRequest};
use plinth_host::{Host, Limits, LoadOptions, Plugin};
use plinth_manifest::Grant;
use tokio::io::AsyncWrite;

const MANIFEST: &str = r#"[plugin]
id = "bench.transform"
version = "0.1.0"

[runtime]
kind = "wasm-component"
component = "transform.wasm"

[capabilities]
kv = true

[[provides.content-transform]]
name = "upper"
media_types = ["text/plain"]
"#;

/// `len` bytes of text lines.
fn text(len: usize) -> Vec<u8> {
    let line = b"Quarterly report: revenue rose, costs fell, plugins streamed.\n";
    line.iter().copied().cycle().take(len).collect()
}

/// The guest's `text/plain` loop, natively: UTF-8 checked across chunk boundaries, lines
/// counted, ASCII uppercased, written a chunk at a time.
fn native_upper(input: &mut dyn Read, output: &mut dyn Write) -> std::io::Result<u64> {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut carry: Vec<u8> = Vec::new();
    let mut lines = 0u64;
    loop {
        let n = input.read(&mut chunk)?;
        if n == 0 {
            return Ok(lines);
        }
        carry.extend_from_slice(&chunk[..n]);
        let valid = match std::str::from_utf8(&carry) {
            Ok(_) => carry.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => return Err(std::io::Error::other(e)),
        };
        lines += carry[..valid].iter().filter(|b| **b == b'\n').count() as u64;
        carry[..valid].make_ascii_uppercase();
        output.write_all(&carry[..valid])?;
        carry.drain(..valid);
    }
}

/// A writer that drops what it is given.
struct Discard;

impl AsyncWrite for Discard {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn plugin(dir: &std::path::Path) -> (Host, Plugin) {
    std::fs::copy(test_programs::PDK_TRANSFORM, dir.join("transform.wasm"))
        .expect("copy the guest");
    std::fs::write(dir.join("plugin.toml"), MANIFEST).expect("write the manifest");
    let host = Host::builder()
        .data_dir(dir.join("kv"))
        .limits(
            Limits::default()
                .with_fuel(u64::MAX / 4)
                .with_timeout_ms(600_000),
        )
        .build()
        .expect("a host");
    let plugin = host
        .load_with(dir, LoadOptions::default().with_grants([Grant::Kv]))
        .expect("the transform loads");
    (host, plugin)
}

fn transform(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (_host, plugin) = plugin(dir.path());
    let transforms = plugin.kind::<ContentTransform>().expect("a transform");
    let request = TransformRequest::new("text/plain");
    let mut group = c.benchmark_group("transform");
    group.sampling_mode(SamplingMode::Flat);
    for (label, len) in [("1MiB", 1usize << 20), ("64MiB", 64 << 20)] {
        let input = text(len);
        group.throughput(Throughput::Bytes(len as u64));
        group.sample_size(10);
        group.bench_function(format!("plinth_stream/{label}"), |b| {
            b.iter(|| {
                let meta = transforms
                    .transform(&request, std::io::Cursor::new(input.clone()), Discard)
                    .expect("the transform runs");
                black_box(meta)
            })
        });
        if len <= 1 << 20 {
            group.bench_function(format!("plinth_whole/{label}"), |b| {
                b.iter(|| black_box(transforms.transform_bytes(&request, &input).expect("runs")))
            });
        }
        group.bench_function(format!("native/{label}"), |b| {
            b.iter(|| {
                let mut out = std::io::sink();
                black_box(native_upper(&mut &input[..], &mut out).expect("valid text"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, transform);
criterion_main!(benches);
