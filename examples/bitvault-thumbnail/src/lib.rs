//! BitVault's thumbnail transform: an uploaded PNG or JPEG image in, a PNG thumbnail out.
//!
//! The image is decoded and resized inside the guest with the `image` crate. A decoder
//! needs the whole encoded image, so the input is read up to [`MAX_INPUT`] bytes; the
//! decoder's own limits refuse an image whose pixels would not fit the plugin's memory
//! before they are allocated. The parameter `size` bounds each side of the thumbnail
//! (default 128); the aspect ratio is kept. Each thumbnail made adds one to the key
//! `thumbnails` of the plugin's key-value store, which the host scopes to the tenant the
//! call is for.

use std::io::{Cursor, Read, Write};

use image::{ImageFormat, ImageReader, Limits};
use plinth_pdk::prelude::*;

struct Thumbnail;

impl Plugin for Thumbnail {}

/// The largest encoded image read: 32 MiB.
const MAX_INPUT: u64 = 32 << 20;
/// The most the decoder may allocate for the pixels: 96 MiB.
const MAX_PIXEL_BYTES: u64 = 96 << 20;
/// The thumbnail's bound when the request names none.
const DEFAULT_SIZE: u32 = 128;

fn size(request: &TransformRequest) -> Result<u32, TransformError> {
    let Some(text) = request.param("size") else {
        return Ok(DEFAULT_SIZE);
    };
    text.parse::<u32>()
        .ok()
        .filter(|n| (1..=1024).contains(n))
        .ok_or_else(|| TransformError::InvalidInput(format!("size {text:?} is not 1 to 1024")))
}

impl ContentTransform for Thumbnail {
    const MEDIA_TYPES: &'static [&'static str] = &["image/png", "image/jpeg"];

    fn transform(
        request: &TransformRequest,
        input: &mut dyn Read,
        output: &mut dyn Write,
    ) -> Result<TransformOutput, TransformError> {
        let bound = size(request)?;
        let format = match request.media_type.as_str() {
            "image/png" => ImageFormat::Png,
            _ => ImageFormat::Jpeg,
        };
        let mut encoded = Vec::new();
        input.take(MAX_INPUT + 1).read_to_end(&mut encoded)?;
        if encoded.len() as u64 > MAX_INPUT {
            return Err(TransformError::InvalidInput(format!(
                "the image is larger than {} MiB",
                MAX_INPUT >> 20
            )));
        }
        let mut limits = Limits::default();
        limits.max_alloc = Some(MAX_PIXEL_BYTES);
        let mut reader = ImageReader::with_format(Cursor::new(encoded), format);
        reader.limits(limits);
        let image = reader.decode().map_err(|e| {
            TransformError::InvalidInput(format!("not a readable {}: {e}", request.media_type))
        })?;
        let thumbnail = image.thumbnail(bound, bound);
        let mut png = Cursor::new(Vec::new());
        thumbnail
            .write_to(&mut png, ImageFormat::Png)
            .map_err(|e| TransformError::Failed(format!("cannot encode the thumbnail: {e}")))?;
        output.write_all(png.get_ref())?;
        // Counting is best effort: without the `kv` grant the thumbnail is still made.
        let _ = kv::increment("thumbnails", 1);
        Ok(TransformOutput::new("image/png")
            .with_entry("width", thumbnail.width().to_string())
            .with_entry("height", thumbnail.height().to_string())
            .with_entry("source-width", image.width().to_string())
            .with_entry("source-height", image.height().to_string()))
    }
}

plinth_pdk::export!(Thumbnail: content_transform);
