//! `plinth:host/fs`: files in directories the host maps by name (`[dirs]`).
//!
//! Each granted directory is opened once at load as a `cap_std::fs::Dir`; every request
//! resolves its path *beneath* that handle (openat-style, component by component), so
//! `..`, absolute paths and symlinks pointing outside are refused by construction, with
//! no check-then-use window. Writes go to a temporary file in the same directory, are
//! synced, then renamed over the target.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::fs::Dir;
use plinth_manifest::Grant;

use super::gate::CallGate;
use crate::bindings::fs;

/// Largest file `read-file` returns.
pub const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

/// One mapped directory a plugin was granted.
#[derive(Debug)]
pub struct MappedDir {
    /// The host path from `[dirs]`.
    pub host_path: PathBuf,
    /// Whether the grant allows writes.
    pub writable: bool,
    pub(crate) dir: Arc<Dir>,
}

/// Refuses an `fs.write:` grant on a directory that contains, or lies inside, one of
/// Plinth's own directories (`protected`: the home with its state, trust store and
/// consent file, the compile cache, the data directory), naming the directory and why
/// (docs/design/0032). Paths are compared canonical, so a symlink or `..` in `[dirs]`
/// does not hide the overlap. Reading such a directory stays allowed.
pub(crate) fn refuse_writes_to_protected(
    grants: &plinth_manifest::grant::GrantSet,
    mapped: &std::collections::BTreeMap<String, PathBuf>,
    protected: &[PathBuf],
) -> Result<(), (String, String)> {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    for grant in grants.iter() {
        let Grant::FsWrite(name) = grant else {
            continue;
        };
        // An unmapped name is reported by `open_granted`.
        let Some(host_path) = mapped.get(name) else {
            continue;
        };
        let dir = canonical(host_path);
        for own in protected {
            let own = canonical(own);
            let relation = if dir.starts_with(&own) {
                "lies inside"
            } else if own.starts_with(&dir) {
                "contains"
            } else {
                continue;
            };
            return Err((
                name.clone(),
                format!(
                    "directory `{name}` ({}) {relation} Plinth's own directory {}: plugins may not write Plinth's state, trust store, cache or data, so `fs.write:{name}` is refused (grant `fs.read:{name}`, or map a directory outside the Plinth home)",
                    host_path.display(),
                    own.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Opens the directories named by `fs.read:`/`fs.write:`/`watch:` grants. A name that
/// `mapped` lacks, or whose path cannot be opened as a directory, is an error naming it.
pub(crate) fn open_granted(
    grants: &plinth_manifest::grant::GrantSet,
    mapped: &std::collections::BTreeMap<String, PathBuf>,
) -> Result<std::collections::BTreeMap<String, MappedDir>, (String, String)> {
    let mut out = std::collections::BTreeMap::new();
    for grant in grants.iter() {
        let (name, writable, watch_only) = match grant {
            Grant::FsRead(name) => (name, false, false),
            Grant::FsWrite(name) => (name, true, false),
            Grant::Watch(name) => (name, false, true),
            _ => continue,
        };
        let Some(host_path) = mapped.get(name) else {
            return Err((
                name.clone(),
                format!(
                    "the host maps no directory `{name}` (add it under `[dirs]` in config.toml)"
                ),
            ));
        };
        let dir = Dir::open_ambient_dir(host_path, cap_std::ambient_authority()).map_err(|e| {
            (
                name.clone(),
                format!(
                    "directory `{name}` ({}) cannot be opened: {e}",
                    host_path.display()
                ),
            )
        })?;
        if watch_only {
            // Checked, but a watch grant alone gives no file access.
            continue;
        }
        let entry = out.entry(name.clone()).or_insert(MappedDir {
            host_path: host_path.clone(),
            writable,
            dir: Arc::new(dir),
        });
        entry.writable |= writable;
    }
    Ok(out)
}

/// Checks a guest path: relative, `/`-separated, no `..`. Returns it as a host path
/// relative to the mapped directory (`.` for the directory itself).
pub fn relative_path(path: &str) -> Result<PathBuf, String> {
    if path.starts_with('/') || path.starts_with('\\') || path.contains('\0') {
        return Err(format!("`{path}` is not a relative path"));
    }
    let mut out = PathBuf::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(format!("`{path}` leaves the directory (`..`)")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("`{path}` is not a relative path"));
            }
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    Ok(out)
}

fn io_error(dir: &str, path: &str, e: std::io::Error) -> fs::FsError {
    match e.kind() {
        std::io::ErrorKind::NotFound => fs::FsError::NotFound(format!("{dir}/{path}: not found")),
        std::io::ErrorKind::PermissionDenied => fs::FsError::Denied(format!("{dir}/{path}: {e}")),
        _ => fs::FsError::Io(format!("{dir}/{path}: {e}")),
    }
}

fn kind_of(file_type: cap_std::fs::FileType) -> fs::EntryKind {
    if file_type.is_symlink() {
        fs::EntryKind::Symlink
    } else if file_type.is_dir() {
        fs::EntryKind::Directory
    } else if file_type.is_file() {
        fs::EntryKind::File
    } else {
        fs::EntryKind::Other
    }
}

/// The directories one plugin was granted, opened at load, by name.
pub(crate) type FsState = std::collections::BTreeMap<String, MappedDir>;

/// What `fs` sees of a call.
pub(crate) struct FsView<'a> {
    pub(crate) gate: CallGate<'a>,
    pub(crate) dirs: &'a FsState,
}

linked_through!(
    /// Links `plinth:host/fs` to an [`FsView`].
    Fs => FsView
);

impl fs::Host for FsView<'_> {
    fn list_dir(&mut self, dir: String, path: String) -> Result<Vec<fs::DirEntry>, fs::FsError> {
        let (root, rel) = self.resolve(Grant::FsRead(dir.clone()), &path)?;
        let mut entries = Vec::new();
        for entry in root.read_dir(&rel).map_err(|e| io_error(&dir, &path, e))? {
            let entry = entry.map_err(|e| io_error(&dir, &path, e))?;
            let kind = entry.file_type().map_or(fs::EntryKind::Other, kind_of);
            entries.push(fs::DirEntry {
                name: entry.file_name().to_string_lossy().into_owned(),
                kind,
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    fn read_metadata(&mut self, dir: String, path: String) -> Result<fs::Metadata, fs::FsError> {
        let (root, rel) = self.resolve(Grant::FsRead(dir.clone()), &path)?;
        let meta = root
            .symlink_metadata(&rel)
            .map_err(|e| io_error(&dir, &path, e))?;
        let modified_ms = meta
            .modified()
            .ok()
            .map(|t| t.into_std())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Ok(fs::Metadata {
            kind: kind_of(meta.file_type()),
            size: meta.len(),
            modified_ms,
        })
    }

    fn read_file(&mut self, dir: String, path: String) -> Result<Vec<u8>, fs::FsError> {
        let (root, rel) = self.resolve(Grant::FsRead(dir.clone()), &path)?;
        let file = root.open(&rel).map_err(|e| io_error(&dir, &path, e))?;
        let len = file.metadata().map_err(|e| io_error(&dir, &path, e))?.len();
        if len > MAX_READ_BYTES {
            return Err(fs::FsError::TooLarge(format!(
                "{dir}/{path} is {len} bytes; the read cap is {MAX_READ_BYTES}"
            )));
        }
        let mut bytes = Vec::new();
        file.take(MAX_READ_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(&dir, &path, e))?;
        if bytes.len() as u64 > MAX_READ_BYTES {
            return Err(fs::FsError::TooLarge(format!(
                "{dir}/{path} grew past the read cap of {MAX_READ_BYTES} bytes"
            )));
        }
        Ok(bytes)
    }

    fn write_file(
        &mut self,
        dir: String,
        path: String,
        contents: Vec<u8>,
    ) -> Result<(), fs::FsError> {
        let (root, rel) = self.resolve(Grant::FsWrite(dir.clone()), &path)?;
        write_atomic(&root, &rel, &contents).map_err(|e| io_error(&dir, &path, e))
    }
}

/// Writes `contents` to a temporary sibling of `rel`, syncs it and renames it over `rel`.
pub(crate) fn write_atomic(root: &Dir, rel: &Path, contents: &[u8]) -> std::io::Result<()> {
    let name = rel
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let parent = rel.parent().filter(|p| !p.as_os_str().is_empty());
    let parent_dir;
    let target_dir = match parent {
        Some(parent) => {
            parent_dir = root.open_dir(parent)?;
            &parent_dir
        }
        None => root,
    };
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = format!(
        ".{}.plinth-{}-{nonce}.tmp",
        name.to_string_lossy(),
        std::process::id()
    );
    let result = (|| {
        let mut options = cap_std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        let mut file = target_dir.open_with(&tmp, &options)?;
        file.write_all(contents)?;
        file.sync_all()?;
        target_dir.rename(&tmp, target_dir, name)
    })();
    if result.is_err() {
        let _ = target_dir.remove_file(&tmp);
    }
    result
}

impl FsView<'_> {
    /// Checks the grant (audited) and the path; returns the directory handle and the
    /// relative path to resolve beneath it.
    fn resolve(&mut self, grant: Grant, path: &str) -> Result<(Arc<Dir>, PathBuf), fs::FsError> {
        let (Grant::FsRead(name) | Grant::FsWrite(name)) = &grant else {
            return Err(fs::FsError::Denied("not a filesystem grant".into()));
        };
        let mapped = self.dirs.get(name);
        self.gate.check(grant.clone())?;
        let Some(mapped) = mapped else {
            return Err(fs::FsError::Denied(format!(
                "directory `{name}` is not mapped"
            )));
        };
        let rel = relative_path(path).map_err(fs::FsError::Denied)?;
        Ok((mapped.dir.clone(), rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let ok = |p: &str| relative_path(p).unwrap();
        assert_eq!(ok(""), PathBuf::from("."));
        assert_eq!(ok("."), PathBuf::from("."));
        assert_eq!(ok("a/./b"), PathBuf::from("a/b"));
        assert_eq!(ok("a/b/"), PathBuf::from("a/b"));
        for bad in ["/etc/passwd", "..", "a/../../x", "a/..", "\\x", "a\0b"] {
            assert!(relative_path(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("inside"), "i").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("out")).unwrap();
        std::os::unix::fs::symlink("inside", root.path().join("alias")).unwrap();
        let dir = Dir::open_ambient_dir(root.path(), cap_std::ambient_authority()).unwrap();
        assert_eq!(dir.read_to_string("alias").unwrap(), "i");
        let err = dir.read_to_string("out/secret").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
        assert!(write_atomic(&dir, Path::new("out/new"), b"x").is_err());
        assert!(!outside.path().join("new").exists());
    }

    #[test]
    fn writes_are_atomic_replacements() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("sub")).unwrap();
        let dir = Dir::open_ambient_dir(root.path(), cap_std::ambient_authority()).unwrap();
        write_atomic(&dir, Path::new("sub/f.txt"), b"one").unwrap();
        write_atomic(&dir, Path::new("sub/f.txt"), b"two").unwrap();
        assert_eq!(
            std::fs::read(root.path().join("sub/f.txt")).unwrap(),
            b"two"
        );
        let names: Vec<_> = std::fs::read_dir(root.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["f.txt"], "no temporary file left behind");
    }
}
