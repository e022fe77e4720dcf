//! Three embedded hosts sharing one PostgreSQL (`[kv]`) and one NATS (`[events]`) on
//! 127.0.0.1, as three machines behind a load balancer would: the same plugin on each
//! sees one key-value store and one event stream (docs/deployment.md).

use std::time::{Duration, Instant};

use plinth_host::manifest::grant::Grant;
use plinth_host::{EventSettings, Host, KvBackendKind, KvSettings, LoadOptions, Plugin};
use serde_json::{Value, json};
use test_programs::nats::Nats;
use test_programs::postgres::{PASSWORD, Postgres, USER};

fn run(plugin: &Plugin, args: &[&str]) -> Result<String, String> {
    match plugin.call_json("run", &[json!(args)]).unwrap() {
        Value::Object(map) if map.contains_key("ok") => Ok(map["ok"].as_str().unwrap().into()),
        Value::Object(map) => Err(map["err"].as_str().unwrap().into()),
        other => panic!("unexpected result {other}"),
    }
}

#[test]
fn three_hosts_share_one_store_and_one_event_stream() {
    let started = Instant::now();
    let postgres = Postgres::start();
    let nats = Nats::start();
    let url = format!(
        "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/postgres",
        postgres.port
    );
    let hosts: Vec<Host> = (0..3)
        .map(|_| {
            Host::builder()
                .kv_settings(KvSettings::server(KvBackendKind::Postgres, url.clone()))
                .event_settings(EventSettings::nats(nats.url()))
                .build()
                .unwrap()
        })
        .collect();
    for host in &hosts {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !host.events_connected() {
            assert!(
                Instant::now() < deadline,
                "a host did not subscribe to NATS"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let mut subscriptions: Vec<_> = hosts
        .iter()
        .map(|host| host.subscribe_tenant_events(Some("acme"), Vec::new()))
        .collect();
    let grants = [Grant::Kv, Grant::EventsPublish("orders".into())];
    let plugins: Vec<Plugin> = hosts
        .iter()
        .map(|host| {
            let options = LoadOptions::default()
                .with_grants(grants.clone())
                .with_tenant("acme");
            host.load_with(test_programs::CAPS, options).unwrap()
        })
        .collect();

    // A write on one host is read on the others; increments from all three add up.
    assert_eq!(
        run(&plugins[0], &["kv-set", "greeting", "hello"]).unwrap(),
        "ok"
    );
    for plugin in &plugins[1..] {
        assert_eq!(run(plugin, &["kv-get", "greeting"]).unwrap(), "hello");
    }
    for round in 0..10 {
        for plugin in &plugins {
            run(plugin, &["kv-inc", "hits", "1"]).unwrap();
        }
        assert_eq!(
            run(&plugins[round % 3], &["kv-get", "hits"]).unwrap(),
            (3 * (round + 1)).to_string()
        );
    }
    assert_eq!(
        run(&plugins[2], &["kv-list", "", "10"]).unwrap(),
        "greeting,hits"
    );

    // An event published on each host reaches the subscribers on every host.
    for (i, plugin) in plugins.iter().enumerate() {
        assert_eq!(
            run(plugin, &["publish", "orders", &format!("from {i}")]).unwrap(),
            "ok"
        );
    }
    for subscription in &mut subscriptions {
        let mut payloads: Vec<String> = (0..3)
            .map(|_| {
                subscription
                    .recv_timeout(Duration::from_secs(10))
                    .expect("an event from every host")
                    .payload
            })
            .collect();
        payloads.sort();
        assert_eq!(payloads, ["from 0", "from 1", "from 2"]);
        assert_eq!(subscription.missed(), 0);
    }
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
}
