//! Calls through the manager: the serving version (or a revived one), long-lived instances
//! restarted after a trap, queued events, and the crash counting that leads to `Error`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use plinth_host::{CallError, PluginInstance};
use plinth_manifest::diagnostic::{Code, Diagnostic};
use serde_json::Value;

use super::{Active, Manager, ManagerError, Slot, lock};
use crate::status::Status;

/// What a call through [`Manager::call`] returned, and which version returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The export's result as JSON.
    pub value: Value,
    /// The manifest version of the loaded version that ran the call, start to end (a swap
    /// during the call does not move it).
    pub version: String,
}

impl Manager {
    /// Calls `export` of the enabled plugin `id` with JSON arguments, with the grants and
    /// settings of its entry: in a fresh instance, or its long-lived one.
    pub fn call_json(&self, id: &str, export: &str, args: &[Value]) -> Result<Value, ManagerError> {
        self.call_serving(id, export, args).map(|(value, _)| value)
    }

    /// [`Manager::call_json`], also saying which version answered.
    pub fn call(&self, id: &str, export: &str, args: &[Value]) -> Result<Answer, ManagerError> {
        let (value, active) = self.call_serving(id, export, args)?;
        Ok(Answer {
            value,
            version: active.version.clone(),
        })
    }

    /// A call and the loaded version that ran it.
    fn call_serving(
        &self,
        id: &str,
        export: &str,
        args: &[Value],
    ) -> Result<(Value, Arc<Active>), ManagerError> {
        let slot = self
            .slot(id)
            .filter(|s| lock(&s.entry).enabled)
            .ok_or_else(|| ManagerError::Disabled { id: id.into() })?;
        let active = match slot.current() {
            Some(active) => active,
            None => self.revive(&slot)?,
        };
        let started = Instant::now();
        let span = tracing::info_span!(
            "plugin.call",
            plugin = %id,
            version = %active.version,
            export,
            outcome = tracing::field::Empty
        );
        let _entered = span.enter();
        let result = self.call_on(&active, export, args);
        span.record(
            "outcome",
            match &result {
                Ok(_) => "ok",
                Err(e) => e.code().as_str(),
            },
        );
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        slot.duration_us.fetch_add(micros, Ordering::Relaxed);
        slot.calls.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(value) => {
                let mut health = lock(&slot.health);
                health.failures = 0;
                health.crashes_in_a_row = 0;
                drop(health);
                Ok((value, active))
            }
            Err(error) => {
                slot.errors.fetch_add(1, Ordering::Relaxed);
                if error.is_guest_failure() {
                    self.crashed(&slot, &active, &error);
                }
                Err(error.into())
            }
        }
    }

    /// Delivers the events queued for `id` (directory changes, background responses) to
    /// its `handle-event`: on its long-lived instance, or on a fresh one in per-call mode.
    /// Returns how many were delivered; none while no version serves.
    pub fn deliver_pending(&self, id: &str) -> Result<usize, ManagerError> {
        let slot = self
            .slot(id)
            .filter(|s| lock(&s.entry).enabled)
            .ok_or_else(|| ManagerError::Disabled { id: id.into() })?;
        let Some(active) = slot.current() else {
            return Ok(0);
        };
        if active.plugin.inbox().is_empty() {
            return Ok(0);
        }
        let delivered = match &active.instance {
            None => active
                .plugin
                .instantiate()
                .and_then(|mut fresh| fresh.deliver_pending()),
            // Without a live instance (the last call trapped) the events wait for the
            // instance the next call starts.
            Some(instance) => lock(instance)
                .as_mut()
                .map_or(Ok(0), PluginInstance::deliver_pending),
        };
        Ok(delivered?)
    }

    fn call_on(&self, active: &Active, export: &str, args: &[Value]) -> Result<Value, CallError> {
        let Some(instance) = &active.instance else {
            return active.plugin.call_json(export, args);
        };
        let mut guard = lock(instance);
        if guard.is_none() {
            // The last call trapped and dropped the instance: start a new one with on-load.
            match self.start_instance(&active.plugin) {
                Ok(fresh) => *guard = Some(fresh),
                Err(d) => {
                    return Err(CallError {
                        plugin: active.plugin.id().into(),
                        export: "on-load".into(),
                        failure: plinth_host::CallFailure::Trap {
                            message: d.message,
                            guest_message: None,
                        },
                    });
                }
            }
        }
        let live = guard.as_mut().ok_or_else(|| CallError {
            plugin: active.plugin.id().into(),
            export: export.into(),
            failure: plinth_host::CallFailure::Trap {
                message: "no live instance".into(),
                guest_message: None,
            },
        })?;
        let result = live.call_json(export, args);
        // A trap, a limit or an exit (`wasi:cli/exit`, whatever its status) ended the
        // instance: the next call starts a new one, with `on-load`.
        if matches!(&result, Err(e) if e.is_guest_failure()) || !live.is_live() {
            *guard = None;
        }
        result
    }

    /// A guest failure: after `crash_threshold` in a row the version is dropped and the
    /// plugin goes to `Error` with a retry after the backoff. Traced as the span
    /// `plugin.panic` (docs/design/0027), a child of the call's `plugin.call`, around the
    /// containment: its `outcome` is `contained` (the plugin keeps serving; a long-lived
    /// instance was discarded), `error` (this failure tripped the plugin into `Error`) or
    /// `replaced` (the version had already been swapped out).
    fn crashed(&self, slot: &Slot, active: &Arc<Active>, error: &CallError) {
        traced_panic(&slot.id, &active.version, error, || {
            self.contain(slot, active, error)
        });
    }

    fn contain(&self, slot: &Slot, active: &Arc<Active>, error: &CallError) -> &'static str {
        let tripped = {
            let mut health = lock(&slot.health);
            health.crashes_in_a_row += 1;
            health.crashes_in_a_row >= self.shared.crash_threshold
        };
        if !tripped {
            return "contained";
        }
        let mut current = slot.active.write().unwrap_or_else(|p| p.into_inner());
        if !current.as_ref().is_some_and(|c| Arc::ptr_eq(c, active)) {
            return "replaced";
        }
        let old = current.take();
        drop(current);
        drop(old);
        self.schedule_retry(slot);
        let diagnostic = Diagnostic::new(
            error.code(),
            format!(
                "{}: failed {} calls in a row; last: {error}",
                slot.id, self.shared.crash_threshold
            ),
        )
        .with_plugin(&slot.id);
        lock(&slot.health).crashes_in_a_row = 0;
        self.publish(slot, Status::Error(diagnostic));
        "error"
    }

    /// A plugin without a serving version: retried when its backoff expired, else refused.
    fn revive(&self, slot: &Slot) -> Result<Arc<Active>, ManagerError> {
        let health = lock(&slot.health).clone();
        let now = self.shared.clock.now();
        if health.retry_at.is_none_or(|at| at <= now) {
            let _guard = lock(&self.shared.apply_lock);
            if slot.current().is_none() {
                self.load(slot);
            }
        }
        if let Some(active) = slot.current() {
            return Ok(active);
        }
        let health = lock(&slot.health).clone();
        let diagnostic = match health.status {
            Status::Error(d) => d,
            other => Diagnostic::new(
                Code::MissingPackage,
                format!("{}: {}", slot.id, other.name()),
            )
            .with_plugin(&slot.id),
        };
        Err(ManagerError::Unavailable {
            id: slot.id.clone(),
            diagnostic,
            retry_in: health
                .retry_at
                .map_or(Duration::ZERO, |at| at.saturating_duration_since(now)),
        })
    }
}

/// The span `plugin.panic` (plugin, version, export, code, reason, outcome) around `contain`, which handles
/// the guest failure and names the outcome, and a warning event with the same fields.
pub(super) fn traced_panic(
    plugin: &str,
    version: &str,
    error: &CallError,
    contain: impl FnOnce() -> &'static str,
) {
    let span = tracing::warn_span!(
        "plugin.panic",
        plugin,
        version,
        export = %error.export,
        code = %error.code(),
        reason = %error.reason(),
        outcome = tracing::field::Empty
    );
    let _entered = span.enter();
    let outcome = contain();
    span.record("outcome", outcome);
    tracing::warn!(plugin, version, code = %error.code(), outcome, "plugin.panic: {error}");
}
