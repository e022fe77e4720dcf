//! Plinth's plugin manager.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used)]

pub mod state;
