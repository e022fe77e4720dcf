//! Output commands: each kind allowed with its grant and denied without it, and a denied
//! command has no effect and yields a coded diagnostic.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use plinth_host::kinds::Frame;
use plinth_host::{Host, NetworkSettings};
use plinth_manifest::Code;
use plinth_service::{ActionCall, Commands, FrameSink, Service, ServiceConfig, ServiceEvent};
use serde_json::json;

use crate::common::{ask, event, load, run, wait_until};

/// The next `CommandFailed` the service reports, within 30 s.
async fn next_failure(
    events: &mut tokio::sync::broadcast::Receiver<ServiceEvent>,
) -> (&'static str, plinth_manifest::Diagnostic) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("a failed command within 30 s")
            .unwrap();
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

#[test]
fn publish_needs_its_channel_granted() {
    run(Host::new().unwrap(), async |host| {
        let mut bus = host.subscribe_events(vec!["*".into()]);
        let plugin = load(
            &host,
            "test.service",
            "",
            "[capabilities]\nevents = { publish = [\"alerts\", \"audit\"] }",
            &["events.publish:alerts"],
        );
        let service =
            Service::spawn(plugin, ServiceConfig::default(), Commands::default()).unwrap();
        let mut events = service.subscribe();
        ask(&service, "publish", "alerts disk full").await;
        let published = bus
            .recv_timeout(Duration::from_secs(10))
            .expect("published");
        assert_eq!(
            (published.channel.as_str(), published.payload.as_str()),
            ("alerts", "disk full")
        );
        assert_eq!(published.plugin, "test.service");
        // Requested but not granted: refused, nothing published.
        ask(&service, "publish", "audit secret").await;
        let (command, diagnostic) = next_failure(&mut events).await;
        assert_eq!(command, "publish");
        assert_eq!(diagnostic.code, Code::MissingGrant);
        assert!(
            diagnostic.message.contains("events.publish:audit"),
            "{}",
            diagnostic.message
        );
        assert!(bus.try_recv().is_none(), "a denied publish has no effect");
        let stats = service.stop().await;
        assert_eq!((stats.commands, stats.commands_failed), (1, 1));
    });
}

#[test]
fn actions_need_their_capability_and_scope_granted() {
    run(Host::new().unwrap(), async |host| {
        let calls: Arc<Mutex<Vec<ActionCall>>> = Arc::default();
        let commands = Commands::default().action("notify", {
            let calls = calls.clone();
            move |call| {
                calls.lock().unwrap().push(call);
                Ok(())
            }
        });
        let plugin = load(
            &host,
            "test.service",
            "",
            "[capabilities]\nnotify = [\"ops\", \"ceo\"]",
            &["notify:ops"],
        );
        let service = Service::spawn(plugin, ServiceConfig::default(), commands).unwrap();
        let mut events = service.subscribe();
        ask(&service, "action", "notify:ops {\"text\":\"hi\"}").await;
        ask(&service, "action", "notify:ceo {\"text\":\"hi\"}").await;
        let (command, diagnostic) = next_failure(&mut events).await;
        assert_eq!(command, "action");
        assert_eq!(diagnostic.code, Code::MissingGrant);
        let calls_now = calls.lock().unwrap().clone();
        assert_eq!(calls_now.len(), 1, "only the granted scope ran");
        assert_eq!(calls_now[0].scope.as_deref(), Some("ops"));
        assert_eq!(calls_now[0].payload, json!({"text": "hi"}));
        assert_eq!(calls_now[0].plugin, "test.service");
        service.stop().await;
    });
}

/// Connections of endpoint `chat` (`c1`, `c2`), recording what is sent.
#[derive(Default)]
struct Sink {
    sent: Mutex<Vec<(String, Frame)>>,
    closed: Mutex<Vec<(String, u16)>>,
}

impl FrameSink for Sink {
    fn endpoint(&self, connection: &str) -> Option<String> {
        match connection {
            "c1" | "c2" => Some("chat".into()),
            "a1" => Some("admin".into()),
            _ => None,
        }
    }

    fn send(&self, connection: &str, frame: Frame) -> Result<(), String> {
        self.sent.lock().unwrap().push((connection.into(), frame));
        Ok(())
    }

    fn close(&self, connection: &str, code: u16, _reason: &str) -> Result<(), String> {
        self.closed.lock().unwrap().push((connection.into(), code));
        Ok(())
    }
}

#[test]
fn frames_need_the_connections_endpoint_granted() {
    run(Host::new().unwrap(), async |host| {
        let sink = Arc::new(Sink::default());
        let commands = Commands::default().frames(sink.clone());
        let plugin = load(
            &host,
            "test.service",
            "",
            "[capabilities]\nwebsocket = [\"chat\", \"admin\"]",
            &["websocket:chat"],
        );
        let service = Service::spawn(plugin, ServiceConfig::default(), commands).unwrap();
        let mut events = service.subscribe();
        ask(&service, "frame", "c1 hello").await;
        ask(&service, "close", "c2").await;
        ask(&service, "frame", "a1 sudo").await;
        let (command, diagnostic) = next_failure(&mut events).await;
        assert_eq!(
            (command, diagnostic.code),
            ("send-frame", Code::MissingGrant)
        );
        assert!(diagnostic.message.contains("websocket:admin"));
        ask(&service, "frame", "nobody hi").await;
        let (_, diagnostic) = next_failure(&mut events).await;
        assert_eq!(diagnostic.code, Code::BadArgument, "unknown connection");
        assert_eq!(
            *sink.sent.lock().unwrap(),
            [("c1".to_string(), Frame::Text("hello".into()))]
        );
        assert_eq!(*sink.closed.lock().unwrap(), [("c2".to_string(), 1000)]);
        service.stop().await;
    });
}

/// A one-request-at-a-time HTTP server on 127.0.0.1 answering `200 pong`, counting
/// requests; it stops when the test's process does.
fn pong_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\npong",
            );
        }
    });
    (port, hits)
}

