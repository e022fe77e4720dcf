//! Writes that either happen completely or not at all: files through a temp file + fsync +
//! rename, directories staged next to their destination and renamed (or exchanged) into place.

use std::fs;
use std::path::Path;

use plinth_manifest::{FileMode, parent_of, sync_dir};
use tempfile::TempDir;

use crate::error::{PackageError, io_error};

/// The name prefix of the directories an install stages next to its destination. Discovery
/// skips every name starting with `.`, so these are never mistaken for plugins.
pub const STAGING_PREFIX: &str = ".plinth-staging-";

/// Writes `bytes` to `path` atomically (an ordinary readable file): plinth-manifest's
/// [`write_atomic`](plinth_manifest::write_atomic), the one helper of the workspace.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PackageError> {
    plinth_manifest::write_atomic(path, bytes, FileMode::Readable)
        .map_err(|e| io_error(e.action, e.path, e.source))
}

/// A fresh, empty staging directory next to `dest` (in its parent, created if needed). It is
/// removed when dropped unless [`replace_dir`] consumed it.
pub fn stage_dir_for(dest: &Path) -> Result<TempDir, PackageError> {
    let parent = parent_of(dest);
    fs::create_dir_all(&parent).map_err(|e| io_error("create directory", &parent, e))?;
    tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(&parent)
        .map_err(|e| io_error("create a staging directory in", &parent, e))
}

/// Moves the staged directory to `dest`. When `dest` exists it is replaced in one step
/// (`renameat2(RENAME_EXCHANGE)` on Linux; elsewhere the old directory is first renamed
/// aside, leaving a moment without `dest`) and the old contents are removed.
pub fn replace_dir(staged: TempDir, dest: &Path) -> Result<(), PackageError> {
    let staged_path = staged.path().to_path_buf();
    if fs::symlink_metadata(dest).is_err() {
        fs::rename(&staged_path, dest).map_err(|e| io_error("rename into place", dest, e))?;
        // The staged path no longer exists; forget it rather than removing `dest`.
        let _ = staged.keep();
        sync_dir(&parent_of(dest));
        return Ok(());
    }
    exchange(&staged_path, dest)?;
    // `staged` now holds the old contents; dropping it removes them.
    sync_dir(&parent_of(dest));
    drop(staged);
    Ok(())
}

/// Removes the directory `dir` in a way that makes it disappear at once: it is first renamed
/// to a staging name (so discovery never sees it half deleted), then deleted.
pub fn remove_dir_atomic(dir: &Path) -> Result<(), PackageError> {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("dir");
    let aside = parent_of(dir).join(format!(
        "{STAGING_PREFIX}removed-{name}-{}",
        std::process::id()
    ));
    if fs::symlink_metadata(&aside).is_ok() {
        fs::remove_dir_all(&aside).map_err(|e| io_error("remove", &aside, e))?;
    }
    fs::rename(dir, &aside).map_err(|e| io_error("rename aside", dir, e))?;
    sync_dir(&parent_of(dir));
    fs::remove_dir_all(&aside).map_err(|e| io_error("remove", &aside, e))
}

/// Removes staging directories an interrupted install left behind in `dir`.
pub fn remove_stale_staging(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let is_staging = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(STAGING_PREFIX));
        if is_staging && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Swaps the two paths `a` (a directory) and `b`.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<(), PackageError> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(()),
        // Filesystems without RENAME_EXCHANGE answer EINVAL; old kernels ENOSYS.
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
            exchange_by_renames(a, b)
        }
        Err(e) => Err(io_error("exchange", b, e.into())),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> Result<(), PackageError> {
    exchange_by_renames(a, b)
}

/// Two-step swap through a third name, for systems without an atomic exchange.
fn exchange_by_renames(a: &Path, b: &Path) -> Result<(), PackageError> {
    let aside = parent_of(b).join(format!(
        "{STAGING_PREFIX}aside-{}",
        b.file_name().and_then(|n| n.to_str()).unwrap_or("dir")
    ));
    if aside.exists() {
        fs::remove_dir_all(&aside).map_err(|e| io_error("remove", &aside, e))?;
    }
    fs::rename(b, &aside).map_err(|e| io_error("rename aside", b, e))?;
    if let Err(e) = fs::rename(a, b) {
        let _ = fs::rename(&aside, b);
        return Err(io_error("rename into place", b, e));
    }
    if fs::symlink_metadata(a).is_ok() {
        let _ = fs::remove_dir(a);
    }
    fs::rename(&aside, a).map_err(|e| io_error("rename", a, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_dir_swaps_and_cleans_up() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("plugins/p");
        let staged = stage_dir_for(&dest).unwrap();
        fs::write(staged.path().join("a"), "one").unwrap();
        replace_dir(staged, &dest).unwrap();
        assert_eq!(fs::read_to_string(dest.join("a")).unwrap(), "one");

        let staged = stage_dir_for(&dest).unwrap();
        fs::write(staged.path().join("b"), "two").unwrap();
        replace_dir(staged, &dest).unwrap();
        assert!(!dest.join("a").exists());
        assert_eq!(fs::read_to_string(dest.join("b")).unwrap(), "two");
        let names: Vec<_> = fs::read_dir(root.path().join("plugins"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["p"]);

        remove_dir_atomic(&dest).unwrap();
        assert_eq!(
            fs::read_dir(root.path().join("plugins")).unwrap().count(),
            0
        );
    }

    #[test]
    fn fallback_exchange_swaps() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        fs::write(a.join("x"), "new").unwrap();
        fs::write(b.join("y"), "old").unwrap();
        exchange_by_renames(&a, &b).unwrap();
        assert!(b.join("x").exists() && a.join("y").exists());
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 2);
    }

    #[test]
    fn write_atomic_replaces_whole_file() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("sub/f.toml");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(fs::read_dir(root.path().join("sub")).unwrap().count(), 1);
    }
}
