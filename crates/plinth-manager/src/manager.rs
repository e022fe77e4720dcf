//! [`Manager`]: replays a `[plugins]` section, keeps one slot per plugin, publishes status,
//! swaps versions atomically and backs off from crashing plugins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use plinth_host::{CallError, Host, Plugin, PluginInstance, Usage};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_manifest::plugin_file::{self, MANIFEST_MAX_BYTES};
use plinth_manifest::{MANIFEST_FILE, Manifest};
use plinth_service::{Commands, Service};
use tokio::sync::broadcast;

use crate::clock::{Backoff, Clock, SystemClock};
use crate::discovery::{Inventory, InventoryEvent, PluginDirs};
use crate::signatures::SignatureCheck;
use crate::state::{PluginEntry, PluginsSection};
use crate::status::{Status, StatusEvent};

mod asynchronous;
mod calls;
mod host_events;
mod inventory;
mod kinds;
mod load;
mod seeds;
mod services;
mod settings;

pub use calls::Answer;
pub use kinds::Provider;
pub use services::ServiceNotice;

/// A call through the manager failed.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    /// The plugin is not enabled (or not in the state at all).
    #[error("{id}: the plugin is disabled")]
    Disabled {
        /// Plugin id.
        id: String,
    },
    /// The plugin is in `Error` and its retry is not due yet.
    #[error("{}", diagnostic.message)]
    Unavailable {
        /// Plugin id.
        id: String,
        /// Why it is down.
        diagnostic: Diagnostic,
        /// Time until the next retry.
        retry_in: Duration,
    },
    /// The call itself failed.
    #[error(transparent)]
    Call(#[from] CallError),
}

impl ToDiagnostic for ManagerError {
    fn to_diagnostic(&self) -> Diagnostic {
        match self {
            ManagerError::Disabled { id } => Diagnostic::new(Code::Disabled, self.to_string())
                .with_plugin(id)
                .with_hint(format!("enable it: `plinth enable {id}`")),
            ManagerError::Unavailable {
                diagnostic,
                retry_in,
                ..
            } => {
                let mut d = diagnostic.clone();
                d.hint = Some(format!(
                    "{}retried in {} ms",
                    d.hint.map(|h| format!("{h}; ")).unwrap_or_default(),
                    retry_in.as_millis()
                ));
                d
            }
            ManagerError::Call(e) => e.to_diagnostic(),
        }
    }
}

impl ManagerError {
    /// Whether the guest trapped or hit a limit (exit code 3 in the CLI).
    pub fn is_guest_failure(&self) -> bool {
        matches!(self, ManagerError::Call(e) if e.is_guest_failure())
    }
}

/// What an [`Manager::apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// The section equalled the last one applied: nothing was touched.
    pub unchanged: bool,
    /// Newly loaded ids.
    pub loaded: Vec<String>,
    /// Reloaded ids (component, grants, mode or settings changed).
    pub reloaded: Vec<String>,
    /// Ids that took new settings without a reload: the next `config` call of any
    /// instance reads them, and a long-lived instance got `on-setting-change`.
    pub settings_changed: Vec<String>,
    /// Ids whose new settings break their schema (`rejected-schema`): the version serving
    /// keeps its old settings.
    pub rejected: Vec<String>,
    /// Unloaded ids (removed or disabled).
    pub unloaded: Vec<String>,
}

/// Per-plugin counters, readable through [`Manager::counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// Calls made through the manager.
    pub calls: u64,
    /// Calls that failed.
    pub errors: u64,
    /// Fuel consumed by every version of the plugin (calls, instantiations, lifecycle).
    pub fuel_used: u64,
    /// Total wall time of the calls, in microseconds.
    pub duration_us: u64,
    /// The highest memory an instance reached, in bytes.
    pub peak_memory_bytes: u64,
}

/// Manager-wide counters: what work was done, for tests and dashboards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ManagerStats {
    /// Components loaded (compiled or taken from the cache, linked, checked).
    pub loads: u64,
    /// Long-lived instances created.
    pub instantiations: u64,
    /// Versions unloaded.
    pub unloads: u64,
}

