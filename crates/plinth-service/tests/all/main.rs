//! The service runtime against the `service` guest: queues, outcomes, restarts,
//! deadlines and output commands.

mod commands;
mod common;
mod flood;
mod http;
mod incoming;
mod memory;
mod outcomes;
mod restarts;
mod websocket;

/// Counts the bytes live on threads that opt in ([`memory::tracked`]), for the idle
/// connection figure; every other allocation passes straight through.
#[global_allocator]
static ALLOCATOR: memory::Counting = memory::Counting;
