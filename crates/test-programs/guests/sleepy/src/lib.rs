//! `sleepy`: blocks inside a host import rather than in guest code. Epoch interruption
//! only stops running wasm, so this shows the host's wall-clock timeout covers the whole
//! call, including time spent blocked in the host (DESIGN.md sections 5 and 9).

use std::time::Duration;

use exports::test::sleepy::sleep::Guest;

wit_bindgen::generate!({
    world: "sleepy",
    path: "wit",
});

struct Sleepy;

impl Guest for Sleepy {
    fn sleep_ms(ms: u64) {
        // On wasm32-wasip2 this is `wasi:clocks/monotonic-clock.subscribe-duration`
        // followed by `wasi:io/poll.poll`: the guest sits in one host call.
        std::thread::sleep(Duration::from_millis(ms));
    }

    fn ok() -> String {
        "ok".to_string()
    }
}

export!(Sleepy);
