//! `service`: one component providing the `service` kind, for the service runtime's tests.
//! Each event's `kind` selects what the handler does:
//!
//! - `count`: counts the event (by sequence order) and answers `ok`;
//! - `report`: answers `ok` with a reply whose body is `COUNT SEQUENCES-IN-ORDER`
//!   (`in-order` when every counted event came after the previous one, else `out-of-order`);
//! - `echo`: answers `ok` with the body as the reply;
//! - `reject`: answers `reject("refused: BODY")`;
//! - `retry`: answers `retry(5)` every time;
//! - `flaky`: answers `retry(1)` on the first attempt, `ok` on the next;
//! - `trap`: panics (a trap);
//! - `trap-once`: panics on the first attempt, `ok` on the next (the instance is new then);
//! - `spin`: loops until the deadline's epoch interrupt ends it;
//! - `block`: sleeps an hour in `wasi:clocks` (a host import the deadline must end);
//! - `work`: burns the number of iterations in the body (decimal text), then `ok`;
//! - `publish`, `action`, `frame`, `close`, `http`: answers `ok` with one output command
//!   built from the body (`CHANNEL PAYLOAD`, `NAME[:SCOPE] JSON`, `CONNECTION TEXT`,
//!   `CONNECTION`, `URL`);
//! - `instances`: replies with how many times `start` ran in this instance (always 1:
//!   a restarted instance starts from scratch).
//!
//! Events from `websocket` are logged (`open CONNECTION`, `message CONNECTION SEQ TEXT`,
//! `close CONNECTION CODE synthesized|sent`; `ws-log` replies with the log, one line each)
//! and each text message is answered on its connection with `echo: TEXT`. Requests from
//! `http` are answered by route: `/echo` replies 200 with `you sent: BODY` and an
//! `x-plugin` header, `/none` answers nothing (204), `/reject` rejects, `/trap` traps,
//! `/slow` sleeps 300 ms first, `/meta` replies with the event's metadata.
//!
//! `start` fails when the plugin id (`argv[0]`) ends in `.failstart`.

use std::cell::Cell;

use exports::plinth::plugin::lifecycle::{Event, Guest as LifecycleGuest};
use exports::plinth::service::service::{
    Action, CloseConnection, Command, Frame, Guest, Handled, Header, HttpRequest, IngressEvent,
    Outcome, Publish, Reply, SendFrame,
};

wit_bindgen::generate!({
    world: "service",
    path: "wit",
    generate_all,
});

