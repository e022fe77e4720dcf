//! `kinds`: one component providing the `tool`, `hook` and `command` kinds through their
//! own packages (`plinth:tool@0.1.0`, `plinth:hook@0.1.0`, `plinth:command@0.1.0`), built
//! with wit-bindgen alone.
//!
//! It behaves as the reference plugins of the conformance kits do, unless its plugin id
//! (`argv[0]`) ends in `.mutant-NAME`: then it breaks exactly one rule, so a test can show
//! each kit case catches a plugin that breaks it.
//!
//! - tools: `word_count` (`{"text"}` → `{"words": n}`) and `tally` (`{"key"}` → the key's
//!   counter after adding one, in `plinth:host/kv`);
//! - hook on `before-tool-call`: deny a payload whose `path` is under `/etc`, trim a
//!   `text` field with surrounding whitespace (`modify`), allow anything else;
//! - command: `run([name])` → `Hello, NAME!` (`world` without arguments).
//!
//! The hook reads `blocked-subject` and the command counts greetings in `plinth:host/kv`,
//! so the kits' denied-capability twins have a capability to deny.

use exports::plinth::command::command::Guest as CommandGuest;
use exports::plinth::hook::hook::{Decision, Guest as HookGuest, HookEvent};
use exports::plinth::plugin::lifecycle::{Event, Guest as LifecycleGuest};
use exports::plinth::tool::tool::{Guest as ToolGuest, ToolError, ToolInfo};
use serde_json::{Value, json};

wit_bindgen::generate!({
    world: "kinds",
    path: "wit",
    generate_all,
});

struct Kinds;

/// The mutation this instance runs, from `argv[0]` (`…mutant-NAME`).
fn mutant() -> String {
    std::env::args()
        .next()
        .and_then(|id| id.rsplit_once("mutant-").map(|(_, m)| m.to_owned()))
        .unwrap_or_default()
}

fn is(name: &str) -> bool {
    mutant() == name
}

const WORD_COUNT_SCHEMA: &str = r#"{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}"#;
const TALLY_SCHEMA: &str = r#"{"type":"object","properties":{"key":{"type":"string","minLength":1}},"required":["key"],"additionalProperties":false}"#;

/// A number that differs between instances (`*-nondeterministic`): a fresh random seed per
/// instance, so the same input answers differently.
fn salt() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one("salt") % 1_000_000_000
}

impl ToolGuest for Kinds {
    fn list_tools() -> Vec<ToolInfo> {
        let mut tools = vec![
            ToolInfo {
                name: "word_count".into(),
                description: if is("wrong-description") {
                    "Counts things.".into()
                } else {
                    "Counts the words in `text`.".into()
                },
                input_schema: if is("wrong-schema") {
                    r#"{"type":"object"}"#.into()
                } else {
                    WORD_COUNT_SCHEMA.into()
                },
                output_schema: None,
            },
            ToolInfo {
                name: "tally".into(),
                description: "Adds one to the counter `key` and returns it.".into(),
                input_schema: TALLY_SCHEMA.into(),
                output_schema: None,
            },
        ];
        if is("list-extra") {
            tools.push(ToolInfo {
                name: "secret".into(),
                description: "Not in the manifest.".into(),
                input_schema: r#"{"type":"object"}"#.into(),
                output_schema: None,
            });
        }
        tools
    }

    fn call(name: String, input: String) -> Result<String, ToolError> {
        let parsed: Result<Value, _> = serde_json::from_str(&input);
        let input = match parsed {
            Ok(value) => value,
            Err(e) if is("invalid-traps") => panic!("not JSON: {e}"),
            Err(e) => return Err(ToolError::InvalidInput(format!("the input is not JSON: {e}"))),
        };
        match name.as_str() {
            "word_count" => {
                // Counts its calls in `plinth:host/kv`; without the grant it counts words
                // all the same.
                if let Err(e) = plinth::host::kv::increment("word_count.calls", 1)
                    && is("denied-traps")
                {
                    panic!("kv failed: {e:?}");
                }
                let Some(text) = input.get("text").and_then(Value::as_str) else {
                    if is("invalid-as-failed") {
                        return Err(ToolError::Failed("no text".into()));
                    }
                    return Err(ToolError::InvalidInput("expected an object with a string `text`".into()));
                };
                if is("output-not-json") {
                    return Ok("words: many".into());
                }
                let mut words = text.split_whitespace().count();
                if is("wrong-output") {
                    words += 1;
                }
                if is("nondeterministic") {
                    return Ok(json!({"words": words, "salt": salt()}).to_string());
                }
                Ok(json!({"words": words}).to_string())
            }
            "tally" => {
                let Some(key) = input.get("key").and_then(Value::as_str) else {
                    return Err(ToolError::InvalidInput("expected an object with a string `key`".into()));
                };
                let count = match plinth::host::kv::increment(key, 1) {
                    Ok(count) => count,
                    Err(e) if is("denied-traps") => panic!("kv failed: {e:?}"),
                    Err(e) => return Err(ToolError::Failed(format!("kv: {e:?}"))),
                };
                Ok(json!({"count": count}).to_string())
            }
            other if is("unknown-traps") => panic!("no tool {other}"),
            other => Err(ToolError::UnknownTool(format!("no tool named `{other}`"))),
        }
    }
}

