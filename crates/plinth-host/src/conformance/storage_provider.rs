//! The `storage-provider` kit's steps (docs/design/0046). Every case works under keys of
//! its own, `kit/<case id>/…`, so cases do not see each other's objects in a store that
//! outlives them. Objects are `source` bytes (`empty`, `binary:N`), streamed both ways.
//!
//! "Answers" means a result or the plugin's own err (`backend` when a grant is denied);
//! not a trap, not a limit.

use super::run::{Check, clean, fail, unknown};
use super::suite::Case;
use crate::kinds::{KindError, StorageProvider, StorageProviders};
use crate::plugin::Plugin;

/// Generated objects are capped here, whatever the case asks.
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// The keys the listing cases store, in no particular order; byte order puts `B` first
/// and `a/b` after `a-b`.
const LISTED: &[&str] = &["b", "a/b", "B", "a", "a-b", "c/d/e", "a/a"];

pub(super) fn step(case: &Case, plugin: &Plugin) -> Check {
    let mut store = plugin
        .kind::<StorageProvider>()
        .map_err(|e| fail(e.to_string()))?;
    if let Some(limit) = case.output_limit {
        store = store.with_output_limit(limit);
    }
    let kit = Kit {
        store,
        root: format!("kit/{}/", case.id),
        content: content(case)?,
    };
    let result = match (case.step.as_str(), case.expect.as_str()) {
        ("put-get", "round-trip") => kit.round_trip("object"),
        ("put-get", "answers") => kit.answers("object"),
        ("put-get", "unicode-key") => kit.round_trip("ünï/ключ/日本 語.txt"),
        ("overwrite", "latest-wins") => kit.overwrite(),
        ("head", "size-matches") => kit.head(),
        ("get-missing", "error:not-found") => not_found(kit.get("missing").map(drop)),
        ("head-missing", "error:not-found") => {
            not_found(kit.store.head(&kit.key("missing")).map(drop))
        }
        ("delete-missing", "error:not-found") => not_found(kit.store.delete(&kit.key("missing"))),
        ("delete", "gone") => kit.delete_then(|kit, key| not_found(kit.get_key(key).map(drop))),
        ("delete", "head-gone") => {
            kit.delete_then(|kit, key| not_found(kit.store.head(key).map(drop)))
        }
        ("delete", "unlisted") => kit.delete_then(|kit, key| {
            let keys = kit
                .store
                .list_all(&kit.root, 10)
                .map_err(|e| e.to_string())?;
            if keys.iter().any(|k| k == key) {
                Err(format!("`{key}` is still listed after its delete"))
            } else {
                Ok(())
            }
        }),
        ("list", "sorted") => kit.listing(1000),
        ("list", "paged") => kit.listing(2),
        ("list", "one-per-page") => kit.listing(1),
        ("list", "prefix-only") => kit.prefix_only(1000),
        ("list", "prefix-paged") => kit.prefix_only(1),
        ("list", "empty") => kit.empty_listing(),
        ("concurrent-puts", "all-stored") => kit.concurrent_distinct(),
        ("concurrent-puts", "one-wins") => kit.concurrent_same(),
        ("put-guest", "error:invalid-key") => kit.invalid_key(case),
        ("get", "output-capped") => kit.capped(case),
        (_, other) => return Err(unknown(case, other)),
    };
    result.map_err(fail)
}

/// The object a case stores.
fn content(case: &Case) -> Result<Vec<u8>, super::run::Verdict> {
    match case.source.as_deref().unwrap_or("binary:1024") {
        "empty" => Ok(Vec::new()),
        other => other
            .strip_prefix("binary:")
            .and_then(|n| n.parse::<usize>().ok())
            .map(|n| {
                (0..n.min(MAX_BYTES))
                    .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
                    .collect()
            })
            .ok_or_else(|| fail(format!("unknown `source = {other:?}` in the suite"))),
    }
}

fn not_found(result: Result<(), KindError>) -> Result<(), String> {
    match result {
        Err(KindError::PluginFailed { code, .. }) if code == "not-found" => Ok(()),
        Ok(()) => Err("answered as if the object existed".into()),
        Err(e) => Err(format!("expected `not-found`, got {e}")),
    }
}

struct Kit<'p> {
    store: StorageProviders<'p>,
    root: String,
    content: Vec<u8>,
}

