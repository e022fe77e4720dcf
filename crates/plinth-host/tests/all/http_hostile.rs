//! Hostile requests through `plinth:host/http`, each refused with the right code: SSRF
//! spellings, DNS rebinding, redirects to loopback and metadata, oversize bodies, rate
//! bursts, the concurrency cap, slow peers, and per-domain consent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::net::{self, FixedResolver, run};
use crate::common::server::Server;
use plinth_host::{ConsentMode, ConsentState, LoadOptions, NetworkSettings};

fn code(result: Result<String, String>) -> String {
    match result {
        Ok(text) => format!("ok {text}"),
        Err(e) => e.split(':').next().unwrap_or_default().to_owned(),
    }
}

#[test]
fn ssrf_spellings_are_refused_even_when_granted() {
    // Plain http on, no loopback port opened: the guard sees every address.
    let host = net::builder(NetworkSettings::default().with_plain_http(true))
        .build()
        .unwrap();
    let cases = [
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("[::1]", "[::1]"),
        ("[::ffff:127.0.0.1]", "[::ffff:127.0.0.1]"),
        ("169.254.169.254", "169.254.169.254"),
        ("100.64.0.1", "100.64.0.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("10.1.2.3", "10.1.2.3"),
        ("[fd00::1]", "[fd00::1]"),
    ];
    for (spelling, normal) in cases {
        // Granted in the normal form (an IPv6 literal in brackets, as a URL writes it), so
        // only the guard stands in the way.
        let plugin = net::load(&host, &[normal.to_owned()]);
        let err = run(&plugin, &["fetch", "GET", &format!("http://{spelling}/")]).unwrap_err();
        assert!(
            err.starts_with("denied: ") && err.contains("SSRF guard"),
            "{spelling}: {err}"
        );
    }
}

#[test]
fn rebinding_to_private_addresses_is_refused_at_connect_time() {
    let server = Server::start();
    let resolver = FixedResolver::default()
        .with("rebind.test", &["93.184.216.34", "127.0.0.1"])
        .with("internal.test", &["10.0.0.7"])
        .with("metadata.test", &["169.254.169.254"])
        .with("mapped.test", &["::ffff:127.0.0.1"]);
    // Allowlisted names whose answers include an address the guard refuses get nowhere,
    // even when the other answers are public: nothing is connected to.
    let host = net::builder(NetworkSettings::default().with_plain_http(true))
        .resolver(Arc::new(resolver))
        .build()
        .unwrap();
    for name in [
        "rebind.test",
        "internal.test",
        "metadata.test",
        "mapped.test",
    ] {
        let grant = format!("{name}:{}", server.port);
        let plugin = net::load(&host, &[grant]);
        let url = format!("http://{name}:{}/echo", server.port);
        let err = run(&plugin, &["fetch", "GET", &url]).unwrap_err();
        assert!(
            err.starts_with("denied: ") && err.contains(&format!("{name} resolves to")),
            "{name}: {err}"
        );
    }
    assert_eq!(server.hits(), 0);
}

#[test]
fn redirects_to_loopback_metadata_or_ungranted_hosts_are_refused() {
    let server = Server::start();
    let other = Server::start();
    let host = net::builder(net::local(&[server.port])).build().unwrap();
    let plugin = net::load(
        &host,
        &[
            format!("127.0.0.1:{}", server.port),
            // Granted, but its port is not opened: the guard refuses it.
            format!("127.0.0.1:{}", other.port),
            "169.254.169.254".into(),
        ],
    );
    let via = |to: &str| server.url(&format!("/redirect/302?{to}"));
    let to_other = other.url("/echo");
    for (to, want) in [
        (to_other.as_str(), "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://evil.example.com/", "no grant covers"),
        ("ftp://127.0.0.1/", "scheme"),
    ] {
        let err = run(&plugin, &["fetch", "GET", &via(to)]).unwrap_err();
        assert!(
            err.starts_with("denied: redirect to") && err.contains(want),
            "{to}: {err}"
        );
    }
    assert_eq!(other.hits(), 0, "the refused hop was never connected to");
    // Six hops: one too many.
    let mut url = server.url("/echo");
    for _ in 0..6 {
        url = via(&url);
    }
    let err = run(&plugin, &["fetch", "GET", &url]).unwrap_err();
    assert!(err.contains("more than 5 redirects"), "{err}");
}

#[test]
fn oversize_bodies_are_too_large() {
    let server = Server::start();
    let mut settings = net::local(&[server.port]);
    settings.max_body_bytes = 1000;
    let host = net::builder(settings).build().unwrap();
    let plugin = net::load(&host, &[format!("127.0.0.1:{}", server.port)]);
    let fetch = |path: &str| code(run(&plugin, &["fetch", "GET", &server.url(path)]));
    assert_eq!(fetch("/big/1000"), format!("ok 200 {}", "a".repeat(1000)));
    assert_eq!(fetch("/big/1001"), "too-large");
    // Without a length up front: counted while reading.
    assert_eq!(fetch("/stream/5000"), "too-large");
    assert_eq!(fetch("/stream/900"), format!("ok 200 {}", "a".repeat(900)));
}

#[test]
fn a_burst_over_the_rate_is_rate_limited() {
    let server = Server::start();
    let mut settings = net::local(&[server.port]);
    settings.burst = 3;
    settings.requests_per_second = 0.001;
    let host = net::builder(settings).build().unwrap();
    let plugin = net::load(&host, &[format!("127.0.0.1:{}", server.port)]);
    let err = run(&plugin, &["fetch-n", &server.url("/echo"), "5"]).unwrap_err();
    assert!(err.starts_with("3: rate-limited: "), "{err}");
    assert_eq!(server.hits(), 3);
}

#[test]
fn requests_over_the_concurrency_cap_are_rate_limited() {
    let server = Server::start();
    let mut settings = net::local(&[server.port]);
    settings.max_concurrent = 2;
    let host = net::builder(settings).build().unwrap();
    let plugin = net::load(&host, &[format!("127.0.0.1:{}", server.port)]);
    // Two slow requests in the background hold both slots.
    let err = run(&plugin, &["submit-n", &server.url("/slow"), "3"]).unwrap_err();
    assert!(err.starts_with("2: rate-limited: "), "{err}");
    assert!(err.contains("max_concurrent"), "{err}");
    let err = run(&plugin, &["fetch", "GET", &server.url("/echo")]).unwrap_err();
    assert!(err.starts_with("rate-limited: "), "{err}");
}

#[test]
fn a_slow_peer_times_out() {
    let server = Server::start();
    let host = net::builder(net::local(&[server.port])).build().unwrap();
    let plugin = net::load(&host, &[format!("127.0.0.1:{}", server.port)]);
    let started = Instant::now();
    let err = run(&plugin, &["fetch-timeout", &server.url("/slow"), "300"]).unwrap_err();
    assert!(err.starts_with("timeout: "), "{err}");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

/// A plugin directory whose manifest requests `http:HOST` (for consent).
fn plugin_dir(requested: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(test_programs::HTTP, dir.path().join("http.wasm")).unwrap();
    let manifest = format!(
        r#"
[plugin]
id = "thoth"
version = "0.1.0"

[runtime]
kind = "wasm-component"
component = "http.wasm"
api = "0.1.0"
world = "plugin"

[capabilities]
log = true
http = {{ allow = ["{requested}"] }}
"#
    );
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    dir
}

#[test]
fn consent_pending_then_approved_works_and_a_denial_persists() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let consent_file = home.path().join("consent.toml");
    let grant = format!("127.0.0.1:{}", server.port);
    let dir = plugin_dir(&grant);
    let settings = net::local(&[server.port]).with_consent(ConsentMode::Ask);
    let build = || {
        net::builder(settings.clone())
            .consent_file(&consent_file)
            .build()
            .unwrap()
    };
    let host = build();
    // The manifest asks for the host; the operator granted nothing.
    let plugin = host.load(dir.path()).unwrap();
    let url = server.url("/echo");
    let err = run(&plugin, &["fetch", "GET", &url]).unwrap_err();
    assert!(err.starts_with("consent-pending: "), "{err}");
    assert!(
        err.contains(&format!("plinth consent approve thoth {grant}")),
        "{err}"
    );
    assert_eq!(
        host.consent().state("thoth", &grant).unwrap(),
        Some(ConsentState::Pending)
    );
    assert_eq!(server.hits(), 0);
    host.consent().approve("thoth", &grant).unwrap();
    assert!(
        run(&plugin, &["fetch", "GET", &url])
            .unwrap()
            .starts_with("200 GET /echo")
    );
    // A redirect back to the approved host is checked with the approval too.
    let via = server.url(&format!("/redirect/302?{}", server.url("/echo?hop")));
    assert!(
        run(&plugin, &["fetch", "GET", &via])
            .unwrap()
            .starts_with("200 GET /echo?hop"),
        "a redirect within the approved host is followed"
    );
    // wasi:http asks the same consent store.
    assert!(
        run(&plugin, &["wasi-fetch", "GET", &url])
            .unwrap()
            .starts_with("200 GET /echo")
    );

    // A denial, given in another process (a second host on the same file), persists.
    build().consent().deny("thoth", &grant).unwrap();
    let host = build();
    let plugin = host.load(dir.path()).unwrap();
    let err = run(&plugin, &["fetch", "GET", &url]).unwrap_err();
    assert!(err.starts_with("denied: a person denied"), "{err}");
    assert_eq!(
        host.consent().state("thoth", &grant).unwrap(),
        Some(ConsentState::Denied)
    );

    // A host the manifest does not request is never asked about.
    let err = run(&plugin, &["fetch", "GET", "http://127.0.0.1:1/"]).unwrap_err();
    assert!(err.starts_with("missing-grant: "), "{err}");
}

/// Hostile: one host serves two tenants. An approval given for tenant acme's plugin must
/// not let the same plugin of tenant globex through. On main consent was keyed by plugin
/// and host only, so globex's request went out on acme's approval.
#[test]
fn consent_of_one_tenant_does_not_approve_another() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let grant = format!("127.0.0.1:{}", server.port);
    let dir = plugin_dir(&grant);
    let settings = net::local(&[server.port]).with_consent(ConsentMode::Ask);
    let host = net::builder(settings)
        .consent_file(home.path().join("consent.toml"))
        .build()
        .unwrap();
    let load_for = |tenant: &str| {
        host.load_with(dir.path(), LoadOptions::default().with_tenant(tenant))
            .unwrap()
    };
    let acme = load_for("acme");
    let globex = load_for("globex");
    host.consent()
        .decide(Some("acme"), "thoth", &grant, ConsentState::Approved)
        .unwrap();
    let url = server.url("/echo");
    assert!(
        run(&acme, &["fetch", "GET", &url])
            .unwrap()
            .starts_with("200 GET /echo")
    );
    let err = run(&globex, &["fetch", "GET", &url]).unwrap_err();
    assert!(err.starts_with("consent-pending: "), "{err}");
    assert!(
        err.contains("plinth --tenant globex consent approve"),
        "{err}"
    );
    assert_eq!(server.hits(), 1, "only acme's request went out");
    assert_eq!(
        host.consent()
            .state_for(Some("globex"), "thoth", &grant)
            .unwrap(),
        Some(ConsentState::Pending)
    );
}

