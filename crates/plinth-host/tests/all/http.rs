//! `plinth:host/http` end to end: the `http` guest against a real server on 127.0.0.1.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use crate::common::net::{self, FixedResolver, run};
use crate::common::server::Server;

#[test]
fn granted_get_and_post_reach_the_server() {
    let server = Server::start();
    let host = net::builder(net::local(&[server.port])).build().unwrap();
    let plugin = net::load(&host, &[format!("127.0.0.1:{}", server.port)]);
    let got = run(&plugin, &["fetch", "GET", &server.url("/echo?q=1")]).unwrap();
    assert_eq!(
        got,
        format!(
            "200 GET /echo?q=1 x-plinth=- host=127.0.0.1:{} body=",
            server.port
        )
    );
    let got = run(
        &plugin,
        &["fetch-body", "POST", &server.url("/echo"), "hello body"],
    )
    .unwrap();
    assert!(
        got.starts_with("200 POST /echo x-plinth=test host=") && got.ends_with("body=hello body"),
        "{got}"
    );
    assert_eq!(
        run(&plugin, &["fetch", "GET", &server.url("/nothing")]).unwrap(),
        "404 not found"
    );
}

#[test]
fn ungranted_host_is_missing_grant_with_the_grant_command() {
    let server = Server::start();
    let host = net::builder(net::local(&[server.port])).build().unwrap();
    let plugin = net::load(&host, &["api.example.com".into()]);
    let err = run(&plugin, &["fetch", "GET", &server.url("/echo")]).unwrap_err();
    assert!(err.starts_with("missing-grant: "), "{err}");
    assert!(
        err.contains(&format!("plinth grant http http:127.0.0.1:{}", server.port)),
        "{err}"
    );
    assert_eq!(server.hits(), 0, "nothing may be sent without a grant");
    let warned = common::records_of("http")
        .iter()
        .any(|r| r.message.starts_with("missing-grant:"));
    assert!(warned, "the missing grant is reported in the plugin's log");
}

#[test]
fn a_name_is_resolved_by_the_embedders_resolver_and_connected_by_address() {
    let server = Server::start();
    let resolver = FixedResolver::default().with("svc.test", &["127.0.0.1"]);
    let host = net::builder(net::local(&[server.port]))
        .resolver(Arc::new(resolver))
        .build()
        .unwrap();
    let plugin = net::load(&host, &[format!("svc.test:{}", server.port)]);
    let url = format!("http://svc.test:{}/echo", server.port);
    let got = run(&plugin, &["fetch", "GET", &url]).unwrap();
    assert!(
        got.contains(&format!("host=svc.test:{}", server.port)),
        "the Host header names the URL's host: {got}"
    );
}

#[test]
fn redirects_are_followed_within_the_grants() {
    let server = Server::start();
    let host = net::builder(net::local(&[server.port])).build().unwrap();
    let plugin = net::load(&host, &[format!("127.0.0.1:{}", server.port)]);
    let target = server.url("/echo");
    for status in ["301", "302", "303", "307", "308"] {
        let url = server.url(&format!("/redirect/{status}?{target}"));
        let got = run(&plugin, &["fetch-body", "POST", &url, "b"]).unwrap();
        let kept = matches!(status, "307" | "308");
        let want = if kept {
            "200 POST /echo"
        } else {
            "200 GET /echo"
        };
        assert!(got.starts_with(want), "{status}: {got}");
        assert_eq!(got.ends_with("body=b"), kept, "{status}: {got}");
    }
    // A relative location resolves against the request URL.
    let got = run(
        &plugin,
        &["fetch", "GET", &server.url("/redirect/302?/echo")],
    )
    .unwrap();
    assert!(got.starts_with("200 GET /echo"), "{got}");
}

