//! The plugin's durable key-value store (`plinth:host/kv`).
//!
//! Needs the `kv` capability. Keys are strings, values bytes; the store is private to the
//! plugin (and to the tenant, where the embedder sets one). A write that returns `Ok` is on
//! disk.
//!
//! ```no_run
//! use plinth_pdk::kv;
//! let runs = kv::increment("runs", 1)?;
//! kv::set("last", format!("run {runs}"))?;
//! # Ok::<(), kv::KvError>(())
//! ```

use crate::bindings::plinth::host::kv as host;

/// Why a request failed; each case carries the host's explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KvError {
    /// The plugin was not granted `kv`; the text is the hint (`plinth grant ID kv`).
    MissingGrant(String),
    /// A key or value over the host's size cap.
    TooLarge(String),
    /// The write would take the plugin over its storage quota.
    QuotaExceeded(String),
    /// `increment` on a value that is not a decimal integer, or overflow.
    NotANumber(String),
    /// The store failed.
    Io(String),
}

impl KvError {
    /// The diagnostic code of this case (`missing-grant`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingGrant(_) => "missing-grant",
            Self::TooLarge(_) => "too-large",
            Self::QuotaExceeded(_) => "quota-exceeded",
            Self::NotANumber(_) => "not-a-number",
            Self::Io(_) => "io",
        }
    }

    /// The host's explanation.
    pub fn message(&self) -> &str {
        match self {
            Self::MissingGrant(m) => m,
            Self::TooLarge(m) => m,
            Self::QuotaExceeded(m) => m,
            Self::NotANumber(m) => m,
            Self::Io(m) => m,
        }
    }
}

impl std::fmt::Display for KvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for KvError {}

impl From<host::KvError> for KvError {
    fn from(e: host::KvError) -> Self {
        match e {
            host::KvError::MissingGrant(m) => Self::MissingGrant(m),
            host::KvError::TooLarge(m) => Self::TooLarge(m),
            host::KvError::QuotaExceeded(m) => Self::QuotaExceeded(m),
            host::KvError::NotANumber(m) => Self::NotANumber(m),
            host::KvError::Io(m) => Self::Io(m),
        }
    }
}

/// The value stored under `key`, if any.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, KvError> {
    Ok(host::get(key)?)
}

/// The value under `key` as UTF-8 text (lossy), if any.
pub fn get_string(key: &str) -> Result<Option<String>, KvError> {
    Ok(get(key)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
}

/// Stores `value` under `key`; durable when it returns `Ok`.
pub fn set(key: &str, value: impl AsRef<[u8]>) -> Result<(), KvError> {
    Ok(host::set(key, value.as_ref())?)
}

/// Removes `key`; true when it existed.
pub fn delete(key: &str) -> Result<bool, KvError> {
    Ok(host::delete(key)?)
}

/// Keys starting with `prefix`, sorted, at most `limit`.
pub fn list_keys(prefix: &str, limit: u32) -> Result<Vec<String>, KvError> {
    Ok(host::list_keys(prefix, limit)?)
}

/// Adds `delta` to the decimal integer under `key` (absent is 0) atomically; the new value.
pub fn increment(key: &str, delta: i64) -> Result<i64, KvError> {
    Ok(host::increment(key, delta)?)
}
