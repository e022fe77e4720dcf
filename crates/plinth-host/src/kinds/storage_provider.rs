//! The `storage-provider` kind (docs/design/0046): objects put, got, listed and deleted by
//! key, their bytes streamed through `wasi:io` streams the host lends. The host checks
//! every key before the plugin runs and every answer after: a put stored what was sent, a
//! get wrote what it says, a page is sorted, after its cursor and under its prefix.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use plinth_manifest::NamedDecl;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wasmtime::Store;
use wasmtime::component::Resource;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use super::content_transform::{Counted, Lent};
use super::{Binding, Checker, KindError, block};
use crate::bindings::storage_provider_v0_1::exports::plinth::storage_provider::storage_provider as v1;
use crate::error::HostError;
use crate::plugin::Plugin;
use crate::state::StoreState;

/// The longest key: 1024 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// The most keys one page may ask for.
pub const MAX_LIST_LIMIT: u32 = 1000;

type Answer<T> = Result<T, v1::StorageError>;

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(String, Option<u64>, Resource<DynInputStream>), (Answer<v1::ObjectMeta>,)>(
        "put",
        "func(key: string, size: option<u64>, input: borrow<input-stream>) -> result<object-meta, storage-error>",
    )?;
    checker.func::<(String, Resource<DynOutputStream>), (Answer<v1::ObjectMeta>,)>(
        "get",
        "func(key: string, output: borrow<output-stream>) -> result<object-meta, storage-error>",
    )?;
    checker.func::<(String,), (Answer<v1::ObjectMeta>,)>(
        "head",
        "func(key: string) -> result<object-meta, storage-error>",
    )?;
    checker.func::<(String, Option<String>, u32), (Answer<v1::ListPage>,)>(
        "list",
        "func(prefix: string, cursor: option<string>, limit: u32) -> result<list-page, storage-error>",
    )?;
    checker
        .func::<(String,), (Answer<()>,)>("delete", "func(key: string) -> result<_, storage-error>")
}

/// Why `key` breaks the key rules, if it does: 1 to [`MAX_KEY_BYTES`] bytes, no control
/// character, no backslash, no leading `/`, no empty, `.` or `..` segment.
pub fn key_violation(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("the key is empty".into());
    }
    if key.len() > MAX_KEY_BYTES {
        return Some(format!(
            "the key is {} bytes, over {MAX_KEY_BYTES}",
            key.len()
        ));
    }
    if let Some(c) = key.chars().find(|c| c.is_control()) {
        return Some(format!("the key holds the control character {c:?}"));
    }
    if key.contains('\\') {
        return Some("the key holds a backslash; separate segments with `/`".into());
    }
    if key.starts_with('/') {
        return Some("the key starts with `/`".into());
    }
    if let Some(segment) = key
        .split('/')
        .find(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Some(format!(
            "the key has an {} segment",
            if segment.is_empty() {
                "empty".to_string()
            } else {
                format!("`{segment}`")
            }
        ));
    }
    None
}

/// What a provider knows of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

/// One page of keys, checked by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// Keys in lexicographic order.
    pub keys: Vec<String>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The `storage-provider` kind of one plugin:
/// [`Plugin::kind`]`::<`[`StorageProvider`](super::StorageProvider)`>()`.
///
/// The plugin's own errors are [`KindError::PluginFailed`] with the WIT case as `code`:
/// `not-found`, `invalid-key`, `too-large`, `conflict`, `backend`.
#[derive(Debug, Clone, Copy)]
pub struct StorageProviders<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
    output_limit: Option<u64>,
}