impl Kit<'_> {
    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.root)
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), String> {
        self.store
            .put_bytes(&self.key(name), bytes)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn get(&self, name: &str) -> Result<Vec<u8>, KindError> {
        self.get_key(&self.key(name))
    }

    fn get_key(&self, key: &str) -> Result<Vec<u8>, KindError> {
        self.store.get_bytes(key).map(|(_, bytes)| bytes)
    }

    /// A round trip, or a clean failure (a provider whose grant is denied cannot store).
    fn answers(&self, name: &str) -> Result<(), String> {
        match self.store.put_bytes(&self.key(name), &self.content) {
            Err(e) if clean(&e) => Ok(()),
            Err(e) => Err(e.to_string()),
            Ok(_) => match self.get(name) {
                Err(e) if clean(&e) => Ok(()),
                Err(e) => Err(e.to_string()),
                Ok(_) => Ok(()),
            },
        }
    }

    fn round_trip(&self, name: &str) -> Result<(), String> {
        let meta = self
            .store
            .put_bytes(&self.key(name), &self.content)
            .map_err(|e| e.to_string())?;
        if meta.size != self.content.len() as u64 {
            return Err(format!(
                "put says {} bytes of {}",
                meta.size,
                self.content.len()
            ));
        }
        let got = self.get(name).map_err(|e| e.to_string())?;
        if got == self.content {
            Ok(())
        } else {
            Err(format!(
                "put {} bytes, got {} other bytes back",
                self.content.len(),
                got.len()
            ))
        }
    }

    fn overwrite(&self) -> Result<(), String> {
        self.put("object", b"the first version, which is longer")?;
        self.put("object", &self.content)?;
        let got = self.get("object").map_err(|e| e.to_string())?;
        let head = self
            .store
            .head(&self.key("object"))
            .map_err(|e| e.to_string())?;
        if got != self.content {
            return Err("a get after an overwrite gave other bytes than the last put".into());
        }
        if head.size != self.content.len() as u64 {
            return Err(format!(
                "head says {} bytes after an overwrite with {}",
                head.size,
                self.content.len()
            ));
        }
        Ok(())
    }

    fn head(&self) -> Result<(), String> {
        self.put("object", &self.content)?;
        let head = self
            .store
            .head(&self.key("object"))
            .map_err(|e| e.to_string())?;
        if head.size == self.content.len() as u64 {
            Ok(())
        } else {
            Err(format!(
                "head says {} bytes of {}",
                head.size,
                self.content.len()
            ))
        }
    }

    fn delete_then(&self, check: impl Fn(&Self, &str) -> Result<(), String>) -> Result<(), String> {
        self.put("object", &self.content)?;
        let key = self.key("object");
        self.store.delete(&key).map_err(|e| e.to_string())?;
        check(self, &key)
    }

    fn store_listed(&self) -> Result<Vec<String>, String> {
        for name in LISTED {
            self.put(name, name.as_bytes())?;
        }
        let mut keys: Vec<String> = LISTED.iter().map(|n| self.key(n)).collect();
        keys.sort();
        Ok(keys)
    }

    fn listing(&self, limit: u32) -> Result<(), String> {
        let expected = self.store_listed()?;
        let keys = self
            .store
            .list_all(&self.root, limit)
            .map_err(|e| e.to_string())?;
        if keys == expected {
            Ok(())
        } else {
            Err(format!("listed {keys:?}, expected {expected:?}"))
        }
    }

    fn prefix_only(&self, limit: u32) -> Result<(), String> {
        let all = self.store_listed()?;
        let prefix = self.key("a/");
        let expected: Vec<&String> = all.iter().filter(|k| k.starts_with(&prefix)).collect();
        let keys = self
            .store
            .list_all(&prefix, limit)
            .map_err(|e| e.to_string())?;
        if keys.iter().collect::<Vec<_>>() == expected {
            Ok(())
        } else {
            Err(format!(
                "listed {keys:?} under `{prefix}`, expected {expected:?}"
            ))
        }
    }

    fn empty_listing(&self) -> Result<(), String> {
        let page = self
            .store
            .list(&self.key("nothing-here/"), None, 10)
            .map_err(|e| e.to_string())?;
        if page.keys.is_empty() && page.next_cursor.is_none() {
            Ok(())
        } else {
            Err(format!("an empty prefix listed {:?}", page.keys))
        }
    }

    fn concurrent_distinct(&self) -> Result<(), String> {
        let names: Vec<String> = (0..6).map(|i| format!("object-{i}")).collect();
        std::thread::scope(|scope| {
            let puts: Vec<_> = names
                .iter()
                .map(|name| scope.spawn(move || self.put(name, name.as_bytes())))
                .collect();
            puts.into_iter()
                .map(|put| put.join().unwrap_or_else(|_| Err("a put panicked".into())))
                .collect::<Result<Vec<()>, String>>()
        })?;
        for name in &names {
            let got = self.get(name).map_err(|e| e.to_string())?;
            if got != name.as_bytes() {
                return Err(format!(
                    "`{name}` holds another object's bytes after concurrent puts"
                ));
            }
        }
        Ok(())
    }

    fn concurrent_same(&self) -> Result<(), String> {
        let versions: Vec<Vec<u8>> = (0..4u8)
            .map(|i| {
                let mut bytes = self.content.clone();
                bytes.push(i);
                bytes
            })
            .collect();
        std::thread::scope(|scope| {
            let puts: Vec<_> = versions
                .iter()
                .map(|bytes| scope.spawn(move || self.put("object", bytes)))
                .collect();
            puts.into_iter()
                .map(|put| put.join().unwrap_or_else(|_| Err("a put panicked".into())))
                .collect::<Result<Vec<()>, String>>()
        })?;
        let got = self.get("object").map_err(|e| e.to_string())?;
        if versions.contains(&got) {
            Ok(())
        } else {
            Err(format!(
                "after concurrent puts of one key the object is {} bytes that no put sent",
                got.len()
            ))
        }
    }

    fn invalid_key(&self, case: &Case) -> Result<(), String> {
        let key = match case.key.as_deref() {
            Some("long") => "k".repeat(crate::kinds::MAX_KEY_BYTES + 1),
            Some(key) => key.replace("{root}", &self.root),
            None => return Err("the case names no `key`".into()),
        };
        match self.store.put_guest_bytes(&key, &self.content) {
            Err(KindError::PluginFailed { code, .. }) if code == "invalid-key" => Ok(()),
            Ok(_) => Err(format!("stored an object under the invalid key {key:?}")),
            Err(e) => Err(format!("expected `invalid-key` for {key:?}, got {e}")),
        }
    }

    fn capped(&self, case: &Case) -> Result<(), String> {
        let limit = case.output_limit.unwrap_or(0);
        self.put("object", &self.content)?;
        match self.get("object") {
            Err(KindError::OutputTooLarge { .. }) => Ok(()),
            Err(e) if clean(&e) => Ok(()),
            Ok(bytes) if bytes.len() as u64 <= limit => Ok(()),
            Ok(bytes) => Err(format!("wrote {} bytes past the cap", bytes.len())),
            Err(e) => Err(format!("a write refused at the cap is not answered: {e}")),
        }
    }
}
