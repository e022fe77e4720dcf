//! Taking back an operator's review when an install brings a new plugin under a known id
//! (docs/design/0034): every installer (`plinth install`, `update`, `plinth serve`) runs the
//! same hook.

use std::sync::{Arc, Mutex};

use plinth_manifest::diagnostic::{Diagnostic, ToDiagnostic};
use plinth_package::BeforeWrite;

use super::{ReviewReset, StateFile};

/// What [`review_hook`] took back, filled in when the install ran it.
pub type ResetCell = Arc<Mutex<Option<ReviewReset>>>;

/// The step every install runs before writing (see [`BeforeWrite`]): when the plugin is new
/// under its id or replaces another identity, its entry in `state` (if any) is disabled and
/// its grants are removed. What was reset is left in the returned cell.
pub fn review_hook(state: StateFile) -> (BeforeWrite, ResetCell) {
    let reset: ResetCell = Arc::new(Mutex::new(None));
    let cell = reset.clone();
    let hook = BeforeWrite::new(move |id, continuity| {
        if !continuity.needs_review() {
            return Ok(());
        }
        let done = reset_review(&state, id.as_str())?;
        *cell.lock().unwrap_or_else(|p| p.into_inner()) = done;
        Ok(())
    });
    (hook, reset)
}

/// Disables `id` and removes its grants in `state`, if it has an entry there (nothing is
/// written otherwise). Returns what was taken back.
pub fn reset_review(state: &StateFile, id: &str) -> Result<Option<ReviewReset>, Diagnostic> {
    let has_entry = state
        .load()
        .map_err(|e| e.to_diagnostic())?
        .section
        .entry(id)
        .is_some();
    if !has_entry {
        return Ok(None);
    }
    state
        .update(|doc| doc.reset_review(id))
        .map_err(|e| e.to_diagnostic())
}
