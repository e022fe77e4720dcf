//! BitVault's small kinds (docs/design/0045): `event_handler`, `auth_provider`,
//! `policy_hook`, `search_analyzer` and `preview`, with the helpers their plugins need
//! (a word tokenizer with UTF-8 offsets, a PNG encoder, a constant-time comparison).

use crate::Plugin;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectAction {
    /// A new object was stored.
    Created,
    /// An existing object was replaced or its metadata changed.
    Updated,
    /// The object was removed.
    Deleted,
}

/// One event about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    /// A unique id of the event; a retried delivery keeps it.
    pub id: String,
    /// What happened.
    pub action: ObjectAction,
    /// The tenant owning the object.
    pub tenant: String,
    /// The object's key inside the tenant, e.g. `photos/cat.png`.
    pub path: String,
    /// The object's size in bytes.
    pub size: u64,
    /// The object's media type (may be empty).
    pub media_type: String,
    /// A digest of the content (empty for a deletion).
    pub digest: String,
    /// When it happened, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Further attributes (user metadata), in order.
    pub attributes: Vec<(String, String)>,
}

/// A handler's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// Handled.
    Ok,
    /// Refused for good; the reason must not be empty (the host refuses an empty one).
    Reject(String),
    /// Deliver again after this many milliseconds (at most a day).
    Retry(u32),
}

/// The `event-handler` kind (world `plinth:event-handler/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: event_handler)`.
///
/// The host delivers only the actions of the manifest's `[[provides.event-handler]]`
/// entries; answer every event, however odd (an empty media type, a huge size, a path of
/// any characters): a panic is a trap and the event is not handled.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Audit;
///
/// impl Plugin for Audit {}
///
/// impl EventHandler for Audit {
///     fn handle(event: ObjectEvent) -> EventOutcome {
///         let _ = kv::increment(&format!("events:{}", event.tenant), 1);
///         EventOutcome::Ok
///     }
/// }
///
/// plinth_pdk::export!(Audit: event_handler);
/// # fn main() {}
/// ```
pub trait EventHandler: Plugin {
    /// Handles one event.
    fn handle(event: ObjectEvent) -> EventOutcome;
}

/// Who a token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The principal; never empty.
    pub subject: String,
    /// The tenant it acts in: 1-64 of `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`.
    pub tenant: String,
    /// Further claims, in order.
    pub claims: Vec<(String, String)>,
}

impl Identity {
    /// `subject` of `tenant`, without claims.
    pub fn new(subject: impl Into<String>, tenant: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            tenant: tenant.into(),
            claims: Vec::new(),
        }
    }

    /// The identity with claim `name` = `value` added.
    pub fn with_claim(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.claims.push((name.into(), value.into()));
        self
    }
}

/// Why no identity is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthDenial {
    /// The token is not valid; the reason is for the server's log.
    Denied(String),
    /// The provider could not decide (its backend is down).
    Unavailable(String),
}

/// The `auth-provider` kind (world `plinth:auth-provider/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: auth_provider)`.
///
/// Compare tokens exactly (not trimmed, not case-folded), with [`constant_time_eq`], and
/// deny what you do not know: the kit denies empty, garbage, tampered, case-changed and
/// padded tokens.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Keys;
///
/// impl Plugin for Keys {}
///
/// impl AuthProvider for Keys {
///     fn authenticate(token: &str) -> Result<Identity, AuthDenial> {
///         if constant_time_eq(token.as_bytes(), b"key-of-alice") {
///             Ok(Identity::new("alice", "acme").with_claim("role", "admin"))
///         } else {
///             Err(AuthDenial::Denied("unknown key".into()))
///         }
///     }
/// }
///
/// plinth_pdk::export!(Keys: auth_provider);
/// # fn main() {}
/// ```
pub trait AuthProvider: Plugin {
    /// The identity `token` stands for.
    fn authenticate(token: &str) -> Result<Identity, AuthDenial>;
}

/// Whether `a` and `b` are equal, in a time that depends on their lengths only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A request the server is about to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRequest {
    /// The operation, e.g. `put`.
    pub operation: String,
    /// The authenticated principal (empty when anonymous).
    pub subject: String,
    /// The tenant the request acts in.
    pub tenant: String,
    /// The object key or prefix.
    pub path: String,
    /// Further attributes, in order.
    pub attributes: Vec<(String, String)>,
}

impl PolicyRequest {
    /// The value of attribute `name`, if given.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A hook's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyDecision {
    /// Serve the request as it is.
    Allow,
    /// Refuse it; the reason must not be empty.
    Deny(String),
    /// Serve it with these attributes added (names non-empty and distinct).
    Add(Vec<(String, String)>),
}

/// The `policy-hook` kind (world `plinth:policy-hook/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: policy_hook)`.
///
/// Each decision runs under the application's deadline: a hook past it is a `timeout`,
/// so decide from the request alone where you can.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Quotas;
///
/// impl Plugin for Quotas {}
///
/// impl PolicyHook for Quotas {
///     fn decide(request: PolicyRequest) -> PolicyDecision {
///         match request.attribute("size").and_then(|s| s.parse::<u64>().ok()) {
///             Some(size) if size > 1 << 30 => PolicyDecision::Deny("over 1 GiB".into()),
///             _ => PolicyDecision::Allow,
///         }
///     }
/// }
///
/// plinth_pdk::export!(Quotas: policy_hook);
/// # fn main() {}
/// ```
pub trait PolicyHook: Plugin {
    /// Decides about one request.
    fn decide(request: PolicyRequest) -> PolicyDecision;
}

