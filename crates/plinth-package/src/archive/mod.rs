//! The `.plinth` archive: a gzip-compressed tar of a plugin's files, made the same way every
//! time (see [`pack`]) and read back only within hard limits (see [`Package::from_bytes`]).
//!
//! A package holds exactly these regular files, at the paths the plugin directory has them:
//! `plugin.toml`, the component it names, the settings schema and tool input schemas it
//! names, and at the top level any `README*`, `LICENSE*`/`LICENCE*` and `icon.*` file. Member
//! paths use `/`, are relative, and consist of ASCII letters, digits and `._+-`.

mod pack;
mod unpack;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use plinth_manifest::{Diagnostic, Digest, MANIFEST_FILE, Manifest, PluginId};

use crate::error::{PackageError, io_error, rejected};
use crate::fsutil;
use crate::signature::Subject;
pub use pack::{Packed, pack};

/// The file extension of a package.
pub const PACKAGE_EXTENSION: &str = "plinth";

/// The first eight bytes of a WebAssembly component (magic, version 0x0d, layer 1). A core
/// module has version 1, layer 0.
const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// The caps [`Package::from_bytes`] enforces. Sizes are measured on the bytes actually
/// decompressed, never taken from tar headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnpackLimits {
    /// The compressed archive (default 128 MiB).
    pub max_archive_bytes: u64,
    /// Entries in the archive (default 256).
    pub max_entries: usize,
    /// One member's decompressed size (default 128 MiB).
    pub max_member_bytes: u64,
    /// All members together (default 256 MiB).
    pub max_total_bytes: u64,
}

impl Default for UnpackLimits {
    fn default() -> Self {
        UnpackLimits {
            max_archive_bytes: 128 << 20,
            max_entries: 256,
            max_member_bytes: 128 << 20,
            max_total_bytes: 256 << 20,
        }
    }
}

/// A package read into memory and checked: member paths are safe, the manifest is valid, and
/// every file the manifest names is present.
#[derive(Debug, Clone)]
pub struct Package {
    manifest: Manifest,
    warnings: Vec<Diagnostic>,
    members: BTreeMap<String, Vec<u8>>,
    /// The component's member path; `None` for a plugin without one (themes alone).
    component: Option<String>,
    digest: Digest,
}

impl Package {
    /// Reads a `.plinth` archive with the [default limits](UnpackLimits::default).
    pub fn from_bytes(bytes: &[u8]) -> Result<Package, PackageError> {
        Package::from_bytes_with(bytes, &UnpackLimits::default())
    }

    /// Reads a `.plinth` archive within `limits`. Refuses (`package-rejected`, naming the
    /// entry) an archive that is not gzip+tar, an entry path that is absolute, has `..`, `.`
    /// or empty parts, or characters outside `A-Za-z0-9._+-/`, a symlink, hard link, device
    /// or any entry that is not a regular file or directory, a duplicate path (ignoring
    /// case), a file that another entry treats as a directory, more than
    /// `max_entries` entries, a member or the total over its cap, and a member that is not one
    /// of the package's files: `plugin.toml`, the files it names, and top-level `README*`,
    /// `LICENSE*`/`LICENCE*` and `icon.*`.
    pub fn from_bytes_with(bytes: &[u8], limits: &UnpackLimits) -> Result<Package, PackageError> {
        let members = unpack::read_members(bytes, limits)?;
        Package::from_members(members, Digest::of(bytes))
    }

    /// Checks a set of members read from an archive whose bytes hash to `digest`.
    fn from_members(
        members: BTreeMap<String, Vec<u8>>,
        digest: Digest,
    ) -> Result<Package, PackageError> {
        let Some(text) = members.get(MANIFEST_FILE) else {
            return Err(rejected(
                MANIFEST_FILE,
                "the archive has no plugin.toml at its top level",
            ));
        };
        let text = std::str::from_utf8(text)
            .map_err(|_| rejected(MANIFEST_FILE, "plugin.toml is not UTF-8 text"))?;
        let parsed = Manifest::parse(text, Path::new(MANIFEST_FILE))?;
        let manifest = parsed.manifest;
        let named = named_files(&manifest)?;
        for (path, what) in &named {
            if !members.contains_key(path) {
                return Err(PackageError::Missing {
                    what,
                    path: format!("{path} (in the package)"),
                });
            }
        }
        for path in members.keys() {
            let is_named = path == MANIFEST_FILE || named.iter().any(|(p, _)| p == path);
            if !is_named && !is_extra_file(path) {
                return Err(rejected(
                    path.as_str(),
                    "is not a package file: a package holds plugin.toml, the files it names, and top-level README*, LICENSE* and icon.* files",
                ));
            }
        }
        let component = manifest
            .runtime
            .as_ref()
            .and(named.first())
            .map(|(p, _)| p.clone());
        if let Some(component) = &component {
            let bytes = members.get(component).map_or(&[][..], Vec::as_slice);
            check_component(bytes, component)?;
            manifest.verify_digest(bytes)?;
        }
        Ok(Package {
            manifest,
            warnings: parsed.warnings,
            members,
            component,
            digest,
        })
    }