impl<'p> StorageProviders<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self {
            plugin,
            binding,
            output_limit: None,
        }
    }

    /// The same handle with a cap on what a get writes (`too-large` beyond).
    pub fn with_output_limit(mut self, bytes: u64) -> Self {
        self.output_limit = Some(bytes);
        self
    }

    /// The manifest's `[[provides.storage-provider]]` entry, if it has one; nothing runs.
    pub fn entry(&self) -> Option<&'p NamedDecl> {
        self.plugin
            .manifest()
            .and_then(|m| m.provides.storage_provider.first())
    }

    fn check_key(&self, key: &str) -> Result<(), KindError> {
        match key_violation(key) {
            Some(reason) => Err(KindError::InvalidKey {
                plugin: self.plugin.id().into(),
                key: key.chars().take(64).collect(),
                reason,
            }),
            None => Ok(()),
        }
    }

    fn failed(&self, what: &str, error: v1::StorageError) -> KindError {
        let (code, reason) = match error {
            v1::StorageError::NotFound(r) => ("not-found", r),
            v1::StorageError::InvalidKey(r) => ("invalid-key", r),
            v1::StorageError::TooLarge(r) => ("too-large", r),
            v1::StorageError::Conflict(r) => ("conflict", r),
            v1::StorageError::Backend(r) => ("backend", r),
        };
        KindError::PluginFailed {
            plugin: self.plugin.id().into(),
            what: what.into(),
            code: code.into(),
            reason,
        }
    }

    fn invalid(&self, what: &str, reason: String) -> KindError {
        KindError::InvalidOutput {
            plugin: self.plugin.id().into(),
            what: what.into(),
            reason,
        }
    }

    fn meta(&self, what: &str, key: &str, meta: v1::ObjectMeta) -> Result<ObjectMeta, KindError> {
        if meta.key != key {
            return Err(self.invalid(what, format!("the answer names the key `{}`", meta.key)));
        }
        Ok(ObjectMeta {
            key: meta.key,
            size: meta.size,
        })
    }

    /// Stores the bytes of `input` under `key` (an invalid key is `invalid-input` and
    /// nothing runs). The provider must read the input to its end and say the size it
    /// stored, else `invalid-output`.
    pub async fn put_async<R>(
        &self,
        key: &str,
        size: Option<u64>,
        input: R,
    ) -> Result<ObjectMeta, KindError>
    where
        R: AsyncRead + Send + 'static,
    {
        self.check_key(key)?;
        self.put_guest_async(key, size, input).await
    }

    /// [`Self::put_async`] without the key check.
    pub(crate) async fn put_guest_async<R>(
        &self,
        key: &str,
        size: Option<u64>,
        input: R,
    ) -> Result<ObjectMeta, KindError>
    where
        R: AsyncRead + Send + 'static,
    {
        let what = format!("put of `{key}`");
        let counting = CountingReader::new(input);
        let seen = counting.seen.clone();
        let owned = key.to_owned();
        let answer: Answer<v1::ObjectMeta> = self
            .plugin
            .call_in_store_async(
                &self.binding.func("put"),
                |store| Ok((owned, size, Lent::input(store, counting)?)),
                async |_: &mut Store<StoreState>, (answer,): (Answer<v1::ObjectMeta>,)| Ok(answer),
            )
            .await?;
        let meta = answer.map_err(|e| self.failed(&what, e))?;
        let meta = self.meta(&what, key, meta)?;
        if !seen.ended.load(Ordering::Relaxed) {
            return Err(self.invalid(
                &what,
                "the provider did not read the input to its end".into(),
            ));
        }
        let sent = seen.bytes.load(Ordering::Relaxed);
        if meta.size != sent {
            return Err(self.invalid(
                &what,
                format!("the provider says it stored {} bytes of {sent}", meta.size),
            ));
        }
        Ok(meta)
    }

    /// Writes the object's bytes to `output`, flushed before this returns. The provider
    /// must write as many bytes as it says (`invalid-output`); more than the handle's
    /// output limit is `too-large`.
    pub async fn get_async<W>(&self, key: &str, output: W) -> Result<ObjectMeta, KindError>
    where
        W: AsyncWrite + Send + 'static,
    {
        self.check_key(key)?;
        self.get_guest_async(key, output).await
    }

    /// [`Self::get_async`] without the key check.
    pub(crate) async fn get_guest_async<W>(
        &self,
        key: &str,
        output: W,
    ) -> Result<ObjectMeta, KindError>
    where
        W: AsyncWrite + Send + 'static,
    {
        let what = format!("get of `{key}`");
        let counted = Counted::new(output, self.output_limit);
        let tally = counted.tally.clone();
        let lent = Lent::default();
        let owned = key.to_owned();
        let answer: Answer<v1::ObjectMeta> = self
            .plugin
            .call_in_store_async(
                &self.binding.func("get"),
                |store| Ok((owned, lent.output(store, counted)?)),
                async |store: &mut Store<StoreState>, (answer,): (Answer<v1::ObjectMeta>,)| {
                    lent.flush(store).await;
                    Ok(answer)
                },
            )
            .await?;
        if tally.over.load(Ordering::Relaxed) {
            return Err(KindError::OutputTooLarge {
                plugin: self.plugin.id().into(),
                what,
                limit: self.output_limit.unwrap_or(u64::MAX),
            });
        }
        let meta = answer.map_err(|e| self.failed(&what, e))?;
        let meta = self.meta(&what, key, meta)?;
        let written = tally.written.load(Ordering::Relaxed);
        if meta.size != written {
            return Err(self.invalid(
                &what,
                format!(
                    "the provider says the object is {} bytes but wrote {written}",
                    meta.size
                ),
            ));
        }
        Ok(meta)
    }

    /// The object's metadata.
    pub async fn head_async(&self, key: &str) -> Result<ObjectMeta, KindError> {
        self.check_key(key)?;
        self.head_guest_async(key).await
    }

    /// [`Self::head_async`] without the key check.
    pub(crate) async fn head_guest_async(&self, key: &str) -> Result<ObjectMeta, KindError> {
        let what = format!("head of `{key}`");
        let (answer,): (Answer<v1::ObjectMeta>,) = self
            .plugin
            .call_async(&self.binding.func("head"), (key.to_owned(),))
            .await?;
        let meta = answer.map_err(|e| self.failed(&what, e))?;
        self.meta(&what, key, meta)
    }

    /// At most `limit` keys (1 to [`MAX_LIST_LIMIT`]) starting with `prefix`, after
    /// `cursor`. The page must be sorted, distinct, under the prefix, after the cursor and
    /// within the limit, else `invalid-output`.
    pub async fn list_async(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<ListPage, KindError> {
        let what = format!("list of `{prefix}`");
        if limit == 0 || limit > MAX_LIST_LIMIT {
            return Err(KindError::InputTooLarge {
                plugin: self.plugin.id().into(),
                what: "the page limit".into(),
                size: u64::from(limit),
                limit: u64::from(MAX_LIST_LIMIT),
            });
        }
        let (answer,): (Answer<v1::ListPage>,) = self
            .plugin
            .call_async(
                &self.binding.func("list"),
                (prefix.to_owned(), cursor.map(str::to_owned), limit),
            )
            .await?;
        let page = answer.map_err(|e| self.failed(&what, e))?;
        if let Some(reason) = page_violation(&page.keys, prefix, cursor, limit) {
            return Err(self.invalid(&what, reason));
        }
        if page.next_cursor.is_some() && page.keys.is_empty() {
            return Err(self.invalid(&what, "an empty page says there is another".into()));
        }
        Ok(ListPage {
            keys: page.keys,
            next_cursor: page.next_cursor,
        })
    }

    /// Every key starting with `prefix`, a page of `limit` at a time.
    pub async fn list_all_async(&self, prefix: &str, limit: u32) -> Result<Vec<String>, KindError> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.list_async(prefix, cursor.as_deref(), limit).await?;
            if let (Some(next), Some(last)) = (&page.next_cursor, keys.last())
                && next <= last
            {
                return Err(self.invalid(
                    &format!("list of `{prefix}`"),
                    "the next cursor does not move forward".into(),
                ));
            }
            keys.extend(page.keys);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    /// Removes the object (`not-found` when there is none, as the plugin's error).
    pub async fn delete_async(&self, key: &str) -> Result<(), KindError> {
        self.check_key(key)?;
        self.delete_guest_async(key).await
    }

    /// [`Self::delete_async`] without the key check.
    pub(crate) async fn delete_guest_async(&self, key: &str) -> Result<(), KindError> {
        let what = format!("delete of `{key}`");
        let (answer,): (Answer<()>,) = self
            .plugin
            .call_async(&self.binding.func("delete"), (key.to_owned(),))
            .await?;
        answer.map_err(|e| self.failed(&what, e))
    }

    /// Blocking [`Self::put_async`].
    pub fn put<R>(&self, key: &str, size: Option<u64>, input: R) -> Result<ObjectMeta, KindError>
    where
        R: AsyncRead + Send + 'static,
    {
        block(
            self.plugin,
            &self.binding.func("put"),
            self.put_async(key, size, input),
        )
    }

    /// Blocking [`Self::put_async`] of bytes in memory.
    pub fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<ObjectMeta, KindError> {
        self.put(
            key,
            Some(bytes.len() as u64),
            std::io::Cursor::new(bytes.to_vec()),
        )
    }

    /// Blocking [`Self::get_async`].
    pub fn get<W>(&self, key: &str, output: W) -> Result<ObjectMeta, KindError>
    where
        W: AsyncWrite + Send + 'static,
    {
        block(
            self.plugin,
            &self.binding.func("get"),
            self.get_async(key, output),
        )
    }

    /// Blocking [`Self::get_async`] into memory.
    pub fn get_bytes(&self, key: &str) -> Result<(ObjectMeta, Vec<u8>), KindError> {
        let sink = SharedSink::default();
        let meta = self.get(key, sink.clone())?;
        Ok((meta, sink.take()))
    }

    /// Blocking [`Self::head_async`].
    pub fn head(&self, key: &str) -> Result<ObjectMeta, KindError> {
        block(
            self.plugin,
            &self.binding.func("head"),
            self.head_async(key),
        )
    }

    /// Blocking [`Self::list_async`].
    pub fn list(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<ListPage, KindError> {
        block(
            self.plugin,
            &self.binding.func("list"),
            self.list_async(prefix, cursor, limit),
        )
    }

    /// Blocking [`Self::list_all_async`].
    pub fn list_all(&self, prefix: &str, limit: u32) -> Result<Vec<String>, KindError> {
        block(
            self.plugin,
            &self.binding.func("list"),
            self.list_all_async(prefix, limit),
        )
    }

    /// Blocking [`Self::delete_async`].
    pub fn delete(&self, key: &str) -> Result<(), KindError> {
        block(
            self.plugin,
            &self.binding.func("delete"),
            self.delete_async(key),
        )
    }

    /// Blocking [`Self::put_guest_async`] of bytes in memory.
    pub(crate) fn put_guest_bytes(&self, key: &str, bytes: &[u8]) -> Result<ObjectMeta, KindError> {
        let input = std::io::Cursor::new(bytes.to_vec());
        block(
            self.plugin,
            &self.binding.func("put"),
            self.put_guest_async(key, Some(bytes.len() as u64), input),
        )
    }
}

/// Why a page breaks the listing rules, if it does.
pub fn page_violation(
    keys: &[String],
    prefix: &str,
    cursor: Option<&str>,
    limit: u32,
) -> Option<String> {
    if keys.len() > limit as usize {
        return Some(format!("{} keys on a page of at most {limit}", keys.len()));
    }
    if let Some(key) = keys.iter().find(|k| !k.starts_with(prefix)) {
        return Some(format!("the key `{key}` does not start with `{prefix}`"));
    }
    if let (Some(cursor), Some(first)) = (cursor, keys.first())
        && first.as_str() <= cursor
    {
        return Some(format!(
            "the key `{first}` is not after the cursor `{cursor}`"
        ));
    }
    if let Some(pair) = keys.windows(2).find(|pair| pair[0] >= pair[1]) {
        return Some(format!(
            "the keys are not in strictly increasing order: `{}` then `{}`",
            pair[0], pair[1]
        ));
    }
    None
}

/// What a [`CountingReader`] has passed on.
#[derive(Debug, Default)]
struct Seen {
    bytes: AtomicU64,
    ended: AtomicBool,
}

/// A reader that counts the bytes it passes and notes its end.
struct CountingReader<R> {
    inner: Pin<Box<R>>,
    seen: Arc<Seen>,
}

impl<R> CountingReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner: Box::pin(inner),
            seen: Arc::default(),
        }
    }
}

