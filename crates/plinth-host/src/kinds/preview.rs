//! The `preview` kind (docs/design/0045): the bytes of a declared media type in, a PNG
//! image or text out. The host checks an image is the PNG it says it is, and escapes
//! text for HTML itself: a preview cannot inject markup (docs/design/0045).

use plinth_manifest::manifest::essence;
use plinth_manifest::{Kind, MediaTypesDecl};

use super::{Binding, Checker, KindError, block};
use crate::bindings::preview_v0_1::exports::plinth::preview::preview as v1;
use crate::error::HostError;
use crate::plugin::Plugin;

/// The largest input the host hands a preview plugin: 64 MiB (`too-large` beyond).
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// The largest preview accepted: 16 MiB of image or 1 MiB of text (`invalid-output`).
pub const MAX_IMAGE_BYTES: usize = 16 * 1024 * 1024;
/// The longest preview text accepted.
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;

/// The eight bytes every PNG file starts with.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(String, Vec<u8>), (Result<v1::Preview, v1::PreviewError>,)>(
        "render",
        "func(media-type: string, data: list<u8>) -> result<preview, preview-error>",
    )
}

/// A preview, checked by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preview {
    /// A PNG image whose header matches its stated size.
    Image {
        /// `image/png`.
        media_type: String,
        /// The PNG file.
        data: Vec<u8>,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// Text, as the plugin gave it and escaped for HTML by the host.
    Text {
        /// The text as given; never put it in HTML.
        text: String,
        /// The text with `& < > " '` escaped: safe inside an HTML element or attribute.
        html: String,
    },
}

/// `text` with `& < > " '` replaced by character references.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The width and height in a PNG's `IHDR` chunk, or why `data` is not a PNG.
pub fn png_size(data: &[u8]) -> Result<(u32, u32), String> {
    if data.len() < 24 || data[..8] != PNG_SIGNATURE {
        return Err("the image is not a PNG file (no PNG signature)".into());
    }
    if &data[12..16] != b"IHDR" {
        return Err("the PNG file does not start with its IHDR chunk".into());
    }
    let word = |at: usize| u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
    let (width, height) = (word(16), word(20));
    if width == 0 || height == 0 {
        return Err(format!("the PNG file says it is {width}x{height} pixels"));
    }
    Ok((width, height))
}

