//! Events over NATS (docs/design/0062): hosts sharing one `nats-server` on 127.0.0.1 see
//! each other's events with the local bus's grants, tenant scopes, payload cap and rate;
//! for a host behind a proxy that adds latency, cuts its connection and refuses its
//! reconnects for a while, every event is delivered or counted as missed, never silently
//! absent: for a subscribing host and for the publishing host alike.

use std::time::{Duration, Instant};

use plinth_host::manifest::grant::Grant;
use plinth_host::{EventLimits, EventSettings, EventSubscription, Host, LoadOptions, Plugin};
use serde_json::{Value, json};
use test_programs::fault_proxy::FaultProxy;
use test_programs::nats::Nats;

fn host(url: String, limits: EventLimits) -> Host {
    let host = Host::builder()
        .event_settings(EventSettings::nats(url))
        .event_limits(limits)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !host.events_connected() {
        assert!(
            Instant::now() < deadline,
            "the host did not subscribe to NATS"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    host
}

fn publisher(host: &Host, tenant: Option<&str>, channels: &[&str]) -> Plugin {
    let grants = channels.iter().map(|c| Grant::EventsPublish(c.to_string()));
    let mut options = LoadOptions::default().with_grants(grants);
    if let Some(tenant) = tenant {
        options = options.with_tenant(tenant);
    }
    host.load_with(test_programs::CAPS, options).unwrap()
}

fn run(plugin: &Plugin, args: &[&str]) -> Result<String, String> {
    match plugin.call_json("run", &[json!(args)]).unwrap() {
        Value::Object(map) if map.contains_key("ok") => Ok(map["ok"].as_str().unwrap().into()),
        Value::Object(map) => Err(map["err"].as_str().unwrap().into()),
        other => panic!("unexpected result {other}"),
    }
}

#[test]
fn events_cross_hosts_with_the_local_buses_rules() {
    let nats = Nats::start();
    let limits = EventLimits {
        max_payload_bytes: 64,
        per_second: 0.0,
        burst: 5,
    };
    let (a, b) = (host(nats.url(), limits), host(nats.url(), limits));
    let mut on_b = b.subscribe_events(vec!["jobs.*".into()]);
    let mut acme_on_b = b.subscribe_tenant_events(Some("acme"), Vec::new());
    let mut globex_on_b = b.subscribe_tenant_events(Some("globex"), Vec::new());
    let mut on_a = a.subscribe_events(Vec::new());

    let acme = publisher(&a, Some("acme"), &["jobs.done", "jobs.big", "jobs.many"]);
    assert_eq!(
        run(&acme, &["publish", "jobs.done", "{\"n\":1}"]).unwrap(),
        "ok"
    );
    let event = on_b
        .recv_timeout(Duration::from_secs(10))
        .expect("B hears A");
    assert_eq!(event.channel, "jobs.done");
    assert_eq!(event.payload, "{\"n\":1}");
    assert_eq!(event.tenant.as_deref(), Some("acme"));
    assert_eq!(event.plugin, acme.id());
    assert_eq!(
        acme_on_b.recv_timeout(Duration::from_secs(10)),
        Some(event.clone())
    );
    assert_eq!(
        on_a.recv_timeout(Duration::from_secs(10)),
        Some(event),
        "A hears itself"
    );

    // The grant, the payload cap and the rate are the publishing host's, as locally.
    let denied = run(&acme, &["publish", "alerts", "{}"]).unwrap_err();
    assert!(denied.starts_with("missing-grant"), "{denied}");
    let big = "x".repeat(65);
    let refused = run(&acme, &["publish", "jobs.big", &big]).unwrap_err();
    assert!(refused.starts_with("too-large"), "{refused}");
    let limited = run(&acme, &["publish-n", "jobs.many", "10"]).unwrap_err();
    assert!(limited.contains("rate-limited"), "{limited}");
    // The burst (5) minus the one already published went out; nothing else did.
    let mut seen = Vec::new();
    while let Some(event) = on_b.recv_timeout(Duration::from_secs(3)) {
        seen.push(event.channel);
        if seen.len() == 4 {
            break;
        }
    }
    assert_eq!(seen, ["jobs.many"; 4]);
    assert_eq!(on_b.recv_timeout(Duration::from_millis(300)), None);
    // Another tenant's subscription saw none of acme's events; none were missed.
    assert_eq!(globex_on_b.try_recv(), None);
    assert_eq!(on_b.missed(), 0);
}

/// Waits until `subscription` has received (into `got`) or counted `expected` events in
/// all.
fn drain(subscription: &mut EventSubscription, got: &mut Vec<u64>, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while (got.len() as u64) + subscription.missed() < expected {
        assert!(
            Instant::now() < deadline,
            "{} received and {} counted missed of {expected}",
            got.len(),
            subscription.missed()
        );
        if let Some(event) = subscription.recv_timeout(Duration::from_millis(100)) {
            got.push(event.payload.parse().unwrap());
        }
    }
}

#[test]
fn every_event_is_delivered_or_counted_through_a_faulty_network() {
    let nats = Nats::start();
    let proxy = FaultProxy::start(nats.port);
    let limits = EventLimits {
        per_second: 100_000.0,
        burst: 100_000,
        ..EventLimits::default()
    };
    // A publishes and C listens directly; B listens through the proxy.
    let a = host(nats.url(), limits);
    let b = host(format!("nats://127.0.0.1:{}", proxy.port), limits);
    let c = host(nats.url(), limits);
    let mut on_b = b.subscribe_events(vec!["seq".into()]);
    let mut on_c = c.subscribe_events(vec!["seq".into()]);
    let plugin = publisher(&a, None, &["seq"]);
    let count = std::cell::Cell::new(0u64);
    let published = || count.get();
    let publish = |n: u64| {
        for _ in 0..n {
            let next = count.get();
            run(&plugin, &["publish", "seq", &next.to_string()]).unwrap();
            count.set(next + 1);
        }
    };
    let (mut got_b, mut got_c) = (Vec::new(), Vec::new());
    let wait_for = |what: &str, host: &Host, connected: bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while host.events_connected() != connected {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    };

    // Added latency: slower, nothing lost.
    proxy.set_latency(Duration::from_millis(20));
    publish(100);
    drain(&mut on_b, &mut got_b, published());
    assert_eq!(
        (got_b.len(), on_b.missed()),
        (100, 0),
        "latency loses nothing"
    );
    proxy.set_latency(Duration::ZERO);

    // B's connection cut while events stream to it; B reconnects at once.
    publish(50);
    proxy.cut_all();
    publish(100);
    wait_for("B did not reconnect", &b, true);
    publish(50);

    // B's connection cut, and refused while 100 events go out: NATS keeps nothing for
    // an absent subscriber, so B never gets them and must count them; C, connected,
    // gets every one.
    drain(&mut on_b, &mut got_b, published());
    drain(&mut on_c, &mut got_c, published());
    let (b_missed, c_missed) = (on_b.missed(), on_c.missed());
    proxy.set_refusing(true);
    proxy.cut_all();
    wait_for("B did not notice the cut", &b, false);
    publish(100);
    drain(&mut on_c, &mut got_c, published());
    assert_eq!(on_c.missed(), c_missed, "C lost nothing while B was away");
    std::thread::sleep(Duration::from_millis(200));
    proxy.set_refusing(false);
    wait_for("B did not reconnect", &b, true);
    publish(100);

    let total = published();
    for (name, subscription, got) in [("B", &mut on_b, &mut got_b), ("C", &mut on_c, &mut got_c)] {
        drain(subscription, got, total);
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "{name}: in order, no duplicates"
        );
        assert_eq!(got.len() as u64 + subscription.missed(), total, "{name}");
        eprintln!(
            "{name}: delivered {} of {total}, counted missed {}",
            got.len(),
            subscription.missed()
        );
    }
    assert_eq!(on_c.missed(), 0, "C, never cut, got every event");
    assert!(
        on_b.missed() >= b_missed + 100,
        "B was away for 100 events: {b_missed} then {}",
        on_b.missed()
    );
    // The stream goes on: the next event reaches both.
    let next = published();
    publish(1);
    for subscription in [&mut on_b, &mut on_c] {
        let event = subscription
            .recv_timeout(Duration::from_secs(10))
            .expect("the stream goes on");
        assert_eq!(event.payload, next.to_string());
    }
    eprintln!("dropped at the publisher: {}", a.events_dropped());
}

/// The publishing host behind the fault-injecting proxy: added latency, its connection cut
/// while it streams (reconnecting at once), then cut and refused while it keeps
/// publishing. Every subscription, the publisher's own included, receives each event at
/// most once and in order, and `received + missed` equals what was published; the
/// publisher counts in `events_unconfirmed` every event that did not come back to it
/// through the server, so it knows of every loss the others count.
#[test]
fn a_publishers_cut_connection_loses_no_event_unseen() {
    let nats = Nats::start();
    let proxy = FaultProxy::start(nats.port);
    let limits = EventLimits {
        per_second: 100_000.0,
        burst: 100_000,
        ..EventLimits::default()
    };
    // A publishes through the proxy; B and C listen directly.
    let a = host(format!("nats://127.0.0.1:{}", proxy.port), limits);
    let b = host(nats.url(), limits);
    let c = host(nats.url(), limits);
    let mut on_a = a.subscribe_events(vec!["seq".into()]);
    let mut on_b = b.subscribe_events(vec!["seq".into()]);
    let mut on_c = c.subscribe_events(vec!["seq".into()]);
    let plugin = publisher(&a, None, &["seq"]);
    let count = std::cell::Cell::new(0u64);
    let published = || count.get();
    let publish = |n: u64| {
        for _ in 0..n {
            let next = count.get();
            run(&plugin, &["publish", "seq", &next.to_string()]).unwrap();
            count.set(next + 1);
        }
    };
    let wait_for = |what: &str, connected: bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while a.events_connected() != connected {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let (mut got_a, mut got_b, mut got_c) = (Vec::new(), Vec::new(), Vec::new());

    // Added latency on the publisher's side: slower, nothing lost.
    proxy.set_latency(Duration::from_millis(20));
    publish(100);
    drain(&mut on_b, &mut got_b, published());
    assert_eq!(
        (got_b.len(), on_b.missed()),
        (100, 0),
        "latency loses nothing"
    );
    proxy.set_latency(Duration::ZERO);

    // The publisher's connection cut while it streams; it reconnects at once.
    publish(50);
    proxy.cut_all();
    publish(100);
    wait_for("A did not reconnect", true);
    publish(50);

    // Cut and refused while A keeps publishing: what A's client holds meanwhile goes
    // out after the reconnect or is counted.
    proxy.set_refusing(true);
    proxy.cut_all();
    wait_for("A did not notice the cut", false);
    publish(100);
    std::thread::sleep(Duration::from_millis(200));
    proxy.set_refusing(false);
    wait_for("A did not reconnect", true);
    publish(100);

    let total = published();
    for (name, subscription, got) in [
        ("A", &mut on_a, &mut got_a),
        ("B", &mut on_b, &mut got_b),
        ("C", &mut on_c, &mut got_c),
    ] {
        drain(subscription, got, total);
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "{name}: in order, no duplicates"
        );
        assert_eq!(got.len() as u64 + subscription.missed(), total, "{name}");
        eprintln!(
            "{name}: delivered {} of {total}, counted missed {}",
            got.len(),
            subscription.missed()
        );
    }
    // The publisher hears itself through the server: what it did not get back is exactly
    // what it counts unconfirmed, and covers what B and C (never cut) lost.
    let unconfirmed = a.events_unconfirmed();
    assert_eq!(on_a.missed(), unconfirmed);
    assert!(on_b.missed() <= unconfirmed && on_c.missed() <= unconfirmed);
    eprintln!(
        "A: unconfirmed {unconfirmed}, dropped {}, connections replaced {}",
        a.events_dropped(),
        a.events_connections_replaced()
    );
    // The stream goes on: the next event reaches every host.
    let next = published();
    publish(1);
    for subscription in [&mut on_a, &mut on_b, &mut on_c] {
        let event = subscription
            .recv_timeout(Duration::from_secs(10))
            .expect("the stream goes on");
        assert_eq!(event.payload, next.to_string());
    }
}

/// The publisher's connection silenced: it stays open and still brings other hosts'
/// events in, but what the publisher sends reaches nobody. Incoming traffic keeps the
/// client's own pings from firing, so it calls the connection up; nothing the publisher
/// sends comes back, and within `NATS_CONFIRM` it replaces the connection. Every
/// subscription then counts exactly what the silenced connection swallowed.
#[test]
fn a_publisher_replaces_a_connection_that_swallows_what_it_sends() {
    let nats = Nats::start();
    let proxy = FaultProxy::start(nats.port);
    let limits = EventLimits {
        per_second: 100_000.0,
        burst: 100_000,
        ..EventLimits::default()
    };
    let a = host(format!("nats://127.0.0.1:{}", proxy.port), limits);
    let b = host(nats.url(), limits);
    let mut on_a = a.subscribe_events(vec!["seq".into()]);
    let mut on_b = b.subscribe_events(vec!["seq".into()]);
    let plugin = publisher(&a, None, &["seq"]);
    let chatter = publisher(&b, None, &["chatter"]);
    let count = std::cell::Cell::new(0u64);
    let publish = |n: u64| {
        for _ in 0..n {
            let next = count.get();
            run(&plugin, &["publish", "seq", &next.to_string()]).unwrap();
            count.set(next + 1);
        }
    };
    let mut got_b = Vec::new();
    publish(20);
    drain(&mut on_b, &mut got_b, 20);
    assert_eq!(on_b.missed(), 0);

    proxy.silence_requests();
    publish(30);
    // B keeps talking (every 50 ms) while A waits: A's connection keeps receiving, so only
    // A's own check can tell that what it sends goes nowhere.
    let started = Instant::now();
    while a.events_connections_replaced() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "A never replaced its silenced connection"
        );
        run(&chatter, &["publish", "chatter", "x"]).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    let replaced_after = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !a.events_connected() {
        assert!(Instant::now() < deadline, "A did not connect again");
        std::thread::sleep(Duration::from_millis(5));
    }
    publish(20);

    // B counts exactly what the silenced connection swallowed. (A's own subscription
    // also counts B's chatter that went by while A was between connections: a loss's
    // channel is unknown, so it is not compared here.)
    let total = count.get();
    drain(&mut on_b, &mut got_b, total);
    assert!(got_b.windows(2).all(|w| w[0] < w[1]), "B: in order");
    assert_eq!(got_b.len() as u64 + on_b.missed(), total);
    assert_eq!(on_b.missed(), 30, "what the silenced connection swallowed");
    // The publisher knows the same 30 did not come back to it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.events_unconfirmed() < 30 {
        assert!(Instant::now() < deadline, "{}", a.events_unconfirmed());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(a.events_unconfirmed(), 30);
    assert!(on_a.try_recv().is_some(), "A hears itself again");
    eprintln!(
        "A replaced its silenced connection after {replaced_after:?} (NATS_CONFIRM {:?})",
        plinth_host::NATS_CONFIRM
    );
}

/// `[events] backend = "nats"` without `url` stops the build with `host-setup`.
#[test]
fn nats_needs_a_url() {
    use plinth_host::manifest::diagnostic::{Code, ToDiagnostic};
    let settings = EventSettings {
        url: None,
        ..EventSettings::nats("")
    };
    let err = Host::builder()
        .event_settings(settings)
        .build()
        .unwrap_err();
    assert_eq!(err.to_diagnostic().code, Code::HostSetup);
}
