//! `plinth:host/watch`: debounced change notifications for mapped directories, delivered
//! as `fs-change` events into the plugin's inbox.
//!
//! Each subscription owns a `notify` watcher behind a `notify-debouncer-full` debouncer.
//! Subscriptions belong to the loaded plugin (not to one instance): they end on
//! `unsubscribe`, or when the last clone of the [`crate::Plugin`] and its instances are
//! dropped, which drops the debouncers and stops their threads.
//!
//! Watching never follows symlinks (docs/design/0032): a symlink inside a watched
//! directory that points outside it is reported only as a change of the link itself, and
//! the target's changes are never watched. No event names a path outside its root: a
//! path that is not under the root, or whose relative form climbs with `..`, is dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use notify_debouncer_full::notify::{self, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer_opt};
use plinth_manifest::Grant;

use super::gate::CallGate;
use crate::bindings::watch;
use crate::inbox::{Inbox, PluginEvent};

/// Subscriptions one plugin may hold at once.
pub const MAX_SUBSCRIPTIONS: usize = 16;

/// The debounce window is clamped to this range (milliseconds).
pub const DEBOUNCE_MS: (u32, u32) = (10, 60_000);

/// A plugin's live subscriptions.
#[derive(Default)]
pub(crate) struct Watches {
    next: AtomicU64,
    live: Mutex<HashMap<u64, Debouncer<RecommendedWatcher, RecommendedCache>>>,
}

impl std::fmt::Debug for Watches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watches")
            .field("live", &self.len())
            .finish_non_exhaustive()
    }
}

impl Watches {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<u64, Debouncer<RecommendedWatcher, RecommendedCache>>>
    {
        match self.live.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Live subscriptions.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Turns one debounced batch into one `fs-change` event per directory.
fn deliver(inbox: &Inbox, id: u64, roots: &BTreeMap<String, PathBuf>, result: DebounceEventResult) {
    let Ok(events) = result else {
        return;
    };
    let mut changed: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for event in &events {
        for path in &event.paths {
            for (name, root) in roots {
                if let Some(rel) = inside(root, path) {
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    changed.entry(name).or_default().insert(rel);
                    break;
                }
            }
        }
    }
    for (dir, paths) in changed {
        inbox.push(PluginEvent {
            kind: "fs-change".into(),
            subject: id.to_string(),
            payload: serde_json::json!({"dir": dir, "paths": paths}).to_string(),
        });
    }
}

/// `path` relative to `root`, if it lies inside it: only plain names, no `..` or `.`.
fn inside<'a>(root: &Path, path: &'a Path) -> Option<&'a Path> {
    let rel = path.strip_prefix(root).ok()?;
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(rel)
}

/// The watch state of one plugin: the directories `watch:` grants name (canonical host
/// paths) and the live subscriptions.
#[derive(Debug, Default)]
pub(crate) struct WatchState {
    pub(crate) dirs: BTreeMap<String, PathBuf>,
    pub(crate) watches: Watches,
}

/// What `watch` sees of a call.
pub(crate) struct WatchView<'a> {
    pub(crate) gate: CallGate<'a>,
    pub(crate) state: &'a WatchState,
    pub(crate) inbox: &'a Inbox,
}

linked_through!(
    /// Links `plinth:host/watch` to a [`WatchView`].
    Watch => WatchView
);

impl watch::Host for WatchView<'_> {
    fn subscribe(&mut self, dirs: Vec<String>, debounce_ms: u32) -> Result<u64, watch::WatchError> {
        let gate = &mut self.gate;
        let roots = self
            .state
            .roots(dirs, |grant| gate.check(grant).map_err(Into::into))?;
        self.state.subscribe(self.inbox, roots, debounce_ms)
    }

    fn unsubscribe(&mut self, id: u64) {
        self.state.unsubscribe(id);
    }
}

impl WatchState {
    /// The mapped directory of each name in `dirs`, after `check` allowed its `watch:`
    /// grant: what a subscription (the plugin's own, or one made on its behalf) watches.
    pub(crate) fn roots(
        &self,
        dirs: Vec<String>,
        mut check: impl FnMut(Grant) -> Result<(), watch::WatchError>,
    ) -> Result<BTreeMap<String, PathBuf>, watch::WatchError> {
        let mut roots = BTreeMap::new();
        for dir in dirs {
            check(Grant::Watch(dir.clone()))?;
            let Some(root) = self.dirs.get(&dir) else {
                return Err(watch::WatchError::Denied(format!(
                    "directory `{dir}` is not mapped"
                )));
            };
            roots.insert(dir, root.clone());
        }
        if roots.is_empty() {
            return Err(watch::WatchError::Denied("no directory to watch".into()));
        }
        Ok(roots)
    }

