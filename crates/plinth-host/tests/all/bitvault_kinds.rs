//! BitVault's small kinds through the typed host API (docs/design/0045): object events,
//! tokens, policy decisions under a deadline, search tokens checked against their text,
//! previews checked (PNG) or escaped (text) by the host.

use std::path::Path;
use std::time::{Duration, Instant};

use plinth_host::kinds::{
    AuthProvider, Authentication, EventHandler, EventOutcome, KindError, ObjectEvent,
    PolicyDecision, PolicyHook, PolicyRequest, Preview, PreviewKind, SearchAnalyzer, Token,
    png_size,
};
use plinth_host::{Host, Limits, LoadOptions, Plugin};
use plinth_manifest::grant::Grant;
use plinth_manifest::{Code, Kind, ObjectAction, ToDiagnostic};

/// The manifest entries of every kind the `bitvault-kinds` guest provides.
pub(crate) const BITVAULT_KINDS: &str = r#"
[capabilities]
kv = true

[[provides.event-handler]]
name = "counter"
actions = ["created", "updated", "deleted"]

[[provides.auth-provider]]
name = "tokens"

[[provides.policy-hook]]
name = "paths"

[[provides.search-analyzer]]
name = "standard"

[[provides.preview]]
name = "pgm"
media_types = ["image/x-portable-graymap"]

[[provides.preview]]
name = "note"
media_types = ["text/x-bitvault-note"]
"#;

/// A 4x3 grayscale gradient in PGM's text form.
pub(crate) const PGM: &str =
    "P2\n# a gradient\n4 3\n255\n0 64 128 255\n64 128 255 0\n128 255 0 64\n";

/// A note whose title holds markup.
pub(crate) const NOTE: &str =
    "BVNOTE 1\ntitle: Quarterly <report>\n\nRevenue rose & costs fell.\nMore lines.\n";

/// A plugin folder for the `bitvault-kinds` guest: `id`, then manifest text after `[runtime]`.
pub(crate) fn write_bitvault_dir(dir: &Path, id: &str, rest: &str) {
    std::fs::copy(test_programs::BITVAULT_KINDS, dir.join("bitvault.wasm")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"bitvault.wasm\"\n\n{rest}"
        ),
    )
    .unwrap();
}

/// A host with a key-value store.
pub(crate) fn host() -> (Host, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let host = Host::builder()
        .data_dir(home.path().join("kv"))
        .limits(Limits::default().with_timeout_ms(5_000))
        .build()
        .unwrap();
    (host, home)
}

fn plugin_with(host: &Host, id: &str, manifest: &str) -> (Plugin, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    write_bitvault_dir(dir.path(), id, manifest);
    let plugin = host
        .load_with(
            dir.path(),
            LoadOptions::default().with_grants(vec![Grant::Kv]),
        )
        .unwrap();
    (plugin, dir)
}

fn load_guest(host: &Host, id: &str) -> (Plugin, tempfile::TempDir) {
    plugin_with(host, id, BITVAULT_KINDS)
}

#[test]
fn the_guest_provides_every_bitvault_kind() {
    let (host, _home) = host();
    let (plugin, _dir) = load_guest(&host, "test.bitvault");
    assert_eq!(
        plugin.kinds(),
        vec![
            Kind::EventHandler,
            Kind::AuthProvider,
            Kind::PolicyHook,
            Kind::SearchAnalyzer,
            Kind::Preview
        ]
    );
    let err = plugin.kind::<plinth_host::kinds::Exporter>().unwrap_err();
    assert_eq!(err.code(), Code::KindMismatch);
}

#[test]
fn object_events_get_ok_reject_or_retry() {
    let (host, _home) = host();
    let (plugin, _dir) = load_guest(&host, "test.bitvault");
    let handlers = plugin.kind::<EventHandler>().unwrap();
    let mut event = ObjectEvent::new("e1", ObjectAction::Created, "acme", "photos/cat.png");
    event.media_type = "image/png".into();
    event.size = 2048;
    assert_eq!(handlers.handle(&event).unwrap(), EventOutcome::Ok);
    event.media_type = "application/x-msdownload".into();
    assert!(matches!(
        handlers.handle(&event).unwrap(),
        EventOutcome::Reject(reason) if reason.contains("executables")
    ));
    event.media_type = "application/octet-stream".into();
    event.size = 1 << 30;
    assert_eq!(
        handlers.handle(&event).unwrap(),
        EventOutcome::Retry(Duration::from_secs(60))
    );
    // A reject without a reason is not an answer.
    let (broken, _dir) = load_guest(&host, "test.bitvault.mutant-ev-reject-empty");
    let err = broken
        .kind::<EventHandler>()
        .unwrap()
        .handle(&ObjectEvent::new("e2", ObjectAction::Created, "acme", "a"))
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidOutput, "{err}");
}

