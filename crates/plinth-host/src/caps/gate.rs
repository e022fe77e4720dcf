//! The grant gate: the one place that decides whether a plugin may use a capability with a
//! scope, records the decision on the `plinth::audit` tracing target, and builds the
//! `missing-grant` denial with its `plinth grant` hint.
//!
//! A [`GrantGate`] belongs to a plugin (its id and effective grants, fixed at load). A
//! [`CallGate`] is its per-call face: a capability's host function calls
//! `self.gate.check(grant)?` in one line, and the denial becomes the interface's own
//! `missing-grant` case (every interface error converts from a [`Denial`]) and is noted for
//! the diagnostic reported after the call.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use plinth_manifest::Grant;
use plinth_manifest::grant::GrantSet;

/// Who a plugin is and what it may use: decided once at load.
#[derive(Debug)]
pub(crate) struct GrantGate {
    plugin: Arc<str>,
    tenant: Option<String>,
    grants: GrantSet,
    audit: Mutex<AuditTally>,
    /// Set with every tallied decision, cleared by [`Self::flush_audit`]: a call that
    /// decided nothing (the usual case) is flushed without taking the lock.
    audited: AtomicBool,
}

/// Distinct decisions tallied between two audit flushes; more are counted together.
const AUDIT_DISTINCT: usize = 256;

/// Grant decisions since the last flush: each distinct (grant, allowed) with its count.
/// A plugin that uses a capability a million times in a call makes one audit event, not
/// a million.
#[derive(Debug, Default)]
struct AuditTally {
    /// Per grant: how often it was denied, and allowed.
    decisions: BTreeMap<Grant, [u64; 2]>,
    /// Decisions past [`AUDIT_DISTINCT`] distinct ones, by outcome (denied, allowed).
    others: [u64; 2],
}

impl GrantGate {
    pub(crate) fn new(
        plugin: impl Into<Arc<str>>,
        tenant: Option<String>,
        grants: GrantSet,
    ) -> Self {
        Self {
            plugin: plugin.into(),
            tenant,
            grants,
            audit: Mutex::default(),
            audited: AtomicBool::new(false),
        }
    }

    /// The plugin's id.
    pub(crate) fn plugin(&self) -> &str {
        &self.plugin
    }

    /// The embedder's tenant the plugin was loaded for.
    pub(crate) fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// The effective grants (the manifest's request ∩ the host's grant).
    pub(crate) fn grants(&self) -> &GrantSet {
        &self.grants
    }

    /// Whether `grant` is covered, without recording a decision (for questions such as
    /// `log.enabled` that use nothing).
    pub(crate) fn covers(&self, grant: &Grant) -> bool {
        self.grants.allows(grant)
    }

    /// Decides `grant` and records the decision.
    pub(crate) fn check(&self, grant: Grant) -> Result<(), Denial> {
        let allowed = self.covers(&grant);
        self.record(&grant, allowed);
        if allowed {
            Ok(())
        } else {
            Err(self.denial(grant))
        }
    }

    /// Decides an app-defined capability with any scope (`retrieval` or `retrieval:docs`):
    /// the function itself checks which scope with [`Self::check`].
    pub(crate) fn check_any_scope(&self, capability: &str) -> Result<(), Denial> {
        let allowed = self
            .grants
            .iter()
            .any(|g| matches!(g, Grant::Custom { name, .. } if name == capability));
        let grant = Grant::Custom {
            name: capability.to_string(),
            scope: None,
        };
        self.record(&grant, allowed);
        if allowed {
            Ok(())
        } else {
            Err(self.denial(grant))
        }
    }

    /// Records a decision a policy made on the gate's grants (the network policy decides
    /// URLs against them). Decisions are tallied and reach the `plinth::audit` target
    /// when the call ends ([`Self::flush_audit`]).
    pub(crate) fn record(&self, grant: &Grant, allowed: bool) {
        let mut tally = self.audit.lock().unwrap_or_else(PoisonError::into_inner);
        let outcome = usize::from(allowed);
        let distinct = tally.decisions.len();
        match tally.decisions.get_mut(grant) {
            Some(counts) => counts[outcome] += 1,
            None if distinct < AUDIT_DISTINCT => {
                let mut counts = [0; 2];
                counts[outcome] = 1;
                tally.decisions.insert(grant.clone(), counts);
            }
            None => tally.others[outcome] += 1,
        }
        self.audited.store(true, Ordering::Release);
    }

    /// Emits one `plinth::audit` event per distinct decision since the last flush, with
    /// its `count`.
    pub(crate) fn flush_audit(&self) {
        if !self.audited.swap(false, Ordering::AcqRel) {
            return;
        }
        for (grant, allowed, count) in self.take_audit() {
            let grant = grant.map_or_else(|| "(other)".to_owned(), |g| g.to_string());
            tracing::info!(
                target: "plinth::audit",
                plugin = %self.plugin,
                grant = %grant,
                allowed,
                count,
                "grant decision"
            );
        }
    }

    /// The decisions since the last flush: (grant, allowed, count), `None` for the ones
    /// past [`AUDIT_DISTINCT`].
    fn take_audit(&self) -> Vec<(Option<Grant>, bool, u64)> {
        let tally = std::mem::take(&mut *self.audit.lock().unwrap_or_else(PoisonError::into_inner));
        let outcomes = |counts: [u64; 2]| [(false, counts[0]), (true, counts[1])];
        let mut lines = Vec::new();
        for (grant, counts) in tally.decisions {
            for (allowed, count) in outcomes(counts).into_iter().filter(|(_, n)| *n > 0) {
                lines.push((Some(grant.clone()), allowed, count));
            }
        }
        for (allowed, count) in outcomes(tally.others).into_iter().filter(|(_, n)| *n > 0) {
            lines.push((None, allowed, count));
        }
        lines
    }

