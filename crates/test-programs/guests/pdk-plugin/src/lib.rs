//! A command plugin written with `plinth-pdk`, for tests of lifecycle, `config` and `log`.
//!
//! `run` takes a verb and its arguments:
//!
//! | args | returns |
//! | --- | --- |
//! | `["state"]` | `{"loads": N, "changes": N, "closed": bool, "settings": {...} or null, "events": [[kind, subject, payload]...]}` |
//! | `["config"]` | `config::get_all()` as JSON, or `Err` with the config error's text |
//! | `["config", KEY]` | `config::get(KEY)` as JSON (`null` when unset), or `Err` likewise |
//! | `["log", LEVEL, MESSAGE...]` | logs MESSAGE at LEVEL (`trace` … `error`), returns `"logged"` |
//! | `["log-enabled", LEVEL]` | `"true"` or `"false"` |
//! | `["fail", MESSAGE...]` | `Err(MESSAGE)` |
//!
//! `on_load` refuses settings with `"fail_load": true`, so tests can see a failed load;
//! `handle_event` refuses events of kind `refuse`.

use std::sync::Mutex;

use plinth_pdk::log::Level;
use plinth_pdk::prelude::*;

/// What the lifecycle calls have done so far in this instance.
struct State {
    loads: u32,
    changes: u32,
    closed: bool,
    settings: Option<Settings>,
    events: Vec<Event>,
}

static STATE: Mutex<State> = Mutex::new(State {
    loads: 0,
    changes: 0,
    closed: false,
    settings: None,
    events: Vec::new(),
});

fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> T {
    let mut state = STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&mut state)
}

struct PdkPlugin;

impl Plugin for PdkPlugin {
    fn on_load(settings: Settings) -> Result<(), String> {
        if settings.get("fail_load") == Some(&Value::Bool(true)) {
            return Err("on_load refused: setting `fail_load` is true".into());
        }
        log::debug("pdk-plugin: loaded");
        with_state(|state| {
            state.loads += 1;
            state.settings = Some(settings);
        });
        Ok(())
    }

    fn on_setting_change(settings: Settings) -> Result<(), String> {
        with_state(|state| {
            state.changes += 1;
            state.settings = Some(settings);
        });
        Ok(())
    }

    fn on_close() {
        with_state(|state| state.closed = true);
    }

    fn handle_event(event: Event) -> Result<(), String> {
        if event.kind == "refuse" {
            return Err(format!("refused event {}", event.subject));
        }
        with_state(|state| state.events.push(event));
        Ok(())
    }
}

impl Command for PdkPlugin {
    fn run(args: Vec<String>) -> Result<String, String> {
        let (verb, rest) = args.split_first().ok_or("usage: run([VERB, ARGS...])")?;
        match (verb.as_str(), rest) {
            ("state", []) => Ok(state_json().to_string()),
            ("config", []) => config::get_all()
                .map(|all| all.to_string())
                .map_err(|e| e.to_string()),
            ("config", [key]) => config::get(key)
                .map(|value| value.unwrap_or(Value::Null).to_string())
                .map_err(|e| e.to_string()),
            ("log", [level, message @ ..]) => {
                log::log(parse_level(level)?, message.join(" "));
                Ok("logged".into())
            }
            ("log-enabled", [level]) => Ok(log::enabled(parse_level(level)?).to_string()),
            ("fail", message) => Err(message.join(" ")),
            _ => Err(format!("unknown verb or wrong arguments: {args:?}")),
        }
    }
}

fn state_json() -> Value {
    with_state(|state| {
        json!({
            "loads": state.loads,
            "changes": state.changes,
            "closed": state.closed,
            "settings": state.settings.as_ref().map(|s| Value::Object(s.as_map().clone())),
            "events": state
                .events
                .iter()
                .map(|e| json!([e.kind, e.subject, e.payload]))
                .collect::<Vec<_>>(),
        })
    })
}

fn parse_level(level: &str) -> Result<Level, String> {
    Ok(match level {
        "trace" => Level::Trace,
        "debug" => Level::Debug,
        "info" => Level::Info,
        "warn" => Level::Warn,
        "error" => Level::Error,
        other => return Err(format!("unknown log level `{other}`")),
    })
}

plinth_pdk::export_command!(PdkPlugin);
