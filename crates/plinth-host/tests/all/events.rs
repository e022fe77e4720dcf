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

/// A channel's JSON Schema and the embedder's validator (docs/design/0066): a payload they
/// refuse reaches no subscriber, and the publishing call fails with `rejected-schema`; the
/// same checks hold for a publish on the plugin's behalf.
#[test]
fn refused_payloads_are_not_forwarded_and_fail_the_call() {
    use plinth_host::manifest::diagnostic::{Code, ToDiagnostic};
    let host = Host::builder()
        .event_schema(
            "discovery",
            json!({
                "type": "object",
                "required": ["dir", "path"],
                "properties": {"dir": {"type": "string"}, "path": {"type": "string"}},
                "additionalProperties": false
            }),
        )
        .event_validator(|event: &PublishedEvent| {
            if event.payload.contains("secret") {
                Err("payloads may not carry secrets".into())
            } else {
                Ok(())
            }
        })
        .build()
        .unwrap();
    let mut seen = host.subscribe_events(vec!["*".into()]);
    let plugin = load(&host, &["discovery", "notes"]);
    let refused = |channel: &str, payload: &str| {
        let error = plugin
            .call_json("run", &[json!(["publish", channel, payload])])
            .unwrap_err();
        let diagnostic = error.to_diagnostic();
        assert_eq!(diagnostic.code, Code::RejectedSchema, "{diagnostic:?}");
        diagnostic.message
    };

    let message = refused("discovery", r#"{"dir":"waves"}"#);
    assert!(message.contains("path"), "{message}");
    let message = refused("discovery", "not json");
    assert!(message.contains("not JSON"), "{message}");
    let message = refused("notes", "a secret");
    assert!(message.contains("secrets"), "{message}");
    assert_eq!(seen.try_recv(), None, "nothing refused was forwarded");

    // What the checks allow goes through, on a channel with a schema and on one without.
    let valid = r#"{"dir":"waves","path":"a.vcd"}"#;
    assert_eq!(
        run(&plugin, &["publish", "discovery", valid]).unwrap(),
        "ok"
    );
    assert_eq!(
        run(&plugin, &["publish", "notes", "plain text"]).unwrap(),
        "ok"
    );
    assert_eq!(
        seen.recv_timeout(Duration::from_secs(5)).unwrap().payload,
        valid
    );
    assert_eq!(
        seen.recv_timeout(Duration::from_secs(5)).unwrap().payload,
        "plain text"
    );

    // On the plugin's behalf: the same checks.
    let error = plugin.publish("discovery", "{}").unwrap_err();
    assert_eq!(error.code, "rejected-schema", "{error}");
    assert_eq!(seen.try_recv(), None);

    // A schema that does not compile fails the build.
    let error = Host::builder()
        .event_schema("discovery", json!({"type": 12}))
        .build()
        .unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::BadArgument, "{error}");
}
