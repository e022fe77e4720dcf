//! Plinth services (docs/design/0048): a plugin of the `service` kind run as a long-lived
//! instance the host starts, feeds, restarts and stops.
//!
//! - **Ingress.** Every service has a bounded queue ([`ServiceConfig::queue`], default
//!   256). A full queue is never silent: with [`Overflow::Reject`] the producer gets a
//!   `queue-full` error, with [`Overflow::Shed`] the event is dropped, counted and logged.
//! - **Dispatch.** One event at a time, in order, by default; [`ServiceConfig::concurrency`]
//!   runs that many instances side by side instead. Each event has a deadline that also
//!   ends an event blocked in a host import; only that instance is torn down.
//! - **Outcomes.** A handler answers `ok`, `reject(reason)` (dead-lettered) or
//!   `retry(after)` (delivered again after the delay, at most
//!   [`ServiceConfig::max_attempts`] times, then dead-lettered). A trap or a missed
//!   deadline counts as a failed attempt.
//! - **Restarts.** A failed instance is replaced after a backoff that doubles per
//!   consecutive failure; the service is `Degraded` meanwhile, `Error` after
//!   [`ServiceConfig::error_after`] failures in a row, and `Ready` again after a success.
//! - **Output commands.** A handler asks for side effects; each is checked against the
//!   plugin's grants before anything happens ([`Commands`]).
//!
//! Every event pushed is accounted for exactly once in [`Stats`]:
//! `accepted + rejected + shed = pushed`, and once the queue is idle
//! `delivered + dead_lettered = accepted`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use plinth_host::Host;
//! use plinth_host::kinds::IngressEvent;
//! use plinth_service::{Commands, Service, ServiceConfig};
//!
//! let host = Host::new()?;
//! let plugin = host.load("plugins/bridge")?;
//! let config = ServiceConfig::for_plugin(&plugin)?;
//! let service = Service::spawn(plugin, config, Commands::default())?;
//! service.push(IngressEvent::new("app", "message", b"hello".to_vec()))?;
//! let stats = service.stop().await;
//! println!("{} delivered", stats.delivered);
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod commands;
mod config;
mod error;
mod http;
mod queue;
mod runtime;
mod status;
mod websocket;

pub use commands::{ActionCall, ActionFn, Commands, FrameSink};
pub use config::{Backoff, ServiceConfig};
pub use error::ServiceError;
pub use http::{HttpIngress, MAX_BODY, bind_loopback};
pub use plinth_manifest::Overflow;
pub use queue::Pushed;
pub use runtime::{Delivery, Service};
pub use status::{DeadLetter, DeadReason, ServiceEvent, Stats, Status};
pub use websocket::WebSocketDriver;
