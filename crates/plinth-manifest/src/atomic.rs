//! The one atomic file write of the workspace: a temp file in the destination's folder,
//! filled, fsync'd, renamed over the destination, then the folder fsync'd. A reader sees the
//! old file or the new one, never half of one; a failure leaves the old file as it was and
//! no temp file behind.
//!
//! It sits in `plinth-manifest` because every crate that writes files (package, host,
//! manager, build, CLI) depends on this one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The permissions the new file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    /// Readable by the owner only (0600 on Unix): caches, consent, anything private.
    Private,
    /// An ordinary readable file (0644 on Unix): packages, components, lockfiles.
    Readable,
    /// The mode of the file being replaced (an operator's choice), else [`FileMode::Private`].
    KeepExisting,
}

/// What an atomic write was doing when it failed, on which path.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}", path.display())]
pub struct WriteError {
    /// The step that failed: `create directory`, `create a temp file in`, `set permissions
    /// of`, `write`, `replace`.
    pub action: &'static str,
    /// The file or folder the step was about.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: io::Error,
}

impl From<WriteError> for io::Error {
    fn from(e: WriteError) -> io::Error {
        io::Error::new(e.source.kind(), e)
    }
}

impl crate::diagnostic::ToDiagnostic for WriteError {
    /// `io-error`, naming the step and the path.
    fn to_diagnostic(&self) -> crate::diagnostic::Diagnostic {
        crate::diagnostic::Diagnostic::new(crate::diagnostic::Code::IoError, self.to_string())
    }
}

fn failed(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> WriteError {
    let path = path.into();
    move |source| WriteError {
        action,
        path,
        source,
    }
}

/// Writes `bytes` to `path` atomically with `mode`, creating the parent folder if needed.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: FileMode) -> Result<(), WriteError> {
    replace_with(path, mode, |file, temp| {
        file.write_all(bytes).map_err(failed("write", temp))
    })
}

/// Copies the file `from` to `to` atomically with `mode`.
pub fn copy_atomic(from: &Path, to: &Path, mode: FileMode) -> Result<(), WriteError> {
    replace_with(to, mode, |file, _| {
        let mut source = File::open(from).map_err(failed("read", from))?;
        io::copy(&mut source, file)
            .map(drop)
            .map_err(failed("write", to))
    })
}

/// Replaces `path` atomically with what `fill` puts into the temp file: `fill` gets the open
/// temp file and its path (for a tool that writes the file by name). An error of `fill`
/// leaves `path` as it was; the temp file is removed. The temp file's name starts with `.`,
/// so plugin discovery never sees it.
pub fn replace_with<E: From<WriteError>>(
    path: &Path,
    mode: FileMode,
    fill: impl FnOnce(&mut File, &Path) -> Result<(), E>,
) -> Result<(), E> {
    let parent = parent_of(path);
    fs::create_dir_all(&parent).map_err(failed("create directory", &parent))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".plinth-tmp-")
        .tempfile_in(&parent)
        .map_err(failed("create a temp file in", &parent))?;
    set_mode(temp.as_file(), temp.path(), path, mode)?;
    let temp_path = temp.path().to_path_buf();
    fill(temp.as_file_mut(), &temp_path)?;
    temp.as_file()
        .sync_all()
        .map_err(failed("write", &temp_path))?;
    temp.persist(path)
        .map_err(|e| failed("replace", path)(e.error))?;
    sync_dir(&parent);
    Ok(())
}

/// tempfile creates files 0600; widen that for [`FileMode::Readable`] and
/// [`FileMode::KeepExisting`].
fn set_mode(file: &File, temp: &Path, target: &Path, mode: FileMode) -> Result<(), WriteError> {
    let permissions = match mode {
        FileMode::Private => return Ok(()),
        FileMode::KeepExisting => match fs::metadata(target) {
            Ok(meta) => meta.permissions(),
            Err(_) => return Ok(()),
        },
        FileMode::Readable => readable(file, temp)?,
    };
    file.set_permissions(permissions)
        .map_err(failed("set permissions of", temp))
}

#[cfg(unix)]
fn readable(_: &File, _: &Path) -> Result<fs::Permissions, WriteError> {
    use std::os::unix::fs::PermissionsExt;
    Ok(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn readable(file: &File, temp: &Path) -> Result<fs::Permissions, WriteError> {
    Ok(file
        .metadata()
        .map_err(failed("set permissions of", temp))?
        .permissions())
}

/// The folder `path` is in (`.` for a bare file name).
pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes a rename in `dir` durable (best effort: not every platform can open a folder).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_and_leave_no_temp_file() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("sub/f.txt");
        write_atomic(&file, b"one", FileMode::Readable).unwrap();
        write_atomic(&file, b"two", FileMode::Readable).unwrap();
        assert_eq!(fs::read_to_string(&file).unwrap(), "two");
        let names: Vec<_> = fs::read_dir(root.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["f.txt"]);
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("f");
        write_atomic(&file, b"old", FileMode::Private).unwrap();
        let failed: Result<(), WriteError> = replace_with(&file, FileMode::Private, |f, temp| {
            f.write_all(b"half").unwrap();
            Err(WriteError {
                action: "write",
                path: temp.to_path_buf(),
                source: io::Error::other("tool failed"),
            })
        });
        assert!(failed.is_err());
        assert_eq!(fs::read_to_string(&file).unwrap(), "old");
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn modes() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let file = root.path().join("readable");
        write_atomic(&file, b"x", FileMode::Readable).unwrap();
        assert_eq!(mode(&file), 0o644);
        let private = root.path().join("private");
        write_atomic(&private, b"x", FileMode::Private).unwrap();
        assert_eq!(mode(&private), 0o600);
        fs::set_permissions(&private, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&private, b"y", FileMode::KeepExisting).unwrap();
        assert_eq!(mode(&private), 0o640);
        let copy = root.path().join("copy");
        copy_atomic(&file, &copy, FileMode::Readable).unwrap();
        assert_eq!(fs::read(&copy).unwrap(), b"x");
    }
}