    /// The denial of `grant`, with the hint an operator follows.
    pub(crate) fn denial(&self, grant: Grant) -> Denial {
        Denial {
            hint: grant_hint(&self.plugin, &grant),
            grant,
        }
    }
}

impl Drop for GrantGate {
    fn drop(&mut self) {
        self.flush_audit();
    }
}

/// A refused capability: the grant that would allow it and what to run to grant it.
#[derive(Debug, Clone)]
pub(crate) struct Denial {
    pub(crate) grant: Grant,
    pub(crate) hint: String,
}

/// The hint a `missing-grant` carries: the command an operator runs to grant it.
pub(crate) fn grant_hint(plugin: &str, grant: &Grant) -> String {
    format!(
        "grant `{grant}` to {plugin}: `plinth grant {plugin} {grant}` (or `plinth call --grant {grant} …`); its manifest must request it too"
    )
}

/// The grants a call was refused, each once, reported after the call.
#[derive(Debug, Default)]
pub(crate) struct Denials(Vec<Grant>);

impl Denials {
    pub(crate) fn note(&mut self, grant: &Grant) {
        if !self.0.contains(grant) {
            self.0.push(grant.clone());
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn take(&mut self) -> Vec<Grant> {
        std::mem::take(&mut self.0)
    }
}

/// A plugin's gate during one call: decisions are the [`GrantGate`]'s, denials are noted.
#[derive(Debug)]
pub(crate) struct CallGate<'a> {
    gate: &'a GrantGate,
    denials: &'a mut Denials,
}

impl<'a> CallGate<'a> {
    pub(crate) fn new(gate: &'a GrantGate, denials: &'a mut Denials) -> Self {
        Self { gate, denials }
    }

    /// The plugin's id.
    pub(crate) fn plugin(&self) -> &str {
        self.gate.plugin()
    }

    /// The embedder's tenant the plugin was loaded for.
    pub(crate) fn tenant(&self) -> Option<&str> {
        self.gate.tenant()
    }

    /// See [`GrantGate::covers`].
    pub(crate) fn covers(&self, grant: &Grant) -> bool {
        self.gate.covers(grant)
    }

    /// Decides `grant`, records it, and notes a denial for the call's diagnostic.
    pub(crate) fn check(&mut self, grant: Grant) -> Result<(), Denial> {
        self.gate
            .check(grant)
            .map_err(|denial| self.refused(denial))
    }

    /// Notes a denial decided elsewhere (by the network policy) for the call's diagnostic.
    pub(crate) fn refused(&mut self, denial: Denial) -> Denial {
        self.denials.note(&denial.grant);
        denial
    }
}

/// `impl From<Denial>` for interface errors with a `MissingGrant(String)` case.
macro_rules! missing_grant_from_denial {
    ($($error:ty),+ $(,)?) => {$(
        impl From<$crate::caps::gate::Denial> for $error {
            fn from(denial: $crate::caps::gate::Denial) -> Self {
                <$error>::MissingGrant(denial.hint)
            }
        }
    )+};
}

missing_grant_from_denial!(
    crate::bindings::config::ConfigError,
    crate::bindings::events::EventsError,
    crate::bindings::fs::FsError,
    crate::bindings::http::HttpError,
    crate::bindings::kv::KvError,
    crate::bindings::watch::WatchError,
);

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(grants: &[&str]) -> GrantGate {
        let grants = grants.iter().map(|g| g.parse::<Grant>().unwrap());
        GrantGate::new("example.p", None, GrantSet::from_iter(grants))
    }

    #[test]
    fn decides_by_the_effective_grants() {
        let gate = gate(&["kv", "fs.read:data", "retrieval:docs"]);
        assert!(gate.check(Grant::Kv).is_ok());
        assert!(gate.check(Grant::FsRead("data".into())).is_ok());
        let denied = gate.check(Grant::FsWrite("data".into())).unwrap_err();
        assert_eq!(denied.grant, Grant::FsWrite("data".into()));
        assert!(
            denied
                .hint
                .contains("`plinth grant example.p fs.write:data`"),
            "{}",
            denied.hint
        );
        assert!(gate.check_any_scope("retrieval").is_ok());
        assert!(gate.check_any_scope("llm").is_err());
    }

    /// A million uses of a capability in a call are one audit event with their count;
    /// distinct decisions past the cap are tallied together.
    #[test]
    fn audit_decisions_are_tallied_until_flushed() {
        let gate = gate(&["kv"]);
        for _ in 0..1_000_000 {
            gate.check(Grant::Kv).unwrap();
        }
        let _ = gate.check(Grant::Log);
        for n in 0..AUDIT_DISTINCT + 10 {
            let _ = gate.check(Grant::FsRead(format!("d{n}")));
        }
        let lines = gate.take_audit();
        assert_eq!(lines.len(), AUDIT_DISTINCT + 1, "{lines:?}");
        assert!(lines.contains(&(Some(Grant::Kv), true, 1_000_000)));
        assert!(lines.contains(&(Some(Grant::Log), false, 1)));
        // kv and log, then 254 directories; the other 12 are tallied together.
        assert_eq!(lines.last(), Some(&(None, false, 12)));
        assert!(gate.take_audit().is_empty(), "a flush empties the tally");
    }

    #[test]
    fn a_call_notes_each_denial_once() {
        let gate = gate(&[]);
        let mut denials = Denials::default();
        let mut call = CallGate::new(&gate, &mut denials);
        for _ in 0..3 {
            assert!(call.check(Grant::Log).is_err());
        }
        assert!(call.check(Grant::Kv).is_err());
        assert_eq!(denials.take(), [Grant::Log, Grant::Kv]);
        assert!(denials.is_empty());
    }
}