/// The next event in `plugin`'s inbox, waiting for it (at most 30 s), as JSON.
fn next_event(plugin: &plinth_host::Plugin) -> (String, serde_json::Value) {
    let inbox = plugin.inbox().clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), async {
            while inbox.is_empty() {
                inbox.notified().await;
            }
        })
        .await
        .expect("an event arrives")
    });
    let mut events = inbox.drain();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = events.remove(0);
    assert_eq!(event.kind, "http-response");
    (event.subject, serde_json::from_str(&event.payload).unwrap())
}

/// Thoth's flow: a submitted request to a host awaiting consent gets its id, the
/// application is notified (plugin, host, request id) instead of polling, the plugin gets
/// a provisional `consent_pending` event, and a person's approval sends the request and
/// delivers its response; a denial delivers Thoth's `error` payload, and nothing is sent.
#[test]
fn a_submit_awaiting_consent_is_announced_held_and_resumed_on_approval() {
    let server = Server::start();
    let grant = format!("127.0.0.1:{}", server.port);
    let dir = plugin_dir(&grant);
    let host = net::builder(net::local(&[server.port]).with_consent(ConsentMode::Ask))
        .build()
        .unwrap();
    let plugin = host.load(dir.path()).unwrap();
    let mut notices = host.consent().subscribe();
    let url = server.url("/echo");

    let id = run(&plugin, &["submit", &url]).unwrap();
    let notice = notices
        .try_recv()
        .expect("the application is notified at once");
    assert_eq!(
        (notice.plugin.as_str(), notice.host.as_str()),
        ("thoth", grant.as_str())
    );
    assert_eq!(notice.request, Some(id.parse().unwrap()));
    assert_eq!(notice.state, ConsentState::Pending);
    let (subject, held) = next_event(&plugin);
    assert_eq!(subject, id);
    assert_eq!(held["final"], false);
    assert_eq!(held["err"]["code"], "consent_pending", "{held}");
    assert_eq!(server.hits(), 0, "nothing is sent before a decision");

    host.consent().approve("thoth", &grant).unwrap();
    let approved = notices.try_recv().unwrap();
    assert_eq!(approved.state, ConsentState::Approved);
    let (subject, response) = next_event(&plugin);
    assert_eq!(subject, id);
    assert_eq!(response["final"], true);
    assert_eq!(response["ok"], true, "{response}");
    assert!(response["body"].as_str().unwrap().starts_with("GET /echo"));
    assert_eq!(server.hits(), 1);

    // Another host of the same plugin, denied: Thoth's `error` payload, nothing sent.
    let other = plugin_dir("127.0.0.1:1");
    let plugin = host.load(other.path()).unwrap();
    let id = run(&plugin, &["submit", "http://127.0.0.1:1/"]).unwrap();
    assert_eq!(
        notices.try_recv().unwrap().request,
        Some(id.parse().unwrap())
    );
    assert_eq!(next_event(&plugin).1["final"], false);
    host.consent().deny("thoth", "127.0.0.1:1").unwrap();
    assert_eq!(notices.try_recv().unwrap().state, ConsentState::Denied);
    let (subject, denied) = next_event(&plugin);
    assert_eq!(subject, id);
    assert_eq!(
        (denied["final"].as_bool(), denied["error"].as_str()),
        (Some(true), Some("denied"))
    );
    assert_eq!(denied["err"]["code"], "error", "{denied}");

    // `fetch` cannot wait for a person: refused at once, and announced without a request.
    let dir = plugin_dir("127.0.0.1:2");
    let plugin = host.load(dir.path()).unwrap();
    let err = run(&plugin, &["fetch", "GET", "http://127.0.0.1:2/"]).unwrap_err();
    assert!(err.starts_with("consent-pending: "), "{err}");
    let notice = notices.try_recv().unwrap();
    assert_eq!(
        (notice.request, notice.state),
        (None, ConsentState::Pending)
    );
    assert!(plugin.inbox().is_empty());
}