/// Builds a [`Manager`].
#[derive(Debug)]
pub struct ManagerBuilder {
    host: Host,
    clock: Arc<dyn Clock>,
    backoff: Backoff,
    crash_threshold: u32,
    base_dir: PathBuf,
    inventory: Inventory,
    tenant: Option<String>,
    signatures: Option<SignatureCheck>,
    plugin_dirs: Option<PluginDirs>,
    program_args: Vec<String>,
    commands: Commands,
    tick: Option<Duration>,
    deliver_events: bool,
}

impl ManagerBuilder {
    /// Sends every serving plugin that handles events a `tick` event each `interval`
    /// (at least 10 ms), on a thread of the manager's, for as long as the manager exists
    /// (default: no ticks; [`Manager::tick`] sends one by hand).
    pub fn tick_every(mut self, interval: Duration) -> Self {
        self.tick = Some(interval.max(Duration::from_millis(10)));
        self
    }

    /// Delivers the events waiting for a serving plugin (changes in its watched
    /// directories, answers to its HTTP requests, its channel subscriptions) to its
    /// `handle-event` as they arrive, on a thread of the manager's (docs/design/0064).
    /// Without it (the default) they wait for [`Manager::deliver_pending`], a tick, or the
    /// plugin's next call.
    pub fn deliver_events(mut self, deliver: bool) -> Self {
        self.deliver_events = deliver;
        self
    }

    /// What the output commands of managed services can reach: the application's actions
    /// and the owner of its WebSocket connections (default: neither; `publish` and
    /// `http-request` need nothing here). Every command is still checked against the
    /// plugin's grants.
    pub fn service_commands(mut self, commands: Commands) -> Self {
        self.commands = commands;
        self
    }

    /// Checks every load and reload against a trust store (docs/design/0027): a signature
    /// that is present must verify with a trusted key, and under
    /// [`SignaturePolicy::Require`](plinth_package::SignaturePolicy::Require) one must be
    /// present. A refused new version leaves the old one serving, with the error
    /// (`bad-signature`, `unsigned`, `untrusted-key`) in the status stream. Without it the
    /// manager checks no signatures (the embedder verified them at install time).
    pub fn signatures(mut self, check: SignatureCheck) -> Self {
        self.signatures = Some(check);
        self
    }

    /// The plugin directories to discover plugins in. [`Manager::watch`] also watches them:
    /// a plugin folder that appears, changes or goes away there updates the inventory and
    /// is reported by [`Manager::subscribe_inventory`]; discovering a plugin never enables
    /// it. They are scanned now, replacing any [`ManagerBuilder::inventory`].
    pub fn plugin_dirs(mut self, dirs: PluginDirs) -> Self {
        self.inventory = crate::discovery::discover(&dirs);
        self.plugin_dirs = Some(dirs);
        self
    }

    /// Runs every plugin for `tenant`: its key-value data is kept apart from every other
    /// tenant's (`LoadOptions::with_tenant`). Pair it with the tenant's own home (plugin
    /// directory and state file) so installs and grants are kept apart too.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// Arguments every plugin's guest sees after `argv[0]` (`LoadOptions::with_args`;
    /// none by default), as `plinth call ID EXPORT -- ARG…` passes them.
    pub fn program_args(mut self, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.program_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// The clock backoff reads (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The retry backoff (default 1 s doubling to 5 min).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Guest failures in a row that put a plugin in `Error` (default 3).
    pub fn crash_threshold(mut self, failures: u32) -> Self {
        self.crash_threshold = failures.max(1);
        self
    }

    /// The directory `artifact_path`s are relative to (the state file's directory).
    pub fn base_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base_dir = dir.into();
        self
    }

    /// Discovered plugins, found by id when an entry has no `artifact_path`.
    pub fn inventory(mut self, inventory: Inventory) -> Self {
        self.inventory = inventory;
        self
    }

