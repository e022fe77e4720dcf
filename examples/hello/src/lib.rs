//! A command plugin: `run(["Ada"])` greets Ada, `run(["echo", ...])` echoes the rest.
//!
//! The greeting word comes from the optional `greeting` setting, read through the `config`
//! host API when the operator granted it (`plinth grant example.hello config`).

use std::sync::Mutex;

use plinth_pdk::prelude::*;

/// The word before the name; `on_load` replaces it with the `greeting` setting.
static GREETING: Mutex<Option<String>> = Mutex::new(None);

const DEFAULT_GREETING: &str = "Hello";

struct Hello;

impl Plugin for Hello {
    fn on_load(_settings: Settings) -> Result<(), String> {
        let greeting = match config::get("greeting") {
            Ok(Some(Value::String(greeting))) => Some(greeting),
            Ok(Some(other)) => {
                return Err(format!("setting `greeting` must be a string, got {other}"));
            }
            // Not set, or `config` not granted: keep the default.
            Ok(None) | Err(_) => None,
        };
        *GREETING.lock().map_err(|err| err.to_string())? = greeting;
        Ok(())
    }
}

impl Command for Hello {
    fn run(args: Vec<String>) -> Result<String, String> {
        let reply = match args.split_first() {
            Some((first, rest)) if first == "echo" => {
                log::info(format!("echoing {} words", rest.len()));
                rest.join(" ")
            }
            Some(_) => greet(&args.join(" ")),
            None => greet("world"),
        };
        Ok(reply)
    }
}

fn greet(name: &str) -> String {
    log::info(format!("greeting {name}"));
    let greeting = GREETING.lock().ok().and_then(|greeting| greeting.clone());
    format!(
        "{}, {name}!",
        greeting.as_deref().unwrap_or(DEFAULT_GREETING)
    )
}

plinth_pdk::export_command!(Hello);
