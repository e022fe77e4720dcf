//! `wasi:io/poll` and `wasi:io/streams` with sync host functions, for the sync call path
//! (docs/design/0075).
//!
//! Wasmtime's own sync versions run each blocking operation to completion on a tokio
//! runtime, which must not be entered from inside one. A plugin on the sync path has only
//! streams that are never pending (its captured stdout and stderr, its closed stdin) and no
//! clock to sleep on, so these functions run the async operation for one poll instead: it
//! completes there, and should it ever be pending the call traps rather than block past
//! its deadline.

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::p2::bindings::io::poll::{Host as AsyncPoll, HostPollable as AsyncPollable};
use wasmtime_wasi::p2::bindings::io::streams::{
    Host as AsyncHost, HostInputStream as AsyncInput, HostOutputStream as AsyncOutput,
};
use wasmtime_wasi::p2::bindings::sync::io::poll::{self, Pollable};
use wasmtime_wasi::p2::bindings::sync::io::streams::{
    self, Host, HostInputStream, HostOutputStream, InputStream, OutputStream,
};
use wasmtime_wasi::p2::{StreamError, StreamResult};

use crate::state::StoreState;

/// Defines `wasi:io/poll` with the functions below.
pub(crate) fn add_poll_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    poll::add_to_linker::<_, SyncIo>(linker, |state| Table(state.ctx().table))
}

/// Defines `wasi:io/streams` with the functions below.
pub(crate) fn add_streams_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    streams::add_to_linker::<_, SyncIo>(linker, |state| Table(state.ctx().table))
}

struct SyncIo;

impl HasData for SyncIo {
    type Data<'a> = Table<'a>;
}

/// The Store's resource table, seen through the sync `wasi:io` interfaces.
pub(crate) struct Table<'a>(&'a mut ResourceTable);

/// The message of a stream operation that would have waited.
const WOULD_WAIT: &str = "a stream operation would wait, which a synchronous call cannot do";

/// `future`'s output if it is ready at its first poll.
fn now<F: Future>(future: F) -> Option<F::Output> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// A stream operation run for one poll; pending, it traps.
fn now_or_trap<T>(future: impl Future<Output = StreamResult<T>>) -> StreamResult<T> {
    now(future).unwrap_or_else(|| Err(StreamError::trap(WOULD_WAIT)))
}

/// A host function run for one poll; pending, it traps.
fn now_or_fail<T>(future: impl Future<Output = wasmtime::Result<T>>) -> wasmtime::Result<T> {
    now(future).unwrap_or_else(|| Err(wasmtime::format_err!(WOULD_WAIT)))
}

impl poll::Host for Table<'_> {
    fn poll(&mut self, pollables: Vec<Resource<Pollable>>) -> wasmtime::Result<Vec<u32>> {
        now_or_fail(AsyncPoll::poll(self.0, pollables))
    }
}

impl poll::HostPollable for Table<'_> {
    fn ready(&mut self, pollable: Resource<Pollable>) -> wasmtime::Result<bool> {
        now_or_fail(AsyncPollable::ready(self.0, pollable))
    }

    fn block(&mut self, pollable: Resource<Pollable>) -> wasmtime::Result<()> {
        now_or_fail(AsyncPollable::block(self.0, pollable))
    }

    fn drop(&mut self, pollable: Resource<Pollable>) -> wasmtime::Result<()> {
        AsyncPollable::drop(self.0, pollable)
    }
}

impl Host for Table<'_> {
    fn convert_stream_error(&mut self, err: StreamError) -> wasmtime::Result<streams::StreamError> {
        Ok(AsyncHost::convert_stream_error(self.0, err)?.into())
    }
}

impl HostOutputStream for Table<'_> {
    fn drop(&mut self, stream: Resource<OutputStream>) -> wasmtime::Result<()> {
        now_or_fail(AsyncOutput::drop(self.0, stream))
    }

    fn check_write(&mut self, stream: Resource<OutputStream>) -> StreamResult<u64> {
        AsyncOutput::check_write(self.0, stream)
    }

    fn write(&mut self, stream: Resource<OutputStream>, bytes: Vec<u8>) -> StreamResult<()> {
        AsyncOutput::write(self.0, stream, bytes)
    }

    fn blocking_write_and_flush(
        &mut self,
        stream: Resource<OutputStream>,
        bytes: Vec<u8>,
    ) -> StreamResult<()> {
        now_or_trap(AsyncOutput::blocking_write_and_flush(self.0, stream, bytes))
    }

    fn blocking_write_zeroes_and_flush(
        &mut self,
        stream: Resource<OutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        now_or_trap(AsyncOutput::blocking_write_zeroes_and_flush(
            self.0, stream, len,
        ))
    }

    fn subscribe(
        &mut self,
        stream: Resource<OutputStream>,
    ) -> wasmtime::Result<Resource<Pollable>> {
        AsyncOutput::subscribe(self.0, stream)
    }

    fn write_zeroes(&mut self, stream: Resource<OutputStream>, len: u64) -> StreamResult<()> {
        AsyncOutput::write_zeroes(self.0, stream, len)
    }

    fn flush(&mut self, stream: Resource<OutputStream>) -> StreamResult<()> {
        AsyncOutput::flush(self.0, stream)
    }

    fn blocking_flush(&mut self, stream: Resource<OutputStream>) -> StreamResult<()> {
        now_or_trap(AsyncOutput::blocking_flush(self.0, stream))
    }

    fn splice(
        &mut self,
        dst: Resource<OutputStream>,
        src: Resource<InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        AsyncOutput::splice(self.0, dst, src, len)
    }

    fn blocking_splice(
        &mut self,
        dst: Resource<OutputStream>,
        src: Resource<InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        now_or_trap(AsyncOutput::blocking_splice(self.0, dst, src, len))
    }
}

impl HostInputStream for Table<'_> {
    fn drop(&mut self, stream: Resource<InputStream>) -> wasmtime::Result<()> {
        now_or_fail(AsyncInput::drop(self.0, stream))
    }

    fn read(&mut self, stream: Resource<InputStream>, len: u64) -> StreamResult<Vec<u8>> {
        AsyncInput::read(self.0, stream, len)
    }

    fn blocking_read(&mut self, stream: Resource<InputStream>, len: u64) -> StreamResult<Vec<u8>> {
        now_or_trap(AsyncInput::blocking_read(self.0, stream, len))
    }

    fn skip(&mut self, stream: Resource<InputStream>, len: u64) -> StreamResult<u64> {
        AsyncInput::skip(self.0, stream, len)
    }

    fn blocking_skip(&mut self, stream: Resource<InputStream>, len: u64) -> StreamResult<u64> {
        now_or_trap(AsyncInput::blocking_skip(self.0, stream, len))
    }

    fn subscribe(&mut self, stream: Resource<InputStream>) -> wasmtime::Result<Resource<Pollable>> {
        AsyncInput::subscribe(self.0, stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_future_gives_its_output_and_a_pending_one_nothing() {
        assert_eq!(now(async { 7 }), Some(7));
        assert_eq!(now(std::future::pending::<u8>()), None);
        let pending = now_or_trap(std::future::pending::<StreamResult<()>>());
        assert!(matches!(pending, Err(StreamError::Trap(e)) if e.to_string() == WOULD_WAIT));
    }
}
