//! `bench`: the guest of Plinth's benchmarks (`benches/benches/calls.rs`). Every export
//! does a small, fixed amount of work, so a benchmark measures the host's cost of
//! calling it, through Plinth and through raw Wasmtime alike.

use exports::bench::guest::work::Guest;
use plinth::host::log::{Level, log};

wit_bindgen::generate!({
    world: "bench",
    path: "wit",
    // `plinth:host` comes from `wit/deps` (a link to the repository's WIT).
    generate_all,
});

struct Bench;

impl Guest for Bench {
    fn echo(data: Vec<u8>) -> Vec<u8> {
        data
    }

    fn count_vowels(text: String) -> String {
        let count = text
            .bytes()
            .filter(|b| matches!(b.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u'))
            .count();
        format!("{{\"count\":{count}}}")
    }

    fn noop() {}

    fn log_once() {
        log(Level::Info, "bench");
    }
}

export!(Bench);
