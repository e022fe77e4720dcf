//! Streaming app-defined host functions (docs/design/0065): a function whose result is a
//! resource with `next: func() -> option<T>`, fed by an embedder's producer task through a
//! bounded channel.
//!
//! ```wit
//! resource deltas { next: func() -> option<string>; }
//! stream-chat: func(messages: list<message>) -> deltas;
//! ```
//!
//! The producer runs on the host's runtime and sends items with [`StreamSender::send`],
//! which waits while [`STREAM_BUFFER`] items are unread (backpressure). The guest's `next`
//! waits for the next item under the call's wall clock, like any async host function; its
//! fuel pays for what it does with the items. When the guest drops the resource, or its
//! instance ends (a per-call instance ends with the call), the channel closes: the
//! producer's next `send` fails with [`StreamClosed`] and the producer task is aborted.

use std::future::Future;
use std::sync::Arc;

use wasmtime::StoreContextMut;
use wasmtime::component::{
    ComponentNamedList, Lift, LinkerInstance, Lower, Resource, ResourceType,
};

use super::custom::{Definer, HostCallContext, HostFnError, HostInterface, checked};
use crate::state::StoreState;

/// Items a producer may send ahead of the guest's reads.
pub const STREAM_BUFFER: usize = 16;

/// What a streaming function's producer sends items through.
#[derive(Debug)]
pub struct StreamSender<T> {
    tx: tokio::sync::mpsc::Sender<T>,
}

/// The guest stopped reading: it dropped the stream, or its instance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the plugin stopped reading the stream")]
pub struct StreamClosed;

impl<T> StreamSender<T> {
    /// Sends `item`, waiting while [`STREAM_BUFFER`] items are unread.
    pub async fn send(&self, item: T) -> Result<(), StreamClosed> {
        self.tx.send(item).await.map_err(|_| StreamClosed)
    }

    /// Whether the guest stopped reading.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The host side of one stream resource: the items not yet read, the producer's outcome
/// once it ended, and the producer task, aborted when the resource goes.
struct HostStream<T> {
    items: tokio::sync::mpsc::Receiver<T>,
    producer: Option<tokio::task::JoinHandle<Result<(), HostFnError>>>,
}

impl<T> Drop for HostStream<T> {
    fn drop(&mut self) {
        if let Some(producer) = self.producer.take() {
            producer.abort();
        }
    }
}

impl HostInterface {
    /// Adds the streaming function `name`, whose WIT result is the resource `resource`
    /// with a method `next: func() -> option<T>` (docs/design/0065). For each call `f`
    /// runs as a task on Plinth's runtime with the parameters and a [`StreamSender`]; the
    /// guest's `next` returns its items in order, then `none` once `f` returned `Ok`. An
    /// `Err` from `f` makes the `next` after the last item fail the call with it (a trap,
    /// or `missing-grant`). An ungranted call traps with `missing-grant`, and nothing runs.
    pub fn func_stream<P, T, F, Fut>(mut self, name: &str, resource: &str, f: F) -> Self
    where
        P: ComponentNamedList + Lift + Send + 'static,
        T: Lower + Send + Sync + 'static,
        F: Fn(HostCallContext, P, StreamSender<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HostFnError>> + Send + 'static,
    {
        let f = Arc::new(f);
        let resource = resource.to_string();
        let define: Definer = Arc::new(
            move |instance: &mut LinkerInstance<'_, StoreState>,
                  func: &str,
                  capability: &Arc<str>| {
                instance.resource(
                    &resource,
                    ResourceType::host::<HostStream<T>>(),
                    |mut store: StoreContextMut<'_, StoreState>, rep| {
                        let stream = Resource::<HostStream<T>>::new_own(rep);
                        store.data_mut().table().delete(stream)?;
                        Ok(())
                    },
                )?;
                let (f, capability) = (f.clone(), capability.clone());
                instance.func_wrap(
                    func,
                    move |mut store: StoreContextMut<'_, StoreState>, params: P| {
                        let cx = checked(store.data_mut(), &capability)
                            .map_err(|d| wasmtime::Error::new(d.into_error()))?;
                        let (tx, rx) = tokio::sync::mpsc::channel(STREAM_BUFFER);
                        let producer = tokio::runtime::Handle::try_current()
                            .map_err(|_| wasmtime::Error::msg("no runtime for a stream"))?
                            .spawn(f(cx, params, StreamSender { tx }));
                        let stream = HostStream {
                            items: rx,
                            producer: Some(producer),
                        };
                        let stream = store.data_mut().table().push(stream)?;
                        Ok((stream,))
                    },
                )?;
                instance.func_wrap_async(
                    &format!("[method]{resource}.next"),
                    move |mut store: StoreContextMut<'_, StoreState>,
                          (stream,): (Resource<HostStream<T>>,)| {
                        Box::new(async move {
                            let stream = store.data_mut().table().get_mut(&stream)?;
                            if let Some(item) = stream.items.recv().await {
                                return Ok((Some(item),));
                            }
                            // The producer ended: its outcome decides between the end of
                            // the stream and a failed call.
                            let Some(producer) = stream.producer.take() else {
                                return Ok((None,));
                            };
                            match producer.await {
                                Ok(Ok(())) => Ok((None,)),
                                Ok(Err(error)) => Err(wasmtime::Error::new(error)),
                                Err(joined) => Err(wasmtime::Error::msg(format!(
                                    "the stream's producer failed: {joined}"
                                ))),
                            }
                        })
                    },
                )
            },
        );
        self.funcs.push((name.to_string(), define));
        self
    }
}
