//! Feature alignment for `cargo install --path crates/plinth-cli`: no code, only
//! dependencies whose features match the workspace's build (see this crate's `Cargo.toml`
//! and docs/design/0079).

#![deny(missing_docs)]
