//! `tracing` spans `plugin.load`, `plugin.call` and `plugin.panic`, with plugin id, version
//! and outcome; a panic's span is a child of the call that failed; a load's span carries the
//! sha256 of the component and of its signature.

use std::sync::{Arc, Mutex, Once};

use plinth_host::Host;
use plinth_manager::Manager;
use plinth_manager::state::{PluginEntry, PluginsSection};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Every span and event as `name` plus its fields, rendered `key=value`.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

/// A span or event name and its `key=value` fields.
type Captured = (String, Vec<String>);

struct Fields<'a>(&'a mut Vec<String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push(format!("{}={:?}", field.name(), value).replace('"', ""));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push(format!("{}={value}", field.name()));
    }
}

impl<S> Layer<S> for Capture
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = vec![format!("id={}", id.into_u64())];
        let parent = attrs
            .parent()
            .cloned()
            .or_else(|| ctx.current_span().id().cloned());
        if let Some(parent) = parent {
            fields.push(format!("parent={}", parent.into_u64()));
        }
        attrs.record(&mut Fields(&mut fields));
        self.0
            .lock()
            .unwrap()
            .push((attrs.metadata().name().to_string(), fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut all = self.0.lock().unwrap();
        let tag = format!("id={}", id.into_u64());
        if let Some((_, fields)) = all.iter_mut().rev().find(|(_, f)| f[0] == tag) {
            values.record(&mut Fields(fields));
        }
    }
}

/// Makes every callsite ask the current thread's subscriber, once per process.
///
/// `tracing` caches each callsite's interest for the whole process, and while this test's
/// thread-local subscriber is the only one registered, a callsite first reached on another
/// thread is cached from that thread's subscriber (none: "never"). The other tests of this
/// binary run on other threads and reach `plugin.call` too, so this test would lose its
/// spans. A global subscriber that is interested "sometimes" and enables nothing keeps the
/// decision with each thread's own subscriber.
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

#[test]
fn load_call_and_panic_are_traced_with_id_version_and_outcome() {
    ask_each_thread();
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _default = tracing::subscriber::set_default(subscriber);

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        "[plugin]\nid = \"test.traced\"\nversion = \"3.1.4\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"p.wasm\"\n",
    )
    .unwrap();
    std::fs::copy(test_programs::RELOAD_V1, dir.join("p.wasm")).unwrap();
    let manager = Manager::builder(Host::new().unwrap())
        .crash_threshold(2)
        .build();
    let mut entry = PluginEntry::new("test.traced");
    entry.enabled = true;
    entry.artifact_path = Some(dir.join("p.wasm"));
    manager.apply(&PluginsSection {
        entries: vec![entry],
        ..PluginsSection::new()
    });
    manager
        .call_json("test.traced", "run", &[json!(["version"])])
        .unwrap();
    for _ in 0..2 {
        assert!(
            manager
                .call_json("test.traced", "run", &[json!(["panic"])])
                .is_err()
        );
    }

    let all = capture.0.lock().unwrap().clone();
    let has = |name: &str, wanted: &[&str]| {
        all.iter()
            .any(|(n, fields)| n == name && wanted.iter().all(|w| fields.iter().any(|f| f == w)))
    };
    assert!(
        has(
            "plugin.load",
            &["plugin=test.traced", "version=3.1.4", "outcome=ready"]
        ),
        "{all:?}"
    );
    // The SBOM line of every load: the component's digest, and the signature's (none here).
    let component = format!(
        "wasm_sha256={}",
        plinth_manifest::Digest::of(&std::fs::read(test_programs::RELOAD_V1).unwrap())
    );
    assert!(
        has(
            "plugin.load",
            &["plugin=test.traced", &component, "sig_sha256=none"]
        ),
        "{all:?}"
    );
    assert!(
        has(
            "plugin.call",
            &["plugin=test.traced", "version=3.1.4", "outcome=ok"]
        ),
        "{all:?}"
    );
    assert!(
        has("plugin.call", &["plugin=test.traced", "outcome=trap"]),
        "{all:?}"
    );
    // The first trap is contained; the second (threshold 2) puts the plugin in Error.
    for outcome in ["contained", "error"] {
        let wanted = [
            "plugin=test.traced",
            "version=3.1.4",
            "code=trap",
            &format!("outcome={outcome}"),
        ];
        let at = all
            .iter()
            .position(|(n, fields)| {
                n == "plugin.panic" && wanted.iter().all(|w| fields.iter().any(|f| f == w))
            })
            .unwrap_or_else(|| panic!("no plugin.panic span {wanted:?}: {all:?}"));
        let panic = &all[at].1;
        // Its parent is the call that trapped.
        let parent = panic
            .iter()
            .find_map(|f| f.strip_prefix("parent="))
            .unwrap_or_else(|| panic!("plugin.panic has no parent: {panic:?}"));
        // Span ids are reused once a span closes: the parent is the latest one before.
        let call = all[..at]
            .iter()
            .rev()
            .find(|(_, fields)| fields[0] == format!("id={parent}"))
            .unwrap();
        assert_eq!(call.0, "plugin.call", "{call:?}");
        assert!(call.1.iter().any(|f| f == "outcome=trap"), "{call:?}");
    }
}
