//! Guest stdout/stderr capture: a WASI output stream that buffers what a guest prints up
//! to a cap per call. Past the cap the stream reports itself closed, as Wasmtime's own
//! `MemoryOutputPipe` does, so a guest writing until its stream fails stops at once
//! instead of spinning until the wall clock; what did not fit is counted and the log says
//! so (docs/design/0030).

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
    /// The cap was reached and the guest was told the stream is closed.
    closed: bool,
}

/// What one call wrote to a captured stream.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Captured {
    /// The text kept (lossy UTF-8), at most the cap.
    pub(crate) text: String,
    /// Bytes past the cap, dropped.
    pub(crate) dropped: u64,
    /// Whether the stream was reported closed to the guest.
    pub(crate) closed: bool,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps what fits of `bytes` and counts the rest; returns how many bytes were kept,
    /// or `Err` when the stream is full (it is then closed for the rest of the call).
    fn push(&self, bytes: &[u8]) -> Result<usize, ()> {
        let mut buffer = self.lock();
        self.written.store(true, Ordering::Release);
        let room = self.cap.saturating_sub(buffer.kept.len());
        if room == 0 && !bytes.is_empty() {
            buffer.closed = true;
            buffer.dropped += bytes.len() as u64;
            return Err(());
        }
        let kept = room.min(bytes.len());
        buffer.kept.extend_from_slice(&bytes[..kept]);
        if kept < bytes.len() {
            buffer.dropped += (bytes.len() - kept) as u64;
            buffer.closed = true;
        }
        Ok(kept)
    }

    /// How many bytes the guest may write now; `Err` (closed) once the cap is reached.
    fn room(&self) -> Result<usize, ()> {
        let mut buffer = self.lock();
        let room = self.cap.saturating_sub(buffer.kept.len());
        if room == 0 {
            buffer.closed = true;
            self.written.store(true, Ordering::Release);
            return Err(());
        }
        Ok(room)
    }

    /// Takes what was captured during the call and opens the stream again for the next.
    pub(crate) fn take(&self) -> Captured {
        if !self.written.swap(false, Ordering::Acquire) {
            return Captured::default();
        }
        let mut buffer = self.lock();
        let text = String::from_utf8_lossy(&buffer.kept).into_owned();
        buffer.kept.clear();
        Captured {
            text,
            dropped: std::mem::take(&mut buffer.dropped),
            closed: std::mem::take(&mut buffer.closed),
        }
    }
}

/// The log line for a stream that reached its cap during a call, if it did.
pub(crate) fn overflow_note(stream: &str, captured: &Captured, cap: usize) -> Option<String> {
    captured.closed.then(|| {
        format!(
            "{stream}: the capture cap of {} KiB per call was reached; {} more byte(s) were dropped and the stream was reported closed to the plugin",
            cap / 1024,
            captured.dropped
        )
    })
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
        self.push(&bytes)
            .map(drop)
            .map_err(|()| StreamError::Closed)
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        self.room().map_err(|()| StreamError::Closed)
    }
}

impl tokio::io::AsyncWrite for CapturePipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(
            self.push(buf)
                .map_err(|()| std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        )
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
    fn keeps_up_to_cap_then_reports_closed() {
        let mut pipe = CapturePipe::new(4);
        assert_eq!(pipe.check_write().unwrap(), 4);
        pipe.write(Bytes::from_static(b"abcdef")).unwrap();
        assert!(matches!(pipe.check_write(), Err(StreamError::Closed)));
        assert!(matches!(
            pipe.write(Bytes::from_static(b"gh")),
            Err(StreamError::Closed)
        ));
        let taken = pipe.take();
        assert_eq!(
            (taken.text.as_str(), taken.dropped, taken.closed),
            ("abcd", 4, true)
        );
        assert_eq!(pipe.take(), Captured::default());
        // The next call starts with the whole cap again.
        pipe.write(Bytes::from_static(b"ij")).unwrap();
        let taken = pipe.take();
        assert_eq!(
            (taken.text.as_str(), taken.dropped, taken.closed),
            ("ij", 0, false)
        );
        pipe.write(Bytes::new()).unwrap();
        assert_eq!(pipe.take(), Captured::default());
    }
}
