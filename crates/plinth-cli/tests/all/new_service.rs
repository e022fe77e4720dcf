//! `plinth new --kind service` in Rust, Python and JavaScript (docs/design/0048): each
//! project builds as written, `plinth check` and `plinth show` (its `next:` hint) report the
//! service, and the built component, run by the service runtime, answers real ingress
//! events: an application event with a `publish` command the host carries out, an HTTP
//! route's event with a reply, a WebSocket message with a `send-frame` command the host
//! refuses (its grant is not requested), and an empty event with a `reject` that
//! dead-letters it.
//!
//! One test builds the three projects one after the other (a Python or JavaScript build
//! holds ~300 MB and a core) and reuses one host, whose compile cache is the home's.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use plinth_host::kinds::{Frame, IngressEvent};
use plinth_host::{Host, LoadOptions};
use plinth_manifest::{Code, Grant};
use plinth_service::{
    Commands, DeadReason, Delivery, FrameSink, Service, ServiceConfig, ServiceEvent,
};
use serde_json::json;
use tokio::sync::broadcast;

use crate::common::{assert_ok, plinth_project};

/// Pushes `event` and waits (at most 60 s) for its final delivery; else fails with what the
/// service reported meanwhile.
async fn deliver(
    service: &Service,
    events: &mut broadcast::Receiver<ServiceEvent>,
    event: IngressEvent,
) -> Delivery {
    let (_, receiver) = service.request(event).expect("queued");
    match tokio::time::timeout(Duration::from_secs(60), receiver).await {
        Ok(delivery) => delivery.expect("a delivery"),
        Err(_) => {
            let mut seen = Vec::new();
            while let Ok(event) = events.try_recv() {
                seen.push(format!("{event:?}"));
            }
            panic!(
                "no delivery within 60 s; status {:?}; events: {seen:#?}",
                service.status()
            )
        }
    }
}

/// The WebSocket connections of the test: `c1`, on the endpoint `chat`; frames sent on it
/// are kept.
#[derive(Default)]
struct Frames {
    sent: Mutex<Vec<(String, Frame)>>,
}

impl FrameSink for Frames {
    fn endpoint(&self, connection: &str) -> Option<String> {
        (connection == "c1").then(|| "chat".to_string())
    }

    fn send(&self, connection: &str, frame: Frame) -> Result<(), String> {
        self.sent.lock().unwrap().push((connection.into(), frame));
        Ok(())
    }

    fn close(&self, _connection: &str, _code: u16, _reason: &str) -> Result<(), String> {
        Ok(())
    }
}

/// The next `CommandFailed` the service reports, within 60 s.
async fn next_failure(
    events: &mut broadcast::Receiver<ServiceEvent>,
) -> (&'static str, plinth_manifest::Diagnostic) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("a failed command within 60 s")
            .expect("the service's events");
        if let ServiceEvent::CommandFailed {
            command,
            diagnostic,
            ..
        } = event
        {
            return (command, diagnostic);
        }
    }
}

