//! Reading an archive's members into memory within hard limits. Nothing here touches the
//! disk, so a refused archive can leave nothing behind.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::rc::Rc;

use flate2::read::GzDecoder;
use tar::EntryType;

use super::{UnpackLimits, check_member_path};
use crate::error::{PackageError, rejected};

/// What names the archive as a whole in messages.
const ARCHIVE: &str = "<archive>";

/// Room for tar headers, padding and end blocks on top of the members' bytes: at most two
/// 512-byte blocks of padding and header per entry, one extended header of up to 4 KiB per
/// entry, and the end-of-archive blocks.
fn stream_cap(limits: &UnpackLimits) -> u64 {
    let per_entry = 512 * 2 + 4096 + 512;
    limits
        .max_total_bytes
        .saturating_add((limits.max_entries as u64 + 4).saturating_mul(per_entry))
}

/// A reader that fails once more than `cap` bytes came through, and remembers that it did so
/// the failure can be told apart from a malformed archive whatever the tar reader wraps it in.
struct CappedReader<R> {
    inner: R,
    remaining: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let n64 = n as u64;
        if n64 > self.remaining {
            self.exceeded.set(true);
            return Err(io::Error::other("decompressed size cap exceeded"));
        }
        self.remaining -= n64;
        Ok(n)
    }
}

/// Reads every member of a gzip+tar archive into memory, enforcing `limits` and the path and
/// entry-type rules.
pub(super) fn read_members(
    bytes: &[u8],
    limits: &UnpackLimits,
) -> Result<BTreeMap<String, Vec<u8>>, PackageError> {
    if bytes.len() as u64 > limits.max_archive_bytes {
        return Err(rejected(
            ARCHIVE,
            format!(
                "the archive is {} bytes, over the cap of {} bytes",
                bytes.len(),
                limits.max_archive_bytes
            ),
        ));
    }
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(rejected(
            ARCHIVE,
            "not a .plinth package (expected a gzip-compressed tar archive)",
        ));
    }
    let exceeded = Rc::new(Cell::new(false));
    let stream = CappedReader {
        inner: GzDecoder::new(bytes),
        remaining: stream_cap(limits),
        exceeded: Rc::clone(&exceeded),
    };
    let mut archive = tar::Archive::new(stream);
    let bomb = |what: &str| {
        rejected(
            what,
            format!(
                "the decompressed archive exceeds its cap ({} bytes of members): a decompression bomb?",
                limits.max_total_bytes
            ),
        )
    };
    let malformed = |what: &str, e: io::Error| rejected(what, format!("malformed archive: {e}"));

    let entries = archive.entries().map_err(|e| malformed(ARCHIVE, e))?;
    let mut members = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut dirs = BTreeSet::new();
    let mut total: u64 = 0;
    for (index, entry) in entries.enumerate() {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(_) if exceeded.get() => return Err(bomb(ARCHIVE)),
            Err(e) => return Err(malformed(ARCHIVE, e)),
        };
        if index >= limits.max_entries {
            return Err(rejected(
                ARCHIVE,
                format!("more than {} entries", limits.max_entries),
            ));
        }
        let raw_path = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw_path).into_owned();
        let kind = entry.header().entry_type();
        let is_dir = kind == EntryType::Directory;
        if !is_dir && kind != EntryType::Regular {
            return Err(rejected(
                shown,
                format!(
                    "is a {}; packages hold regular files only",
                    entry_kind_name(kind)
                ),
            ));
        }
        let path_bytes = match raw_path.strip_suffix(b"/") {
            Some(stripped) if is_dir => stripped,
            _ => &raw_path[..],
        };
        let path = check_member_path(path_bytes).map_err(|reason| rejected(&shown, reason))?;
        if !seen.insert(path.to_ascii_lowercase()) {
            return Err(rejected(
                path,
                "duplicate entry (paths are compared ignoring case)",
            ));
        }
        if is_dir {
            dirs.insert(path);
            continue;
        }
        let declared = entry.size();
        if declared > limits.max_member_bytes {
            return Err(rejected(
                path,
                format!(
                    "declares {declared} bytes, over the member cap of {} bytes",
                    limits.max_member_bytes
                ),
            ));
        }
        // Read one byte past the cap so an entry that lies about its size is still caught.
        let mut data = Vec::new();
        let read = (&mut entry)
            .take(limits.max_member_bytes + 1)
            .read_to_end(&mut data);
        match read {
            Ok(_) => {}
            Err(_) if exceeded.get() => return Err(bomb(&path)),
            Err(e) => return Err(malformed(&path, e)),
        }
        if data.len() as u64 > limits.max_member_bytes {
            return Err(rejected(
                path,
                format!(
                    "is over the member cap of {} bytes",
                    limits.max_member_bytes
                ),
            ));
        }
        total += data.len() as u64;
        if total > limits.max_total_bytes {
            return Err(bomb(&path));
        }
        members.insert(path, data);
    }
    for path in members.keys() {
        // A path used both as a file and as a directory cannot be written out.
        let mut prefix = path.as_str();
        while let Some((parent, _)) = prefix.rsplit_once('/') {
            if members.contains_key(parent) {
                return Err(rejected(
                    path.as_str(),
                    format!("is inside `{parent}`, which is a file"),
                ));
            }
            prefix = parent;
        }
        if dirs.contains(path) {
            return Err(rejected(path.as_str(), "is both a file and a directory"));
        }
    }
    Ok(members)
}

fn entry_kind_name(kind: EntryType) -> &'static str {
    match kind {
        EntryType::Symlink => "symbolic link",
        EntryType::Link => "hard link",
        EntryType::Char | EntryType::Block => "device",
        EntryType::Fifo => "named pipe",
        EntryType::GNUSparse => "sparse file",
        EntryType::Continuous => "contiguous file",
        EntryType::XGlobalHeader => "global extended header",
        _ => "special entry",
    }
}
