//! Digests of component files already hashed, keyed by what the file system says of the
//! file (docs/design/0071).
//!
//! Loading a cached plugin needs its digest, the compile cache's key, and hashing a 19 MB
//! Python component costs more than mapping its compiled code. A file whose device, inode,
//! size, modification time and change time are what they were when it was hashed has the
//! bytes it had then: writing to it, replacing it, renaming another file onto it or setting
//! its times back all set its change time (`ctime`) to the present, and only the kernel sets
//! that. So the index maps a file's path and identity to the digest it had.
//!
//! Two caveats are handled the way git's index handles them:
//!
//! - **A racy entry.** Timestamps have a granularity: a file changed in the same tick as it
//!   was hashed keeps its identity. An entry is only recorded for a file unchanged for
//!   [`SETTLED`] before it was read, with the same identity before and after the read, so a
//!   freshly written file is hashed on each load until it has settled.
//! - **Who wrote the index.** The entries live in the compile cache's private directory
//!   and are trusted under the same rule as its compiled code ([`crate::cache::trust_entry`]):
//!   anyone who could write them could also write compiled code there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use plinth_manifest::digest::Digest;

/// How long a file must have been unchanged before it was read for its digest to be kept.
pub(crate) const SETTLED: Duration = Duration::from_secs(2);

/// The first word of an entry file: its format.
const FORMAT: &str = "plinth-digest-v1";

/// What the file system says of a file: the same identity means the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Identity {
    /// The identity of the regular file at `path` (following symlinks, as a read does);
    /// `None` for anything else or when it cannot be inspected.
    pub(crate) fn of(path: &Path) -> Option<Identity> {
        let meta = std::fs::metadata(path).ok()?;
        meta.is_file().then(|| Identity::from_metadata(&meta))?
    }

    #[cfg(unix)]
    fn from_metadata(meta: &std::fs::Metadata) -> Option<Identity> {
        use std::os::unix::fs::MetadataExt;
        let ns = |secs: i64, nanos: i64| i128::from(secs) * 1_000_000_000 + i128::from(nanos);
        Some(Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        })
    }

    /// Without a change time the kernel keeps, nothing proves a file unchanged.
    #[cfg(not(unix))]
    fn from_metadata(_meta: &std::fs::Metadata) -> Option<Identity> {
        None
    }

    /// Whether the file was last changed at least [`SETTLED`] before `now`.
    fn settled_at(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        let settled = now.saturating_sub(SETTLED).as_nanos();
        i128::try_from(settled).is_ok_and(|settled| self.ctime_ns <= settled)
    }

    fn to_line(self, digest: &Digest) -> String {
        format!(
            "{FORMAT} {} {} {} {} {} {}\n",
            self.dev, self.ino, self.size, self.mtime_ns, self.ctime_ns, digest
        )
    }

    fn from_line(line: &str) -> Option<(Identity, Digest)> {
        let mut words = line.split_ascii_whitespace();
        if words.next()? != FORMAT {
            return None;
        }
        let identity = Identity {
            dev: words.next()?.parse().ok()?,
            ino: words.next()?.parse().ok()?,
            size: words.next()?.parse().ok()?,
            mtime_ns: words.next()?.parse().ok()?,
            ctime_ns: words.next()?.parse().ok()?,
        };
        let digest = words.next()?.parse().ok()?;
        words.next().is_none().then_some((identity, digest))
    }
}

/// The digests a host knows without hashing: in memory for its own life, and on disk in
/// `<cache dir>/digests/` when it has a compile cache directory.
#[derive(Debug, Default)]
pub(crate) struct DigestIndex {
    dir: Option<PathBuf>,
    memory: Mutex<HashMap<PathBuf, (Identity, Digest)>>,
}

impl DigestIndex {
    pub(crate) fn new(cache_dir: Option<&Path>) -> Self {
        Self {
            dir: cache_dir.map(|dir| dir.join("digests")),
            memory: Mutex::default(),
        }
    }

