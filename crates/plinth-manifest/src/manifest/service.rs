//! `[[provides.service]]`: a long-lived service with an ingress queue (docs/design/0048).

use serde::Serialize;
use toml::Value;

use super::error::ManifestError;
use super::reader::{Ctx, Section};

/// The ingress queue's length when the manifest does not say.
pub const DEFAULT_QUEUE: u32 = 256;
/// The longest ingress queue a manifest may ask for.
pub const MAX_QUEUE: u32 = 65_536;
/// The most events a service may handle at once.
pub const MAX_CONCURRENCY: u32 = 64;
/// Deliveries of one event when the manifest does not say: the first and two retries.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// The most deliveries of one event a manifest may ask for.
pub const MAX_ATTEMPTS: u32 = 100;

/// What a full ingress queue does with one more event. Neither is silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Overflow {
    /// The producer is refused with a `queue-full` diagnostic: for producers that can
    /// hold back or answer (an HTTP route answers 503).
    #[default]
    Reject,
    /// The event is dropped, counted and logged: for streams where the newest matter and
    /// the producer cannot wait (a chat firehose).
    Shed,
}

impl Overflow {
    /// The policy's name in manifests: `reject` or `shed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Overflow::Reject => "reject",
            Overflow::Shed => "shed",
        }
    }
}

/// The `[[provides.service]]` entry (at most one): how the host runs the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceDecl {
    /// Events the ingress queue holds, waiting (default [`DEFAULT_QUEUE`]).
    pub queue: u32,
    /// What a full queue does (default `reject`).
    pub overflow: Overflow,
    /// Events handled at once, each in an instance of its own (default 1: one at a time,
    /// in order).
    pub concurrency: u32,
    /// A deadline for one event, in milliseconds; never more than the plugin's wall clock.
    pub deadline_ms: Option<u64>,
    /// Deliveries of one event before it goes to the dead-letter channel (default 3).
    pub max_attempts: u32,
    /// What the service does, for people.
    pub description: Option<String>,
}

impl Default for ServiceDecl {
    fn default() -> Self {
        Self {
            queue: DEFAULT_QUEUE,
            overflow: Overflow::Reject,
            concurrency: 1,
            deadline_ms: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            description: None,
        }
    }
}

/// Reads the `[[provides.service]]` entries: at most one.
pub(super) fn services(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
) -> Result<Vec<ServiceDecl>, ManifestError> {
    if entries.len() > 1 {
        return Err(ctx.invalid(
            "provides.service",
            format!(
                "{} entries: a component provides one service; split the others into plugins of their own",
                entries.len()
            ),
        ));
    }
    let mut services = Vec::with_capacity(entries.len());
    for (path, table) in entries {
        let mut section = Section::new(path, table);
        let queue = bounded(ctx, &mut section, "queue", 1, MAX_QUEUE)?.unwrap_or(DEFAULT_QUEUE);
        let overflow = match section.string(ctx, "overflow")? {
            None | Some("reject") => Overflow::Reject,
            Some("shed") => Overflow::Shed,
            Some(other) => {
                return Err(ctx.invalid(
                    &section.key("overflow"),
                    format!("{other:?} is not an overflow policy: use \"reject\" or \"shed\""),
                ));
            }
        };
        let concurrency =
            bounded(ctx, &mut section, "concurrency", 1, MAX_CONCURRENCY)?.unwrap_or(1);
        let deadline_ms = section.positive(ctx, "deadline_ms")?;
        let max_attempts = bounded(ctx, &mut section, "max_attempts", 1, MAX_ATTEMPTS)?
            .unwrap_or(DEFAULT_MAX_ATTEMPTS);
        let description = section.string(ctx, "description")?.map(str::to_owned);
        section.finish(ctx);
        services.push(ServiceDecl {
            queue,
            overflow,
            concurrency,
            deadline_ms,
            max_attempts,
            description,
        });
    }
    Ok(services)
}

/// An integer key between `min` and `max`.
fn bounded(
    ctx: &Ctx<'_>,
    section: &mut Section<'_>,
    name: &'static str,
    min: u32,
    max: u32,
) -> Result<Option<u32>, ManifestError> {
    match section.get(name) {
        None => Ok(None),
        Some(Value::Integer(n)) => match u32::try_from(*n) {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ctx.invalid(
                &section.key(name),
                format!("{n} is out of range: use an integer from {min} to {max}"),
            )),
        },
        Some(other) => Err(ctx.wrong_type(&section.key(name), "an integer", other)),
    }
}