#[test]
fn submit_delivers_an_http_response_event_to_a_live_instance() {
    let server = Server::start();
    let host = net::builder(net::local(&[server.port])).build().unwrap();
    let plugin = net::load(&host, &[format!("127.0.0.1:{}", server.port)]);
    let mut instance = plugin.instantiate().unwrap();
    let first = net::outcome(
        instance
            .call_json("run", &[serde_json::json!(["submit", server.url("/echo")])])
            .unwrap(),
    )
    .unwrap();
    let second = net::outcome(
        instance
            .call_json(
                "run",
                &[serde_json::json!(["submit", server.url("/binary")])],
            )
            .unwrap(),
    )
    .unwrap();
    assert_ne!(first, second, "each submit has its own id");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let inbox = plugin.inbox().clone();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), async {
            while inbox.len() < 2 {
                inbox.notified().await;
            }
        })
        .await
        .expect("both responses arrive")
    });
    assert_eq!(instance.deliver_pending().unwrap(), 2);
    let events: Vec<String> = common::records_of("http")
        .into_iter()
        .map(|r| r.message)
        .filter(|m| m.starts_with("event http-response "))
        .collect();
    let text = events
        .iter()
        .find(|m| m.starts_with(&format!("event http-response {first} ")))
        .unwrap_or_else(|| panic!("no event for {first}: {events:?}"));
    let payload: serde_json::Value =
        serde_json::from_str(text.splitn(4, ' ').nth(3).unwrap()).unwrap();
    assert_eq!(payload["ok"], true);
    assert_eq!(payload["status"], 200);
    assert_eq!(payload["encoding"], "utf-8");
    assert!(payload["body"].as_str().unwrap().starts_with("GET /echo"));
    let binary = events
        .iter()
        .find(|m| m.starts_with(&format!("event http-response {second} ")))
        .unwrap();
    assert!(
        binary.contains(r#""body":"/wA=","encoding":"base64""#),
        "{binary}"
    );
}

/// `wasi:http/outgoing-handler` answers what `plinth:host/http` answers: the same grants,
/// the same guard, the same caps; a refusal is the wasi:http error code the guest sees
/// plus the same coded line in the plugin's log.
#[test]
fn wasi_http_passes_the_same_gate() {
    let server = Server::start();
    let mut settings = net::local(&[server.port]);
    settings.max_body_bytes = 1000;
    let resolver = FixedResolver::default()
        .with("svc.test", &["127.0.0.1"])
        .with("rebound.test", &["127.0.0.1", "10.0.0.7"]);
    let host = net::builder(settings)
        .resolver(Arc::new(resolver))
        .build()
        .unwrap();
    let plugin = net::load(
        &host,
        &[
            format!("127.0.0.1:{}", server.port),
            format!("svc.test:{}", server.port),
            format!("rebound.test:{}", server.port),
            "169.254.169.254".into(),
        ],
    );

    let got = run(&plugin, &["wasi-fetch", "GET", &server.url("/echo?w=1")]).unwrap();
    assert_eq!(
        got,
        format!(
            "200 GET /echo?w=1 x-plinth=- host=127.0.0.1:{} body=",
            server.port
        )
    );
    let got = run(
        &plugin,
        &["wasi-fetch-body", "POST", &server.url("/echo"), "from wasi"],
    )
    .unwrap();
    assert!(
        got.starts_with("200 POST /echo x-plinth=wasi") && got.ends_with("body=from wasi"),
        "{got}"
    );
    let by_name = format!("http://svc.test:{}/echo", server.port);
    assert!(
        run(&plugin, &["wasi-fetch", "GET", &by_name])
            .unwrap()
            .starts_with("200 GET /echo"),
        "a name goes through the embedder's resolver"
    );
    let hits = server.hits();

    // wasi:http follows no redirect: the guest sees the 302 itself.
    let via = server.url(&format!("/redirect/302?{}", server.url("/echo")));
    assert_eq!(run(&plugin, &["wasi-fetch", "GET", &via]).unwrap(), "302 ");

    for (url, want) in [
        // Not granted.
        ("http://127.0.0.1:1/".to_string(), "HttpRequestDenied"),
        // Granted, but the guard refuses the address.
        (
            "http://169.254.169.254/latest/meta-data/".into(),
            "HttpRequestDenied",
        ),
        // One of the resolved addresses is private: the whole name is refused.
        (
            format!("http://rebound.test:{}/echo", server.port),
            "HttpRequestDenied",
        ),
        // Over the body cap, declared and chunked.
        (server.url("/big/5000"), "HttpResponseBodySize"),
        (server.url("/stream/5000"), "HttpResponseBodySize"),
    ] {
        let err = run(&plugin, &["wasi-fetch", "GET", &url]).unwrap_err();
        assert!(
            err.starts_with(&format!("wasi:http ErrorCode::{want}")),
            "{url}: {err}"
        );
    }
    assert_eq!(
        server.hits(),
        hits + 1 + 2,
        "only the redirect and the two oversize answers reached the server"
    );
    let log: Vec<String> = common::records_of("http")
        .into_iter()
        .map(|r| r.message)
        .collect();
    assert!(
        log.iter()
            .any(|m| m.starts_with("missing-grant:")
                && m.contains("plinth grant http http:127.0.0.1:1")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|m| m.starts_with("http-denied:") && m.contains("169.254.169.254")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|m| m.starts_with("http-too-large:")),
        "{log:?}"
    );

    // A request body over the cap is refused as such, without reaching the server.
    let hits = server.hits();
    let err = run(
        &plugin,
        &[
            "wasi-fetch-body",
            "POST",
            &server.url("/echo"),
            &"b".repeat(5000),
        ],
    )
    .unwrap_err();
    assert!(
        err.starts_with("wasi:http ErrorCode::HttpRequestBodySize"),
        "{err}"
    );
    assert_eq!(server.hits(), hits);
}