impl<R: AsyncRead> AsyncRead for CountingReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = self.inner.as_mut().poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            let n = buf.filled().len() - before;
            if n == 0 && buf.remaining() > 0 {
                self.seen.ended.store(true, Ordering::Relaxed);
            }
            self.seen.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
        poll
    }
}

/// A writer into memory shared with the caller, for the `_bytes` conveniences.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedSink(Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedSink {
    pub(crate) fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl AsyncWrite for SharedSink {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_rules() {
        for good in [
            "a",
            "photos/cat.png",
            "a.b/c..d",
            "ünï/cödé",
            &"k".repeat(1024),
        ] {
            assert_eq!(key_violation(good), None, "{good}");
        }
        for bad in [
            "",
            "/abs",
            "a//b",
            "a/",
            "..",
            "a/../b",
            "./a",
            "a\\b",
            "nul\0byte",
            "tab\there",
            &"k".repeat(1025),
        ] {
            assert!(key_violation(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn pages_are_checked() {
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(page_violation(&keys(&["a/1", "a/2"]), "a/", None, 2), None);
        assert!(page_violation(&keys(&["a/2", "a/1"]), "a/", None, 5).is_some());
        assert!(page_violation(&keys(&["a/1", "a/1"]), "a/", None, 5).is_some());
        assert!(page_violation(&keys(&["a/1", "b/1"]), "a/", None, 5).is_some());
        assert!(page_violation(&keys(&["a/1", "a/2"]), "", None, 1).is_some());
        assert!(page_violation(&keys(&["a/1"]), "", Some("a/1"), 5).is_some());
        assert_eq!(page_violation(&keys(&["a/2"]), "", Some("a/1"), 5), None);
    }
}