#[test]
fn an_action_the_manifest_does_not_take_is_refused_without_running() {
    let (host, _home) = host();
    let manifest = BITVAULT_KINDS.replace(
        r#"actions = ["created", "updated", "deleted"]"#,
        r#"actions = ["created"]"#,
    );
    let (plugin, _dir) = plugin_with(&host, "test.bitvault", &manifest);
    let handlers = plugin.kind::<EventHandler>().unwrap();
    assert!(handlers.accepts(ObjectAction::Created));
    assert!(!handlers.accepts(ObjectAction::Deleted));
    let before = plugin.usage().calls;
    let err = handlers
        .handle(&ObjectEvent::new("e1", ObjectAction::Deleted, "acme", "a"))
        .unwrap_err();
    assert!(matches!(err, KindError::NotAccepted { .. }), "{err}");
    assert_eq!(err.code(), Code::UnknownFormat);
    assert!(err.to_diagnostic().message.contains("created"));
    assert_eq!(plugin.usage().calls, before, "the guest ran");
}

#[test]
fn tokens_stand_for_identities_or_are_denied() {
    let (host, _home) = host();
    let (plugin, _dir) = load_guest(&host, "test.bitvault");
    let auth = plugin.kind::<AuthProvider>().unwrap();
    let Authentication::Identified(alice) = auth.authenticate("tok-alice-acme-7f3a9c").unwrap()
    else {
        panic!("alice's token is valid");
    };
    assert_eq!(
        (alice.subject.as_str(), alice.tenant.as_str()),
        ("alice", "acme")
    );
    assert_eq!(alice.claim("role"), Some("admin"));
    assert!(matches!(
        auth.authenticate("tok-alice-acme-7f3a9d").unwrap(),
        Authentication::Denied(_)
    ));
    // Too long: refused before the guest runs.
    let before = plugin.usage().calls;
    let err = auth.authenticate(&"t".repeat(64 * 1024 + 1)).unwrap_err();
    assert_eq!(err.code(), Code::TooLarge, "{err}");
    assert_eq!(plugin.usage().calls, before);
    // An identity whose tenant is no tenant name is refused.
    let (broken, _dir) = load_guest(&host, "test.bitvault.mutant-auth-bad-tenant");
    let err = broken
        .kind::<AuthProvider>()
        .unwrap()
        .authenticate("tok-alice-acme-7f3a9c")
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidOutput, "{err}");
}

#[test]
fn policy_decisions_allow_deny_or_add_attributes() {
    let (host, _home) = host();
    let (plugin, _dir) = load_guest(&host, "test.bitvault");
    let hooks = plugin.kind::<PolicyHook>().unwrap();
    let deadline = Duration::from_secs(2);
    let get = PolicyRequest::new("get", "alice", "acme", "photos/cat.png");
    assert_eq!(hooks.decide(&get, deadline).unwrap(), PolicyDecision::Allow);
    let climb = PolicyRequest::new("get", "alice", "acme", "photos/../../globex/x");
    assert!(matches!(
        hooks.decide(&climb, deadline).unwrap(),
        PolicyDecision::Deny(_)
    ));
    let big = PolicyRequest::new("put", "alice", "acme", "disk.img")
        .with_attribute("size", (6u64 << 30).to_string());
    assert_eq!(
        hooks.decide(&big, deadline).unwrap(),
        PolicyDecision::Add(vec![("storage-class".into(), "cold".into())])
    );
    let (broken, _dir) = load_guest(&host, "test.bitvault.mutant-pol-add-empty-name");
    let err = broken
        .kind::<PolicyHook>()
        .unwrap()
        .decide(&big, deadline)
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidOutput, "{err}");
}

#[test]
fn a_hook_past_its_deadline_is_a_timeout_and_only_its_call_ends() {
    let (host, _home) = host();
    let (slow, _dir) = load_guest(&host, "test.bitvault.mutant-pol-slow");
    let (other, _dir2) = load_guest(&host, "test.bitvault");
    let list = PolicyRequest::new("list", "alice", "acme", "photos/");
    let started = Instant::now();
    let err = slow
        .kind::<PolicyHook>()
        .unwrap()
        .decide(&list, Duration::from_millis(200))
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code(), Code::Timeout, "{err}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // The same plugin serves the next request (a fresh instance), and so does another.
    let get = PolicyRequest::new("get", "alice", "acme", "photos/cat.png");
    let hooks = slow.kind::<PolicyHook>().unwrap();
    assert_eq!(
        hooks.decide(&get, Duration::from_secs(2)).unwrap(),
        PolicyDecision::Allow
    );
    let other = other.kind::<PolicyHook>().unwrap();
    assert_eq!(
        other.decide(&list, Duration::from_millis(200)).unwrap(),
        PolicyDecision::Allow
    );
}

