//! The lockfile, `<home>/plinth.lock`: which package each installed plugin came from, pinned
//! by version and digest, so a restore gets exactly the same bytes.
//!
//! ```toml
//! # Plinth lockfile: written by `plinth install`; pins each plugin's package.
//! schema_version = 1
//!
//! [plugins."example.hello"]
//! version = "0.1.0"
//! digest = "sha256:…"
//! source = "/home/jane/hello-0.1.0.plinth"
//! signer = "alice"
//!
//! [keys]
//! "example.hello" = "ed25519:…"
//! ```
//!
//! `[keys]` pins each plugin id to the key that signed its first install (docs/design/0034):
//! a later install of the id must be signed by the same key unless the operator replaces
//! the plugin, and the pin outlives `uninstall`.

use std::collections::BTreeMap;
use std::path::Path;

use plinth_manifest::{Digest, PluginId};
use serde::{Deserialize, Serialize};

use crate::archive::{Package, UnpackLimits};
use crate::error::{PackageError, io_error, rejected};
use crate::fsutil::write_atomic;
use crate::signature::PublicKey;

/// The lockfile's file name inside the home directory.
pub const LOCK_FILE: &str = "plinth.lock";

/// The lockfile format this crate reads and writes.
pub const LOCK_SCHEMA_VERSION: u32 = 1;

/// One installed plugin's pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    /// The installed version.
    pub version: semver::Version,
    /// The sha256 of the installed `.plinth` package (for a directory install, of the
    /// package [`pack`](crate::pack) makes from it).
    pub digest: Digest,
    /// Where it was installed from: a path, URL or `oci://` reference, as given.
    pub source: String,
    /// The trusted key that signed it, by its trust-store name; absent when unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

/// The whole lockfile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lockfile {
    entries: BTreeMap<PluginId, LockEntry>,
    keys: BTreeMap<PluginId, PublicKey>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFileText {
    schema_version: u32,
    #[serde(default)]
    plugins: BTreeMap<String, LockEntry>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    keys: BTreeMap<String, String>,
}

