//! `fidelity`: standard WASI behaviour a plugin from Rust's `wasm32-wasip2` std relies
//! on, as plain Wasmtime gives it: `std::process::exit`, `std::env::args`, and a stdout
//! that reports closed once the host stops taking bytes (docs/design/0030).

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

use exports::test::fidelity::probe::Guest;

wit_bindgen::generate!({
    world: "fidelity",
    path: "wit",
});

static CALLS: AtomicU32 = AtomicU32::new(0);

struct Fidelity;

impl Guest for Fidelity {
    fn exit_with(status: u8) {
        eprintln!("leaving with {status}");
        std::process::exit(status.into())
    }

    fn exit_run(status: u8) -> Result<(), ()> {
        std::process::exit(status.into())
    }

    fn exit_before_value(status: u8) -> u32 {
        std::process::exit(status.into())
    }

    fn count() -> u32 {
        CALLS.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn args() -> Vec<String> {
        std::env::args().collect()
    }

    fn flood() -> u64 {
        let chunk = [b'x'; 4096];
        let mut out = std::io::stdout().lock();
        let mut written = 0u64;
        // Until the stream says it is closed: a guest that never stops would spin here.
        while let Ok(n) = out.write(&chunk) {
            written += n as u64;
        }
        written
    }
}

export!(Fidelity);