    /// The validated manifest (its `dir` is `.`).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Manifest warnings (e.g. `unknown-key`).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The plugin id.
    pub fn id(&self) -> &PluginId {
        &self.manifest.plugin.id
    }

    /// The plugin version.
    pub fn version(&self) -> &semver::Version {
        &self.manifest.plugin.version
    }

    /// The sha256 of the archive bytes: what the lockfile pins and a package signature covers.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// What a signature of this package covers: id, version and [`Package::digest`].
    pub fn subject(&self) -> Subject {
        Subject {
            id: self.id().clone(),
            version: self.version().clone(),
            digest: self.digest,
        }
    }

    /// The member paths and contents, sorted by path.
    pub fn members(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.members.iter().map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    /// One member's contents.
    pub fn member(&self, path: &str) -> Option<&[u8]> {
        self.members.get(path).map(Vec::as_slice)
    }

    /// The component's path inside the package; `None` for a plugin without one.
    pub fn component_path(&self) -> Option<&str> {
        self.component.as_deref()
    }

    /// The component's bytes (empty for a plugin without one).
    pub fn component(&self) -> &[u8] {
        self.component
            .as_deref()
            .and_then(|c| self.member(c))
            .unwrap_or_default()
    }

    /// What a signature in the directory layout covers: the component's digest, or for a
    /// plugin without one [`Manifest::files_digest`] over the members its manifest names.
    pub fn payload_digest(&self) -> Digest {
        if self.component.is_some() {
            return Digest::of(self.component());
        }
        // Every named file is a member: `from_members` checked it.
        self.manifest
            .files_digest(|path| {
                let member = member_path(path)?;
                Ok::<_, PackageError>(self.member(&member).unwrap_or_default().to_vec())
            })
            .unwrap_or_else(|_| Digest::of(&[]))
    }

    /// The member holding the signature in the directory layout: `x.sig` beside the
    /// component `x.wasm`, `plugin.sig` for a plugin without a component.
    pub fn signature_member(&self) -> String {
        match &self.component {
            Some(component) => crate::install::component_sig_member(component),
            None => COMPONENTLESS_SIGNATURE.into(),
        }
    }

    /// Writes the members into a new directory `dest` atomically: they are written into a
    /// staging directory next to `dest` and renamed into place, replacing an existing `dest`
    /// in one step. On any failure `dest` is as it was and no staging directory remains.
    pub fn unpack_to(&self, dest: &Path) -> Result<(), PackageError> {
        self.unpack_with_extra(dest, &[])
    }

    /// Like [`Package::unpack_to`], adding `extra` files (name, contents) at the top level,
    /// e.g. the signature that was verified.
    pub(crate) fn unpack_with_extra(
        &self,
        dest: &Path,
        extra: &[(&str, &[u8])],
    ) -> Result<(), PackageError> {
        let staged = fsutil::stage_dir_for(dest)?;
        let files = self
            .members()
            .chain(extra.iter().map(|(name, bytes)| (*name, *bytes)));
        for (path, bytes) in files {
            let target = staged.path().join(path);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(|e| io_error("create directory", parent, e))?;
            }
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(|e| io_error("create", &target, e))?;
            file.write_all(bytes)
                .and_then(|()| file.sync_all())
                .map_err(|e| io_error("write", &target, e))?;
        }
        fsutil::replace_dir(staged, dest)
    }
}

/// Unpacks `bytes` into `dest` atomically (see [`Package::from_bytes_with`] for what is
/// refused and [`Package::unpack_to`] for how it is written), returning the package.
pub fn unpack(bytes: &[u8], dest: &Path, limits: &UnpackLimits) -> Result<Package, PackageError> {
    let package = Package::from_bytes_with(bytes, limits)?;
    package.unpack_to(dest)?;
    Ok(package)
}

/// The `plugin.toml` of a `.plinth` archive, as text and parsed, read within `limits` (the
/// entry rules of [`Package::from_bytes_with`] apply) without checking the files it names:
/// what labelling an artifact needs (`plinth push`); installing checks the whole package.
pub fn read_package_manifest(
    bytes: &[u8],
    limits: &UnpackLimits,
) -> Result<(String, Manifest), PackageError> {
    let members = unpack::read_members(bytes, limits)?;
    let Some(text) = members.get(MANIFEST_FILE) else {
        return Err(rejected(
            MANIFEST_FILE,
            "the archive has no plugin.toml at its top level",
        ));
    };
    let text = String::from_utf8(text.clone())
        .map_err(|_| rejected(MANIFEST_FILE, "plugin.toml is not UTF-8 text"))?;
    let manifest = Manifest::parse(&text, Path::new(MANIFEST_FILE))?.manifest;
    Ok((text, manifest))
}

/// A package unpacked into a temporary folder of its own (for running or inspecting a
/// `.plinth` file without installing it); the folder is removed when this is dropped.
#[derive(Debug)]
pub struct TempUnpacked {
    _temp: tempfile::TempDir,
    dir: PathBuf,
    package: Package,
}