impl Lockfile {
    /// Parses the file text; `path` is used in messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Lockfile, PackageError> {
        let invalid = |reason: String| PackageError::InvalidFile {
            path: path.to_path_buf(),
            reason,
        };
        let file: LockFileText =
            toml::from_str(text).map_err(|e| invalid(e.message().to_owned()))?;
        if file.schema_version != LOCK_SCHEMA_VERSION {
            return Err(invalid(format!(
                "schema_version {} is not supported (this Plinth reads version {LOCK_SCHEMA_VERSION})",
                file.schema_version
            )));
        }
        let mut entries = BTreeMap::new();
        for (id, entry) in file.plugins {
            let id = PluginId::new(id).map_err(|e| invalid(e.to_string()))?;
            entries.insert(id, entry);
        }
        let mut keys = BTreeMap::new();
        for (id, key) in file.keys {
            let key = key
                .parse::<PublicKey>()
                .map_err(|e| invalid(format!("keys.{id}: {e}")))?;
            let id = PluginId::new(id).map_err(|e| invalid(e.to_string()))?;
            keys.insert(id, key);
        }
        Ok(Lockfile { entries, keys })
    }

    /// Reads the lockfile; a missing file is an empty lockfile.
    pub fn load(path: &Path) -> Result<Lockfile, PackageError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Lockfile::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lockfile::default()),
            Err(e) => Err(io_error("read", path, e)),
        }
    }

    /// The file text.
    pub fn to_toml(&self) -> String {
        let file = LockFileText {
            schema_version: LOCK_SCHEMA_VERSION,
            plugins: self
                .entries
                .iter()
                .map(|(id, e)| (id.as_str().to_owned(), e.clone()))
                .collect(),
            keys: self
                .keys
                .iter()
                .map(|(id, key)| (id.as_str().to_owned(), key.to_string()))
                .collect(),
        };
        let body = toml::to_string(&file).unwrap_or_default();
        format!(
            "# Plinth lockfile: written by `plinth install`; pins each plugin's package.\n{body}"
        )
    }

    /// Writes the lockfile atomically.
    pub fn save(&self, path: &Path) -> Result<(), PackageError> {
        write_atomic(path, self.to_toml().as_bytes())
    }

    /// The entry of `id`.
    pub fn get(&self, id: &PluginId) -> Option<&LockEntry> {
        self.entries.get(id)
    }

    /// Records `entry` for `id`, returning the entry it replaces.
    pub fn insert(&mut self, id: PluginId, entry: LockEntry) -> Option<LockEntry> {
        self.entries.insert(id, entry)
    }

    /// Removes the entry of `id`.
    pub fn remove(&mut self, id: &PluginId) -> Option<LockEntry> {
        self.entries.remove(id)
    }

    /// The key `id` is pinned to: the key that signed its first signed install (or its
    /// replacement). Kept when the plugin is uninstalled.
    pub fn pinned_key(&self, id: &PluginId) -> Option<PublicKey> {
        self.keys.get(id).copied()
    }

    /// Pins `id` to `key`, returning the key it was pinned to before.
    pub fn pin_key(&mut self, id: PluginId, key: PublicKey) -> Option<PublicKey> {
        self.keys.insert(id, key)
    }

    /// Removes the key pin of `id`.
    pub fn unpin_key(&mut self, id: &PluginId) -> Option<PublicKey> {
        self.keys.remove(id)
    }

    /// All entries, sorted by id.
    pub fn entries(&self) -> impl Iterator<Item = (&PluginId, &LockEntry)> {
        self.entries.iter()
    }

    /// The restore check: a package offered for `id` must have the locked version
    /// (`version-mismatch`) and digest (`digest-mismatch`). An id without an entry is
    /// `missing-package`.
    pub fn check(
        &self,
        id: &PluginId,
        version: &semver::Version,
        digest: &Digest,
    ) -> Result<&LockEntry, PackageError> {
        let entry = self.get(id).ok_or_else(|| PackageError::Missing {
            what: "lockfile entry",
            path: format!("{LOCK_FILE}: {id}"),
        })?;
        entry.check(id, version, digest)?;
        Ok(entry)
    }
}

impl LockEntry {
    /// Whether a package of `version` and `digest` is the one this entry pins (see
    /// [`Lockfile::check`]). The version is checked first: a different version is the more
    /// useful message, and it implies a different digest.
    pub fn check(
        &self,
        id: &PluginId,
        version: &semver::Version,
        digest: &Digest,
    ) -> Result<(), PackageError> {
        if *version != self.version {
            return Err(PackageError::VersionMismatch {
                id: id.to_string(),
                expected: self.version.clone(),
                actual: version.clone(),
            });
        }
        if *digest != self.digest {
            return Err(PackageError::DigestMismatch {
                id: id.to_string(),
                expected: self.digest,
                actual: *digest,
            });
        }
        Ok(())
    }

    /// The restore check on package bytes, made before their signature is looked at, so a
    /// swapped package is reported as such whatever its signature says. Bytes with the pinned
    /// digest pass without being read. Other bytes are read within `limits` only to say how
    /// they differ: a package of another plugin is `package-rejected`, of another version
    /// `version-mismatch`; anything else, including bytes that are not a package, is
    /// `digest-mismatch`.
    pub fn check_bytes(
        &self,
        id: &PluginId,
        bytes: &[u8],
        limits: &UnpackLimits,
    ) -> Result<(), PackageError> {
        let digest = Digest::of(bytes);
        if digest == self.digest {
            return Ok(());
        }
        let mismatch = PackageError::DigestMismatch {
            id: id.to_string(),
            expected: self.digest,
            actual: digest,
        };
        let Ok(package) = Package::from_bytes_with(bytes, limits) else {
            return Err(mismatch);
        };
        if package.id() != id {
            return Err(rejected(
                "plugin.toml",
                format!(
                    "the package is plugin `{}`, not the `{id}` plinth.lock pins",
                    package.id()
                ),
            ));
        }
        self.check(id, package.version(), &digest)
    }
}

