//! The `content-transform` kind (docs/design/0046): bytes of a declared media type streamed
//! in, other bytes and metadata streamed out. The host lends the guest two `wasi:io`
//! streams over the embedder's reader and writer, each holding at most a chunk or a write
//! budget, so an object of any size passes with bounded memory.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use plinth_manifest::manifest::essence;
use plinth_manifest::{Kind, TransformDecl};
use tokio::io::{AsyncRead, AsyncWrite};
use wasmtime::Store;
use wasmtime::component::Resource;
use wasmtime_wasi::p2::pipe::{AsyncReadStream, AsyncWriteStream};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use super::{Binding, Checker, KindError, block};
use crate::bindings::content_transform_v0_1::exports::plinth::content_transform::content_transform as v1;
use crate::error::HostError;
use crate::plugin::Plugin;
use crate::state::StoreState;

/// The largest input [`ContentTransforms::transform_bytes`] passes whole: 16 MiB
/// (`too-large` beyond; stream it instead).
pub const MAX_WHOLE_BYTES: usize = 16 * 1024 * 1024;

/// How many bytes of output the host accepts before the guest must wait for them to be
/// written to the embedder's writer (the output stream's `check-write` budget).
pub const WRITE_BUDGET: usize = 64 * 1024;

type Answer = Result<v1::OutputMeta, v1::TransformError>;

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(v1::Request, Resource<DynInputStream>, Resource<DynOutputStream>), (Answer,)>(
        "transform",
        "func(request: request, input: borrow<input-stream>, output: borrow<output-stream>) -> result<output-meta, transform-error>",
    )?;
    checker.func::<(v1::Request, Vec<u8>), (Result<(v1::OutputMeta, Vec<u8>), v1::TransformError>,)>(
        "transform-bytes",
        "func(request: request, input: list<u8>) -> result<tuple<output-meta, list<u8>>, transform-error>",
    )
}

/// What to transform, besides its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransformRequest {
    /// The input's media type; parameters and case are ignored.
    pub media_type: String,
    /// The input's size in bytes, when known.
    pub size: Option<u64>,
    /// The application's parameters, in order.
    pub params: Vec<(String, String)>,
}

impl TransformRequest {
    /// A request for input of `media_type`.
    pub fn new(media_type: impl Into<String>) -> Self {
        Self {
            media_type: media_type.into(),
            ..Self::default()
        }
    }

    /// The input's size.
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// One more parameter.
    pub fn with_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((key.into(), value.into()));
        self
    }

    fn wire(&self, media_type: String) -> v1::Request {
        v1::Request {
            media_type,
            size: self.size,
            params: self
                .params
                .iter()
                .map(|(key, value)| v1::Entry {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
        }
    }
}

/// What a transform produced, besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformMeta {
    /// The output's media type.
    pub media_type: String,
    /// Facts about the output, in the plugin's order.
    pub entries: Vec<(String, String)>,
    /// How many bytes the plugin wrote.
    pub output_bytes: u64,
}

