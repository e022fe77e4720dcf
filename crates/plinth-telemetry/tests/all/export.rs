//! Spans and per-plugin metrics reach an OTLP receiver on 127.0.0.1: a load, calls and a
//! trapping call through the manager; a dead collector leaves calls working.

use std::path::Path;
use std::sync::{Mutex, Once};

use plinth_host::{Host, TelemetrySettings};
use plinth_manager::Manager;
use plinth_manager::state::{PluginEntry, PluginsSection};
use plinth_telemetry::{
    ATTR_EXPORT, ATTR_OUTCOME, ATTR_PLUGIN, ATTR_VERSION, METRIC_CALLS, METRIC_DURATION,
    METRIC_ERRORS, METRIC_FUEL, METRIC_PEAK_MEMORY, Telemetry,
};
use serde_json::json;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata};
use tracing_subscriber::layer::SubscriberExt;

use crate::otlp::Receiver;

/// The tests of this binary share `tracing`'s callsite cache: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// A plugin folder: `plugin.toml` (id `test.otel`, version 2.0.1), the component and a
/// signature file beside it (unchecked here: its digest is what the load reports).
fn plugin_dir(root: &Path) -> std::path::PathBuf {
    let dir = root.join("otel");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        "[plugin]\nid = \"test.otel\"\nversion = \"2.0.1\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"p.wasm\"\n",
    )
    .unwrap();
    std::fs::copy(test_programs::RELOAD_V1, dir.join("p.wasm")).unwrap();
    std::fs::write(dir.join("p.sig"), "a signature file's bytes\n").unwrap();
    dir
}

fn manager_with(host: Host, dir: &Path) -> Manager {
    let manager = Manager::builder(host).crash_threshold(5).build();
    let mut entry = PluginEntry::new("test.otel");
    entry.enabled = true;
    entry.artifact_path = Some(dir.join("p.wasm"));
    manager.apply(&PluginsSection {
        entries: vec![entry],
        ..PluginsSection::new()
    });
    manager
}

#[test]
fn load_calls_and_a_panic_reach_the_collector_as_spans_and_metrics() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    ask_each_thread();
    let receiver = Receiver::start();
    let settings = TelemetrySettings {
        service_name: "plinth-test".into(),
        headers: [("x-collector-key".to_string(), "k1".to_string())].into(),
        ..TelemetrySettings::default()
    };
    let telemetry = Telemetry::to_endpoint(&settings, &receiver.endpoint()).unwrap();
    let subscriber = tracing_subscriber::registry().with(telemetry.layer());
    let _default = tracing::subscriber::set_default(subscriber);

    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path());
    let host = Host::builder()
        .call_observer(telemetry.observer())
        .build()
        .unwrap();
    let manager = manager_with(host, &dir);
    for _ in 0..2 {
        manager
            .call_json("test.otel", "run", &[json!(["version"])])
            .unwrap();
    }
    let trapped = match manager.call_json("test.otel", "run", &[json!(["panic"])]) {
        Err(plinth_manager::ManagerError::Call(error)) => error,
        other => panic!("expected a trap, got {other:?}"),
    };
    telemetry.flush().unwrap();

    // Spans.
    let spans = receiver.spans();
    let names: Vec<_> = spans.iter().map(|s| s.name.as_str()).collect();
    let load = spans
        .iter()
        .find(|s| s.name == "plugin.load" && s.attributes.contains_key("wasm_sha256"))
        .unwrap_or_else(|| panic!("no plugin.load span: {names:?}"));
    assert_eq!(load.service, "plinth-test");
    assert_eq!(load.attributes["plugin"], "test.otel");
    assert_eq!(load.attributes["version"], "2.0.1");
    assert_eq!(load.attributes["outcome"], "ready");
    // The SBOM of the load: the component's and the signature file's sha256.
    let digest = |path: &Path| plinth_manifest::Digest::of(&std::fs::read(path).unwrap());
    assert_eq!(
        load.attributes["wasm_sha256"],
        digest(&dir.join("p.wasm")).to_string()
    );
    assert_eq!(
        load.attributes["sig_sha256"],
        digest(&dir.join("p.sig")).to_string()
    );
    let calls: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "plugin.call" && s.attributes.contains_key("version"))
        .collect();
    assert_eq!(calls.len(), 3, "{names:?}");
    for call in &calls {
        assert_eq!(call.attributes["plugin"], "test.otel");
        assert_eq!(call.attributes["version"], "2.0.1");
        assert_eq!(call.attributes["export"], "run");
    }
    let outcomes: Vec<_> = calls
        .iter()
        .map(|c| c.attributes["outcome"].as_str())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "ok").count(),
        2,
        "{outcomes:?}"
    );
    let failed = calls
        .iter()
        .find(|c| c.attributes["outcome"] == "trap")
        .unwrap_or_else(|| panic!("no trapped call: {outcomes:?}"));
    // The host's panic event, with the trap's message, on the call that trapped.
    let (_, event) = failed
        .events
        .iter()
        .find(|(name, _)| name == "plugin.panic")
        .unwrap_or_else(|| panic!("no plugin.panic event: {:?}", failed.events));
    assert_eq!(event["plugin"], "test.otel");
    assert!(!event["trap"].is_empty(), "{event:?}");
    // The manager's span around the containment, a child of the call.
    let panic = spans
        .iter()
        .find(|s| s.name == "plugin.panic")
        .unwrap_or_else(|| panic!("no plugin.panic span: {names:?}"));
    assert_eq!(panic.parent_span_id, failed.span_id);
    assert_eq!(panic.attributes["plugin"], "test.otel");
    assert_eq!(panic.attributes["version"], "2.0.1");
    assert_eq!(panic.attributes["export"], trapped.export);
    assert_eq!(panic.attributes["code"], "trap");
    assert_eq!(panic.attributes["reason"], trapped.reason());
    assert_eq!(panic.attributes["outcome"], "contained");
    assert!(
        receiver
            .headers()
            .iter()
            .all(|h| h.get("x-collector-key").is_some_and(|v| v == "k1")),
        "the configured headers go with every export"
    );

    // Metrics: 3 calls of `run`, 1 of them an error, each timed; fuel and peak memory as
    // the host counted them.
    // Metrics name the export as the host resolved it, as the failure does.
    let qualified = "plinth:plugin/command@0.1.0#run";
    assert_eq!(trapped.export, qualified);
    let run = [(ATTR_PLUGIN, "test.otel"), (ATTR_EXPORT, qualified)];
    assert_eq!(
        receiver.total(METRIC_CALLS, &run),
        3.0,
        "{:?}",
        receiver.points(METRIC_CALLS)
    );
    assert_eq!(
        receiver.total(
            METRIC_CALLS,
            &[(ATTR_PLUGIN, "test.otel"), (ATTR_OUTCOME, "ok")]
        ),
        2.0
    );
    assert_eq!(receiver.total(METRIC_ERRORS, &run), 1.0);
    assert_eq!(
        receiver.total(
            METRIC_ERRORS,
            &[(ATTR_OUTCOME, "trap"), (ATTR_VERSION, "2.0.1")]
        ),
        1.0
    );
    assert_eq!(receiver.total(METRIC_DURATION, &run), 3.0);
    let counters = manager.counters("test.otel").unwrap();
    assert_eq!((counters.calls, counters.errors), (3, 1));
    assert!(counters.fuel_used > 0);
    assert_eq!(
        receiver.total(METRIC_FUEL, &[(ATTR_PLUGIN, "test.otel")]),
        counters.fuel_used as f64
    );
    assert!(counters.peak_memory_bytes > 0);
    assert_eq!(
        receiver.total(METRIC_PEAK_MEMORY, &[(ATTR_PLUGIN, "test.otel")]),
        counters.peak_memory_bytes as f64
    );
    assert_eq!(receiver.unit(METRIC_DURATION).as_deref(), Some("s"));
    assert_eq!(receiver.unit(METRIC_PEAK_MEMORY).as_deref(), Some("By"));
    assert_eq!(receiver.unit(METRIC_CALLS).as_deref(), Some("{call}"));
}

