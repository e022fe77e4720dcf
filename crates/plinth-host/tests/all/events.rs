//! `plinth:host/events` end to end: the `caps` guest publishes, the embedder subscribes.

use std::time::Duration;

use plinth_host::manifest::grant::Grant;
use plinth_host::{EventLimits, Host, LoadOptions, Plugin, PublishedEvent};
use serde_json::{Value, json};

fn host(limits: EventLimits) -> Host {
    Host::builder().event_limits(limits).build().unwrap()
}

fn load(host: &Host, channels: &[&str]) -> Plugin {
    let grants = channels.iter().map(|c| Grant::EventsPublish((*c).into()));
    host.load_with(
        test_programs::CAPS,
        LoadOptions::default().with_grants(grants),
    )
    .unwrap()
}

fn run(plugin: &Plugin, args: &[&str]) -> Result<String, String> {
    match plugin.call_json("run", &[json!(args)]).unwrap() {
        Value::Object(map) if map.contains_key("ok") => Ok(map["ok"].as_str().unwrap().into()),
        Value::Object(map) => Err(map["err"].as_str().unwrap().into()),
        other => panic!("unexpected result {other}"),
    }
}

#[test]
fn subscribers_receive_granted_publishes() {
    let host = host(EventLimits::default());
    let mut jobs = host.subscribe_events(vec!["jobs.*".into()]);
    let mut alerts = host.subscribe_events(vec!["alerts".into()]);
    let plugin = load(&host, &["jobs.done", "alerts"]);
    assert_eq!(
        run(&plugin, &["publish", "jobs.done", r#"{"id":1}"#]).unwrap(),
        "ok"
    );
    assert_eq!(run(&plugin, &["publish", "alerts", "fire"]).unwrap(), "ok");
    let event = jobs.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(
        event,
        PublishedEvent {
            channel: "jobs.done".into(),
            plugin: "caps".into(),
            payload: r#"{"id":1}"#.into(),
            tenant: None,
        }
    );
    assert_eq!(jobs.try_recv(), None, "alerts is not a jobs.* channel");
    assert_eq!(
        alerts.recv_timeout(Duration::from_secs(5)).unwrap().payload,
        "fire"
    );
}

#[test]
fn ungranted_channel_is_refused_with_a_hint() {
    let host = host(EventLimits::default());
    let mut all = host.subscribe_events(Vec::new());
    let plugin = load(&host, &["jobs.done"]);
    let err = run(&plugin, &["publish", "billing", "{}"]).unwrap_err();
    assert!(err.starts_with("missing-grant"), "{err}");
    assert!(
        err.contains("plinth grant caps events.publish:billing"),
        "{err}"
    );
    assert_eq!(all.try_recv(), None);
}

#[test]
fn oversize_payload_and_bursts_are_refused() {
    let host = host(EventLimits {
        max_payload_bytes: 16,
        per_second: 0.5,
        burst: 5,
    });
    let mut all = host.subscribe_events(Vec::new());
    let plugin = load(&host, &["c"]);
    let err = run(&plugin, &["publish", "c", &"x".repeat(17)]).unwrap_err();
    assert!(err.starts_with("too-large"), "{err}");
    let err = run(&plugin, &["publish-n", "c", "20"]).unwrap_err();
    assert!(err.starts_with("publish 5: rate-limited"), "{err}");
    let mut seen = 0;
    while all.try_recv().is_some() {
        seen += 1;
    }
    assert_eq!(seen, 5, "exactly the burst got through");
}

/// Hostile: two tenants share one host. An event published by tenant globex's plugin must
/// not reach tenant acme's subscription, and every event names its tenant. On main events
/// carried no tenant and every subscription saw every tenant's events.
#[test]
fn events_stay_within_their_tenant() {
    let host = host(EventLimits::default());
    let mut acme = host.subscribe_tenant_events(Some("acme"), Vec::new());
    let mut untenanted = host.subscribe_tenant_events(None, Vec::new());
    let mut everything = host.subscribe_events(Vec::new());
    let load_for = |tenant: &str| {
        host.load_with(
            test_programs::CAPS,
            LoadOptions::default()
                .with_tenant(tenant)
                .with_grants([Grant::EventsPublish("jobs".into())]),
        )
        .unwrap()
    };
    let globex_plugin = load_for("globex");
    let acme_plugin = load_for("acme");
    assert_eq!(
        run(&globex_plugin, &["publish", "jobs", "secret"]).unwrap(),
        "ok"
    );
    assert_eq!(
        run(&acme_plugin, &["publish", "jobs", "mine"]).unwrap(),
        "ok"
    );

    let seen = acme.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(seen.payload, "mine");
    assert_eq!(seen.tenant.as_deref(), Some("acme"));
    assert_eq!(acme.try_recv(), None, "globex's event reached acme");
    assert_eq!(untenanted.try_recv(), None);

    let first = everything.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(first.tenant.as_deref(), Some("globex"));
}
