//! `std::io` over the `wasi:io` streams the host lends a streaming kind
//! (`content-transform`, `storage-provider`; docs/design/0046): a plugin reads its input
//! with [`Read`](std::io::Read) and writes its output with [`Write`](std::io::Write), so
//! `std::io::copy`, `BufReader` and any crate that takes a reader work unchanged.
//!
//! Reads take at most [`CHUNK`] bytes at a time and writes wait for the host's write
//! budget, so a plugin streaming an object holds one chunk, not the object.

use std::io;

pub use crate::bindings::io::wasi::io::streams::{InputStream, OutputStream, StreamError};

/// The most bytes one read asks the host for: 64 KiB.
pub const CHUNK: usize = 64 * 1024;

fn io_error(error: StreamError) -> io::Error {
    match error {
        StreamError::LastOperationFailed(e) => io::Error::other(e.to_debug_string()),
        StreamError::Closed => io::Error::new(io::ErrorKind::BrokenPipe, "the stream is closed"),
    }
}

/// A [`Read`](std::io::Read) over a borrowed input stream: the end of the stream reads as 0
/// bytes.
#[derive(Debug)]
pub struct StreamReader<'a> {
    stream: &'a InputStream,
    /// Bytes read from the host and not yet handed out.
    pending: Vec<u8>,
    offset: usize,
    ended: bool,
}

impl<'a> StreamReader<'a> {
    /// A reader of `stream`.
    pub fn new(stream: &'a InputStream) -> Self {
        Self {
            stream,
            pending: Vec::new(),
            offset: 0,
            ended: false,
        }
    }

    /// The next chunk of at most [`CHUNK`] bytes, waiting for one; empty at the end.
    pub fn next_chunk(&mut self) -> io::Result<Vec<u8>> {
        if self.offset < self.pending.len() {
            let rest = self.pending.split_off(self.offset);
            self.pending.clear();
            self.offset = 0;
            return Ok(rest);
        }
        if self.ended {
            return Ok(Vec::new());
        }
        match self.stream.blocking_read(CHUNK as u64) {
            Ok(bytes) => Ok(bytes),
            Err(StreamError::Closed) => {
                self.ended = true;
                Ok(Vec::new())
            }
            Err(e) => Err(io_error(e)),
        }
    }
}

impl io::Read for StreamReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.offset >= self.pending.len() {
            self.pending = self.next_chunk()?;
            self.offset = 0;
        }
        let available = &self.pending[self.offset..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.offset += n;
        Ok(n)
    }
}

/// A [`Write`](std::io::Write) over a borrowed output stream. Each write waits for the
/// host's write budget (`check-write`); [`flush`](std::io::Write::flush) waits until the
/// host has taken every byte. The PDK flushes after the plugin returns.
#[derive(Debug)]
pub struct StreamWriter<'a> {
    stream: &'a OutputStream,
}

impl<'a> StreamWriter<'a> {
    /// A writer to `stream`.
    pub fn new(stream: &'a OutputStream) -> Self {
        Self { stream }
    }
}

impl io::Write for StreamWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut budget = self.stream.check_write().map_err(io_error)?;
        while budget == 0 {
            self.stream.subscribe().block();
            budget = self.stream.check_write().map_err(io_error)?;
        }
        let n = usize::try_from(budget).unwrap_or(usize::MAX).min(buf.len());
        self.stream.write(&buf[..n]).map_err(io_error)?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.blocking_flush().map_err(io_error)
    }
}

/// Copies `input` to `output` a chunk at a time, without `std::io::copy`'s 8 KiB buffer:
/// each chunk goes from the host to the host in one read and the writes it takes. Returns
/// the bytes copied.
pub fn copy(input: &mut StreamReader<'_>, output: &mut impl io::Write) -> io::Result<u64> {
    let mut total = 0u64;
    loop {
        let chunk = input.next_chunk()?;
        if chunk.is_empty() {
            return Ok(total);
        }
        output.write_all(&chunk)?;
        total += chunk.len() as u64;
    }
}