/// A held request whose wait runs out reads the store once more: a decision written by
/// another process (a second host on the same file, as `plinth consent approve` is) is
/// honoured then; with none, the final event is Thoth's `consent_pending`.
#[test]
fn a_held_request_reads_a_decision_made_elsewhere_when_its_wait_ends() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let consent_file = home.path().join("consent.toml");
    let grant = format!("127.0.0.1:{}", server.port);
    let dir = plugin_dir(&grant);
    let settings = net::local(&[server.port])
        .with_consent(ConsentMode::Ask)
        .with_consent_wait(Duration::from_millis(300));
    let build = || {
        net::builder(settings.clone())
            .consent_file(&consent_file)
            .build()
            .unwrap()
    };
    let host = build();
    let plugin = host.load(dir.path()).unwrap();
    let url = server.url("/echo");

    let first = run(&plugin, &["submit", &url]).unwrap();
    assert_eq!(next_event(&plugin).1["final"], false);
    let (subject, expired) = next_event(&plugin);
    assert_eq!(subject, first);
    assert_eq!(
        (expired["final"].as_bool(), expired["error"].as_str()),
        (Some(true), Some("consent-pending"))
    );
    assert_eq!(expired["err"]["code"], "consent_pending");
    assert_eq!(server.hits(), 0);

    let second = run(&plugin, &["submit", &url]).unwrap();
    assert_eq!(next_event(&plugin).1["final"], false);
    build().consent().approve("thoth", &grant).unwrap();
    let (subject, response) = next_event(&plugin);
    assert_eq!(subject, second);
    assert_eq!(response["ok"], true, "{response}");
    assert_eq!(server.hits(), 1);
}
