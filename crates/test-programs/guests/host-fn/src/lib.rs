//! A command plugin that calls an app-defined host function, for the benchmark of a custom
//! host function beside a raw Wasmtime import (`benches/benches/host_calls.rs`).
//!
//! | args | does |
//! | --- | --- |
//! | `["noop"]` | nothing (no host call), `""` |
//! | `["add", A, B]` | `test:app/math.add(A, B)`, as text |

use plinth_pdk::prelude::*;

mod app {
    wit_bindgen::generate!({ path: "wit", world: "test:app/imports" });
}

struct HostFn;

impl Plugin for HostFn {}

fn num(s: &str) -> Result<u32, String> {
    s.parse().map_err(|_| format!("`{s}` is not a number"))
}

impl Command for HostFn {
    fn run(args: Vec<String>) -> Result<String, String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["noop"] => Ok(String::new()),
            ["add", a, b] => Ok(app::test::app::math::add(num(a)?, num(b)?).to_string()),
            other => Err(format!("unknown verb {other:?}")),
        }
    }
}

plinth_pdk::export_command!(HostFn);
