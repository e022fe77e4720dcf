//! An explicit `wasi:cli/exit` (`exit`, `exit-with-code`; Rust's `std::process::exit`)
//! ends a call normally, as it ends a program under plain Wasmtime (docs/design/0030).
//!
//! Wasmtime unwinds the guest with a [`wasmtime_wasi::I32Exit`] error carrying the status.
//! Status 0 is success: an export without result returns nothing, an export returning a
//! `result` without `ok` payload (`wasi:cli/run#run`) returns `ok`. Any other export has
//! no value to give back, so status 0 there is the `exit-status` failure like a non-zero
//! status. Either way the instance that exited is not called again.

use std::any::Any;

use wasmtime::component::{Type, Val};
use wasmtime_wasi::I32Exit;

use crate::outcome::{Outcome, Stage};

/// The status of an explicit exit, when `error` is one.
pub(crate) fn status(error: &wasmtime::Error) -> Option<i32> {
    error.downcast_ref::<I32Exit>().map(|exit| exit.0)
}

/// Whether the guest exited during `outcome` (whatever the status).
pub(crate) fn exited<T>(outcome: &Outcome<T>) -> bool {
    matches!(outcome, Ok(Err((_, error))) if status(error).is_some())
}

/// `outcome` with an exit of status 0 from a call turned into `success()`, the value that
/// stands for it; unchanged when there is none (the export must return a value), or when
/// the exit came from instantiation (no export ran).
pub(crate) fn success_on_exit<T>(
    outcome: Outcome<T>,
    success: impl FnOnce() -> Option<T>,
) -> Outcome<T> {
    match outcome {
        Ok(Err((Stage::Call, error))) if status(&error) == Some(0) => match success() {
            Some(value) => Ok(Ok(value)),
            None => Ok(Err((Stage::Call, error))),
        },
        other => other,
    }
}

/// The results a successful exit stands for in an export returning `results`: none for a
/// function without result, `ok` for a `result` whose `ok` case has no payload.
pub(crate) fn success_vals(results: &[Type]) -> Option<Vec<Val>> {
    match results {
        [] => Some(Vec::new()),
        [Type::Result(result)] if result.ok().is_none() => Some(vec![Val::Result(Ok(None))]),
        _ => None,
    }
}

/// [`success_vals`] for a typed call: `()` for a function without result, and `Ok(())`
/// for one returning `result` (the `wasi:cli/run#run` signature, `(Result<(), ()>,)`).
/// Typed results cannot be built from dynamic values, so other `Result<(), E>` types
/// get the `exit-status` failure; call them with `call_json` to get `{"ok": null}`.
pub(crate) fn success_typed<R: Any>() -> Option<R> {
    let unit: Box<dyn Any> = Box::new(());
    if let Ok(value) = unit.downcast::<R>() {
        return Some(*value);
    }
    let run: Box<dyn Any> = Box::new((Ok::<(), ()>(()),));
    run.downcast::<R>().ok().map(|value| *value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_success_covers_unit_and_run() {
        assert_eq!(success_typed::<()>(), Some(()));
        assert_eq!(
            success_typed::<(Result<(), ()>,)>(),
            Some((Ok::<(), ()>(()),))
        );
        assert_eq!(success_typed::<(u32,)>(), None);
    }

    #[test]
    fn success_only_from_a_call_with_status_zero() {
        let exit = |code| wasmtime::Error::new(I32Exit(code));
        let ok = success_on_exit::<u8>(Ok(Err((Stage::Call, exit(0)))), || Some(7));
        assert!(matches!(ok, Ok(Ok(7))));
        let failed = success_on_exit::<u8>(Ok(Err((Stage::Call, exit(3)))), || Some(7));
        assert!(exited(&failed));
        let no_value = success_on_exit::<u8>(Ok(Err((Stage::Call, exit(0)))), || None);
        assert!(exited(&no_value));
        let start = success_on_exit::<u8>(Ok(Err((Stage::Instantiate, exit(0)))), || Some(7));
        assert!(exited(&start));
    }
}