impl TransformMeta {
    /// The value of entry `key`, if given.
    pub fn entry(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The `content-transform` kind of one plugin:
/// [`Plugin::kind`]`::<`[`ContentTransform`](super::ContentTransform)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct ContentTransforms<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
    output_limit: Option<u64>,
}

impl<'p> ContentTransforms<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self {
            plugin,
            binding,
            output_limit: None,
        }
    }

    /// The same handle with a cap on the output: a plugin writing more gets a write
    /// error and the call `too-large`.
    pub fn with_output_limit(mut self, bytes: u64) -> Self {
        self.output_limit = Some(bytes);
        self
    }

    /// The manifest's `[[provides.content-transform]]` entries; nothing runs.
    pub fn entries(&self) -> &'p [TransformDecl] {
        self.plugin
            .manifest()
            .map_or(&[], |m| m.provides.content_transform.as_slice())
    }

    /// Every media type the plugin takes, in declaration order.
    pub fn media_types(&self) -> Vec<&'p str> {
        self.entries()
            .iter()
            .flat_map(|e| e.media_types.iter().map(String::as_str))
            .collect()
    }

    /// The media type, without parameters, when an entry accepts it; else
    /// `unknown-format`, before anything runs.
    fn accepted(&self, media_type: &str) -> Result<String, KindError> {
        let entries = self.entries();
        let essence = essence(media_type);
        if !entries.is_empty() && !entries.iter().any(|e| e.accepts(&essence)) {
            return Err(KindError::NotAccepted {
                plugin: self.plugin.id().into(),
                kind: Kind::ContentTransform,
                input: format!("the media type `{essence}`"),
                accepted: self.media_types().into_iter().map(str::to_owned).collect(),
            });
        }
        Ok(essence)
    }

    /// Streams `input` through the plugin into `output`, in a fresh instance under the
    /// plugin's limits. A media type no entry accepts is `unknown-format` and nothing runs;
    /// output over the handle's limit is `too-large`. The output is flushed to `output`
    /// before this returns; on an error part of it may have been written.
    pub async fn transform_async<R, W>(
        &self,
        request: &TransformRequest,
        input: R,
        output: W,
    ) -> Result<TransformMeta, KindError>
    where
        R: AsyncRead + Send + 'static,
        W: AsyncWrite + Send + 'static,
    {
        let media_type = self.accepted(&request.media_type)?;
        self.transform_guest_async(request.wire(media_type), input, output)
            .await
    }

    /// [`Self::transform_async`] without the manifest's check.
    pub(crate) async fn transform_guest_async<R, W>(
        &self,
        request: v1::Request,
        input: R,
        output: W,
    ) -> Result<TransformMeta, KindError>
    where
        R: AsyncRead + Send + 'static,
        W: AsyncWrite + Send + 'static,
    {
        let what = format!("transform of `{}`", request.media_type);
        let counted = Counted::new(output, self.output_limit);
        let tally = counted.tally.clone();
        let lent = Lent::default();
        let answer = self
            .plugin
            .call_in_store_async(
                &self.binding.func("transform"),
                |store| {
                    let (reader, writer) = lent.streams(store, input, counted)?;
                    Ok((request, reader, writer))
                },
                async |store: &mut Store<StoreState>, (answer,): (Answer,)| {
                    lent.flush(store).await;
                    Ok(answer)
                },
            )
            .await?;
        if tally.over.load(Ordering::Relaxed) {
            return Err(self.output_too_large(&what));
        }
        let meta = self.answer(&what, answer)?;
        Ok(TransformMeta {
            media_type: meta.0,
            entries: meta.1,
            output_bytes: tally.written.load(Ordering::Relaxed),
        })
    }

    /// The transform of a small input passed whole, its output returned whole. Over
    /// [`MAX_WHOLE_BYTES`] of input is `too-large` without running the plugin.
    pub async fn transform_bytes_async(
        &self,
        request: &TransformRequest,
        input: &[u8],
    ) -> Result<(TransformMeta, Vec<u8>), KindError> {
        let media_type = self.accepted(&request.media_type)?;
        if input.len() > MAX_WHOLE_BYTES {
            return Err(KindError::InputTooLarge {
                plugin: self.plugin.id().into(),
                what: "the content passed whole".into(),
                size: input.len() as u64,
                limit: MAX_WHOLE_BYTES as u64,
            });
        }
        let what = format!("transform of `{media_type}`");
        let (answer,): (Result<(v1::OutputMeta, Vec<u8>), v1::TransformError>,) = self
            .plugin
            .call_async(
                &self.binding.func("transform-bytes"),
                (request.wire(media_type), input.to_vec()),
            )
            .await?;
        let (meta, bytes) = match answer {
            Ok((meta, bytes)) => (Ok(meta), bytes),
            Err(error) => (Err(error), Vec::new()),
        };
        if self
            .output_limit
            .is_some_and(|limit| bytes.len() as u64 > limit)
        {
            return Err(self.output_too_large(&what));
        }
        let (media_type, entries) = self.answer(&what, meta)?;
        Ok((
            TransformMeta {
                media_type,
                entries,
                output_bytes: bytes.len() as u64,
            },
            bytes,
        ))
    }

    fn output_too_large(&self, what: &str) -> KindError {
        KindError::OutputTooLarge {
            plugin: self.plugin.id().into(),
            what: what.into(),
            limit: self.output_limit.unwrap_or(u64::MAX),
        }
    }

    /// The plugin's answer, checked: an output media type that is one, entries with keys.
    fn answer(
        &self,
        what: &str,
        answer: Answer,
    ) -> Result<(String, Vec<(String, String)>), KindError> {
        let failed = |code: &str, reason: String| KindError::PluginFailed {
            plugin: self.plugin.id().into(),
            what: what.into(),
            code: code.into(),
            reason,
        };
        match answer {
            Ok(meta) => {
                if !is_media_type(&meta.media_type) {
                    return Err(KindError::InvalidOutput {
                        plugin: self.plugin.id().into(),
                        what: what.into(),
                        reason: format!("`{}` is not a media type", meta.media_type),
                    });
                }
                if meta.entries.iter().any(|e| e.key.is_empty()) {
                    return Err(KindError::InvalidOutput {
                        plugin: self.plugin.id().into(),
                        what: what.into(),
                        reason: "an entry has an empty key".into(),
                    });
                }
                let entries = meta.entries.into_iter().map(|e| (e.key, e.value)).collect();
                Ok((meta.media_type, entries))
            }
            Err(v1::TransformError::UnsupportedMediaType(reason)) => {
                Err(failed("unsupported-media-type", reason))
            }
            Err(v1::TransformError::InvalidInput(reason)) => Err(failed("invalid-input", reason)),
            Err(v1::TransformError::Failed(reason)) => Err(failed("failed", reason)),
        }
    }

    /// Blocking [`Self::transform_async`].
    pub fn transform<R, W>(
        &self,
        request: &TransformRequest,
        input: R,
        output: W,
    ) -> Result<TransformMeta, KindError>
    where
        R: AsyncRead + Send + 'static,
        W: AsyncWrite + Send + 'static,
    {
        block(
            self.plugin,
            &self.binding.func("transform"),
            self.transform_async(request, input, output),
        )
    }

    /// Blocking [`Self::transform_bytes_async`].
    pub fn transform_bytes(
        &self,
        request: &TransformRequest,
        input: &[u8],
    ) -> Result<(TransformMeta, Vec<u8>), KindError> {
        block(
            self.plugin,
            &self.binding.func("transform-bytes"),
            self.transform_bytes_async(request, input),
        )
    }

    /// Blocking [`Self::transform_guest_async`].
    pub(crate) fn transform_guest<R, W>(
        &self,
        request: &TransformRequest,
        input: R,
        output: W,
    ) -> Result<TransformMeta, KindError>
    where
        R: AsyncRead + Send + 'static,
        W: AsyncWrite + Send + 'static,
    {
        let wire = request.wire(essence(&request.media_type));
        block(
            self.plugin,
            &self.binding.func("transform"),
            self.transform_guest_async(wire, input, output),
        )
    }
}

