//! Files in directories the host maps by name (`plinth:host/fs`).
//!
//! `dir` is a name from the host's `[dirs]` (never a host path); `path` is relative to it.
//! Reads need `fs.read:<dir>` (or `fs.write:<dir>`), writes `fs.write:<dir>`. Paths that
//! leave the directory (`..`, absolute, symlinks pointing outside) are refused with
//! [`FsError::Denied`]. The same directories are also open to `std::fs` as `/<dir>`.

use crate::bindings::plinth::host::fs as host;

pub use host::{DirEntry, EntryKind, Metadata};

/// Why a request failed; each case carries the host's explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsError {
    /// No grant covers this directory and access; the text is the hint.
    MissingGrant(String),
    /// The path leaves the directory, or the directory is not mapped.
    Denied(String),
    /// Nothing at this path.
    NotFound(String),
    /// The file is larger than the host's read cap.
    TooLarge(String),
    /// Any other I/O failure.
    Io(String),
}

impl FsError {
    /// The diagnostic code of this case (`missing-grant`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingGrant(_) => "missing-grant",
            Self::Denied(_) => "fs-denied",
            Self::NotFound(_) => "not-found",
            Self::TooLarge(_) => "too-large",
            Self::Io(_) => "io",
        }
    }

    /// The host's explanation.
    pub fn message(&self) -> &str {
        match self {
            Self::MissingGrant(m) => m,
            Self::Denied(m) => m,
            Self::NotFound(m) => m,
            Self::TooLarge(m) => m,
            Self::Io(m) => m,
        }
    }
}

impl std::fmt::Display for FsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for FsError {}

impl From<host::FsError> for FsError {
    fn from(e: host::FsError) -> Self {
        match e {
            host::FsError::MissingGrant(m) => Self::MissingGrant(m),
            host::FsError::Denied(m) => Self::Denied(m),
            host::FsError::NotFound(m) => Self::NotFound(m),
            host::FsError::TooLarge(m) => Self::TooLarge(m),
            host::FsError::Io(m) => Self::Io(m),
        }
    }
}

/// The entries of a directory, sorted by name (`""` is the directory itself).
pub fn list_dir(dir: &str, path: &str) -> Result<Vec<DirEntry>, FsError> {
    Ok(host::list_dir(dir, path)?)
}

/// Metadata of a path (symlinks not followed).
pub fn read_metadata(dir: &str, path: &str) -> Result<Metadata, FsError> {
    Ok(host::read_metadata(dir, path)?)
}

/// A whole file.
pub fn read(dir: &str, path: &str) -> Result<Vec<u8>, FsError> {
    Ok(host::read_file(dir, path)?)
}

/// A whole file as UTF-8 text (lossy).
pub fn read_to_string(dir: &str, path: &str) -> Result<String, FsError> {
    Ok(String::from_utf8_lossy(&read(dir, path)?).into_owned())
}

/// Replaces a file atomically (needs `fs.write:<dir>`).
pub fn write(dir: &str, path: &str, contents: impl AsRef<[u8]>) -> Result<(), FsError> {
    Ok(host::write_file(dir, path, contents.as_ref())?)
}