/// The limits `plinth:host/http` has hold for `wasi:http` too: the request rate and the
/// deadline, each with its wasi:http error code.
#[test]
fn wasi_http_is_rate_limited_and_timed_out() {
    let server = Server::start();
    let mut settings = net::local(&[server.port]);
    settings.requests_per_second = 0.001;
    settings.burst = 1;
    settings.timeout_ms = 300;
    let host = net::builder(settings).build().unwrap();
    let plugin = net::load(&host, &[format!("127.0.0.1:{}", server.port)]);
    let err = run(&plugin, &["wasi-fetch", "GET", &server.url("/slow")]).unwrap_err();
    assert!(
        err.starts_with("wasi:http ErrorCode::ConnectionTimeout"),
        "{err}"
    );
    let err = run(&plugin, &["wasi-fetch", "GET", &server.url("/echo")]).unwrap_err();
    assert!(
        err.starts_with("wasi:http ErrorCode::ConnectionLimitReached"),
        "{err}"
    );
    let log: Vec<String> = common::records_of("http")
        .into_iter()
        .map(|r| r.message)
        .collect();
    assert!(
        log.iter().any(|m| m.starts_with("rate-limited:")),
        "{log:?}"
    );
}

/// https end to end: rustls with SNI = the URL's host, the operator's CA from `[network]
/// ca_certificates`, and refusals for an unknown issuer or a name the certificate does not
/// cover; `plinth:host/http` and `wasi:http` alike.
#[test]
fn https_checks_the_certificate_against_the_roots_and_the_name() {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Plinth test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["svc.test".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &*ca)
        .unwrap();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(leaf_key.serialize_der());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key.into())
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let server = Server::start_tls(Arc::new(config));
    let port = server.port;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();

    let resolver = || {
        Arc::new(
            FixedResolver::default()
                .with("svc.test", &["127.0.0.1"])
                .with("other.test", &["127.0.0.1"]),
        )
    };
    let grants = [format!("svc.test:{port}"), format!("other.test:{port}")];
    let trusting = net::builder(net::local(&[port]).with_ca_certificate(&ca_file))
        .resolver(resolver())
        .build()
        .unwrap();
    let plugin = net::load(&trusting, &grants);
    let url = format!("https://svc.test:{port}/echo");
    for verb in ["fetch", "wasi-fetch"] {
        assert_eq!(
            run(&plugin, &[verb, "GET", &url]).unwrap(),
            format!("200 GET /echo x-plinth=- host=svc.test:{port} body="),
            "{verb}"
        );
    }
    // The certificate names svc.test only.
    let wrong_name = format!("https://other.test:{port}/echo");
    let err = run(&plugin, &["fetch", "GET", &wrong_name]).unwrap_err();
    assert!(
        err.starts_with("transport:") && err.contains("certificate"),
        "{err}"
    );
    let err = run(&plugin, &["wasi-fetch", "GET", &wrong_name]).unwrap_err();
    assert!(
        err.starts_with("wasi:http ErrorCode::TlsCertificateError"),
        "{err}"
    );

    // Without the operator's CA the server is not trusted.
    let default_roots = net::builder(net::local(&[port]))
        .resolver(resolver())
        .build()
        .unwrap();
    let plugin = net::load(&default_roots, &grants);
    let err = run(&plugin, &["fetch", "GET", &url]).unwrap_err();
    assert!(
        err.starts_with("transport:") && err.contains("certificate"),
        "{err}"
    );
    let err = run(&plugin, &["wasi-fetch", "GET", &url]).unwrap_err();
    assert!(
        err.starts_with("wasi:http ErrorCode::TlsCertificateError"),
        "{err}"
    );

    // A CA file without a certificate fails the host's build, naming the file.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let err = net::builder(net::local(&[port]).with_ca_certificate(&empty))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("empty.pem"), "{err}");
}

