//! Guest stdout/stderr capture: a WASI output stream that buffers what a guest prints up
//! to a cap and silently drops the rest, so printing can neither fail nor exhaust the host.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

#[derive(Debug, Default)]
struct Buffer {
    kept: Vec<u8>,
    dropped: u64,
}

/// One captured stream (stdout or stderr) of one call.
#[derive(Debug, Clone)]
pub(crate) struct CapturePipe {
    cap: usize,
    buffer: Arc<Mutex<Buffer>>,
    /// Set by every write, cleared by [`Self::take`]: a call that printed nothing (the
    /// usual case) is flushed without taking the lock.
    written: Arc<AtomicBool>,
}

impl CapturePipe {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            buffer: Arc::default(),
            written: Arc::default(),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        let room = self.cap.saturating_sub(buffer.kept.len());
        let kept = room.min(bytes.len());
        buffer.kept.extend_from_slice(&bytes[..kept]);
        buffer.dropped += (bytes.len() - kept) as u64;
        self.written.store(true, Ordering::Release);
    }

    /// Takes what was captured so far: the text and the number of bytes dropped.
    pub(crate) fn take(&self) -> (String, u64) {
        if !self.written.swap(false, Ordering::Acquire) {
            return (String::new(), 0);
        }
        let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        let text = String::from_utf8_lossy(&buffer.kept).into_owned();
        buffer.kept.clear();
        (text, std::mem::take(&mut buffer.dropped))
    }
}

impl IsTerminal for CapturePipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturePipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturePipe {
    async fn ready(&mut self) {}
}

impl OutputStream for CapturePipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Always writable: overflow is dropped and counted, never an error a guest's
        // `println!` would turn into a panic.
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for CapturePipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
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
    fn keeps_up_to_cap_and_counts_the_rest() {
        let mut pipe = CapturePipe::new(4);
        pipe.write(Bytes::from_static(b"abcdef")).unwrap();
        pipe.write(Bytes::from_static(b"gh")).unwrap();
        assert_eq!(pipe.take(), ("abcd".to_string(), 4));
        assert_eq!(pipe.take(), (String::new(), 0));
        pipe.write(Bytes::from_static(b"ij")).unwrap();
        assert_eq!(pipe.take(), ("ij".to_string(), 0));
        pipe.write(Bytes::new()).unwrap();
        assert_eq!(pipe.take(), (String::new(), 0));
    }
}
