//! A content transform with a bug, for BitVault's containment scenario. Its first argument
//! (`std::env::args().nth(1)`, set by the embedder) picks the bug:
//!
//! - `panic`: reads a chunk, then panics (the call traps);
//! - `spin`: reads a chunk, then loops forever (the host stops it when its fuel or its
//!   wall-clock deadline runs out);
//! - anything else: copies the input.

use std::io::{Read, Write};

use plinth_pdk::prelude::*;

struct Faulty;

impl Plugin for Faulty {}

impl ContentTransform for Faulty {
    const MEDIA_TYPES: &'static [&'static str] = &["image/png", "image/jpeg"];

    fn transform(
        request: &TransformRequest,
        input: &mut dyn Read,
        output: &mut dyn Write,
    ) -> Result<TransformOutput, TransformError> {
        let mut chunk = vec![0u8; 64 * 1024];
        let n = input.read(&mut chunk)?;
        match std::env::args().nth(1).as_deref() {
            Some("panic") => panic!("the watermark font is missing ({n} bytes read)"),
            Some("spin") => {
                let mut x = 0u64;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            _ => {}
        }
        output.write_all(&chunk[..n])?;
        std::io::copy(input, output)?;
        Ok(TransformOutput::new(request.media_type.clone()))
    }
}

plinth_pdk::export!(Faulty: content_transform);
