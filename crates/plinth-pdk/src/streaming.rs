//! The streaming kinds (docs/design/0046): `content-transform` and `storage-provider`,
//! whose bytes flow through the [`streams`](crate::streams) the host lends.

use std::io::{Read, Write};

/// What to transform, besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformRequest {
    /// The input's media type, lowercase, without parameters.
    pub media_type: String,
    /// The input's size in bytes, when the host knows it.
    pub size: Option<u64>,
    /// The application's parameters, in order.
    pub params: Vec<(String, String)>,
}

impl TransformRequest {
    /// The value of parameter `key`, if given.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What a transform produced, besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformOutput {
    /// The output's media type.
    pub media_type: String,
    /// Facts about the output (`width = 256`), in order.
    pub entries: Vec<(String, String)>,
}

impl TransformOutput {
    /// Output of `media_type`, without entries.
    pub fn new(media_type: impl Into<String>) -> Self {
        Self {
            media_type: media_type.into(),
            entries: Vec::new(),
        }
    }

    /// One more entry.
    pub fn with_entry(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.entries.push((key.into(), value.into()));
        self
    }
}

/// Why there is no output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransformError {
    /// The input is not valid in its media type, or a parameter is wrong.
    InvalidInput(String),
    /// Anything else, a failed read or write included.
    Failed(String),
}

impl From<std::io::Error> for TransformError {
    fn from(error: std::io::Error) -> Self {
        TransformError::Failed(error.to_string())
    }
}

/// The `content-transform` kind (world `plinth:content-transform/plugin@0.1.0`), exported
/// with [`export!`](crate::export)`(T: content_transform)`.
///
/// One function serves both ways in: a stream the host lends (`input` reads it a chunk at
/// a time) and a small input passed whole. Write the output as it is made; hold no more of
/// the input than the transform needs. The PDK answers a media type it does not
/// [`accept`](ContentTransform::accepts) with `unsupported-media-type` and flushes the
/// output after `transform` returns.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Upper;
///
/// impl Plugin for Upper {}
///
/// impl ContentTransform for Upper {
///     const MEDIA_TYPES: &'static [&'static str] = &["text/plain"];
///
///     fn transform(
///         _request: &TransformRequest,
///         input: &mut dyn std::io::Read,
///         output: &mut dyn std::io::Write,
///     ) -> Result<TransformOutput, TransformError> {
///         let mut chunk = vec![0; 64 * 1024];
///         loop {
///             let n = input.read(&mut chunk)?;
///             if n == 0 {
///                 return Ok(TransformOutput::new("text/plain"));
///             }
///             chunk[..n].make_ascii_uppercase();
///             output.write_all(&chunk[..n])?;
///         }
///     }
/// }
///
/// plinth_pdk::export!(Upper: content_transform);
/// # fn main() {}
/// ```
pub trait ContentTransform: crate::Plugin {
    /// The media types taken: those of the manifest's `[[provides.content-transform]]`
    /// entries.
    const MEDIA_TYPES: &'static [&'static str];

    /// Whether the plugin takes `media_type` (lowercase, without parameters): by default,
    /// whether it is one of [`MEDIA_TYPES`](ContentTransform::MEDIA_TYPES). The PDK answers
    /// `unsupported-media-type` for the others without calling
    /// [`transform`](ContentTransform::transform).
    fn accepts(media_type: &str) -> bool {
        Self::MEDIA_TYPES.contains(&media_type)
    }

    /// Reads `input` (as far as needed) and writes the output to `output`.
    fn transform(
        request: &TransformRequest,
        input: &mut dyn Read,
        output: &mut dyn Write,
    ) -> Result<TransformOutput, TransformError>;
}

/// What a provider knows of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

/// One page of keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListPage {
    /// Keys in lexicographic (byte) order.
    pub keys: Vec<String>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// No object has this key.
    NotFound(String),
    /// The key breaks the key rules ([`check_key`]).
    InvalidKey(String),
    /// The object is over the provider's size limit.
    TooLarge(String),
    /// Another writer changed the object meanwhile; trying again may work.
    Conflict(String),
    /// The backend failed.
    Backend(String),
}

