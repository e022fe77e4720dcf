//! `plinth-host`'s integration tests: one test binary, one module per test file.
//!
//! Wasmtime's `tests/all` layout: every `tests/*.rs` file used to be a test binary of its own,
//! and linking those binaries (most of them link Wasmtime) was most of a cold CI run. As
//! modules of this one binary they are linked once. They also share one process and run in
//! parallel threads of it, so a test must not count on being alone with process-global
//! state (environment, current directory, the global `tracing` subscriber, fixed ports or
//! paths). One file's tests: `cargo test -p plinth-host --test all dynamic::`.

mod common;

mod bitvault_kinds;
mod bitvault_kits;
mod check;
mod componentless;
mod conformance;
mod dynamic;
mod events;
mod events_nats;
mod fs;
mod function_cache;
mod host_fn;
mod hostile;
mod http;
mod http_hostile;
mod kinds;
mod kv;
mod kv_backends;
mod kv_guest;
mod kv_tls;
mod load;
mod network_modes;
mod pdk;
mod plugin_files;
mod settings;
mod sockets;
mod stream_kinds;
mod stream_kits;
mod tenant_scope;
mod thoth_kinds;
mod thoth_kits;
mod thoth_sources;
mod three_hosts;
mod watch;