/// Runs the built project `dir` as a service and checks its answers to three events.
fn answers_events(host: &Host, dir: &Path, what: &str) {
    let grants: Vec<Grant> = vec!["events.publish:greetings".parse().unwrap()];
    let plugin = host
        .load_with(dir, LoadOptions::default().with_grants(grants))
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let config = ServiceConfig::for_plugin(&plugin).expect("the manifest's service");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut bus = host.subscribe_events(vec!["greetings".into()]);
        let frames = Arc::new(Frames::default());
        let commands = Commands::default().frames(frames.clone());
        let (service, mut events) = Service::spawn_with_events(plugin, config, commands).unwrap();

        // The application's own event: handled, and its greeting published.
        let delivery = deliver(
            &service,
            &mut events,
            IngressEvent::new("app", "message", b"world".to_vec()),
        )
        .await;
        assert_eq!(delivery, Delivery::Handled { reply: None }, "{what}");
        let published = bus
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|| panic!("{what}: nothing published"));
        assert_eq!(
            (published.channel.as_str(), published.payload.as_str()),
            ("greetings", "hello, world"),
            "{what}"
        );

        // An HTTP route's request: the reply is the response.
        let mut request = IngressEvent::new("http", "request", "Ada ✓".as_bytes().to_vec());
        request.connection = Some("/greet".into());
        request.meta = json!({"method": "POST", "path": "/greet"}).to_string();
        match deliver(&service, &mut events, request).await {
            Delivery::Handled { reply: Some(reply) } => {
                assert_eq!(reply.status, 200, "{what}");
                assert_eq!(
                    reply.headers,
                    vec![("content-type".to_string(), "text/plain".to_string())],
                    "{what}"
                );
                assert_eq!(String::from_utf8(reply.body).unwrap(), "hello, Ada ✓");
            }
            other => panic!("{what}: expected a reply, got {other:?}"),
        }

        // A WebSocket message is answered on its connection with a frame, which needs the
        // `websocket:<endpoint>` grant the template does not request: refused with a coded
        // diagnostic, and nothing is sent.
        let mut message = IngressEvent::new("websocket", "message", b"there".to_vec());
        message.connection = Some("c1".into());
        message.connection_sequence = 1;
        let delivery = deliver(&service, &mut events, message).await;
        assert_eq!(delivery, Delivery::Handled { reply: None }, "{what}");
        let (command, diagnostic) = next_failure(&mut events).await;
        assert_eq!(command, "send-frame", "{what}");
        assert_eq!(
            diagnostic.code,
            Code::MissingGrant,
            "{what}: {diagnostic:?}"
        );
        assert!(
            diagnostic.message.contains("websocket:chat"),
            "{what}: {}",
            diagnostic.message
        );
        assert!(
            frames.sent.lock().unwrap().is_empty(),
            "{what}: a frame was sent"
        );

        // An empty event is rejected for good: dead-lettered with the handler's reason.
        let delivery = deliver(
            &service,
            &mut events,
            IngressEvent::new("app", "message", Vec::new()),
        )
        .await;
        assert_eq!(
            delivery,
            Delivery::DeadLettered(DeadReason::Rejected("an empty message".into())),
            "{what}"
        );

        let stats = service.stop().await;
        assert_eq!(
            (
                stats.delivered,
                stats.dead_lettered,
                stats.commands,
                stats.commands_failed
            ),
            (3, 1, 1, 1),
            "{what}: {stats:?}"
        );
        assert!(bus.try_recv().is_none(), "{what}: one publish only");
    });
    drop(runtime);
}

#[test]
fn service_templates_build_check_show_and_answer_events_in_every_language() {
    let root = tempfile::Builder::new()
        .prefix("plinth-new-service")
        .tempdir()
        .expect("temp dir");
    let root = root.path();
    let host = Host::builder()
        .cache_dir(root.join("home/cache"))
        .build()
        .expect("host");
    for lang in ["rust", "python", "js"] {
        let name = format!("greeter-{lang}");
        let created = plinth_project(
            root,
            &["--json", "new", &name, "--kind", "service", "--lang", lang],
        );
        assert_ok(&created, &format!("new {name}"));
        assert_eq!(
            created.json()["next"],
            json!(format!("plinth build {name} && plinth show {name}"))
        );
        let manifest = std::fs::read_to_string(root.join(&name).join("plugin.toml")).unwrap();
        assert!(manifest.contains("[[provides.service]]"), "{manifest}");

        let built = plinth_project(root, &["build", &name]);
        assert_ok(&built, &format!("build {name}"));

        let checked = plinth_project(root, &["--json", "check", &name]);
        assert_ok(&checked, &format!("check {name}"));
        assert_eq!(checked.json()["kinds"], json!(["service"]), "{name}");

        let shown = plinth_project(root, &["show", &name]);
        assert_ok(&shown, &format!("show {name}"));
        assert!(
            shown.stdout.contains(
                "service: queue 256 (reject when full), 1 at once, deadline the wall clock, 3 attempts"
            ),
            "{name}: {}",
            shown.stdout
        );

        answers_events(&host, &root.join(&name), &name);
    }
    drop(host);
}