thread_local! {
    static COUNT: Cell<u64> = const { Cell::new(0) };
    static LAST: Cell<u64> = const { Cell::new(0) };
    static IN_ORDER: Cell<bool> = const { Cell::new(true) };
    static STARTS: Cell<u32> = const { Cell::new(0) };
    static WS_LOG: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn websocket(event: IngressEvent) -> Handled {
    let connection = event.connection.clone().unwrap_or_default();
    match event.kind.as_str() {
        "message" => {
            let message = text(&event);
            WS_LOG.with_borrow_mut(|log| {
                log.push(format!(
                    "message {connection} {} {message}",
                    event.connection_sequence
                ))
            });
            command(Command::SendFrame(SendFrame {
                connection,
                frame: Frame::Text(format!("echo: {message}")),
            }))
        }
        "close" => {
            let synthesized = event.meta.contains("\"synthesized\":true");
            let code = event
                .meta
                .split("\"code\":")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .unwrap_or_default()
                .to_string();
            let how = if synthesized { "synthesized" } else { "sent" };
            WS_LOG.with_borrow_mut(|log| log.push(format!("close {connection} {code} {how}")));
            ok()
        }
        other => {
            WS_LOG.with_borrow_mut(|log| log.push(format!("{other} {connection}")));
            ok()
        }
    }
}

fn http(event: IngressEvent) -> Handled {
    match event.connection.as_deref().unwrap_or_default() {
        "/echo" => Handled {
            reply: Some(Reply {
                status: 200,
                headers: vec![Header {
                    name: "x-plugin".into(),
                    value: "test.service".into(),
                }],
                body: [b"you sent: ".as_slice(), &event.body].concat(),
            }),
            ..ok()
        },
        "/reject" => Handled {
            outcome: Outcome::Reject("not today".into()),
            ..ok()
        },
        "/trap" => panic!("the route traps"),
        "/slow" => {
            std::thread::sleep(std::time::Duration::from_millis(300));
            ok()
        }
        "/meta" => reply(event.meta.into_bytes()),
        _ => ok(),
    }
}

struct Service;

fn ok() -> Handled {
    Handled {
        outcome: Outcome::Ok,
        commands: Vec::new(),
        reply: None,
    }
}

fn reply(body: Vec<u8>) -> Handled {
    Handled {
        reply: Some(Reply {
            status: 200,
            headers: vec![],
            body,
        }),
        ..ok()
    }
}

fn command(command: Command) -> Handled {
    Handled {
        commands: vec![command],
        ..ok()
    }
}

fn text(event: &IngressEvent) -> String {
    String::from_utf8_lossy(&event.body).into_owned()
}

impl Guest for Service {
    fn start() -> Result<(), String> {
        let id = std::env::args().next().unwrap_or_default();
        if id.ends_with(".failstart") {
            return Err("refusing to start".into());
        }
        STARTS.set(STARTS.get() + 1);
        Ok(())
    }

    fn handle(event: IngressEvent) -> Handled {
        match event.source.as_str() {
            "websocket" => return websocket(event),
            "http" => return http(event),
            _ => {}
        }
        match event.kind.as_str() {
            "ws-log" => WS_LOG.with_borrow(|log| reply(log.join("\n").into_bytes())),
            "count" => {
                if event.sequence <= LAST.get() {
                    IN_ORDER.set(false);
                }
                LAST.set(event.sequence);
                COUNT.set(COUNT.get() + 1);
                ok()
            }
            "report" => {
                let order = if IN_ORDER.get() {
                    "in-order"
                } else {
                    "out-of-order"
                };
                reply(format!("{} {order}", COUNT.get()).into_bytes())
            }
            "echo" => reply(event.body),
            "reject" => Handled {
                outcome: Outcome::Reject(format!("refused: {}", text(&event))),
                ..ok()
            },
            "retry" => Handled {
                outcome: Outcome::Retry(5),
                ..ok()
            },
            "flaky" if event.attempt < 2 => Handled {
                outcome: Outcome::Retry(1),
                ..ok()
            },
            "flaky" => ok(),
            "trap" => panic!("the service was told to trap"),
            "trap-once" if event.attempt < 2 => panic!("trapping on the first attempt"),
            "trap-once" => ok(),
            "spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "block" => {
                std::thread::sleep(std::time::Duration::from_secs(3600));
                ok()
            }
            "work" => {
                let iterations: u64 = text(&event).trim().parse().unwrap_or(0);
                let mut acc: u64 = 0;
                for i in 0..iterations {
                    acc = std::hint::black_box(acc.wrapping_mul(31).wrapping_add(i));
                }
                std::hint::black_box(acc);
                ok()
            }
            "publish" => {
                let body = text(&event);
                let (channel, payload) = body.split_once(' ').unwrap_or((&body, ""));
                command(Command::Publish(Publish {
                    channel: channel.into(),
                    payload: payload.into(),
                }))
            }
            "action" => {
                let body = text(&event);
                let (target, payload) = body.split_once(' ').unwrap_or((&body, "null"));
                let (name, scope) = match target.split_once(':') {
                    Some((name, scope)) => (name, Some(scope.to_string())),
                    None => (target, None),
                };
                command(Command::Action(Action {
                    name: name.into(),
                    scope,
                    payload: payload.into(),
                }))
            }
            "frame" => {
                let body = text(&event);
                let (connection, message) = body.split_once(' ').unwrap_or((&body, ""));
                command(Command::SendFrame(SendFrame {
                    connection: connection.into(),
                    frame: Frame::Text(message.into()),
                }))
            }
            "close" => command(Command::Close(CloseConnection {
                connection: text(&event),
                code: 1000,
                reason: "done".into(),
            })),
            "http" => command(Command::HttpRequest(HttpRequest {
                tag: format!("req-{}", event.sequence),
                method: "GET".into(),
                url: text(&event),
                headers: vec![],
                body: vec![],
            })),
            "instances" => reply(STARTS.get().to_string().into_bytes()),
            _ => ok(),
        }
    }

    fn stop() {}
}

impl LifecycleGuest for Service {
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

export!(Service);
