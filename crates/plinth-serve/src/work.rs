//! Running the manager's blocking API from request handlers.
//!
//! The manager blocks on the host's own tokio runtime, and refuses to from a thread inside
//! another runtime (`spawn_blocking` threads are inside one): each piece of work runs on a
//! plain thread of its own and the handler awaits its answer.

use plinth_manifest::diagnostic::{Code, Diagnostic};
use tokio::sync::oneshot;

use crate::error::ApiError;

/// Runs `work` on a plain thread and waits for its result without blocking the runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("plinth-serve-work".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| {
            ApiError::from(Diagnostic::new(
                Code::HostSetup,
                format!("cannot start a worker thread: {e}"),
            ))
        })?;
    rx.await.map_err(|_| {
        ApiError::from(
            Diagnostic::new(Code::HostSetup, "the request's worker thread panicked")
                .with_hint("this is a bug in plinth serve; the server keeps running"),
        )
    })
}