#[cfg(test)]
mod tests {
    use plinth_manifest::Code;

    use super::*;

    fn entry(version: &str, bytes: &[u8]) -> LockEntry {
        LockEntry {
            version: version.parse().unwrap(),
            digest: Digest::of(bytes),
            source: "here".into(),
            signer: None,
        }
    }

    #[test]
    fn round_trip_and_restore_check_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let id = PluginId::new("example.hello").unwrap();
        let mut lock = Lockfile::load(&path).unwrap();
        assert!(lock.insert(id.clone(), entry("0.1.0", b"a")).is_none());
        let mut signed = entry("1.0.0", b"b");
        signed.signer = Some("alice".into());
        lock.insert(PluginId::new("x").unwrap(), signed);
        let key = crate::signature::SecretKey::from_seed([1; 32]).public_key();
        assert!(lock.pin_key(PluginId::new("x").unwrap(), key).is_none());
        lock.save(&path).unwrap();
        assert_eq!(Lockfile::load(&path).unwrap(), lock);
        assert!(
            lock.to_toml().contains(&format!("[keys]\nx = \"{key}\"")),
            "{}",
            lock.to_toml()
        );
        lock.remove(&PluginId::new("x").unwrap());
        assert_eq!(
            lock.pinned_key(&PluginId::new("x").unwrap()),
            Some(key),
            "pins outlive entries"
        );

        let v010: semver::Version = "0.1.0".parse().unwrap();
        let v011: semver::Version = "0.1.1".parse().unwrap();
        let cases = [
            (&id, &v010, Digest::of(b"a"), Ok(())),
            (&id, &v010, Digest::of(b"z"), Err(Code::DigestMismatch)),
            (&id, &v011, Digest::of(b"a"), Err(Code::VersionMismatch)),
            (&id, &v011, Digest::of(b"z"), Err(Code::VersionMismatch)),
        ];
        for (id, version, digest, expected) in cases {
            let got = lock
                .check(id, version, &digest)
                .map(|_| ())
                .map_err(|e| e.code());
            assert_eq!(got, expected, "{version} {digest}");
        }
        let absent = PluginId::new("absent").unwrap();
        assert_eq!(
            lock.check(&absent, &v010, &Digest::of(b"a"))
                .unwrap_err()
                .code(),
            Code::MissingPackage
        );
    }

    #[test]
    fn malformed_lockfiles_are_invalid() {
        let digest = Digest::of(b"");
        for text in [
            String::new(),
            "schema_version = 2".into(),
            "schema_version = 1\n[plugins.\"Bad Id\"]\nversion = \"1.0.0\"\ndigest = \"sha256:00\"\nsource = \"\"".into(),
            format!("schema_version = 1\n[plugins.x]\nversion = \"one\"\ndigest = \"{digest}\"\nsource = \"\""),
            format!("schema_version = 1\n[plugins.x]\nversion = \"1.0.0\"\ndigest = \"{digest}\"\nsource = \"\"\nextra = 1"),
            "schema_version = 1\n[plugins.x]\nversion = \"1.0.0\"\ndigest = \"md5:00\"\nsource = \"\"".into(),
            "schema_version = 1\n[keys]\nx = \"ed25519:00\"".into(),
            "schema_version = 1\n[keys]\n\"Bad Id\" = \"ed25519:0000000000000000000000000000000000000000000000000000000000000000\"".into(),
        ] {
            let err = Lockfile::parse(&text, Path::new("plinth.lock")).unwrap_err();
            assert_eq!(err.code(), Code::InvalidManifest, "{text}");
        }
    }
}
