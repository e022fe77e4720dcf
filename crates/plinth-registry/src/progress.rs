//! A progress hook for downloads: the library reports, the caller decides how to show it.

/// Receives download progress. The CLI draws a bar with it; the default [`Silent`] ignores it,
/// so library users see nothing unless they ask.
pub trait Progress: Send + Sync {
    /// A download of `label` begins; `total` is its size when known.
    fn start(&self, label: &str, total: Option<u64>) {
        let _ = (label, total);
    }

    /// `bytes` more bytes arrived.
    fn advance(&self, bytes: u64) {
        let _ = bytes;
    }

    /// The download ended (successfully or not).
    fn finish(&self) {}
}

/// A [`Progress`] that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}