impl HookGuest for Kinds {
    fn handle(event: HookEvent) -> Decision {
        if event.point != "before-tool-call" {
            return if is("hook-deny-unknown") {
                Decision::Deny("unknown point".into())
            } else {
                Decision::Allow
            };
        }
        if is("hook-slow") {
            let mut n = 0u64;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        if is("hook-sluggish") {
            // Slower than the kit's default deadline of one second, then a fine answer.
            std::thread::sleep(std::time::Duration::from_millis(1_100));
        }
        // Subjects the operator blocked, in `plinth:host/kv`; without the grant there are
        // none.
        match plinth::host::kv::get("blocked-subject") {
            Ok(Some(blocked)) if blocked == event.subject.as_bytes() => {
                return Decision::Deny(format!("`{}` is blocked", event.subject));
            }
            Ok(_) => {}
            Err(e) if is("denied-traps") => panic!("kv failed: {e:?}"),
            Err(_) => {}
        }
        if is("hook-traps-large") && event.payload.len() > 32 * 1024 {
            panic!("payload too large");
        }
        let payload: Value = match serde_json::from_str(&event.payload) {
            Ok(payload) => payload,
            Err(e) if is("hook-traps-bad-json") => panic!("not JSON: {e}"),
            Err(_) => return Decision::Deny("the payload is not JSON".into()),
        };
        let Some(object) = payload.as_object() else {
            return Decision::Deny("the payload is not a JSON object".into());
        };
        if is("hook-traps-empty") && object.is_empty() {
            panic!("empty payload");
        }
        if let Some(path) = object.get("path").and_then(Value::as_str)
            && (path == "/etc" || path.starts_with("/etc/"))
            && !is("hook-wrong-decision")
        {
            return Decision::Deny(if is("hook-empty-reason") {
                String::new()
            } else {
                format!("`{}` touches {path}, under /etc", event.subject)
            });
        }
        if let Some(text) = object.get("text").and_then(Value::as_str)
            && text.trim() != text
        {
            if is("hook-modify-array") {
                return Decision::Modify(json!([text.trim()]).to_string());
            }
            let mut trimmed = object.clone();
            trimmed.insert("text".into(), Value::String(text.trim().into()));
            if is("hook-nondeterministic") {
                trimmed.insert("salt".into(), json!(salt()));
            }
            return Decision::Modify(Value::Object(trimmed).to_string());
        }
        Decision::Allow
    }
}

impl CommandGuest for Kinds {
    fn run(args: Vec<String>) -> Result<String, String> {
        if is("command-traps-no-args") && args.is_empty() {
            panic!("no arguments");
        }
        // Counts greetings in `plinth:host/kv`; without the grant it greets all the same.
        if let Err(e) = plinth::host::kv::increment("greetings", 1)
            && is("denied-traps")
        {
            panic!("kv failed: {e:?}");
        }
        if is("command-traps-unicode") && args.iter().any(|a| !a.is_ascii()) {
            panic!("not ASCII");
        }
        if is("command-heavy") {
            // Burns far more fuel than a greeting needs.
            let mut n = 0u64;
            for i in 0..200_000_000u64 {
                n = std::hint::black_box(n.wrapping_add(i));
            }
            let _ = n;
        }
        if args.len() > 100 && is("command-traps-many") {
            panic!("too many arguments");
        }
        let Some(first) = args.first() else {
            return Ok("Hello, world!".into());
        };
        if first.starts_with("--") {
            if is("command-traps-unknown-flag") {
                panic!("unknown flag {first}");
            }
            return Err(if is("command-empty-err") {
                String::new()
            } else {
                format!("unknown option `{first}`")
            });
        }
        if first.is_empty() && is("command-traps-empty-arg") {
            panic!("empty argument");
        }
        let name = if first.is_empty() { "world" } else { first };
        if is("command-wrong-output") {
            return Ok(format!("Hi, {name}."));
        }
        if is("command-nondeterministic") {
            return Ok(format!("Hello, {name}! ({})", salt()));
        }
        Ok(format!("Hello, {name}!"))
    }
}

impl LifecycleGuest for Kinds {
    fn on_load(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn on_setting_change(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn on_close() {}

    fn handle_event(_event: Event) -> Result<(), String> {
        Ok(())
    }
}

export!(Kinds);
