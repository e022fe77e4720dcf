//! What a call under limits comes to, shared by the call path and the exit handling.

/// Where a failure happened.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stage {
    Instantiate,
    Call,
}

/// The wall clock of a call (or an instantiation) ran out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Elapsed;

/// What a call under limits came to: its value, a failure at a stage, or the wall clock.
pub(crate) type Outcome<T> = Result<Result<T, (Stage, wasmtime::Error)>, Elapsed>;