#[test]
fn analyzers_give_tokens_with_utf8_offsets_and_unknown_names_are_refused() {
    let (host, _home) = host();
    let (plugin, _dir) = load_guest(&host, "test.bitvault");
    let analyzers = plugin.kind::<SearchAnalyzer>().unwrap();
    let text = "Größe, café!";
    let tokens = analyzers.analyze("standard", text).unwrap();
    assert_eq!(
        tokens,
        vec![
            Token {
                term: "größe".into(),
                position: 0,
                start: 0,
                end: 7
            },
            Token {
                term: "café".into(),
                position: 1,
                start: 9,
                end: 14
            },
        ]
    );
    assert_eq!(tokens[1].source(text), "café");
    let err = analyzers.analyze("stemmed", text).unwrap_err();
    assert_eq!(err.code(), Code::UnknownFormat, "{err}");
    // Character offsets instead of byte offsets are caught by the host.
    let (broken, _dir) = load_guest(&host, "test.bitvault.mutant-an-char-offsets");
    let err = broken
        .kind::<SearchAnalyzer>()
        .unwrap()
        .analyze("standard", text)
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidOutput, "{err}");
}

#[test]
fn previews_are_checked_pngs_or_escaped_text() {
    let (host, _home) = host();
    let (plugin, _dir) = load_guest(&host, "test.bitvault");
    let previews = plugin.kind::<PreviewKind>().unwrap();
    let Preview::Image {
        data,
        width,
        height,
        media_type,
    } = previews
        .render("image/x-portable-graymap", PGM.as_bytes())
        .unwrap()
    else {
        panic!("a PGM previews as an image");
    };
    assert_eq!((media_type.as_str(), width, height), ("image/png", 4, 3));
    assert_eq!(png_size(&data), Ok((4, 3)));
    // Parameters and case of the media type do not matter.
    let Preview::Text { text, html } = previews
        .render("Text/X-BitVault-Note; charset=utf-8", NOTE.as_bytes())
        .unwrap()
    else {
        panic!("a note previews as text");
    };
    assert_eq!(text, "Quarterly <report>: Revenue rose & costs fell.");
    assert_eq!(
        html,
        "Quarterly &lt;report&gt;: Revenue rose &amp; costs fell."
    );
    let before = plugin.usage().calls;
    let err = previews.render("image/png", b"\x89PNG").unwrap_err();
    assert_eq!(err.code(), Code::UnknownFormat, "{err}");
    assert_eq!(plugin.usage().calls, before, "the guest ran");
    let err = previews
        .render("image/x-portable-graymap", b"P2\n4 3\n255\n0 1")
        .unwrap_err();
    assert!(
        matches!(&err, KindError::PluginFailed { code, .. } if code == "invalid-data"),
        "{err}"
    );
    let (broken, _dir) = load_guest(&host, "test.bitvault.mutant-pv-fake-png");
    let err = broken
        .kind::<PreviewKind>()
        .unwrap()
        .render("image/x-portable-graymap", PGM.as_bytes())
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidOutput, "{err}");
}

#[test]
fn a_panicking_plugin_is_contained_and_the_others_keep_serving() {
    let (host, _home) = host();
    let (panics, _dir) = load_guest(&host, "test.bitvault.mutant-ev-created-traps");
    let (healthy, _dir2) = load_guest(&host, "test.bitvault");
    let event = ObjectEvent::new("e1", ObjectAction::Created, "acme", "photos/cat.png");
    let err = panics
        .kind::<EventHandler>()
        .unwrap()
        .handle(&event)
        .unwrap_err();
    assert_eq!(err.code(), Code::Trap, "{err}");
    assert_eq!(
        healthy
            .kind::<EventHandler>()
            .unwrap()
            .handle(&event)
            .unwrap(),
        EventOutcome::Ok
    );
    // The trapped plugin serves its next event (a fresh instance).
    let updated = ObjectEvent::new("e2", ObjectAction::Updated, "acme", "photos/cat.png");
    assert_eq!(
        panics
            .kind::<EventHandler>()
            .unwrap()
            .handle(&updated)
            .unwrap(),
        EventOutcome::Ok
    );
}