/// The `preview` kind of one plugin:
/// [`Plugin::kind`]`::<`[`PreviewKind`](super::PreviewKind)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct Previews<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> Previews<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// The manifest's `[[provides.preview]]` entries; nothing runs.
    pub fn entries(&self) -> &'p [MediaTypesDecl] {
        self.plugin
            .manifest()
            .map_or(&[], |m| m.provides.preview.as_slice())
    }

    /// Every media type the plugin previews, in declaration order.
    pub fn media_types(&self) -> Vec<&'p str> {
        self.entries()
            .iter()
            .flat_map(|e| e.media_types.iter().map(String::as_str))
            .collect()
    }

    /// A preview of `data` of `media_type` (parameters and case ignored), in a fresh
    /// instance. A media type no entry accepts is `unknown-format` and an input over
    /// [`MAX_INPUT_BYTES`] is `too-large`, neither running the plugin.
    pub async fn render_async(&self, media_type: &str, data: &[u8]) -> Result<Preview, KindError> {
        let entries = self.entries();
        let essence = essence(media_type);
        if !entries.is_empty() && !entries.iter().any(|e| e.accepts(&essence)) {
            return Err(KindError::NotAccepted {
                plugin: self.plugin.id().into(),
                kind: Kind::Preview,
                input: format!("the media type `{essence}`"),
                accepted: self.media_types().into_iter().map(str::to_owned).collect(),
            });
        }
        self.render_guest_async(&essence, data).await
    }

    /// [`Self::render_async`] without the manifest's check: what the guest does with any
    /// media type.
    pub(crate) async fn render_guest_async(
        &self,
        media_type: &str,
        data: &[u8],
    ) -> Result<Preview, KindError> {
        if data.len() > MAX_INPUT_BYTES {
            return Err(KindError::InputTooLarge {
                plugin: self.plugin.id().into(),
                what: "the content".into(),
                size: data.len() as u64,
                limit: MAX_INPUT_BYTES as u64,
            });
        }
        let what = format!("preview of `{media_type}`");
        let (answer,): (Result<v1::Preview, v1::PreviewError>,) = self
            .plugin
            .call_async(
                &self.binding.func("render"),
                (media_type.to_owned(), data.to_vec()),
            )
            .await?;
        let failed = |code: &str, reason: String| KindError::PluginFailed {
            plugin: self.plugin.id().into(),
            what: what.clone(),
            code: code.into(),
            reason,
        };
        let invalid = |reason: String| KindError::InvalidOutput {
            plugin: self.plugin.id().into(),
            what: what.clone(),
            reason,
        };
        match answer {
            Ok(v1::Preview::Image(image)) => {
                if image.media_type != "image/png" {
                    return Err(invalid(format!(
                        "the image's media type is `{}`; previews are `image/png`",
                        image.media_type
                    )));
                }
                if image.data.len() > MAX_IMAGE_BYTES {
                    return Err(invalid(format!(
                        "the image is {} bytes, over {MAX_IMAGE_BYTES}",
                        image.data.len()
                    )));
                }
                let (width, height) = png_size(&image.data).map_err(invalid)?;
                if (width, height) != (image.width, image.height) {
                    return Err(invalid(format!(
                        "the image says {}x{} but its PNG header says {width}x{height}",
                        image.width, image.height
                    )));
                }
                Ok(Preview::Image {
                    media_type: image.media_type,
                    data: image.data,
                    width,
                    height,
                })
            }
            Ok(v1::Preview::Text(text)) => {
                if text.len() > MAX_TEXT_BYTES {
                    return Err(invalid(format!(
                        "the text is {} bytes, over {MAX_TEXT_BYTES}",
                        text.len()
                    )));
                }
                let html = escape_html(&text);
                Ok(Preview::Text { text, html })
            }
            Err(v1::PreviewError::Unsupported(reason)) => {
                if self.entries().iter().any(|e| e.accepts(media_type)) {
                    Err(KindError::Mismatch {
                        plugin: self.plugin.id().into(),
                        kind: Kind::Preview,
                        reason: format!(
                            "the manifest declares the media type `{media_type}` but the component does not preview it ({reason})"
                        ),
                    })
                } else {
                    Err(failed("unsupported", reason))
                }
            }
            Err(v1::PreviewError::InvalidData(reason)) => Err(failed("invalid-data", reason)),
            Err(v1::PreviewError::Failed(reason)) => Err(failed("failed", reason)),
        }
    }

    /// Blocking [`Self::render_async`].
    pub fn render(&self, media_type: &str, data: &[u8]) -> Result<Preview, KindError> {
        block(
            self.plugin,
            &self.binding.func("render"),
            self.render_async(media_type, data),
        )
    }

    /// Blocking [`Self::render_guest_async`].
    pub(crate) fn render_guest(&self, media_type: &str, data: &[u8]) -> Result<Preview, KindError> {
        block(
            self.plugin,
            &self.binding.func("render"),
            self.render_guest_async(media_type, data),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_leaves_no_markup() {
        let escaped = escape_html(r#"<script>alert("x")</script> & 'q'"#);
        assert_eq!(
            escaped,
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"
        );
        assert!(!escaped.contains(['<', '>', '"', '\'']));
    }

    #[test]
    fn png_headers_give_their_size() {
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&3u32.to_be_bytes());
        png.extend_from_slice(&2u32.to_be_bytes());
        assert_eq!(png_size(&png), Ok((3, 2)));
        assert!(png_size(b"GIF89a plus enough bytes to pass").is_err());
        let mut zero = png.clone();
        zero[16..20].copy_from_slice(&0u32.to_be_bytes());
        assert!(png_size(&zero).is_err());
    }
}