#[test]
fn a_dead_collector_leaves_calls_working() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    ask_each_thread();
    // A port nothing listens on any more.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let settings = TelemetrySettings {
        timeout_ms: 500,
        max_queue: 4,
        ..TelemetrySettings::default()
    };
    let telemetry = Telemetry::to_endpoint(&settings, &format!("http://{dead}")).unwrap();
    let subscriber = tracing_subscriber::registry().with(telemetry.layer());
    let _default = tracing::subscriber::set_default(subscriber);
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path());
    let host = Host::builder()
        .call_observer(telemetry.observer())
        .build()
        .unwrap();
    let manager = manager_with(host, &dir);
    // More spans than the queue holds: the extra ones are dropped, the calls go on.
    for _ in 0..20 {
        manager
            .call_json("test.otel", "run", &[json!(["version"])])
            .unwrap();
    }
    assert_eq!(manager.counters("test.otel").unwrap().calls, 20);
    // The export itself fails, and says so to whoever flushes.
    assert!(telemetry.flush().is_err());
    assert!(
        manager
            .call_json("test.otel", "run", &[json!(["version"])])
            .is_ok()
    );
}

#[test]
fn without_an_endpoint_nothing_starts() {
    let settings = TelemetrySettings {
        from_env: false,
        ..TelemetrySettings::default()
    };
    assert!(Telemetry::start(&settings).unwrap().is_none());
    let settings = TelemetrySettings {
        otlp_endpoint: Some("127.0.0.1:4317".into()),
        ..TelemetrySettings::default()
    };
    let error = Telemetry::start(&settings).unwrap_err();
    assert!(error.to_string().contains("otlp_endpoint"), "{error}");
}

/// Makes every callsite ask the current thread's subscriber, once per process: `tracing`
/// caches each callsite's interest process-wide, and a callsite first reached on a thread
/// without a subscriber would be cached as "never" (see plinth-manager's telemetry test).
fn ask_each_thread() {
    static GLOBAL: Once = Once::new();
    GLOBAL.call_once(|| {
        tracing::subscriber::set_global_default(Sometimes)
            .expect("the only global subscriber in this test binary");
    });
}

/// Interested in every callsite "sometimes", enables none.
struct Sometimes;

impl tracing::Subscriber for Sometimes {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // Not called: `enabled` is always false.
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}
