//! Byte budgets on a connection's streams: every byte a call sends or receives over its
//! sockets is counted against `[sockets] max_bytes_per_call`. The streams Wasmtime made for
//! a connection are wrapped in place in the Store's table, so the guest's handles stay the
//! same.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use wasmtime::component::{Resource, ResourceTable, ResourceTableError};
use wasmtime_wasi::async_trait;
use wasmtime_wasi::p2::pipe::{ClosedInputStream, ClosedOutputStream};
use wasmtime_wasi::p2::{
    DynInputStream, DynOutputStream, InputStream, OutputStream, Pollable, StreamError, StreamResult,
};

/// The bytes one call may still move over its sockets.
#[derive(Debug)]
pub(crate) struct ByteBudget {
    limit: u64,
    used: AtomicU64,
    /// Whether a stream was refused for the budget since the last [`Self::reset`].
    exhausted: AtomicBool,
}

impl ByteBudget {
    pub(crate) fn new(limit: u64) -> Self {
        Self {
            limit,
            used: AtomicU64::new(0),
            exhausted: AtomicBool::new(false),
        }
    }

    /// A new call starts with the whole budget.
    pub(crate) fn reset(&self) {
        self.used.store(0, Ordering::Relaxed);
        self.exhausted.store(false, Ordering::Relaxed);
    }

    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether a stream hit the budget since the last reset; clears the mark.
    /// Whether a stream was refused for the budget since the last reset, left as it is.
    pub(crate) fn exhausted(&self) -> bool {
        self.exhausted.load(Ordering::Relaxed)
    }

    pub(crate) fn take_exhausted(&self) -> bool {
        self.exhausted.swap(false, Ordering::Relaxed)
    }

    fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used.load(Ordering::Relaxed))
    }

    /// `remaining` capped to `usize`, or the stream error once nothing remains.
    fn allowance(&self, wanted: usize) -> StreamResult<usize> {
        match self.remaining() {
            0 if wanted > 0 => Err(self.refuse()),
            left => Ok(usize::try_from(left).map_or(wanted, |left| left.min(wanted))),
        }
    }

    fn spend(&self, bytes: usize) {
        self.used.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn refuse(&self) -> StreamError {
        self.exhausted.store(true, Ordering::Relaxed);
        StreamError::LastOperationFailed(wasmtime::format_err!(
            "the call's socket byte budget of {} bytes is spent ([sockets] max_bytes_per_call)",
            self.limit
        ))
    }
}

/// Replaces the connection's streams in `table` by metered ones.
pub(crate) fn meter(
    table: &mut ResourceTable,
    input: &Resource<DynInputStream>,
    output: &Resource<DynOutputStream>,
    budget: &Arc<ByteBudget>,
) -> Result<(), ResourceTableError> {
    let stream = table.get_mut(input)?;
    let inner = std::mem::replace(stream, Box::new(ClosedInputStream));
    *stream = Box::new(MeteredInput {
        inner,
        budget: budget.clone(),
    });
    let stream = table.get_mut(output)?;
    let inner = std::mem::replace(stream, Box::new(ClosedOutputStream));
    *stream = Box::new(MeteredOutput {
        inner,
        budget: budget.clone(),
    });
    Ok(())
}

struct MeteredInput {
    inner: DynInputStream,
    budget: Arc<ByteBudget>,
}

#[async_trait]
impl InputStream for MeteredInput {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        let size = self.budget.allowance(size)?;
        let bytes = self.inner.read(size)?;
        self.budget.spend(bytes.len());
        Ok(bytes)
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await
    }
}

#[async_trait]
impl Pollable for MeteredInput {
    async fn ready(&mut self) {
        // A spent budget answers at once: the next read reports it.
        if self.budget.remaining() > 0 {
            self.inner.ready().await
        }
    }
}

struct MeteredOutput {
    inner: DynOutputStream,
    budget: Arc<ByteBudget>,
}

#[async_trait]
impl OutputStream for MeteredOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        if bytes.len() as u64 > self.budget.remaining() {
            return Err(self.budget.refuse());
        }
        self.budget.spend(bytes.len());
        self.inner.write(bytes)
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.inner.flush()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        let permit = self.inner.check_write()?;
        self.budget.allowance(permit)
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await
    }
}

#[async_trait]
impl Pollable for MeteredOutput {
    async fn ready(&mut self) {
        if self.budget.remaining() > 0 {
            self.inner.ready().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_spent_and_reset() {
        let budget = ByteBudget::new(10);
        assert_eq!(budget.allowance(4).unwrap(), 4);
        budget.spend(8);
        assert_eq!(budget.allowance(4).unwrap(), 2);
        budget.spend(2);
        assert_eq!(budget.allowance(0).unwrap(), 0);
        assert!(budget.allowance(1).is_err());
        assert!(budget.take_exhausted());
        assert!(!budget.take_exhausted());
        budget.reset();
        assert_eq!(budget.allowance(100).unwrap(), 10);
    }
}
