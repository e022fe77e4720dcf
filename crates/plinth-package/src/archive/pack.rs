//! Making a `.plinth` archive from a plugin directory, byte for byte the same every time.

use std::fs;
use std::path::Path;

use plinth_manifest::{MANIFEST_FILE, Manifest};

use super::{Package, UnpackLimits, is_extra_file, named_files};
use crate::error::{PackageError, io_error, rejected};

/// A package made by [`pack`]: its bytes and the package read back from them.
#[derive(Debug, Clone)]
pub struct Packed {
    /// The `.plinth` archive.
    pub bytes: Vec<u8>,
    /// The archive read back (manifest, members, digest).
    pub package: Package,
}

/// Packs the plugin directory `dir` (or the directory of a `plugin.toml` path) into a
/// `.plinth` archive.
///
/// The manifest is validated first; every file it names must be a regular file (not a
/// symlink) inside the directory, the component must be a WebAssembly component and match a
/// pinned `runtime.digest`. The archive is deterministic: members sorted by path, each with
/// mode 0644, uid/gid 0, no user or group name and mtime 0, in a GNU tar stream compressed
/// by gzip with mtime 0, no file name and level 9 (see `gzip`); the same files give the
/// same bytes.
/// The result is read back with [`Package::from_bytes`], so what `pack` returns always
/// installs.
pub fn pack(dir: &Path) -> Result<Packed, PackageError> {
    let parsed = Manifest::load(dir)?;
    let manifest = parsed.manifest;
    let root = manifest.dir.clone();
    let limits = UnpackLimits::default();

    let mut names: Vec<String> = vec![MANIFEST_FILE.to_owned()];
    names.extend(named_files(&manifest)?.into_iter().map(|(path, _)| path));
    names.extend(extra_files(&root)?);
    names.sort();
    names.dedup();

    let mut tar = tar::Builder::new(Vec::new());
    let mut total: u64 = 0;
    for name in &names {
        let path = root.join(name);
        let meta = fs::symlink_metadata(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                PackageError::Missing {
                    what: "file named by plugin.toml",
                    path: path.display().to_string(),
                }
            } else {
                io_error("read", &path, e)
            }
        })?;
        if !meta.file_type().is_file() {
            return Err(rejected(
                name.as_str(),
                "is not a regular file (symlinks and special files are not packed)",
            ));
        }
        if meta.len() > limits.max_member_bytes {
            return Err(rejected(
                name.as_str(),
                format!(
                    "is over the member cap of {} bytes",
                    limits.max_member_bytes
                ),
            ));
        }
        let bytes = fs::read(&path).map_err(|e| io_error("read", &path, e))?;
        total += bytes.len() as u64;
        if total > limits.max_total_bytes {
            return Err(rejected(
                name.as_str(),
                format!(
                    "the files exceed the package cap of {} bytes",
                    limits.max_total_bytes
                ),
            ));
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        tar.append_data(&mut header, name, bytes.as_slice())
            .map_err(|e| io_error("archive", &path, e))?;
    }
    let tar_bytes = tar
        .into_inner()
        .map_err(|e| io_error("finish the archive of", &root, e))?;

    let bytes = gzip(&tar_bytes);
    let package = Package::from_bytes_with(&bytes, &limits)?;
    Ok(Packed { bytes, package })
}

/// Gzip (RFC 1952) of `data`: a fixed 10-byte header (no mtime, no name, XFL 2, OS 255),
/// raw deflate at level 9 from `miniz_oxide`, CRC-32 and size. `miniz_oxide` is called
/// directly rather than through `flate2`, whose backend is chosen by cargo features that
/// another crate in a build could change: the same files must give the same bytes in every
/// build.
fn gzip(data: &[u8]) -> Vec<u8> {
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];
    let deflated = miniz_oxide::deflate::compress_to_vec(data, 9);
    let mut out = Vec::with_capacity(HEADER.len() + deflated.len() + 8);
    out.extend_from_slice(&HEADER);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    // ISIZE is the size modulo 2^32 by definition.
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// The top-level README*, LICENSE* and icon.* regular files of `root`.
fn extra_files(root: &Path) -> Result<Vec<String>, PackageError> {
    let entries = fs::read_dir(root).map_err(|e| io_error("list", root, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error("list", root, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && is_extra_file(&name) && super::check_member_path(name.as_bytes()).is_ok() {
            names.push(name);
        }
    }
    Ok(names)
}
