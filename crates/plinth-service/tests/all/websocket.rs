//! The host-owned WebSocket driver: inbound and outbound connections, ordered events,
//! synthesized closes, reconnects, and frames sent only with the endpoint granted.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use plinth_host::Host;
use plinth_manifest::Code;
use plinth_service::{
    Backoff, Commands, Service, ServiceConfig, ServiceEvent, WebSocketDriver, bind_loopback,
};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{ask, load, reply_text, run};

const CAPS: &str = "[capabilities]\nwebsocket = [\"chat\"]";

fn spawn(host: &Host, grants: &[&str], driver: &WebSocketDriver) -> Arc<Service> {
    let plugin = load(host, "test.service", "", CAPS, grants);
    let commands = Commands::default().frames(Arc::new(driver.clone()));
    Arc::new(Service::spawn(plugin, ServiceConfig::default(), commands).unwrap())
}

/// Waits (bounded) until the service's `ws-log` has `lines` lines; returns them.
async fn ws_log(service: &Service, lines: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let log = reply_text(&ask(service, "ws-log", "").await);
        let log: Vec<String> = log.lines().map(str::to_owned).collect();
        if log.len() >= lines || tokio::time::Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn next_text<S>(stream: &mut S) -> String
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("a frame within 30 s")
            .expect("open")
            .expect("no error");
        if let Message::Text(text) = message {
            return text.to_string();
        }
    }
}

