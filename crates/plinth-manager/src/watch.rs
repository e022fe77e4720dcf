//! Hot reload: watch the plugins' folders and reload a plugin when its files change.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::manager::Manager;

/// How often the watcher thread also retries plugins whose backoff expired.
const RETRY_POLL: Duration = Duration::from_millis(200);

/// A running watcher; dropping it stops the watching thread.
pub struct Watcher {
    debouncer: Option<Debouncer<notify::RecommendedWatcher, RecommendedCache>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Dropping the debouncer closes the channel, which ends the thread.
        drop(self.debouncer.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Manager {
    /// Watches the folder of every plugin in the applied section (debounced by
    /// `debounce`). A change reloads the plugin off the call path and swaps it in; a broken
    /// new version leaves the old one serving and is reported as a status event. The
    /// watcher thread also runs [`Manager::retry_due`]. Plugins added by a later
    /// [`Manager::apply`] need a new watcher.
    pub fn watch(&self, debounce: Duration) -> Result<Watcher, notify::Error> {
        let (tx, rx) = mpsc::channel::<DebounceEventResult>();
        let mut debouncer = new_debouncer(debounce, None, tx)?;
        let sources = self.sources();
        for source in sources.values() {
            let (dir, mode) = if source.is_dir() {
                (source.clone(), RecursiveMode::Recursive)
            } else {
                let parent = source.parent().map(PathBuf::from).unwrap_or_default();
                (parent, RecursiveMode::NonRecursive)
            };
            debouncer.watch(&dir, mode)?;
        }
        let manager = self.clone();
        let thread = std::thread::Builder::new()
            .name("plinth-watch".into())
            .spawn(move || watch_loop(&manager, &rx))
            .map_err(|e| notify::Error::generic(&e.to_string()))?;
        Ok(Watcher {
            debouncer: Some(debouncer),
            thread: Some(thread),
        })
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
                    let root = if source.is_dir() {
                        source.clone()
                    } else {
                        source.parent().map(PathBuf::from).unwrap_or_default()
                    };
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
