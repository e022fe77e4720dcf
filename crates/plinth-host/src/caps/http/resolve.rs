//! Name resolution for outgoing requests, behind a trait so the embedder can bring its own
//! resolver (and tests can simulate DNS rebinding).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

/// What [`Resolve::resolve`] returns.
pub type ResolveFuture<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>>;

/// Resolves a host name to the addresses a request may connect to. The host checks every
/// address with its SSRF guard before connecting to any, and connects by address, never
/// by name, so a resolver cannot widen what a plugin reaches.
pub trait Resolve: Send + Sync + std::fmt::Debug {
    /// The addresses of `host` (a name, never an IP literal) with `port` filled in.
    fn resolve<'a>(&'a self, host: &'a str, port: u16) -> ResolveFuture<'a>;
}

/// The system resolver (`getaddrinfo`, through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve<'a>(&'a self, host: &'a str, port: u16) -> ResolveFuture<'a> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}
