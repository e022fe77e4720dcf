//! `plinth-serve`'s integration tests: one test binary, one module per concern.
//!
//! Each test starts a real server on 127.0.0.1 port 0 in this process, over a home of its
//! own, and drives it with a real HTTP client; plugins are built from the examples and the
//! test programs. Nothing sleeps: tests wait on the event streams, or poll with a deadline.
//! One module's tests: `cargo test -p plinth-serve --test all security::`.

mod common;
#[path = "../../../plinth-registry/tests/all/support/mod.rs"]
mod registry;

mod browser;
mod go_client;

mod calls;
mod dashboard;
mod events;
mod lifecycle;
mod openapi;
mod plugins;
mod review;
mod security;
mod services;
mod settings;
mod several_hosts;
mod tenants;
mod tls;
mod updates;
