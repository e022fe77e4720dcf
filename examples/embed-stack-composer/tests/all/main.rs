//! `embed-stack-composer`'s integration tests: one test binary, one module per test file.
//!
//! Wasmtime's `tests/all` layout: every `tests/*.rs` file used to be a test binary of its own,
//! and linking those binaries (most of them link Wasmtime) was most of a cold CI run. As
//! modules of this one binary they are linked once. They also share one process and run in
//! parallel threads of it, so a test must not count on being alone with process-global
//! state (environment, current directory, the global `tracing` subscriber, fixed ports or
//! paths). One file's tests: `cargo test -p embed-stack-composer --test all research::`.

mod research;
mod scenario;
mod streaming;