/// `type/subtype` made of visible ASCII without spaces.
fn is_media_type(text: &str) -> bool {
    let part = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
    text.len() <= 255
        && text
            .split_once('/')
            .is_some_and(|(a, b)| part(a) && part(b))
}

/// Where the output stream a call lends lives in its Store's table.
#[derive(Debug, Default)]
pub(crate) struct Lent {
    output: std::sync::atomic::AtomicU32,
}

impl Lent {
    /// Puts an input stream over `input` and an output stream over `output` in the Store's
    /// table, for the guest to borrow. Each holds at most one chunk (64 KiB) or the write
    /// budget: the guest waits, not the host's memory.
    pub(crate) fn streams<R, W>(
        &self,
        store: &mut Store<StoreState>,
        input: R,
        output: W,
    ) -> wasmtime::Result<(Resource<DynInputStream>, Resource<DynOutputStream>)>
    where
        R: AsyncRead + Send + 'static,
        W: AsyncWrite + Send + 'static,
    {
        let table = store.data_mut().table();
        let reader: DynInputStream = Box::new(AsyncReadStream::new(input));
        let writer: DynOutputStream = Box::new(AsyncWriteStream::new(WRITE_BUDGET, output));
        let reader = table.push(reader)?;
        let writer = table.push(writer)?;
        self.output.store(writer.rep(), Ordering::Relaxed);
        Ok((reader, writer))
    }

