//! Hot reload: watch the plugins' folders and reload a plugin when its files change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::manager::{Manager, lock};

/// How often the watcher thread also retries plugins whose backoff expired.
const RETRY_POLL: Duration = Duration::from_millis(200);

/// What one watcher watches: its debouncer and the roots it was told to watch.
pub(crate) struct WatchSet {
    debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    roots: BTreeMap<PathBuf, RecursiveMode>,
}

impl WatchSet {
    /// Watches the folders of `sources` and stops watching folders no longer among them.
    fn sync(&mut self, sources: &BTreeMap<String, PathBuf>) -> Result<(), notify::Error> {
        let wanted: BTreeMap<PathBuf, RecursiveMode> =
            sources.values().map(|s| root_of(s)).collect();
        let gone: Vec<PathBuf> = self
            .roots
            .keys()
            .filter(|root| !wanted.contains_key(*root))
            .cloned()
            .collect();
        for root in gone {
            self.roots.remove(&root);
            // The folder may be gone already; nothing is watched there either way.
            let _ = self.debouncer.unwatch(&root);
        }
        let mut result = Ok(());
        for (root, mode) in wanted {
            if self.roots.contains_key(&root) {
                continue;
            }
            match self.debouncer.watch(&root, mode) {
                Ok(()) => {
                    self.roots.insert(root, mode);
                }
                Err(error) => {
                    tracing::warn!(dir = %root.display(), "plugin watcher: {error}");
                    result = Err(error);
                }
            }
        }
        result
    }
}

/// The folder to watch for a plugin source: the plugin folder itself (recursively), or
/// the folder holding a bare component.
fn root_of(source: &Path) -> (PathBuf, RecursiveMode) {
    if source.is_dir() {
        (source.to_path_buf(), RecursiveMode::Recursive)
    } else {
        let parent = source.parent().map(PathBuf::from).unwrap_or_default();
        (parent, RecursiveMode::NonRecursive)
    }
}

/// A running watcher; dropping it stops the watching thread.
pub struct Watcher {
    set: Option<Arc<Mutex<WatchSet>>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

impl Watcher {
    /// The folders watched now, one per plugin source.
    pub fn watched(&self) -> Vec<PathBuf> {
        self.set
            .as_ref()
            .map(|set| lock(set).roots.keys().cloned().collect())
            .unwrap_or_default()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // The manager keeps only a weak reference: dropping the last strong one drops the
        // debouncer, which closes the channel, which ends the thread.
        drop(self.set.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Manager {
    /// Watches the folder of every plugin in the applied section (debounced by
    /// `debounce`), and of every plugin a later [`Manager::apply`] adds (folders of removed
    /// plugins are let go). A change reloads the plugin off the call path and swaps it in;
    /// a broken new version leaves the old one serving and is reported as a status event.
    /// The watcher thread also runs [`Manager::retry_due`].
    pub fn watch(&self, debounce: Duration) -> Result<Watcher, notify::Error> {
        let (tx, rx) = mpsc::channel::<DebounceEventResult>();
        let debouncer = new_debouncer(debounce, None, tx)?;
        let mut set = WatchSet {
            debouncer,
            roots: BTreeMap::new(),
        };
        set.sync(&self.sources())?;
        let set = Arc::new(Mutex::new(set));
        lock(&self.shared.watchers).push(Arc::downgrade(&set));
        let manager = self.clone();
        let thread = std::thread::Builder::new()
            .name("plinth-watch".into())
            .spawn(move || watch_loop(&manager, &rx))
            .map_err(|e| notify::Error::generic(&e.to_string()))?;
        Ok(Watcher {
            set: Some(set),
            thread: Some(thread),
        })
    }

    /// Brings every running watcher in line with the plugins of the last apply; watchers
    /// that were dropped are forgotten.
    pub(crate) fn resync_watchers(&self) {
        let mut watchers = lock(&self.shared.watchers);
        watchers.retain(|weak| weak.strong_count() > 0);
        if watchers.is_empty() {
            return;
        }
        let sources = self.sources();
        for set in watchers.iter().filter_map(std::sync::Weak::upgrade) {
            // Failures are logged per folder; the other folders are still watched.
            let _ = lock(&set).sync(&sources);
        }
    }
}

fn watch_loop(manager: &Manager, rx: &mpsc::Receiver<DebounceEventResult>) {
    loop {
        match rx.recv_timeout(RETRY_POLL) {
            Ok(Ok(events)) => {
                let paths: Vec<PathBuf> = events
                    .iter()
                    .flat_map(|e| e.event.paths.iter().cloned())
                    .collect();
                for (id, source) in manager.sources() {
                    let (root, _) = root_of(&source);
                    if paths.iter().any(|p| p.starts_with(&root)) {
                        tracing::info!(plugin = %id, "files changed; reloading");
                        manager.reload_if_changed(&id);
                    }
                }
            }
            Ok(Err(errors)) => {
                for error in errors {
                    tracing::warn!("plugin watcher: {error}");
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                manager.retry_due();
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}
