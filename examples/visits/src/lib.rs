//! A command plugin using granted host APIs: `run(["Ada"])` counts Ada's visit in the
//! key-value store and answers `"Hello, Ada! Visit 1."`, then 2, 3, … across calls and
//! processes.
//!
//! - `kv` (required): the counter `visits/NAME`, incremented atomically by the host;
//! - `config` (optional): the `greeting` setting, read on every call so a change is seen at
//!   once; without the grant or the setting the greeting is `Hello`;
//! - `log` (optional): one info record `visit NAME N` per call.
//!
//! Without `kv` the call fails with the host's `missing-grant` error, whose text names the
//! `plinth grant` command.

use plinth_pdk::prelude::*;

const DEFAULT_GREETING: &str = "Hello";

struct Visits;

impl Plugin for Visits {}

impl Command for Visits {
    fn run(args: Vec<String>) -> Result<String, String> {
        let name = if args.is_empty() {
            "world".to_string()
        } else {
            args.join(" ")
        };
        let count = kv::increment(&format!("visits/{name}"), 1)
            .map_err(|e| format!("{}: {}", e.code(), e.message()))?;
        log::info(format!("visit {name} {count}"));
        Ok(format!("{}, {name}! Visit {count}.", greeting()))
    }
}

/// The `greeting` setting, or the default when it is unset, not a string, or `config`
/// is not granted.
fn greeting() -> String {
    match config::get("greeting") {
        Ok(Some(Value::String(greeting))) if !greeting.is_empty() => greeting,
        _ => DEFAULT_GREETING.to_string(),
    }
}

plinth_pdk::export_command!(Visits);
