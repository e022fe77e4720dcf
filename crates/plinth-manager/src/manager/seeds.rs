//! What the manager does for a plugin without plugin code (docs/design/0064): it watches the
//! directories of the entry's `[plugins.entries.watch]` seeds on the plugin's behalf, and,
//! when the embedder asks for it ([`ManagerBuilder::deliver_events`](super::ManagerBuilder::deliver_events)),
//! delivers the events waiting in a plugin's inbox as they arrive: changes in those
//! directories, answers to its HTTP requests, its channel subscriptions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::sync::mpsc;
use std::time::Duration;

use plinth_host::Plugin;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};

use super::{Manager, Shared};
use crate::state::PluginEntry;

/// The directories an entry's watch seeds name: the names to watch, and the directories
/// mapped for the plugin alone (seeds that are paths, not names of the host's `[dirs]`).
#[derive(Debug, Default)]
pub(super) struct SeedDirs {
    pub(super) names: Vec<String>,
    pub(super) own: BTreeMap<String, PathBuf>,
    pub(super) debounce: Duration,
}

impl Manager {
    /// Reads the entry's watch seeds. A seed is a directory name of the host's `[dirs]`, or
    /// a path (relative to the state file's directory) mapped for this plugin under its
    /// last component: `/home/user/waves` is `waves`, which the plugin's `watch:` and
    /// `fs.read:` grants then name. Seeds grant nothing.
    pub(super) fn seed_dirs(&self, entry: &PluginEntry) -> Result<SeedDirs, Diagnostic> {
        let Some(seed) = &entry.watch else {
            return Ok(SeedDirs::default());
        };
        let mut dirs = SeedDirs {
            debounce: Duration::from_millis(seed.debounce_ms),
            ..SeedDirs::default()
        };
        for written in &seed.directories {
            if self.shared.host.dir(written).is_some() {
                dirs.names.push(written.clone());
                continue;
            }
            let path = self.shared.base_dir.join(written);
            let name = seed_name(&path).ok_or_else(|| {
                Diagnostic::new(
                    Code::FsDenied,
                    format!(
                        "{}: the watch seed {written:?} names no directory",
                        entry.id
                    ),
                )
                .with_hint("write a directory name from host config [dirs], or a directory path")
            })?;
            if let Some(mapped) = self
                .shared
                .host
                .dir(&name)
                .or(dirs.own.get(&name).map(PathBuf::as_path))
                && mapped != path
            {
                return Err(Diagnostic::new(
                    Code::FsDenied,
                    format!(
                        "{}: the watch seed {} would be named `{name}`, which already names {}",
                        entry.id,
                        path.display(),
                        mapped.display()
                    ),
                )
                .with_hint("map the directory under a name of its own in host config [dirs] and write that name"));
            }
            dirs.own.insert(name.clone(), path);
            dirs.names.push(name);
        }
        Ok(dirs)
    }

    /// Subscribes `plugin` to its seeds' directories, as the plugin itself would: each
    /// needs its `watch:` grant.
    pub(super) fn watch_seeds(&self, plugin: &Plugin, seeds: &SeedDirs) -> Result<(), Diagnostic> {
        if seeds.names.is_empty() {
            return Ok(());
        }
        plugin.watch(&seeds.names, seeds.debounce).map_err(|e| {
            e.to_diagnostic()
                .with_hint("grant `watch:<name>` for each seed directory (`plinth grant`), and check the directory exists")
        })?;
        Ok(())
    }

    /// Starts relaying `plugin`'s inbox to the delivery thread, when the manager delivers
    /// events and the plugin handles them; the relay ends when the returned handle drops.
    pub(super) fn relay_inbox(&self, id: &str, plugin: &Plugin) -> Option<Relay> {
        let deliveries = self.shared.deliveries.as_ref()?;
        if !super::host_events::handles_events(plugin) {
            return None;
        }
        let inbox = plugin.inbox().clone();
        let deliveries = deliveries.clone();
        let id = id.to_string();
        let task = plugin.runtime().spawn(async move {
            loop {
                inbox.notified().await;
                if deliveries.send(id.clone()).is_err() {
                    return;
                }
            }
        });
        Some(Relay(task))
    }

    /// Asks the delivery thread to look at the slot's inbox, when there is a thread and
    /// something is waiting.
    pub(super) fn kick_delivery(&self, slot: &super::Slot) {
        let (Some(deliveries), Some(active)) = (&self.shared.deliveries, slot.current()) else {
            return;
        };
        if !active.plugin.inbox().is_empty() {
            let _ = deliveries.send(slot.id.clone());
        }
    }
}

/// The last component of `path` (after `.` and `..` are resolved lexically), if any.
fn seed_name(path: &Path) -> Option<String> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for part in path.components() {
        match part {
            std::path::Component::Normal(p) => parts.push(p),
            std::path::Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts
        .last()
        .and_then(|p| p.to_str())
        .filter(|name| !name.is_empty())
        .map(str::to_string)
}

/// Ends a plugin's inbox relay when the version it serves goes.
#[derive(Debug)]
pub(super) struct Relay(tokio::task::JoinHandle<()>);

impl Drop for Relay {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Delivers the pending events of each plugin whose inbox the relays report, on a thread
/// of its own, for as long as a [`Manager`] sharing `shared` exists.
pub(super) fn start_delivery(shared: Weak<Shared>, inboxes: mpsc::Receiver<String>) {
    let spawned = std::thread::Builder::new()
        .name("plinth-manager-deliver".into())
        .spawn(move || {
            loop {
                // The timeout only notices a dropped manager whose relays all ended.
                match inboxes.recv_timeout(Duration::from_secs(1)) {
                    Ok(id) => {
                        let Some(shared) = shared.upgrade() else {
                            return;
                        };
                        if let Err(e) = (Manager { shared }).deliver_pending(&id) {
                            tracing::warn!(plugin = %id, "events not delivered: {e}");
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if shared.strong_count() == 0 {
                            return;
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("could not start the event delivery thread: {e}");
    }
}