    /// The manager.
    pub fn build(self) -> Manager {
        let (events, _) = broadcast::channel(1024);
        let (inventory_events, _) = broadcast::channel(64);
        let (service_events, _) = broadcast::channel(1024);
        let (deliveries, inboxes) = if self.deliver_events {
            let (tx, rx) = std::sync::mpsc::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let manager = Manager {
            shared: Arc::new(Shared {
                host: self.host,
                clock: self.clock,
                backoff: self.backoff,
                crash_threshold: self.crash_threshold,
                base_dir: self.base_dir,
                tenant: self.tenant,
                program_args: self.program_args,
                commands: self.commands,
                service_events,
                signatures: self.signatures,
                plugin_dirs: self.plugin_dirs,
                inventory: RwLock::new(self.inventory),
                inventory_events,
                slots: RwLock::new(BTreeMap::new()),
                last: Mutex::new(None),
                apply_lock: Mutex::new(()),
                watchers: Mutex::new(Vec::new()),
                events,
                seq: Mutex::new(0),
                loads: AtomicU64::new(0),
                instantiations: AtomicU64::new(0),
                unloads: Arc::new(AtomicU64::new(0)),
                ticks: AtomicU64::new(0),
                deliveries,
            }),
        };
        if let Some(inboxes) = inboxes {
            seeds::start_delivery(Arc::downgrade(&manager.shared), inboxes);
        }
        if let Some(every) = self.tick {
            host_events::start_ticker(Arc::downgrade(&manager.shared), every);
        }
        manager
    }
}

/// Runs plugins as a `[plugins]` section says. Cheap to clone; clones share everything.
///
/// The API blocks (it runs plugins through `plinth-host`'s blocking calls): from async code
/// call it inside `spawn_blocking`.
#[derive(Debug, Clone)]
pub struct Manager {
    pub(crate) shared: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    host: Host,
    clock: Arc<dyn Clock>,
    backoff: Backoff,
    crash_threshold: u32,
    base_dir: PathBuf,
    tenant: Option<String>,
    program_args: Vec<String>,
    /// What managed services' output commands can reach.
    commands: Commands,
    service_events: broadcast::Sender<services::ServiceNotice>,
    signatures: Option<SignatureCheck>,
    pub(crate) plugin_dirs: Option<PluginDirs>,
    inventory: RwLock<Inventory>,
    pub(crate) inventory_events: broadcast::Sender<InventoryEvent>,
    slots: RwLock<BTreeMap<String, Arc<Slot>>>,
    last: Mutex<Option<PluginsSection>>,
    /// Serializes apply, reload and retry; calls never take it.
    apply_lock: Mutex<()>,
    /// Running watchers, told about the plugins each apply adds or removes.
    pub(crate) watchers: Mutex<Vec<std::sync::Weak<dyn Follower>>>,
    events: broadcast::Sender<StatusEvent>,
    seq: Mutex<u64>,
    loads: AtomicU64,
    instantiations: AtomicU64,
    unloads: Arc<AtomicU64>,
    /// Ticks sent so far.
    ticks: AtomicU64,
    /// Where inbox relays report a plugin with pending events, when the manager delivers
    /// them ([`ManagerBuilder::deliver_events`]).
    deliveries: Option<std::sync::mpsc::Sender<String>>,
}

/// One plugin: its wanted entry, the version serving calls, its health and counters.
#[derive(Debug)]
struct Slot {
    id: String,
    entry: Mutex<PluginEntry>,
    active: RwLock<Option<Arc<Active>>>,
    health: Mutex<Health>,
    calls: AtomicU64,
    errors: AtomicU64,
    duration_us: AtomicU64,
    retired: Arc<Mutex<Usage>>,
}

#[derive(Debug, Clone)]
struct Health {
    status: Status,
    /// Failures (load errors or crash loops) since the last successful call.
    failures: u32,
    /// Guest failures in a row.
    crashes_in_a_row: u32,
    retry_at: Option<Instant>,
}

/// A loaded version. Dropped when the last call holding it finishes: then a long-lived
/// instance gets `on-close` and the version's usage is added to the slot's totals.
struct Active {
    plugin: Plugin,
    version: String,
    /// What the files looked like when this version was loaded (see [`fingerprint`]), to
    /// skip a reload that changes nothing.
    fingerprint: String,
    instance: Option<Mutex<Option<PluginInstance>>>,
    /// The running service of a `service` plugin; stopped when this version goes.
    service: Option<Arc<Service>>,
    /// Reports this version's new events to the delivery thread, when there is one.
    _relay: Option<seeds::Relay>,
    retired: Arc<Mutex<Usage>>,
    unloads: Arc<AtomicU64>,
}

impl std::fmt::Debug for Active {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Active")
            .field("plugin", &self.plugin.id())
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        if let Some(service) = self.service.take() {
            // `stop` lets the workers finish the events they hold and calls the guest's
            // `stop`; nothing here waits for it.
            self.plugin.runtime().spawn(async move {
                service.stop().await;
            });
        }
        if let Some(instance) = self.instance.take() {
            let instance = instance.into_inner().unwrap_or_else(|p| p.into_inner());
            if let Some(mut instance) = instance
                && instance.plugin().exports().resolve("on-close").is_ok()
            {
                let _ = instance.call_json("on-close", &[]);
            }
        }
        let usage = self.plugin.usage();
        let mut retired = self.retired.lock().unwrap_or_else(|p| p.into_inner());
        retired.calls += usage.calls;
        retired.fuel_used += usage.fuel_used;
        retired.peak_memory_bytes = retired.peak_memory_bytes.max(usage.peak_memory_bytes);
        self.unloads.fetch_add(1, Ordering::Relaxed);
    }
}

