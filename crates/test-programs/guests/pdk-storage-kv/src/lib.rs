//! `pdk-storage-kv`: a reference `storage-provider` written with `plinth-pdk`
//! (`export!(KvStore: storage_provider)`), storing objects in the plugin's key-value
//! store, which caps a value at 1 MiB: an object is chunks of 512 KiB.
//!
//! - `m:KEY` holds the object's metadata: `SIZE GENERATION CHUNKS`;
//! - `c:GENERATION:N` holds chunk `N` of one put.
//!
//! A put writes its chunks under a generation of its own, then points the metadata at them
//! in one write, then removes the chunks of the generation it replaced: a reader sees the
//! old object or the new one, and of concurrent puts of one key the last metadata write
//! wins whole. A get that finds its chunks gone (replaced meanwhile) is `conflict`.
//! Keys are at most 1000 bytes here (the store's keys are at most 1024).

use std::io::{Read, Write};

use plinth_pdk::prelude::*;

struct KvStore;

impl Plugin for KvStore {}

/// Bytes per chunk: half the store's value cap.
const CHUNK: usize = 512 * 1024;

/// The longest key this provider takes.
const MAX_KEY: usize = 1000;

/// The most keys a listing reads from the store.
const MAX_LISTED: u32 = 100_000;

fn backend(error: kv::KvError) -> StorageError {
    StorageError::Backend(format!("{}: {}", error.code(), error.message()))
}

fn checked(key: &str) -> Result<(), StorageError> {
    check_key(key)?;
    if key.len() > MAX_KEY {
        return Err(StorageError::InvalidKey(format!(
            "this provider takes keys up to {MAX_KEY} bytes"
        )));
    }
    Ok(())
}

/// An object's metadata: size, generation, chunk count.
struct Meta {
    size: u64,
    generation: u64,
    chunks: u64,
}

fn meta_key(key: &str) -> String {
    format!("m:{key}")
}

fn chunk_key(generation: u64, n: u64) -> String {
    format!("c:{generation:016x}:{n}")
}

fn read_meta(key: &str) -> Result<Option<Meta>, StorageError> {
    let Some(text) = kv::get_string(&meta_key(key)).map_err(backend)? else {
        return Ok(None);
    };
    let mut fields = text.split(' ').map(|f| f.parse::<u64>());
    match (fields.next(), fields.next(), fields.next()) {
        (Some(Ok(size)), Some(Ok(generation)), Some(Ok(chunks))) => Ok(Some(Meta {
            size,
            generation,
            chunks,
        })),
        _ => Err(StorageError::Backend(format!(
            "the metadata of `{key}` is damaged"
        ))),
    }
}

fn new_generation() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    hasher.finish()
}

fn remove_chunks(generation: u64, chunks: u64) {
    for n in 0..chunks {
        let _ = kv::delete(&chunk_key(generation, n));
    }
}

impl StorageProvider for KvStore {
    fn put(
        key: &str,
        _size: Option<u64>,
        input: &mut dyn Read,
    ) -> Result<ObjectMeta, StorageError> {
        checked(key)?;
        let generation = new_generation();
        let mut chunk = vec![0u8; CHUNK];
        let (mut size, mut chunks) = (0u64, 0u64);
        loop {
            // Fill the chunk: reads return what the host has, often less.
            let mut filled = 0;
            while filled < CHUNK {
                let n = input.read(&mut chunk[filled..])?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            if let Err(e) = kv::set(&chunk_key(generation, chunks), &chunk[..filled]) {
                remove_chunks(generation, chunks);
                return Err(match e {
                    kv::KvError::QuotaExceeded(why) => StorageError::TooLarge(why),
                    other => backend(other),
                });
            }
            chunks += 1;
            size += filled as u64;
            if filled < CHUNK {
                break;
            }
        }
        let old = read_meta(key).ok().flatten();
        kv::set(&meta_key(key), format!("{size} {generation} {chunks}")).map_err(|e| {
            remove_chunks(generation, chunks);
            backend(e)
        })?;
        if let Some(old) = old {
            remove_chunks(old.generation, old.chunks);
        }
        Ok(ObjectMeta {
            key: key.into(),
            size,
        })
    }

    fn get(key: &str, output: &mut dyn Write) -> Result<ObjectMeta, StorageError> {
        checked(key)?;
        let meta = read_meta(key)?.ok_or_else(|| missing(key))?;
        let mut written = 0u64;
        for n in 0..meta.chunks {
            let bytes = kv::get(&chunk_key(meta.generation, n))
                .map_err(backend)?
                .ok_or_else(|| {
                    StorageError::Conflict(format!("`{key}` was replaced while it was read"))
                })?;
            output.write_all(&bytes)?;
            written += bytes.len() as u64;
        }
        if written != meta.size {
            return Err(StorageError::Backend(format!(
                "`{key}` has {written} bytes of {}",
                meta.size
            )));
        }
        Ok(ObjectMeta {
            key: key.into(),
            size: meta.size,
        })
    }

    fn head(key: &str) -> Result<ObjectMeta, StorageError> {
        checked(key)?;
        let meta = read_meta(key)?.ok_or_else(|| missing(key))?;
        Ok(ObjectMeta {
            key: key.into(),
            size: meta.size,
        })
    }

    fn list(prefix: &str, cursor: Option<&str>, limit: u32) -> Result<ListPage, StorageError> {
        let stored = kv::list_keys(&meta_key(prefix), MAX_LISTED).map_err(backend)?;
        let keys = stored.iter().filter_map(|k| k.strip_prefix("m:"));
        Ok(page_of(keys, prefix, cursor, limit))
    }

    fn delete(key: &str) -> Result<(), StorageError> {
        checked(key)?;
        let meta = read_meta(key)?.ok_or_else(|| missing(key))?;
        kv::delete(&meta_key(key)).map_err(backend)?;
        remove_chunks(meta.generation, meta.chunks);
        Ok(())
    }
}

fn missing(key: &str) -> StorageError {
    StorageError::NotFound(format!("no object `{key}`"))
}

plinth_pdk::export!(KvStore: storage_provider);
