//! `pdk-storage-fs`: a reference `storage-provider` written with `plinth-pdk`
//! (`export!(FsStore: storage_provider)`). Objects are files in the granted directory
//! `objects` (`/objects` through `wasi:filesystem`), one flat folder, each file named by
//! its key in hex, so no key spelling is a path. A put streams into a file of its own and
//! renames it over the object when complete: a reader never sees half an object, and of
//! concurrent puts of one key the last rename wins whole.
//!
//! A plugin id ending in `mutant-NAME` breaks exactly one rule of the `storage-provider`
//! kit (`tests/all/stream_kinds.rs` names the case that must catch each).

use std::fs::{self, File};
use std::io::{ErrorKind, Read, Write};

use plinth_pdk::prelude::*;
use plinth_pdk::streams::CHUNK;

struct FsStore;

impl Plugin for FsStore {}

/// The granted directory.
const ROOT: &str = "/objects";

/// The mutation this instance runs, from `argv[0]` (`…mutant-NAME`).
fn mutant() -> String {
    std::env::args()
        .next()
        .and_then(|id| id.rsplit_once("mutant-").map(|(_, m)| m.to_owned()))
        .unwrap_or_default()
}

fn hex(key: &str) -> String {
    let key = if mutant() == "sp-key-collision" {
        &key[..key.len().min(24)]
    } else {
        key
    };
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(name: &str) -> Option<String> {
    if name.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..name.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(name.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

fn path(key: &str) -> String {
    format!("{ROOT}/{}", hex(key))
}

fn backend(what: &str, error: std::io::Error) -> StorageError {
    if mutant() == "sp-denied-traps" {
        panic!("{what}: {error}");
    }
    StorageError::Backend(format!("{what}: {error}"))
}

fn missing(key: &str) -> StorageError {
    StorageError::NotFound(format!("no object `{key}`"))
}

fn checked(key: &str) -> Result<(), StorageError> {
    if mutant() == "sp-no-key-check" {
        return Ok(());
    }
    if mutant() == "sp-ascii-keys" && !key.is_ascii() {
        return Err(StorageError::InvalidKey("keys are ASCII".into()));
    }
    check_key(key)
}

/// A name for a put's own file: the key's file name and a random suffix.
fn upload_name(key: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(key.as_bytes());
    format!("{ROOT}/.upload-{:016x}", hasher.finish())
}

impl StorageProvider for FsStore {
    fn put(
        key: &str,
        _size: Option<u64>,
        input: &mut dyn Read,
    ) -> Result<ObjectMeta, StorageError> {
        checked(key)?;
        let mutant = mutant();
        if mutant == "sp-heavy" {
            let mut x = 0u64;
            for i in 0..100_000_000u64 {
                x = std::hint::black_box(x.wrapping_add(i));
            }
            std::hint::black_box(x);
        }
        let target = path(key);
        if mutant == "sp-first-wins" && fs::metadata(&target).is_ok() {
            let mut sink = std::io::sink();
            let size = std::io::copy(input, &mut sink)?;
            return Ok(ObjectMeta {
                key: key.into(),
                size,
            });
        }
        let upload = upload_name(key);
        let mut file = if mutant == "sp-appends" {
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&target)
        } else {
            File::create(&upload)
        }
        .map_err(|e| backend("cannot create the object's file", e))?;
        let mut chunk = vec![0u8; CHUNK];
        let mut size = 0u64;
        loop {
            let n = input.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if mutant == "sp-small-cap" && size > 4 << 20 {
                let _ = fs::remove_file(&upload);
                return Err(StorageError::TooLarge("objects are at most 4 MiB".into()));
            }
            file.write_all(&chunk[..n])
                .map_err(|e| backend("cannot write the object", e))?;
        }
        if mutant == "sp-empty-fails" && size == 0 {
            let _ = fs::remove_file(&upload);
            return Err(StorageError::Backend("empty objects are not stored".into()));
        }
        file.flush()
            .map_err(|e| backend("cannot write the object", e))?;
        drop(file);
        if mutant != "sp-appends" {
            fs::rename(&upload, &target).map_err(|e| backend("cannot store the object", e))?;
        }
        if mutant == "sp-size-lies" {
            size += 1;
        }
        Ok(ObjectMeta {
            key: key.into(),
            size,
        })
    }

    fn get(key: &str, output: &mut dyn Write) -> Result<ObjectMeta, StorageError> {
        checked(key)?;
        let mut file = match File::open(path(key)) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound && mutant() == "sp-missing-empty" => {
                return Ok(ObjectMeta {
                    key: key.into(),
                    size: 0,
                });
            }
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(missing(key)),
            Err(e) => return Err(backend("cannot open the object", e)),
        };
        let mut chunk = vec![0u8; CHUNK];
        let mut size = 0u64;
        loop {
            let n = file
                .read(&mut chunk)
                .map_err(|e| backend("cannot read the object", e))?;
            if n == 0 {
                break;
            }
            if mutant() == "sp-write-unwrap" {
                output.write_all(&chunk[..n]).unwrap();
            } else {
                output.write_all(&chunk[..n])?;
            }
            size += n as u64;
        }
        Ok(ObjectMeta {
            key: key.into(),
            size,
        })
    }

    fn head(key: &str) -> Result<ObjectMeta, StorageError> {
        checked(key)?;
        match fs::metadata(path(key)) {
            Ok(meta) => Ok(ObjectMeta {
                key: key.into(),
                size: if mutant() == "sp-head-zero" {
                    0
                } else {
                    meta.len()
                },
            }),
            Err(e) if e.kind() == ErrorKind::NotFound && mutant() == "sp-head-missing-ok" => {
                Ok(ObjectMeta {
                    key: key.into(),
                    size: 0,
                })
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Err(missing(key)),
            Err(e) => Err(backend("cannot read the object's metadata", e)),
        }
    }

    fn list(prefix: &str, cursor: Option<&str>, limit: u32) -> Result<ListPage, StorageError> {
        let mutant = mutant();
        let entries = fs::read_dir(ROOT).map_err(|e| backend("cannot list the objects", e))?;
        let mut keys = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| backend("cannot list the objects", e))?;
            if let Some(key) = entry.file_name().to_str().and_then(unhex) {
                keys.push(key);
            }
        }
        keys.sort();
        let prefix = if mutant == "sp-ignore-prefix" {
            ""
        } else {
            prefix
        };
        let cursor = if mutant == "sp-ignore-cursor" {
            None
        } else {
            cursor
        };
        let limit = if mutant == "sp-limit-plus-one" {
            limit + 1
        } else {
            limit
        };
        let mut page = page_of(keys.iter().map(String::as_str), prefix, cursor, limit);
        match mutant.as_str() {
            "sp-unsorted" => page.keys.reverse(),
            "sp-empty-page-cursor" if page.keys.is_empty() => {
                page.next_cursor = Some(String::new())
            }
            _ => {}
        }
        Ok(page)
    }

    fn delete(key: &str) -> Result<(), StorageError> {
        checked(key)?;
        match mutant().as_str() {
            "sp-delete-noop" => return Ok(()),
            "sp-delete-truncates" => {
                return File::create(path(key))
                    .map(drop)
                    .map_err(|e| backend("cannot delete the object", e));
            }
            _ => {}
        }
        match fs::remove_file(path(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound && mutant() == "sp-delete-missing-ok" => {
                Ok(())
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Err(missing(key)),
            Err(e) => Err(backend("cannot delete the object", e)),
        }
    }
}

plinth_pdk::export!(FsStore: storage_provider);