    /// Starts a debounced, recursive subscription to `roots` whose changes arrive in
    /// `inbox` as `fs-change` events; returns its id.
    pub(crate) fn subscribe(
        &self,
        inbox: &Inbox,
        roots: BTreeMap<String, PathBuf>,
        debounce_ms: u32,
    ) -> Result<u64, watch::WatchError> {
        let watches = &self.watches;
        if watches.len() >= MAX_SUBSCRIPTIONS {
            return Err(watch::WatchError::Io(format!(
                "at most {MAX_SUBSCRIPTIONS} subscriptions per plugin"
            )));
        }
        let id = watches.next.fetch_add(1, Ordering::Relaxed) + 1;
        let debounce =
            Duration::from_millis(u64::from(debounce_ms.clamp(DEBOUNCE_MS.0, DEBOUNCE_MS.1)));
        let inbox = inbox.clone();
        let handler_roots = roots.clone();
        let handler = move |result: DebounceEventResult| {
            deliver(&inbox, id, &handler_roots, result);
        };
        // Never follow symlinks: a link to a directory outside the root must not make the
        // outside target's changes visible to the plugin.
        let config = notify::Config::default().with_follow_symlinks(false);
        let mut debouncer = new_debouncer_opt::<_, RecommendedWatcher, RecommendedCache>(
            debounce,
            None,
            handler,
            RecommendedCache::new(),
            config,
        )
        .map_err(|e| watch::WatchError::Io(format!("cannot start a watcher: {e}")))?;
        for (name, root) in &roots {
            debouncer
                .watch(root, RecursiveMode::Recursive)
                .map_err(|e| watch::WatchError::Io(format!("cannot watch `{name}`: {e}")))?;
        }
        watches.lock().insert(id, debouncer);
        Ok(id)
    }

    /// Ends subscription `id` (nothing happens for an unknown id).
    pub(crate) fn unsubscribe(&self, id: u64) {
        // Dropping the debouncer stops its thread and the watcher.
        self.watches.lock().remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify_debouncer_full::DebouncedEvent;
    use notify_debouncer_full::notify::Event;
    use notify_debouncer_full::notify::event::{CreateKind, EventKind, ModifyKind};

    /// One debounced batch becomes one `fs-change` per directory, its paths relative,
    /// sorted and each named once however many raw events touched it.
    #[test]
    fn a_batch_is_coalesced_per_directory() {
        let roots: BTreeMap<String, PathBuf> = [
            ("a".to_string(), PathBuf::from("/w/a")),
            ("b".to_string(), PathBuf::from("/w/b")),
        ]
        .into();
        let now = std::time::Instant::now();
        let event = |kind: EventKind, path: &str| {
            DebouncedEvent::new(Event::new(kind).add_path(PathBuf::from(path)), now)
        };
        let modify = EventKind::Modify(ModifyKind::Any);
        let batch = vec![
            event(EventKind::Create(CreateKind::File), "/w/a/z.txt"),
            event(modify, "/w/a/z.txt"),
            event(modify, "/w/a/z.txt"),
            event(modify, "/w/a/sub/y.txt"),
            event(modify, "/w/b/x.txt"),
            // Outside every root, or climbing out of one: ignored.
            event(modify, "/elsewhere/q.txt"),
            event(modify, "/w/a/../outside.txt"),
        ];
        let inbox = Inbox::default();
        deliver(&inbox, 7, &roots, Ok(batch));
        let events = inbox.drain();
        assert_eq!(events.len(), 2, "{events:?}");
        let payloads: Vec<serde_json::Value> = events
            .iter()
            .map(|e| {
                assert_eq!((e.kind.as_str(), e.subject.as_str()), ("fs-change", "7"));
                serde_json::from_str(&e.payload).unwrap()
            })
            .collect();
        assert_eq!(
            payloads,
            [
                serde_json::json!({"dir": "a", "paths": ["sub/y.txt", "z.txt"]}),
                serde_json::json!({"dir": "b", "paths": ["x.txt"]}),
            ]
        );
        // A failed batch delivers nothing.
        deliver(&inbox, 7, &roots, Err(Vec::new()));
        assert!(inbox.is_empty());
    }
}