/// A running watcher as the manager sees it: something to bring in line with the plugins
/// after each apply or rescan. The hot-reload module (`watch.rs`) implements it; the manager
/// knows nothing more of watching, so the two modules do not depend on each other both ways.
pub(crate) trait Follower: Send + Sync {
    /// Follows the plugins `manager` now has.
    fn follow(&self, manager: &Manager);
}

impl Manager {
    /// Brings every running watcher in line with the plugins of the last apply and the
    /// folders in the plugin directories; watchers that were dropped are forgotten. The
    /// list stays locked while they follow, so two resyncs never interleave.
    pub(crate) fn resync_watchers(&self) {
        let mut watchers = lock(&self.shared.watchers);
        watchers.retain(|weak| weak.strong_count() > 0);
        for follower in watchers.iter().filter_map(std::sync::Weak::upgrade) {
            follower.follow(self);
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Slot {
    fn current(&self) -> Option<Arc<Active>> {
        self.active
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn swap(&self, new: Option<Arc<Active>>) -> Option<Arc<Active>> {
        let mut active = self.active.write().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *active, new)
    }
}

impl Manager {
    /// A builder over `host`.
    pub fn builder(host: Host) -> ManagerBuilder {
        ManagerBuilder {
            host,
            clock: Arc::new(SystemClock),
            backoff: Backoff::default(),
            crash_threshold: 3,
            base_dir: PathBuf::from("."),
            inventory: Inventory::default(),
            tenant: None,
            signatures: None,
            plugin_dirs: None,
            program_args: Vec::new(),
            commands: Commands::default(),
            tick: None,
            deliver_events: false,
        }
    }

    /// Status events from now on (see [`StatusEvent`] for ordering).
    pub fn subscribe(&self) -> broadcast::Receiver<StatusEvent> {
        self.shared.events.subscribe()
    }

    /// Every known plugin's status, by id.
    pub fn statuses(&self) -> BTreeMap<String, Status> {
        self.slots()
            .into_iter()
            .map(|(id, slot)| (id, lock(&slot.health).status.clone()))
            .collect()
    }

    /// One plugin's status.
    pub fn status(&self, id: &str) -> Option<Status> {
        self.slot(id).map(|s| lock(&s.health).status.clone())
    }

    /// The version serving calls of `id`, if any.
    pub fn serving_version(&self, id: &str) -> Option<String> {
        self.slot(id)?.current().map(|a| a.version.clone())
    }

    /// Manager-wide work counters.
    pub fn stats(&self) -> ManagerStats {
        let s = &self.shared;
        ManagerStats {
            loads: s.loads.load(Ordering::Relaxed),
            instantiations: s.instantiations.load(Ordering::Relaxed),
            unloads: s.unloads.load(Ordering::Relaxed),
        }
    }

    /// Counters of `id` over every version it ran.
    pub fn counters(&self, id: &str) -> Option<Counters> {
        let slot = self.slot(id)?;
        let retired = *lock(&slot.retired);
        let live = slot.current().map(|a| a.plugin.usage()).unwrap_or_default();
        Some(Counters {
            calls: slot.calls.load(Ordering::Relaxed),
            errors: slot.errors.load(Ordering::Relaxed),
            fuel_used: retired.fuel_used + live.fuel_used,
            duration_us: slot.duration_us.load(Ordering::Relaxed),
            peak_memory_bytes: retired.peak_memory_bytes.max(live.peak_memory_bytes),
        })
    }

    /// The inventory used to find plugins without `artifact_path`.
    pub fn inventory(&self) -> Inventory {
        self.shared
            .inventory
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the inventory used to find plugins without `artifact_path`.
    pub fn set_inventory(&self, inventory: Inventory) {
        *self
            .shared
            .inventory
            .write()
            .unwrap_or_else(|p| p.into_inner()) = inventory;
    }

    fn slots(&self) -> BTreeMap<String, Arc<Slot>> {
        self.shared
            .slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn slot(&self, id: &str) -> Option<Arc<Slot>> {
        self.shared
            .slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    fn publish(&self, slot: &Slot, status: Status) {
        let current = slot.current();
        let serving = current.as_ref().map(|a| a.version.clone());
        let kinds = current.map(|a| a.plugin.kinds()).unwrap_or_default();
        // The sequence lock orders the status store and the send together.
        let mut seq = lock(&self.shared.seq);
        *seq += 1;
        lock(&slot.health).status = status.clone();
        let _ = self.shared.events.send(StatusEvent {
            seq: *seq,
            id: slot.id.clone(),
            status,
            serving,
            kinds,
        });
    }

    /// Replays a whole `[plugins]` section: unloads removed and disabled plugins, loads new
    /// and enabled ones, reloads changed ones. A section equal to the last one applied
    /// touches nothing.
    pub fn apply(&self, section: &PluginsSection) -> ApplyReport {
        let _guard = lock(&self.shared.apply_lock);
        let mut last = lock(&self.shared.last);
        if last.as_ref() == Some(section) {
            return ApplyReport {
                unchanged: true,
                ..ApplyReport::default()
            };
        }
        let mut report = ApplyReport::default();
        let wanted: BTreeMap<&str, &PluginEntry> =
            section.entries.iter().map(|e| (e.id.as_str(), e)).collect();
        for (id, slot) in self.slots() {
            let keep = wanted.get(id.as_str()).is_some_and(|e| e.enabled);
            if !keep && lock(&slot.health).status != Status::Disabled {
                self.unload(&slot);
                report.unloaded.push(id.clone());
            }
            if !wanted.contains_key(id.as_str()) {
                self.shared
                    .slots
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&id);
            }
        }
        for entry in &section.entries {
            let (slot, created) = self.slot_for(entry);
            let before = std::mem::replace(&mut *lock(&slot.entry), entry.clone());
            if !entry.enabled {
                // A new entry states its status explicitly, even when it is the default.
                if created || lock(&slot.health).status != Status::Disabled {
                    self.publish(&slot, Status::Disabled);
                }
                continue;
            }
            let active = slot.current();
            match active {
                None => {
                    self.load(&slot);
                    report.loaded.push(entry.id.clone());
                }
                Some(_) if before == *entry => {}
                Some(active) if only_settings_changed(&before, entry) => {
                    match self.change_settings(&slot, &active, entry) {
                        SettingsChange::Applied => report.settings_changed.push(entry.id.clone()),
                        SettingsChange::Rejected => report.rejected.push(entry.id.clone()),
                        SettingsChange::NeedsReload => {
                            self.load(&slot);
                            report.reloaded.push(entry.id.clone());
                        }
                    }
                }
                Some(_) => {
                    self.load(&slot);
                    report.reloaded.push(entry.id.clone());
                }
            }
        }
        *last = Some(section.clone());
        drop(last);
        self.resync_watchers();
        report
    }

    /// The slot of `entry`, and whether it was created now.
    fn slot_for(&self, entry: &PluginEntry) -> (Arc<Slot>, bool) {
        let mut slots = self.shared.slots.write().unwrap_or_else(|p| p.into_inner());
        let created = !slots.contains_key(&entry.id);
        let slot = slots
            .entry(entry.id.clone())
            .or_insert_with(|| {
                Arc::new(Slot {
                    id: entry.id.clone(),
                    entry: Mutex::new(entry.clone()),
                    active: RwLock::new(None),
                    health: Mutex::new(Health {
                        status: Status::Disabled,
                        failures: 0,
                        crashes_in_a_row: 0,
                        retry_at: None,
                    }),
                    calls: AtomicU64::new(0),
                    errors: AtomicU64::new(0),
                    duration_us: AtomicU64::new(0),
                    retired: Arc::new(Mutex::new(Usage::default())),
                })
            })
            .clone();
        (slot, created)
    }

    fn unload(&self, slot: &Slot) {
        // The old version finishes its calls in flight, then its Drop closes it.
        drop(slot.swap(None));
        let mut health = lock(&slot.health);
        health.retry_at = None;
        health.crashes_in_a_row = 0;
        drop(health);
        self.publish(slot, Status::Disabled);
    }

    /// Loads the slot's entry off the call path, then swaps it in. On failure the old
    /// version (if any) keeps serving and the error is published.
    fn load(&self, slot: &Slot) -> bool {
        let entry = lock(&slot.entry).clone();
        self.publish(slot, Status::Loading);
        match self.prepare(&entry, slot) {
            Ok(active) => {
                drop(slot.swap(Some(Arc::new(active))));
                // Events that arrived while the version was not yet serving.
                self.kick_delivery(slot);
                {
                    let mut health = lock(&slot.health);
                    health.retry_at = None;
                    health.crashes_in_a_row = 0;
                }
                self.publish(slot, Status::Ready);
                true
            }
            Err(diagnostic) => {
                let serving = slot.current().is_some();
                if !serving {
                    self.schedule_retry(slot);
                }
                self.publish(slot, Status::Error(diagnostic));
                false
            }
        }
    }

    fn schedule_retry(&self, slot: &Slot) {
        let mut health = lock(&slot.health);
        health.failures = health.failures.saturating_add(1);
        health.retry_at =
            Some(self.shared.clock.now() + self.shared.backoff.delay(health.failures));
    }

    /// Where the entry's plugin is: `artifact_path` (its folder when that holds a
    /// manifest), else the discovered folder of that id.
    fn source_of(&self, entry: &PluginEntry) -> Result<PathBuf, Diagnostic> {
        if let Some(artifact) = &entry.artifact_path {
            let path = self.shared.base_dir.join(artifact);
            let dir = path.parent().unwrap_or(Path::new("."));
            if dir.join(MANIFEST_FILE).is_file() {
                return Ok(dir.to_path_buf());
            }
            return Ok(path);
        }
        let inventory = self
            .shared
            .inventory
            .read()
            .unwrap_or_else(|p| p.into_inner());
        match inventory.get(&entry.id) {
            Some(found) => Ok(found.source()),
            None => Err(Diagnostic::new(
                Code::MissingPackage,
                format!("{}: no installed plugin has this id", entry.id),
            )
            .with_plugin(&entry.id)
            .with_hint("install it into the plugin directory, or set `artifact_path`")),
        }
    }

    /// Loads `id` again from disk now and swaps it in; the old version keeps serving if
    /// the new one fails. Returns whether a new version serves.
    pub fn reload(&self, id: &str) -> bool {
        let _guard = lock(&self.shared.apply_lock);
        let Some(slot) = self.slot(id) else {
            return false;
        };
        if !lock(&slot.entry).enabled {
            return false;
        }
        self.load(&slot)
    }

    /// Reloads `id` only when its manifest or component changed since it was loaded.
    pub fn reload_if_changed(&self, id: &str) -> bool {
        let Some(slot) = self.slot(id) else {
            return false;
        };
        let entry = lock(&slot.entry).clone();
        let Ok(source) = self.source_of(&entry) else {
            return false;
        };
        if slot
            .current()
            .is_some_and(|a| a.fingerprint == fingerprint(&source))
        {
            return false;
        }
        self.reload(id)
    }

    /// Retries every plugin in `Error` whose backoff has expired. Returns the ids retried.
    pub fn retry_due(&self) -> Vec<String> {
        let now = self.shared.clock.now();
        let mut retried = Vec::new();
        for (id, slot) in self.slots() {
            let due = lock(&slot.health).retry_at.is_some_and(|at| at <= now);
            if due && slot.current().is_none() && lock(&slot.entry).enabled {
                let _guard = lock(&self.shared.apply_lock);
                self.load(&slot);
                retried.push(id);
            }
        }
        retried
    }

    /// When the next retry is due, for plugins in `Error`.
    pub fn retry_at(&self, id: &str) -> Option<Instant> {
        lock(&self.slot(id)?.health).retry_at
    }

    /// The source folders (or component files) of the plugins in the section, for the
    /// watcher.
    pub fn sources(&self) -> BTreeMap<String, PathBuf> {
        self.slots()
            .into_iter()
            .filter_map(|(id, slot)| {
                let entry = lock(&slot.entry).clone();
                self.source_of(&entry).ok().map(|p| (id, p))
            })
            .collect()
    }
}

/// What [`Manager::change_settings`] did.
enum SettingsChange {
    /// The serving version has the new settings.
    Applied,
    /// They break the schema; the old ones stay.
    Rejected,
    /// A long-lived instance cannot take them live.
    NeedsReload,
}

fn only_settings_changed(before: &PluginEntry, after: &PluginEntry) -> bool {
    let mut same = before.clone();
    same.config = after.config.clone();
    same == *after && before.config != after.config
}

/// What identifies the files a load reads, without hashing them: the manifest text (of
/// `plugin.toml`, or of `x.toml` beside a bare `x.wasm`) and the length and modification
/// time of the component and of the signature files a check reads. An editor touching a
/// folder does not reload; rewriting or renaming any of these files does. (Hashing the
/// component would also catch a rewrite that keeps length and mtime, at the price of
/// reading every component on every event; the load itself hashes it anyway.)
pub(crate) fn fingerprint(source: &Path) -> String {
    let manifest_file = source.join(MANIFEST_FILE);
    let (manifest, mut files) = if manifest_file.is_file() {
        // A FIFO or device in a plugin folder must not block or flood the watcher.
        let text =
            plugin_file::read_to_string(&manifest_file, MANIFEST_MAX_BYTES).unwrap_or_default();
        let files = match Manifest::parse(&text, &manifest_file) {
            Ok(parsed) => watched_files(&parsed.manifest),
            Err(_) => Vec::new(),
        };
        (text, files)
    } else {
        let sibling =
            plugin_file::read_to_string(&source.with_extension("toml"), MANIFEST_MAX_BYTES)
                .unwrap_or_default();
        (
            sibling,
            vec![source.to_path_buf(), source.with_extension("sig")],
        )
    };
    if source.is_dir() {
        files.push(source.join(plinth_package::INSTALLED_SIGNATURE));
    }
    let meta: Vec<String> = files
        .iter()
        .map(|file| {
            std::fs::metadata(file)
                .map(|m| format!("{}:{:?}", m.len(), m.modified().ok()))
                .unwrap_or_default()
        })
        .collect();
    format!("{manifest}\0{}", meta.join("\0"))
}

/// The files of a plugin folder whose change is a new version: the component and its
/// signature, or for a plugin without a component its files (themes) and `plugin.sig`.
fn watched_files(manifest: &Manifest) -> Vec<PathBuf> {
    match manifest.component_path() {
        Some(component) => vec![component.with_extension("sig"), component],
        None => manifest
            .named_files()
            .into_iter()
            .map(|(path, _)| manifest.dir.join(path))
            .chain([manifest.dir.join(plinth_package::COMPONENTLESS_SIGNATURE)])
            .collect(),
    }
}