#[test]
fn inbound_frames_become_ordered_events_and_replies_go_back_on_the_connection() {
    run(Host::new().unwrap(), async |host| {
        let driver = WebSocketDriver::new();
        let service = spawn(&host, &["websocket:chat"], &driver);
        let listener = bind_loopback("127.0.0.1:0".parse().unwrap(), false)
            .await
            .unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let accept = driver.listen("chat", listener, service.clone());

        let (mut client, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap();
        for text in ["one", "two", "three"] {
            client.send(Message::text(text)).await.unwrap();
        }
        for text in ["one", "two", "three"] {
            assert_eq!(next_text(&mut client).await, format!("echo: {text}"));
        }
        let id = driver.connection_ids("chat").pop().expect("one connection");
        // Dropped without a close frame: the host synthesizes the close.
        drop(client);
        let log = ws_log(&service, 5).await;
        assert_eq!(
            log,
            [
                format!("open {id}"),
                format!("message {id} 2 one"),
                format!("message {id} 3 two"),
                format!("message {id} 4 three"),
                format!("close {id} 1006 synthesized"),
            ]
        );
        assert_eq!(driver.connections(), 0);
        accept.abort();
        service.stop().await;
    });
}

#[test]
fn frames_to_an_endpoint_that_is_not_granted_are_refused() {
    run(Host::new().unwrap(), async |host| {
        let driver = WebSocketDriver::new();
        let service = spawn(&host, &[], &driver);
        let mut events = service.subscribe();
        let listener = bind_loopback("127.0.0.1:0".parse().unwrap(), false)
            .await
            .unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let accept = driver.listen("chat", listener, service.clone());
        let (mut client, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap();
        client.send(Message::text("hi")).await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let diagnostic = loop {
            match tokio::time::timeout_at(deadline, events.recv())
                .await
                .unwrap()
                .unwrap()
            {
                ServiceEvent::CommandFailed { diagnostic, .. } => break diagnostic,
                _ => continue,
            }
        };
        assert_eq!(diagnostic.code, Code::MissingGrant);
        assert!(diagnostic.message.contains("websocket:chat"));
        // Nothing was sent: the client closes and sees only the server's close.
        client.close(None).await.unwrap();
        while let Some(Ok(message)) = client.next().await {
            assert!(!matches!(message, Message::Text(_)), "{message:?}");
        }
        let log = ws_log(&service, 3).await;
        assert!(log.last().unwrap().ends_with("sent"), "{log:?}");
        accept.abort();
        service.stop().await;
    });
}

#[test]
fn an_outbound_connection_reconnects_after_the_server_drops_it() {
    run(Host::new().unwrap(), async |host| {
        let driver = WebSocketDriver::new();
        let service = spawn(&host, &["websocket:chat"], &driver);
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", server.local_addr().unwrap());
        let client = driver.connect(
            "chat",
            &url,
            service.clone(),
            Backoff {
                initial: Duration::from_millis(10),
                max: Duration::from_millis(50),
            },
        );
        // First connection: the server speaks, hears the echo, then drops the socket.
        let (tcp, _) = server.accept().await.unwrap();
        let mut socket = tokio_tungstenite::accept_async(tcp).await.unwrap();
        socket.send(Message::text("ping")).await.unwrap();
        assert_eq!(next_text(&mut socket).await, "echo: ping");
        drop(socket);
        // The driver comes back on its own.
        let (tcp, _) = tokio::time::timeout(Duration::from_secs(30), server.accept())
            .await
            .expect("reconnected within 30 s")
            .unwrap();
        let mut socket = tokio_tungstenite::accept_async(tcp).await.unwrap();
        socket.send(Message::text("again")).await.unwrap();
        assert_eq!(next_text(&mut socket).await, "echo: again");
        let log = ws_log(&service, 5).await;
        let kinds: Vec<&str> = log.iter().map(|l| l.split(' ').next().unwrap()).collect();
        assert_eq!(
            kinds,
            ["open", "message", "close", "open", "message"],
            "{log:?}"
        );
        assert!(log[2].ends_with("synthesized"), "{log:?}");
        assert_ne!(log[0], log[3], "a new connection id after a reconnect");
        client.abort();
        service.stop().await;
    });
}

/// A self-signed certificate for 127.0.0.1: the server's TLS settings, and a client's that
/// trusts only it.
fn tls_pair() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let key = rustls::pki_types::PrivateKeyDer::try_from(signing_key.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

#[test]
fn wss_connections_carry_frames_both_ways_and_an_untrusted_server_is_refused() {
    run(Host::new().unwrap(), async |host| {
        let driver = WebSocketDriver::new();
        let service = spawn(&host, &["websocket:chat"], &driver);
        let (server_tls, client_tls) = tls_pair();

        // Inbound wss: a client that trusts the certificate talks to the driver.
        let listener = bind_loopback("127.0.0.1:0".parse().unwrap(), false)
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let accept = driver.listen_tls("chat", listener, server_tls.clone(), service.clone());
        let (mut socket, _) = tokio_tungstenite::connect_async_tls_with_config(
            format!("wss://{addr}/"),
            None,
            false,
            Some(tokio_tungstenite::Connector::Rustls(client_tls.clone())),
        )
        .await
        .unwrap();
        socket.send(Message::text("over tls")).await.unwrap();
        assert_eq!(next_text(&mut socket).await, "echo: over tls");
        drop(socket);
        accept.abort();

        // Outbound wss: the driver connects to a wss server with the client settings.
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("wss://{}/", server.local_addr().unwrap());
        let backoff = Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(50),
        };
        let client = driver.connect_tls("chat", &url, service.clone(), backoff, client_tls);
        let acceptor = tokio_rustls::TlsAcceptor::from(server_tls.clone());
        let (tcp, _) = server.accept().await.unwrap();
        let tls = acceptor.accept(tcp).await.unwrap();
        let mut socket = tokio_tungstenite::accept_async(tls).await.unwrap();
        socket.send(Message::text("ping")).await.unwrap();
        assert_eq!(next_text(&mut socket).await, "echo: ping");
        client.abort();

        // With the Web PKI roots, the self-signed server is refused: the client aborts the
        // handshake, so the server's side fails too.
        let untrusting = driver.connect("chat", &url, service.clone(), backoff);
        let (tcp, _) = server.accept().await.unwrap();
        assert!(acceptor.accept(tcp).await.is_err());
        untrusting.abort();
        service.stop().await;
    });
}
