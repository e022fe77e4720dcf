//! Reading the files of a plugin folder (manifest, component, settings schema) without
//! trusting what they are (docs/design/0032).
//!
//! A plugin folder is written by whoever installed or copied it. A FIFO named `plugin.toml`
//! would block a reader forever, and a symlink to `/dev/zero` would be read until memory
//! runs out. So a plugin file is opened without blocking (`O_NONBLOCK`: opening a FIFO with
//! no writer returns at once), the metadata of the *opened handle* is checked (no race
//! with a rename between check and open), only a regular file is read, and at most its
//! cap plus one byte is read, so a file that grows while it is read is still refused.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::diagnostic::Code;

/// The largest `plugin.toml` read: 1 MiB.
pub const MANIFEST_MAX_BYTES: u64 = 1 << 20;
/// The largest settings schema read: 1 MiB.
pub const SCHEMA_MAX_BYTES: u64 = 1 << 20;
/// The largest component read: 256 MiB.
pub const COMPONENT_MAX_BYTES: u64 = 256 << 20;

/// A plugin file was refused or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PluginFileError {
    /// Nothing at the path.
    #[error("{} does not exist", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A FIFO, device, socket or directory where a file was expected
    /// (`not-a-regular-file`).
    #[error("{} is a {kind}, not a regular file; refusing to read it", path.display())]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead (`fifo`, `character device`, `directory`, …).
        kind: &'static str,
    },
    /// Larger than its cap (`too-large`).
    #[error("{} is over the {cap}-byte cap for this file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap, in bytes.
        cap: u64,
    },
    /// Opening or reading failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl PluginFileError {
    /// The diagnostic code of this error.
    pub fn code(&self) -> Code {
        match self {
            PluginFileError::Missing { .. } => Code::MissingPackage,
            PluginFileError::NotRegular { .. } => Code::NotARegularFile,
            PluginFileError::TooLarge { .. } => Code::TooLarge,
            PluginFileError::Io { .. } => Code::MissingPackage,
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            PluginFileError::Missing { path }
            | PluginFileError::NotRegular { path, .. }
            | PluginFileError::TooLarge { path, .. }
            | PluginFileError::Io { path, .. } => path,
        }
    }
}

/// Reads `path` if it is a regular file of at most `cap` bytes (symlinks are followed;
/// what they lead to must be a regular file).
pub fn read(path: &Path, cap: u64) -> Result<Vec<u8>, PluginFileError> {
    let io = |source: io::Error| match source.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => PluginFileError::Missing {
            path: path.to_path_buf(),
        },
        _ => PluginFileError::Io {
            path: path.to_path_buf(),
            source,
        },
    };
    let file = open_without_blocking(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if !metadata.is_file() {
        return Err(PluginFileError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(&metadata.file_type()),
        });
    }
    if metadata.len() > cap {
        return Err(too_large(path, cap));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(cap + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(path, cap));
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, cap: u64) -> Result<String, PluginFileError> {
    let bytes = read(path, cap)?;
    String::from_utf8(bytes).map_err(|e| PluginFileError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()),
    })
}

fn too_large(path: &Path, cap: u64) -> PluginFileError {
    PluginFileError::TooLarge {
        path: path.to_path_buf(),
        cap,
    }
}

#[cfg(unix)]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let nonblock = rustix::fs::OFlags::NONBLOCK.bits();
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nonblock as i32)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

#[cfg(unix)]
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "directory"
    } else if file_type.is_fifo() {
        "fifo"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else if file_type.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "directory"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_within_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, "1234").unwrap();
        assert_eq!(read(&path, 4).unwrap(), b"1234");
        assert!(matches!(
            read(&path, 3),
            Err(PluginFileError::TooLarge { cap: 3, .. })
        ));
        let err = read(&dir.path().join("none"), 3).unwrap_err();
        assert_eq!(err.code(), Code::MissingPackage);
    }

    /// Hostile: a symlink to `/dev/zero` is refused at once instead of read forever.
    #[cfg(unix)]
    #[test]
    fn a_device_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugin.toml");
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let err = read(&path, MANIFEST_MAX_BYTES).unwrap_err();
        assert_eq!(err.code(), Code::NotARegularFile, "{err}");
        assert!(err.to_string().contains("character device"), "{err}");
        let err = read(dir.path(), MANIFEST_MAX_BYTES).unwrap_err();
        assert_eq!(err.code(), Code::NotARegularFile, "{err}");
    }
}
