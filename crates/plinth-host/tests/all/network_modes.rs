//! `[network] mode` and `[network] proxy` (docs/design/0068): offline refuses every
//! request before a socket is opened, whatever the grants; a proxy carries every request,
//! plain http in absolute form and https through a `CONNECT` tunnel; a request an
//! app-defined capability makes (`Plugin::http_request_for`) obeys both.

use std::sync::Arc;

use plinth_host::NetworkMode;
use plinth_host::manifest::Grant;
use test_programs::http_proxy::HttpProxy;

use crate::common::net::{self, FixedResolver, run};
use crate::common::server::Server;

#[test]
fn offline_refuses_every_request_before_any_socket_opens() {
    let server = Server::start();
    let settings = net::local(&[server.port]).with_mode(NetworkMode::Offline);
    let host = net::builder(settings).build().unwrap();
    let plugin = net::load(&host, &[format!("127.0.0.1:{}", server.port)]);
    let err = run(&plugin, &["fetch", "GET", &server.url("/echo")]).unwrap_err();
    assert!(err.contains("offline"), "{err}");
    let err = run(&plugin, &["wasi-fetch", "GET", &server.url("/echo")]).unwrap_err();
    assert!(
        err.starts_with("wasi:http ErrorCode::HttpRequestDenied"),
        "{err}"
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let err = runtime
        .block_on(plugin.http_request("GET", &server.url("/echo"), Vec::new(), Vec::new()))
        .unwrap_err();
    assert_eq!(err.code, "http-denied", "{err}");
    assert!(err.message.contains("offline"), "{err}");
    assert_eq!(server.hits(), 0, "an offline host opens no connection");
}

#[test]
fn a_proxy_carries_plain_http_in_absolute_form() {
    let server = Server::start();
    let proxy = HttpProxy::start();
    // Only the destination's port passes the SSRF guard: the proxy is the operator's.
    let settings = net::local(&[server.port]).with_proxy(proxy.url());
    let host = net::builder(settings).build().unwrap();
    let plugin = net::load(&host, &[format!("127.0.0.1:{}", server.port)]);
    for verb in ["fetch", "wasi-fetch"] {
        let got = run(&plugin, &[verb, "GET", &server.url("/echo?q=1")]).unwrap();
        assert!(got.starts_with("200 GET /echo?q=1"), "{verb}: {got}");
    }
    let absolute = format!("GET http://127.0.0.1:{}/echo?q=1 HTTP/1.1", server.port);
    assert_eq!(proxy.asked(), [absolute.clone(), absolute]);
    assert_eq!(server.hits(), 2);

    // The grants and the guard still decide first: nothing reaches the proxy.
    let err = run(&plugin, &["fetch", "GET", "http://127.0.0.1:1/echo"]).unwrap_err();
    assert!(err.starts_with("missing-grant:"), "{err}");
    assert_eq!(proxy.asked().len(), 2);
}

#[test]
fn a_proxy_tunnels_https_end_to_end() {
    let (config, ca_pem) = tls_server_config("svc.test");
    let server = Server::start_tls(config);
    let proxy = HttpProxy::start();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let settings = net::local(&[server.port])
        .with_ca_certificate(&ca_file)
        .with_proxy(proxy.url());
    let resolver = FixedResolver::default().with("svc.test", &["127.0.0.1"]);
    let host = net::builder(settings)
        .resolver(Arc::new(resolver))
        .build()
        .unwrap();
    let plugin = net::load(&host, &[format!("svc.test:{}", server.port)]);
    let url = format!("https://svc.test:{}/echo", server.port);
    let got = run(&plugin, &["fetch", "GET", &url]).unwrap();
    assert!(got.starts_with("200 GET /echo"), "{got}");
    // The proxy saw only the tunnel's destination, by name (TLS runs end to end).
    assert_eq!(
        proxy.asked(),
        [format!("CONNECT svc.test:{} HTTP/1.1", server.port)]
    );
}

#[test]
fn an_app_capability_fetches_without_an_http_grant_under_the_same_modes() {
    let server = Server::start();
    let proxy = HttpProxy::start();
    let network = Grant::Custom {
        name: "network".into(),
        scope: None,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let load = |settings| {
        let host = net::builder(settings).build().unwrap();
        host.load_with(
            test_programs::HTTP,
            plinth_host::LoadOptions::default().with_grants([network.clone()]),
        )
        .unwrap()
    };

    let plugin = load(net::local(&[server.port]).with_proxy(proxy.url()));
    let response = runtime
        .block_on(plugin.http_request_for(&network, "GET", &server.url("/echo"), vec![], vec![]))
        .unwrap();
    assert_eq!(response.status, 200);
    assert!(String::from_utf8_lossy(&response.body).starts_with("GET /echo"));
    assert_eq!(proxy.asked().len(), 1);
    // The plugin's own `fetch` still needs its `http:` grant.
    let err = run(&plugin, &["fetch", "GET", &server.url("/echo")]).unwrap_err();
    assert!(err.starts_with("missing-grant:"), "{err}");

    let offline = load(net::local(&[server.port]).with_mode(NetworkMode::Offline));
    let err = runtime
        .block_on(offline.http_request_for(&network, "GET", &server.url("/echo"), vec![], vec![]))
        .unwrap_err();
    assert_eq!(err.code, "http-denied", "{err}");

    // Without the app's capability: `missing-grant`, nothing sent.
    let other = Grant::Custom {
        name: "retrieval".into(),
        scope: None,
    };
    let err = runtime
        .block_on(plugin.http_request_for(&other, "GET", &server.url("/echo"), vec![], vec![]))
        .unwrap_err();
    assert_eq!(err.code, "missing-grant", "{err}");
    assert_eq!(server.hits(), 1);
}

#[test]
fn a_proxy_that_is_not_an_http_url_fails_the_build() {
    for bad in [
        "https://127.0.0.1:3128",
        "socks5://127.0.0.1:1080",
        "not a url",
    ] {
        let err = net::builder(net::local(&[]).with_proxy(bad))
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("[network] proxy"), "{bad}: {err}");
    }
}

/// A server config for `name` signed by a fresh CA, and the CA's PEM.
fn tls_server_config(name: &str) -> (Arc<rustls::ServerConfig>, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec![name.to_string()])
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
    (Arc::new(config), ca.pem())
}