    /// The digest of the file at `path` with identity `identity`, when it was hashed before
    /// and has not changed since.
    pub(crate) fn lookup(&self, path: &Path, identity: Identity) -> Option<Digest> {
        let key = absolute(path)?;
        if let Some((known, digest)) = self.lock().get(&key)
            && *known == identity
        {
            return Some(*digest);
        }
        let file = self.entry_file(&key)?;
        crate::cache::trust_entry(&file).ok()?;
        let text = std::fs::read_to_string(&file).ok()?;
        let (known, digest) = Identity::from_line(&text)?;
        if known != identity {
            return None;
        }
        self.lock().insert(key, (identity, digest));
        Some(digest)
    }

    /// Keeps `digest` for the file at `path`, hashed from bytes read between the identities
    /// `before` and `after`: only when both agree and the file had settled, so a file
    /// changed while or just before it was read is hashed again next time. Failing to write
    /// the entry only costs a hash on the next load.
    pub(crate) fn record(&self, path: &Path, before: Identity, after: Identity, digest: Digest) {
        if before != after || !before.settled_at(SystemTime::now()) {
            return;
        }
        let Some(key) = absolute(path) else {
            return;
        };
        if let Some(file) = self.entry_file(&key) {
            let written = crate::cache::write_private(&file, before.to_line(&digest).as_bytes());
            if let Err(error) = written {
                tracing::debug!(file = %file.display(), %error, "could not keep a digest");
            }
        }
        self.lock().insert(key, (before, digest));
    }

    /// The entry for a file: named by the sha256 of its absolute path.
    fn entry_file(&self, key: &Path) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let name = Digest::of(key.as_os_str().as_encoded_bytes());
        Some(dir.join(name.to_hex()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, (Identity, Digest)>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `path` made absolute without touching the file system beyond the working directory.
fn absolute(path: &Path) -> Option<PathBuf> {
    std::path::absolute(path).ok()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn identity(ctime_ns: i128) -> Identity {
        Identity {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_ns: 4,
            ctime_ns,
        }
    }

    #[test]
    fn an_entry_reads_back_as_written() {
        let digest = Digest::of(b"component");
        let line = identity(5).to_line(&digest);
        assert_eq!(Identity::from_line(&line), Some((identity(5), digest)));
        assert_eq!(Identity::from_line(&line.replace(FORMAT, "other")), None);
        assert_eq!(Identity::from_line(&format!("{} extra", line.trim())), None);
    }

    #[test]
    fn only_a_file_unchanged_for_the_settling_time_is_settled() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let at = |secs: i128| identity(secs * 1_000_000_000);
        assert!(at(98).settled_at(now));
        assert!(!at(99).settled_at(now));
        assert!(!at(100).settled_at(now));
    }

    #[test]
    fn a_changed_file_is_not_found_and_an_unsettled_one_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let file = dir.path().join("x.wasm");
        std::fs::write(&file, b"one").unwrap();
        let index = DigestIndex::new(Some(&cache));
        let now = Identity::of(&file).unwrap();
        // Just written: not settled, so not kept.
        index.record(&file, now, now, Digest::of(b"one"));
        assert_eq!(index.lookup(&file, now), None);

        let old = identity(0);
        index.record(&file, old, old, Digest::of(b"one"));
        assert_eq!(index.lookup(&file, old), Some(Digest::of(b"one")));
        // A new index on the same directory reads the entry from disk.
        let reopened = DigestIndex::new(Some(&cache));
        assert_eq!(reopened.lookup(&file, old), Some(Digest::of(b"one")));
        assert_eq!(reopened.lookup(&file, identity(1)), None);
        // Identities that differ across the read are not kept.
        let other = dir.path().join("y.wasm");
        reopened.record(&other, old, identity(1), Digest::of(b"two"));
        assert_eq!(reopened.lookup(&other, old), None);
    }
}