impl From<std::io::Error> for StorageError {
    fn from(error: std::io::Error) -> Self {
        StorageError::Backend(error.to_string())
    }
}

/// The longest key: 1024 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// `Err(InvalidKey)` when `key` breaks the key rules the host also checks: 1 to
/// [`MAX_KEY_BYTES`] bytes, no control character, no backslash, no leading `/`, and no
/// empty, `.` or `..` segment between slashes.
pub fn check_key(key: &str) -> Result<(), StorageError> {
    let invalid = |why: &str| Err(StorageError::InvalidKey(why.into()));
    if key.is_empty() {
        return invalid("the key is empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return invalid("the key is over 1024 bytes");
    }
    if key.chars().any(char::is_control) {
        return invalid("the key holds a control character");
    }
    if key.contains('\\') {
        return invalid("the key holds a backslash");
    }
    if key.starts_with('/') {
        return invalid("the key starts with `/`");
    }
    if key
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return invalid("the key has an empty, `.` or `..` segment");
    }
    Ok(())
}

/// The page of `sorted` keys (distinct, in byte order) that starts with `prefix` and comes
/// after `cursor`, at most `limit` long; the cursor of the next page is its last key.
pub fn page_of<'k>(
    sorted: impl IntoIterator<Item = &'k str>,
    prefix: &str,
    cursor: Option<&str>,
    limit: u32,
) -> ListPage {
    let limit = limit.max(1) as usize;
    let mut keys: Vec<String> = Vec::new();
    let mut more = false;
    for key in sorted {
        if !key.starts_with(prefix) || cursor.is_some_and(|c| key <= c) {
            continue;
        }
        if keys.len() == limit {
            more = true;
            break;
        }
        keys.push(key.to_owned());
    }
    let next_cursor = if more { keys.last().cloned() } else { None };
    ListPage { keys, next_cursor }
}

/// The `storage-provider` kind (world `plinth:storage-provider/plugin@0.1.0`), exported
/// with [`export!`](crate::export)`(T: storage_provider)`.
///
/// Check keys with [`check_key`] first (the host checks them too, but a provider must not
/// rely on its caller); read a put's input to its end and say the size stored; write a
/// get's bytes as they are read. [`page_of`] makes a page from sorted keys.
pub trait StorageProvider: crate::Plugin {
    /// Stores the bytes of `input` under `key`, replacing any object there.
    fn put(key: &str, size: Option<u64>, input: &mut dyn Read) -> Result<ObjectMeta, StorageError>;

    /// Writes the object's bytes to `output`.
    fn get(key: &str, output: &mut dyn Write) -> Result<ObjectMeta, StorageError>;

    /// The object's metadata.
    fn head(key: &str) -> Result<ObjectMeta, StorageError>;

    /// At most `limit` keys starting with `prefix` and after `cursor`, in byte order.
    fn list(prefix: &str, cursor: Option<&str>, limit: u32) -> Result<ListPage, StorageError>;

    /// Removes the object; `NotFound` when there is none.
    fn delete(key: &str) -> Result<(), StorageError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_their_cursor() {
        let keys = ["a/1", "a/2", "a/3", "b/1"];
        let first = page_of(keys, "a/", None, 2);
        assert_eq!(first.keys, ["a/1", "a/2"]);
        assert_eq!(first.next_cursor.as_deref(), Some("a/2"));
        let second = page_of(keys, "a/", first.next_cursor.as_deref(), 2);
        assert_eq!(second.keys, ["a/3"]);
        assert_eq!(second.next_cursor, None);
    }

    #[test]
    fn keys_are_checked() {
        assert!(check_key("a/b.txt").is_ok());
        for bad in ["", "/a", "a//b", "a/../b", "a\\b", "a\0b"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }
}