/// A server on 127.0.0.1 that answers every connection with a line that is not HTTP.
fn garbage_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            use std::io::Write;
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6 not http at all\r\n\r\n");
            let _ = stream.flush();
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    port
}

/// A transport failure reaches a `wasi:http` guest as the error code Wasmtime's own sender
/// gives it, not as `internal-error`: DNS, refused connection, a peer speaking another
/// protocol (over plain TCP and under TLS). Certificates: see the https test.
#[test]
fn wasi_http_transport_failures_have_their_error_codes() {
    let garbage = garbage_server();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let resolver = FixedResolver::default().with("garbage.test", &["127.0.0.1"]);
    let host = net::builder(net::local(&[garbage, closed]))
        .resolver(Arc::new(resolver))
        .build()
        .unwrap();
    let plugin = net::load(
        &host,
        &[
            format!("nowhere.test:{garbage}"),
            format!("127.0.0.1:{closed}"),
            format!("127.0.0.1:{garbage}"),
            format!("garbage.test:{garbage}"),
        ],
    );
    for (url, want, transport) in [
        // The resolver knows no such name.
        (
            format!("http://nowhere.test:{garbage}/"),
            "DnsError",
            "resolving nowhere.test",
        ),
        // Nothing listens on the port.
        (
            format!("http://127.0.0.1:{closed}/"),
            "ConnectionRefused",
            "cannot connect",
        ),
        // Something listens, but does not speak HTTP.
        (
            format!("http://127.0.0.1:{garbage}/"),
            "HttpProtocolError",
            "HTTP:",
        ),
        // Nor TLS.
        (
            format!("https://garbage.test:{garbage}/"),
            "TlsProtocolError",
            "TLS with garbage.test",
        ),
    ] {
        let err = run(&plugin, &["wasi-fetch", "GET", &url]).unwrap_err();
        assert!(
            err.starts_with(&format!("wasi:http ErrorCode::{want}")),
            "{url}: {err}"
        );
        // `plinth:host/http` says the same as its `transport` case.
        let err = run(&plugin, &["fetch", "GET", &url]).unwrap_err();
        assert!(
            err.starts_with("transport:") && err.contains(transport),
            "{url}: {err}"
        );
    }
}
