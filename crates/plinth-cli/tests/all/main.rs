//! `plinth-cli`'s integration tests: one test binary, one module per test file.
//!
//! Wasmtime's `tests/all` layout: every `tests/*.rs` file used to be a test binary of its own,
//! and linking those binaries (most of them link Wasmtime) was most of a cold CI run. As
//! modules of this one binary they are linked once. They also share one process and run in
//! parallel threads of it, so a test must not count on being alone with process-global
//! state (environment, current directory, the global `tracing` subscriber, fixed ports or
//! paths). One file's tests: `cargo test -p plinth-cli --test all cli::`.

mod common;
// The registry crate's test helpers (a docker-registry and a static server on 127.0.0.1).
#[path = "../../../plinth-registry/tests/all/support/mod.rs"]
mod support;
// plinth-telemetry's OTLP receiver on 127.0.0.1.
#[path = "../../../plinth-telemetry/tests/all/otlp.rs"]
mod otlp;

mod cli;
mod consent;
mod conventions;
mod distribution;
mod host_streams;
mod identity;
mod kinds;
mod languages;
mod manage;
mod new_bitvault;
mod new_build;
mod new_service;
mod new_stream;
mod new_thoth;
mod read_only;
mod reference_kinds;
mod registry;
mod restore;
mod round_trip;
mod scaffold_langs;
mod serve;
mod show_signature;
mod stream_memory;
mod telemetry;
mod wit_diff;
