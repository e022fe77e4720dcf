//! `wasi:sockets` behind `sockets:<host>:<port>` grants: TCP connections to granted
//! destinations only, names resolved by the host only when a grant names them, the SSRF
//! guard's address classification ([`policy`]), an open-socket limit per plugin and a byte
//! budget per call ([`metered`]). UDP, binding and listening are refused.
//!
//! Wasmtime's `wasi:sockets` does the socket work. Plinth links its own `tcp`,
//! `tcp-create-socket`, `udp-create-socket` and `ip-name-lookup` in front of it ([`wasi`]),
//! so every decision goes through the plugin's grant gate and is audited there, and a refusal
//! becomes a `socket-denied` line in the plugin's log after the call. Wasmtime's own
//! `socket_addr_check` stays as a second lock: it lets through only the connections this
//! module approved.

mod metered;
mod policy;
pub(crate) mod settings;
pub(crate) mod wasi;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use plinth_manifest::diagnostic::Code;
use wasmtime_wasi::sockets::SocketAddrUse;

use super::gate::GrantGate;
use crate::log::{CallLog, LogLevel, LogSource};
pub(crate) use metered::ByteBudget;
use policy::Refusal;
use settings::SocketSettings;

/// What the sockets capability knows of one plugin, shared by its Stores.
#[derive(Debug)]
pub(crate) struct SocketsPlugin {
    pub(crate) gate: Arc<GrantGate>,
    pub(crate) settings: SocketSettings,
    /// TCP sockets the plugin holds open, over all its Stores.
    open: Arc<AtomicU32>,
}

impl SocketsPlugin {
    pub(crate) fn new(gate: Arc<GrantGate>, settings: SocketSettings) -> Self {
        Self {
            gate,
            settings,
            open: Arc::default(),
        }
    }
}

/// Connections this Store's sockets may make, as Wasmtime's `socket_addr_check` asks.
#[derive(Debug, Default, Clone)]
pub(crate) struct Approved(Arc<Mutex<HashSet<SocketAddr>>>);

impl Approved {
    fn insert(&self, addr: SocketAddr) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(addr);
    }

    /// Wasmtime's check: a connection this module approved, and the implicit bind to an
    /// ephemeral port that comes with it. Nothing else.
    pub(crate) fn allows(&self, addr: SocketAddr, use_: SocketAddrUse) -> bool {
        match use_ {
            SocketAddrUse::TcpConnect => self
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&addr),
            SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
            _ => false,
        }
    }
}

/// The sockets one Store holds open; their count leaves the plugin's total when they are
/// dropped, or when the Store is (a trap or a timeout drops the table without the guest
/// dropping its handles).
#[derive(Debug, Default)]
struct OpenSockets {
    counter: Arc<AtomicU32>,
    reps: HashSet<u32>,
}

impl OpenSockets {
    /// Takes one of the plugin's `max` sockets for `rep`, or says the plugin has them all.
    fn try_open(&mut self, max: u32) -> bool {
        let took = self
            .counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            });
        took.is_ok()
    }

    fn opened(&mut self, rep: u32) {
        self.reps.insert(rep);
    }

    /// Gives back a socket taken with [`Self::try_open`] that was never made.
    fn give_back(&mut self) {
        self.counter.fetch_sub(1, Ordering::AcqRel);
    }

    fn closed(&mut self, rep: u32) {
        if self.reps.remove(&rep) {
            self.counter.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for OpenSockets {
    fn drop(&mut self) {
        let held = u32::try_from(self.reps.len()).unwrap_or(u32::MAX);
        self.counter.fetch_sub(held, Ordering::AcqRel);
    }
}

/// One Store's sockets state: what it resolved, approved and holds, its byte budget and
/// the refusals to report after the call.
#[derive(Debug)]
pub(crate) struct SocketsCall {
    /// Open name lookups: the stream's handle and the name it resolves.
    lookups: HashMap<u32, String>,
    /// Addresses the host resolved for this Store, with the names that led there.
    resolved: HashMap<IpAddr, BTreeSet<String>>,
    pub(crate) approved: Approved,
    open: OpenSockets,
    pub(crate) budget: Arc<ByteBudget>,
    refusals: Vec<Refusal>,
}

impl SocketsCall {
    pub(crate) fn new(plugin: &SocketsPlugin) -> Self {
        Self {
            lookups: HashMap::new(),
            resolved: HashMap::new(),
            approved: Approved::default(),
            open: OpenSockets {
                counter: plugin.open.clone(),
                reps: HashSet::new(),
            },
            budget: Arc::new(ByteBudget::new(plugin.settings.max_bytes_per_call)),
            refusals: Vec::new(),
        }
    }

    fn refused(&mut self, refusal: Refusal) {
        if !self.refusals.contains(&refusal) {
            self.refusals.push(refusal);
        }
    }

    /// A new call: the whole byte budget again.
    pub(crate) fn start_call(&mut self) {
        self.budget.reset();
    }

    /// Whether [`Self::report`] has nothing to write (the usual call).
    pub(crate) fn quiet(&self) -> bool {
        self.refusals.is_empty() && !self.budget.exhausted()
    }

    /// Writes the call's refusals to the plugin's log as coded lines: `socket-denied`
    /// with the grant to give where one would help, `quota-exceeded` for a spent budget.
    pub(crate) fn report(&mut self, plugin: &str, log: &mut CallLog<'_>) {
        for refusal in std::mem::take(&mut self.refusals) {
            let hint = match refusal.grant() {
                Some(grant) => format!("; {}", super::gate::grant_hint(plugin, &grant)),
                None => String::new(),
            };
            tracing::warn!(target: "plinth::audit", plugin, "socket denied: {refusal}");
            let line = format!("{}: {refusal}{hint}", Code::SocketDenied.as_str());
            log.write(LogLevel::Warn, LogSource::Host, line);
        }
        if self.budget.take_exhausted() {
            let line = format!(
                "{}: the call sent and received more than {} bytes over its sockets ([sockets] max_bytes_per_call)",
                Code::QuotaExceeded.as_str(),
                self.budget.limit()
            );
            log.write(LogLevel::Warn, LogSource::Host, line);
        }
    }
}
