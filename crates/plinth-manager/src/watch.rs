//! Hot reload: watch the plugins' folders and the plugin directories; reload a plugin when
//! its files change, rescan the directories when a plugin folder appears, goes or is
//! replaced.
//!
//! What is watched ([`Manager::watch_roots`]):
//!
//! - each plugin directory, not recursively: a folder created, removed or renamed in it;
//! - each folder in a plugin directory, recursively: a plugin's files, and the manifest of
//!   a folder that is still being filled;
//! - each plugin folder outside them recursively, and its parent directory not
//!   recursively: a new folder renamed over it (as `plinth install` does);
//! - the directory of a bare component, not recursively.
//!
//! A watch follows a directory, not a path: a folder renamed over a watched one is a new
//! directory. The watch set remembers which directory (device and inode) each path was
//! and watches it again when that changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::manager::{Follower, Manager, lock};

/// How often the watcher thread also retries plugins whose backoff expired, and checks that
/// every watched directory is still the one it watches.
const RETRY_POLL: Duration = Duration::from_millis(200);

/// One watched path: how, and which directory or file it was when the watch was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Watched {
    mode: RecursiveMode,
    identity: Option<FileIdentity>,
}

/// Device and inode: what tells a folder renamed over a path from the folder it replaced.
type FileIdentity = (u64, u64);

#[cfg(unix)]
fn identity(path: &Path) -> Option<FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Elsewhere a watched directory cannot be replaced by a rename while it is watched.
#[cfg(not(unix))]
fn identity(_path: &Path) -> Option<FileIdentity> {
    None
}

/// What one watcher watches: its debouncer and the paths it watches.
struct WatchSet {
    debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    roots: BTreeMap<PathBuf, Watched>,
}

impl WatchSet {
    /// Watches the `wanted` paths, and stops watching paths no longer among them. A path
    /// now holding another directory than when it was watched is watched again.
    fn sync(&mut self, wanted: &BTreeMap<PathBuf, RecursiveMode>) -> Result<(), notify::Error> {
        let stale: Vec<PathBuf> = self
            .roots
            .iter()
            .filter(|(root, watched)| {
                wanted.get(*root) != Some(&watched.mode) || identity(root) != watched.identity
            })
            .map(|(root, _)| root.clone())
            .collect();
        for root in stale {
            self.roots.remove(&root);
            // The folder may be gone already; nothing is watched there either way.
            let _ = self.debouncer.unwatch(&root);
        }
        let mut result = Ok(());
        for (root, mode) in wanted {
            if self.roots.contains_key(root) {
                continue;
            }
            let identity = identity(root);
            match self.debouncer.watch(root, *mode) {
                Ok(()) => {
                    let watched = Watched {
                        mode: *mode,
                        identity,
                    };
                    self.roots.insert(root.clone(), watched);
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

impl Follower for Mutex<WatchSet> {
    fn follow(&self, manager: &Manager) {
        // Failures are logged per folder; the other folders are still watched.
        let _ = lock(self).sync(&manager.watch_roots());
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

/// The visible folders of a plugin directory (staging folders start with a dot).
fn folders_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Adds `path` to the wanted set; recursive wins over not recursive.
fn want(wanted: &mut BTreeMap<PathBuf, RecursiveMode>, path: PathBuf, mode: RecursiveMode) {
    let entry = wanted.entry(path).or_insert(mode);
    if mode == RecursiveMode::Recursive {
        *entry = mode;
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
    /// plugins are let go), and the plugin directories given to
    /// [`crate::ManagerBuilder::plugin_dirs`]. A change reloads the plugin off the call path
    /// and swaps it in; a broken new version leaves the old one serving and is reported as
    /// a status event. A change in a plugin directory runs [`Manager::rediscover`]. The
    /// watcher thread also runs [`Manager::retry_due`].
    pub fn watch(&self, debounce: Duration) -> Result<Watcher, notify::Error> {
        let (tx, rx) = mpsc::channel::<DebounceEventResult>();
        let debouncer = new_debouncer(debounce, None, tx)?;
        let mut set = WatchSet {
            debouncer,
            roots: BTreeMap::new(),
        };
        set.sync(&self.watch_roots())?;
        let set = Arc::new(Mutex::new(set));
        let weak = Arc::downgrade(&set);
        let follower: std::sync::Weak<dyn Follower> = weak;
        lock(&self.shared.watchers).push(follower);
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

    /// Every path a watcher should watch now, and how (see the module documentation).
    /// A path inside a recursively watched folder is left out: it is watched already.
    pub(crate) fn watch_roots(&self) -> BTreeMap<PathBuf, RecursiveMode> {
        let mut wanted = BTreeMap::new();
        if let Some(dirs) = &self.shared.plugin_dirs {
            // A plugin directory that does not exist yet (a fresh home) is not watched.
            for dir in dirs.all().filter(|d| d.is_dir()) {
                want(&mut wanted, dir.clone(), RecursiveMode::NonRecursive);
                for folder in folders_in(dir) {
                    want(&mut wanted, folder, RecursiveMode::Recursive);
                }
            }
        }
        for source in self.sources().into_values() {
            let (root, mode) = root_of(&source);
            if mode == RecursiveMode::Recursive
                && let Some(parent) = root.parent()
            {
                want(
                    &mut wanted,
                    parent.to_path_buf(),
                    RecursiveMode::NonRecursive,
                );
            }
            want(&mut wanted, root, mode);
        }
        let recursive: Vec<PathBuf> = wanted
            .iter()
            .filter(|(_, mode)| **mode == RecursiveMode::Recursive)
            .map(|(path, _)| path.clone())
            .collect();
        wanted.retain(|path, _| {
            !recursive
                .iter()
                .any(|folder| path != folder && path.starts_with(folder))
        });
        wanted
    }

    /// Files changed at `paths`: rescan the plugin directories if they are among them,
    /// follow replaced folders, and reload the plugins whose files changed.
    fn files_changed(&self, paths: &[PathBuf]) {
        let in_plugin_dirs = self
            .shared
            .plugin_dirs
            .as_ref()
            .is_some_and(|dirs| paths.iter().any(|p| dirs.all().any(|d| p.starts_with(d))));
        // A rescan that found a change resyncs the watchers itself.
        let rescanned = in_plugin_dirs && self.rediscover().is_some();
        if !rescanned {
            self.resync_watchers();
        }
        for (id, source) in self.sources() {
            let (root, _) = root_of(&source);
            if paths.iter().any(|p| p.starts_with(&root)) {
                tracing::info!(plugin = %id, "files changed; reloading");
                self.reload_if_changed(&id);
            }
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
                manager.files_changed(&paths);
            }
            Ok(Err(errors)) => {
                for error in errors {
                    tracing::warn!("plugin watcher: {error}");
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                manager.retry_due();
                manager.resync_watchers();
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}