/// One token of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The term indexed; never empty.
    pub term: String,
    /// Its position in the token stream; never decreasing.
    pub position: u32,
    /// The UTF-8 byte offset of its source in the text.
    pub start: u32,
    /// The UTF-8 byte offset just past its source.
    pub end: u32,
}

/// The `search-analyzer` kind (world `plinth:search-analyzer/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: search_analyzer)`.
///
/// The PDK answers an analyzer not in [`ANALYZERS`](SearchAnalyzer::ANALYZERS) with
/// `unknown-analyzer` without calling [`analyze`](SearchAnalyzer::analyze). Offsets are
/// UTF-8 byte offsets on character boundaries; [`words`] gets them right.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Plain;
///
/// impl Plugin for Plain {}
///
/// impl SearchAnalyzer for Plain {
///     const ANALYZERS: &'static [&'static str] = &["plain"];
///
///     fn analyze(_analyzer: &str, text: &str) -> Result<Vec<Token>, String> {
///         Ok(words(text))
///     }
/// }
///
/// plinth_pdk::export!(Plain: search_analyzer);
/// # fn main() {}
/// ```
pub trait SearchAnalyzer: Plugin {
    /// The analyzers: the `name`s of the manifest's `[[provides.search-analyzer]]` entries.
    const ANALYZERS: &'static [&'static str];

    /// The tokens of `text` by `analyzer` (one of [`ANALYZERS`](SearchAnalyzer::ANALYZERS)).
    fn analyze(analyzer: &str, text: &str) -> Result<Vec<Token>, String>;
}

/// The words of `text`: lowercased runs of letters and digits, numbered from 0, with their
/// UTF-8 byte offsets.
pub fn words(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut start = None;
    let mut push = |from: usize, to: usize| {
        let position = tokens.len() as u32;
        tokens.push(Token {
            term: text[from..to].to_lowercase(),
            position,
            start: from as u32,
            end: to as u32,
        });
    };
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                push(from, i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        push(from, text.len());
    }
    tokens
}

/// A preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewOutput {
    /// A PNG image (see [`png_gray`]); the host checks its header against the size.
    Png {
        /// The PNG file.
        data: Vec<u8>,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// Plain text, not HTML: the host escapes it before it is shown.
    Text(String),
}

/// Why there is no preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewError {
    /// The bytes are not valid in the format.
    InvalidData(String),
    /// Anything else.
    Failed(String),
}

/// The `preview` kind (world `plinth:preview/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: preview)`.
///
/// The PDK answers a media type not in [`MEDIA_TYPES`](Preview::MEDIA_TYPES) with
/// `unsupported` without calling [`render`](Preview::render). Answer empty, truncated and
/// garbage bytes with [`PreviewError::InvalidData`], never a panic.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Notes;
///
/// impl Plugin for Notes {}
///
/// impl Preview for Notes {
///     const MEDIA_TYPES: &'static [&'static str] = &["text/x-note"];
///
///     fn render(_media_type: &str, data: &[u8]) -> Result<PreviewOutput, PreviewError> {
///         let text = std::str::from_utf8(data)
///             .map_err(|e| PreviewError::InvalidData(e.to_string()))?;
///         Ok(PreviewOutput::Text(text.lines().next().unwrap_or("").into()))
///     }
/// }
///
/// plinth_pdk::export!(Notes: preview);
/// # fn main() {}
/// ```
pub trait Preview: Plugin {
    /// The media types previewed: those of the manifest's `[[provides.preview]]` entries.
    const MEDIA_TYPES: &'static [&'static str];

    /// A preview of `data` of `media_type` (one of [`MEDIA_TYPES`](Preview::MEDIA_TYPES)).
    fn render(media_type: &str, data: &[u8]) -> Result<PreviewOutput, PreviewError>;
}

/// An 8-bit grayscale PNG of `width` x `height` `pixels` (row by row), its data in stored
/// deflate blocks: no compression crate needed. `None` when the sizes do not agree.
pub fn png_gray(width: u32, height: u32, pixels: &[u8]) -> Option<Vec<u8>> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || w.checked_mul(h)? != pixels.len() {
        return None;
    }
    let mut raw = Vec::with_capacity((w + 1) * h);
    for row in pixels.chunks(w) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    for (kind, body) in [(b"IHDR", &ihdr), (b"IDAT", &zlib), (b"IEND", &Vec::new())] {
        png.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(body);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    Some(png)
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_have_utf8_offsets_and_increasing_positions() {
        let text = "Größe, café!";
        let tokens = words(text);
        let terms: Vec<&str> = tokens.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(terms, ["größe", "café"]);
        assert_eq!(
            (tokens[1].start, tokens[1].end, tokens[1].position),
            (9, 14, 1)
        );
        assert_eq!(&text[9..14], "café");
        assert!(words("  ,.! ").is_empty());
    }

    #[test]
    fn png_gray_writes_a_png_with_its_size() {
        let png = png_gray(3, 2, &[0, 128, 255, 255, 128, 0]).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[16..24], &[0, 0, 0, 3, 0, 0, 0, 2]);
        assert!(
            png.ends_with(&[0xae, 0x42, 0x60, 0x82]),
            "the IEND chunk's CRC"
        );
        assert_eq!(png_gray(3, 2, &[0; 5]), None);
        assert_eq!(png_gray(0, 0, &[]), None);
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
