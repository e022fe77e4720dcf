//! A chat bridge service for Yoi (seed 001), written with the Rust PDK.
//!
//! The host holds the gateway's WebSocket connection (endpoint `discord`); each frame is a
//! JSON message `{"author": "...", "content": "..."}` that arrives as an ingress event. The
//! bridge never touches a socket: it answers with output commands the host checks.
//!
//! - `content` starting with `!TOOL ARGS` asks the application to run tool `TOOL` with
//!   `{"text": ARGS}` (action `run_tool`); the application answers with an `app` event of
//!   kind `tool-result` (`meta`: `connection`, `tool`, and `output` or `denied`), which the
//!   bridge relays to the chat as `{"reply": "TOOL: OUTPUT"}` or `{"reply": "denied: ..."}`;
//! - `!crash` panics: the host replaces the instance and, after `max_attempts`,
//!   dead-letters the message;
//! - anything else is answered with `{"reply": "ack: CONTENT"}`, posted to the
//!   `webhook_url` setting (when set) and published on `yoi.audit`;
//! - `noise` events from the application (a flood) are counted and answered with nothing.

use std::cell::Cell;

use plinth_pdk::prelude::*;

struct Bridge;

thread_local! {
    static NOISE: Cell<u64> = const { Cell::new(0) };
}

impl Plugin for Bridge {}

fn reply(connection: &str, text: &str) -> ServiceCommand {
    ServiceCommand::send_text(connection, json!({ "reply": text }).to_string())
}

fn chat(connection: &str, event: &IngressEvent) -> Handled {
    let Ok(message) = serde_json::from_slice::<Value>(&event.body) else {
        return Handled::reject("a chat frame that is not JSON");
    };
    let content = message["content"].as_str().unwrap_or_default().trim();
    let author = message["author"].as_str().unwrap_or("someone");
    if content == "!crash" {
        panic!("told to crash by {author}");
    }
    if let Some(command) = content.strip_prefix('!') {
        let (tool, args) = command.split_once(' ').unwrap_or((command, ""));
        return Handled::ok().command(ServiceCommand::action(
            "run_tool",
            json!({ "connection": connection, "tool": tool, "input": { "text": args } }),
        ));
    }
    let mut handled = Handled::ok()
        .command(reply(connection, &format!("ack: {content}")))
        .command(ServiceCommand::publish(
            "yoi.audit",
            json!({ "author": author, "sequence": event.connection_sequence }).to_string(),
        ));
    let webhook = config::get("webhook_url").ok().flatten();
    if let Some(url) = webhook
        .as_ref()
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
    {
        handled = handled.command(ServiceCommand::post_json(
            format!("webhook-{}", event.sequence),
            url,
            &json!({ "author": author, "content": content }),
        ));
    }
    handled
}

impl Service for Bridge {
    fn handle(event: IngressEvent) -> Handled {
        let connection = event.connection.clone().unwrap_or_default();
        match (event.source.as_str(), event.kind.as_str()) {
            ("websocket", "message") => chat(&connection, &event),
            ("app", "tool-result") => {
                let meta = &event.meta;
                let to = meta["connection"].as_str().unwrap_or_default();
                let tool = meta["tool"].as_str().unwrap_or_default();
                let text = match meta.get("denied").and_then(Value::as_str) {
                    Some(reason) => format!("denied: {reason}"),
                    None => format!("{tool}: {}", meta["output"]),
                };
                Handled::ok().command(reply(to, &text))
            }
            ("app", "noise") => {
                NOISE.set(NOISE.get() + 1);
                Handled::ok()
            }
            ("app", "noise-count") => {
                Handled::ok().reply(200, "text/plain", NOISE.get().to_string())
            }
            // Open and close of connections, webhook answers: nothing to do.
            _ => Handled::ok(),
        }
    }
}

plinth_pdk::export!(Bridge: service);