impl TempUnpacked {
    /// The plugin folder: `plugin.toml` and the files it names.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The package that was unpacked.
    pub fn package(&self) -> &Package {
        &self.package
    }
}

/// Checks `bytes` like [`unpack`] and unpacks them into a new temporary folder.
pub fn unpack_to_temp(bytes: &[u8], limits: &UnpackLimits) -> Result<TempUnpacked, PackageError> {
    let package = Package::from_bytes_with(bytes, limits)?;
    let temp = tempfile::Builder::new()
        .prefix("plinth-package-")
        .tempdir()
        .map_err(|e| io_error("create a temp folder in", std::env::temp_dir(), e))?;
    let dir = temp.path().join("plugin");
    package.unpack_to(&dir)?;
    Ok(TempUnpacked {
        _temp: temp,
        dir,
        package,
    })
}

/// The signature of a plugin without a component in the directory layout, beside its
/// `plugin.toml`.
pub const COMPONENTLESS_SIGNATURE: &str = "plugin.sig";

/// The files a manifest names, as member paths, component first.
fn named_files(manifest: &Manifest) -> Result<Vec<(String, &'static str)>, PackageError> {
    manifest
        .named_files()
        .into_iter()
        .map(|(path, what)| Ok((member_path(path)?, what)))
        .collect()
}

/// A manifest path (normal form, relative) as a member path.
fn member_path(path: &Path) -> Result<String, PackageError> {
    let mut parts = Vec::new();
    for part in path.components() {
        match part {
            Component::Normal(name) => parts
                .push(name.to_str().ok_or_else(|| {
                    rejected(path.display().to_string(), "the path is not UTF-8")
                })?),
            _ => {
                return Err(rejected(
                    path.display().to_string(),
                    "the path is not relative to plugin.toml",
                ));
            }
        }
    }
    let joined = parts.join("/");
    check_member_path(joined.as_bytes()).map_err(|reason| rejected(joined.clone(), reason))
}

/// The top-level documentation files a package may carry besides the manifest's.
fn is_extra_file(path: &str) -> bool {
    if path.contains('/') {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    lower.starts_with("readme")
        || lower.starts_with("license")
        || lower.starts_with("licence")
        || lower.starts_with("icon.")
}

/// Longest member path, in bytes.
const MAX_PATH_BYTES: usize = 255;
/// Deepest member path, in parts.
const MAX_PATH_DEPTH: usize = 8;

/// Checks a member path and returns it as text, or says why it is refused.
pub(crate) fn check_member_path(raw: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "the path is not UTF-8".to_owned())?;
    if text.is_empty() {
        return Err("the path is empty".into());
    }
    if text.len() > MAX_PATH_BYTES {
        return Err(format!("the path is longer than {MAX_PATH_BYTES} bytes"));
    }
    if text.starts_with('/') {
        return Err("absolute path".into());
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-' | '/')))
    {
        return Err(format!(
            "the path has the character {bad:?}; member paths use A-Z a-z 0-9 . _ + - and /"
        ));
    }
    let parts: Vec<&str> = text.split('/').collect();
    if parts.len() > MAX_PATH_DEPTH {
        return Err(format!("the path is deeper than {MAX_PATH_DEPTH} levels"));
    }
    for part in parts {
        match part {
            ".." => return Err("path traversal ('..')".into()),
            "." | "" => return Err("the path has an empty or '.' part".into()),
            _ => {}
        }
    }
    Ok(text.to_owned())
}

/// Refuses bytes that are not a WebAssembly component.
fn check_component(bytes: &[u8], path: &str) -> Result<(), PackageError> {
    if bytes.starts_with(&COMPONENT_HEADER) {
        Ok(())
    } else {
        Err(PackageError::NotAComponent {
            path: path.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_path_table() {
        let good = [
            "plugin.toml",
            "a/b.wasm",
            "README.md",
            "x+y-z_1.json",
            ".hidden",
        ];
        for path in good {
            assert_eq!(check_member_path(path.as_bytes()).as_deref(), Ok(path));
        }
        let bad: &[&[u8]] = &[
            b"",
            b"/etc/passwd",
            b"../x",
            b"a/../../x",
            b"a/./b",
            b"a//b",
            b"a/",
            b"a\\b",
            b"c:x",
            b"a b",
            b"a\0b",
            b"\xff",
            b"a/b/c/d/e/f/g/h/i",
        ];
        for path in bad {
            assert!(check_member_path(path).is_err(), "{path:?}");
        }
        assert!(check_member_path("x".repeat(256).as_bytes()).is_err());
    }

    #[test]
    fn extra_files_are_top_level_docs_only() {
        for yes in ["README", "readme.md", "LICENSE-MIT", "LICENCE", "icon.png"] {
            assert!(is_extra_file(yes), "{yes}");
        }
        for no in ["docs/README.md", "icon", "notes.txt", "run.sh"] {
            assert!(!is_extra_file(no), "{no}");
        }
    }
}