#[test]
fn http_requests_need_their_host_granted_and_answer_as_ingress_events() {
    let (port, hits) = pong_server();
    let host = Host::builder()
        .network(
            NetworkSettings::default()
                .with_plain_http(true)
                .allow_loopback_port(port),
        )
        .build()
        .unwrap();
    run(host, async move |host| {
        let caps = format!("[capabilities]\nhttp = {{ allow = [\"127.0.0.1:{port}\"] }}");
        let grant = format!("http:127.0.0.1:{port}");
        let granted = load(&host, "test.service", "", &caps, &[&grant]);
        let service =
            Service::spawn(granted, ServiceConfig::default(), Commands::default()).unwrap();
        let mut events = service.subscribe();
        ask(&service, "http", &format!("http://127.0.0.1:{port}/ping")).await;
        // The answer comes back as an ingress event the handler sees (and counts).
        wait_until(|| service.stats().delivered == 2).await;
        let stats = service.stop().await;
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(stats.commands, 1);
        assert_eq!(stats.delivered, 2, "the command's event and the response's");
        assert_eq!(stats.commands_failed, 0);
        assert!(
            !std::iter::from_fn(|| events.try_recv().ok())
                .any(|e| matches!(e, ServiceEvent::CommandFailed { .. })),
            "no command failed"
        );

        let denied = load(&host, "test.service", "", &caps, &[]);
        let service =
            Service::spawn(denied, ServiceConfig::default(), Commands::default()).unwrap();
        let mut events = service.subscribe();
        ask(&service, "http", &format!("http://127.0.0.1:{port}/ping")).await;
        let (command, diagnostic) = next_failure(&mut events).await;
        assert_eq!(command, "http-request");
        assert_eq!(
            diagnostic.code,
            Code::MissingGrant,
            "{}",
            diagnostic.message
        );
        // The failure comes back as an `error` event too.
        wait_until(|| service.stats().delivered == 2).await;
        service.stop().await;
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "a denied request sends nothing"
        );
    });
}

#[test]
fn commands_of_successive_events_run_in_event_order() {
    // Serial dispatch runs each event's commands before the next event's: five events, one
    // publish each, reach the bus in the order the events were pushed.
    run(Host::new().unwrap(), async |host| {
        let mut bus = host.subscribe_events(vec!["seq".into()]);
        let plugin = load(
            &host,
            "test.service",
            "",
            "[capabilities]\nevents = { publish = [\"seq\"] }",
            &["events.publish:seq"],
        );
        let service =
            Service::spawn(plugin, ServiceConfig::default(), Commands::default()).unwrap();
        for i in 0..5 {
            service.push(event("publish", &format!("seq {i}"))).unwrap();
        }
        assert!(service.idle(Duration::from_secs(30)).await);
        let got: Vec<String> = (0..5)
            .map(|_| bus.recv_timeout(Duration::from_secs(10)).unwrap().payload)
            .collect();
        assert_eq!(got, ["0", "1", "2", "3", "4"]);
        service.stop().await;
    });
}
