//! `pdk-transform`: a `content-transform` written with `plinth-pdk`
//! (`export!(Transform: content_transform)`), streaming a chunk at a time:
//!
//! - `text/plain` → `text/plain`, ASCII letters uppercased; entry `lines`;
//! - `application/octet-stream` → the same bytes; entry `bytes`.
//!
//! Bytes that are not UTF-8 in `text/plain` are `invalid-input`. A plugin id ending in
//! `mutant-NAME` breaks exactly one rule of the `content-transform` kit
//! (`tests/all/stream_kinds.rs` names the case that must catch each).

use std::io::{Read, Write};

use plinth_pdk::prelude::*;

struct Transform;

impl Plugin for Transform {}

/// The mutation this instance runs, from `argv[0]` (`…mutant-NAME`).
fn mutant() -> String {
    std::env::args()
        .next()
        .and_then(|id| id.rsplit_once("mutant-").map(|(_, m)| m.to_owned()))
        .unwrap_or_default()
}

impl ContentTransform for Transform {
    const MEDIA_TYPES: &'static [&'static str] = &["text/plain", "application/octet-stream"];

    fn accepts(media_type: &str) -> bool {
        mutant() == "ct-accepts-all" || Self::MEDIA_TYPES.contains(&media_type)
    }

    fn transform(
        request: &TransformRequest,
        input: &mut dyn Read,
        output: &mut dyn Write,
    ) -> Result<TransformOutput, TransformError> {
        // Counted in the plugin's own store: a denied `kv` grant is not an error.
        let counted = kv::increment("transforms", 1);
        let mutant = mutant();
        match mutant.as_str() {
            "ct-fail" => return Err(TransformError::Failed("always fails".into())),
            "ct-denied-traps" => {
                counted.expect("kv is granted");
            }
            "ct-heavy" => burn(200_000_000),
            _ => {}
        }
        if mutant == "ct-buffers" {
            let mut all = Vec::new();
            input.read_to_end(&mut all)?;
            return finish(request, &mut &all[..], output, &mutant);
        }
        finish(request, input, output, &mutant)
    }
}

/// Burns about `n` units of fuel.
fn burn(n: u64) {
    let mut x = 0u64;
    for i in 0..n / 4 {
        x = std::hint::black_box(x.wrapping_add(i));
    }
    std::hint::black_box(x);
}

fn finish(
    request: &TransformRequest,
    input: &mut dyn Read,
    output: &mut dyn Write,
    mutant: &str,
) -> Result<TransformOutput, TransformError> {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let mut lines = 0u64;
    let mut last = None;
    let text = request.media_type == "text/plain";
    // UTF-8 is checked across chunk boundaries: at most three bytes of a split character
    // are carried to the next chunk.
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = input.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        let bytes = &mut chunk[..n];
        total += n as u64;
        last = bytes.last().copied();
        if mutant == "ct-binary-traps" && bytes.iter().any(|b| *b >= 0x80) {
            panic!("a byte over 0x7f");
        }
        if text {
            carry.extend_from_slice(bytes);
            let valid = match std::str::from_utf8(&carry) {
                Ok(_) => carry.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(e) => {
                    return Err(TransformError::InvalidInput(format!(
                        "not UTF-8 at byte {}",
                        total - (carry.len() - e.valid_up_to()) as u64
                    )));
                }
            };
            lines += bytecount(&carry[..valid], b'\n');
            carry[..valid].make_ascii_uppercase();
            write(output, &carry[..valid], mutant)?;
            carry.drain(..valid);
        } else {
            write(output, bytes, mutant)?;
        }
    }
    if !carry.is_empty() {
        return Err(TransformError::InvalidInput(
            "the text ends inside a character".into(),
        ));
    }
    if mutant == "ct-empty-traps" && total == 0 {
        panic!("no input");
    }
    if mutant == "ct-truncated-traps" && text && total > 0 && last != Some(b'\n') {
        panic!("the text does not end with a newline");
    }
    let out = if text {
        TransformOutput::new("text/plain").with_entry("lines", lines.to_string())
    } else {
        TransformOutput::new("application/octet-stream").with_entry("bytes", total.to_string())
    };
    Ok(match mutant {
        "ct-bad-media-type" => TransformOutput::new("plain text"),
        "ct-wrong-output-type" => TransformOutput::new("text/x-other"),
        "ct-nondeterministic" => out.with_entry("at", nanos().to_string()),
        _ => out,
    })
}

fn write(output: &mut dyn Write, bytes: &[u8], mutant: &str) -> Result<(), TransformError> {
    if mutant == "ct-write-unwrap" {
        output.write_all(bytes).unwrap();
        return Ok(());
    }
    Ok(output.write_all(bytes)?)
}

fn bytecount(bytes: &[u8], byte: u8) -> u64 {
    bytes.iter().filter(|b| **b == byte).count() as u64
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

plinth_pdk::export!(Transform: content_transform);