    /// An output stream alone, for a call that only writes.
    pub(crate) fn output<W>(
        &self,
        store: &mut Store<StoreState>,
        output: W,
    ) -> wasmtime::Result<Resource<DynOutputStream>>
    where
        W: AsyncWrite + Send + 'static,
    {
        let writer: DynOutputStream = Box::new(AsyncWriteStream::new(WRITE_BUDGET, output));
        let writer = store.data_mut().table().push(writer)?;
        self.output.store(writer.rep(), Ordering::Relaxed);
        Ok(writer)
    }

    /// An input stream alone, for a call that only reads.
    pub(crate) fn input<R>(
        store: &mut Store<StoreState>,
        input: R,
    ) -> wasmtime::Result<Resource<DynInputStream>>
    where
        R: AsyncRead + Send + 'static,
    {
        let reader: DynInputStream = Box::new(AsyncReadStream::new(input));
        Ok(store.data_mut().table().push(reader)?)
    }

    /// Waits until every byte the guest wrote has reached the embedder's writer: a guest
    /// that flushed left nothing, one that did not has its last writes delivered here. A
    /// failed write is the guest's to report; the streams go with the Store.
    pub(crate) async fn flush(&self, store: &mut Store<StoreState>) {
        let rep = self.output.load(Ordering::Relaxed);
        let resource = Resource::<DynOutputStream>::new_borrow(rep);
        if let Ok(stream) = store.data_mut().table().get_mut(&resource)
            && stream.flush().is_ok()
        {
            let _ = stream.write_ready().await;
        }
    }
}

/// The bytes written through a [`Counted`] writer, and whether it refused some.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) written: AtomicU64,
    pub(crate) over: AtomicBool,
}

/// A writer that counts what passes and refuses what would go over `limit`.
pub(crate) struct Counted<W> {
    inner: Pin<Box<W>>,
    limit: Option<u64>,
    pub(crate) tally: Arc<Tally>,
}

impl<W> Counted<W> {
    pub(crate) fn new(inner: W, limit: Option<u64>) -> Self {
        Self {
            inner: Box::pin(inner),
            limit,
            tally: Arc::default(),
        }
    }
}

impl<W: AsyncWrite> AsyncWrite for Counted<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let written = self.tally.written.load(Ordering::Relaxed);
        if self
            .limit
            .is_some_and(|limit| written.saturating_add(buf.len() as u64) > limit)
        {
            self.tally.over.store(true, Ordering::Relaxed);
            return Poll::Ready(Err(std::io::Error::other(
                "the output is over the host's cap",
            )));
        }
        let poll = self.inner.as_mut().poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            self.tally.written.fetch_add(*n as u64, Ordering::Relaxed);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.inner.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.inner.as_mut().poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::is_media_type;

    #[test]
    fn media_types_are_checked() {
        assert!(is_media_type("image/png"));
        assert!(is_media_type("application/vnd.bitvault+json"));
        assert!(!is_media_type("png"));
        assert!(!is_media_type("image/"));
        assert!(!is_media_type("image/p ng"));
        assert!(!is_media_type("a/b/c"));
    }
}
