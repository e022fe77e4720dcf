//! The manager from async code (docs/design/0053): each method runs its blocking twin on a
//! thread of its own and awaits the answer, so an actor loop awaiting it never blocks its
//! own thread. (Not tokio's blocking pool: its threads belong to the caller's runtime, and
//! the host refuses to block inside one.) They work under any async runtime.

use serde_json::Value;

use super::{ApplyReport, Manager, ManagerError};
use crate::state::PluginsSection;

/// Runs `work` with a clone of `manager` on a new thread; a panic in it is resumed here.
async fn blocking<T: Send + 'static>(
    manager: &Manager,
    work: impl FnOnce(Manager) -> T + Send + 'static,
) -> T {
    let manager = manager.clone();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("plinth-manager".into())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(manager)));
            let _ = sender.send(outcome);
        });
    if let Err(e) = spawned {
        panic!("could not start a thread for the manager: {e}");
    }
    match receiver.await {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the manager's thread ended without an answer"),
    }
}

impl Manager {
    /// [`Manager::apply`] without blocking the caller's thread.
    pub async fn apply_async(&self, section: PluginsSection) -> ApplyReport {
        blocking(self, move |m| m.apply(&section)).await
    }

    /// [`Manager::reload`] without blocking the caller's thread.
    pub async fn reload_async(&self, id: &str) -> bool {
        let id = id.to_owned();
        blocking(self, move |m| m.reload(&id)).await
    }

    /// [`Manager::call_json`] without blocking the caller's thread.
    pub async fn call_json_async(
        &self,
        id: &str,
        export: &str,
        args: Vec<Value>,
    ) -> Result<Value, ManagerError> {
        let (id, export) = (id.to_owned(), export.to_owned());
        blocking(self, move |m| m.call_json(&id, &export, &args)).await
    }

    /// [`Manager::deliver_pending`] without blocking the caller's thread.
    pub async fn deliver_pending_async(&self, id: &str) -> Result<usize, ManagerError> {
        let id = id.to_owned();
        blocking(self, move |m| m.deliver_pending(&id)).await
    }

    /// [`Manager::tick`] without blocking the caller's thread.
    pub async fn tick_async(&self) -> usize {
        blocking(self, |m| m.tick()).await
    }
}
