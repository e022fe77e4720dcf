//! The metadata of BitVault's small kinds (docs/design/0045): event handlers and their
//! actions, auth providers and policy hooks (one each), search analyzers, previews and the
//! media types they accept.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failed test.

use crate::common::{assert_invalid, parse_ok, with};
use plinth_manifest::{Kind, ObjectAction};

const KINDS: &str = r#"
[[provides.event-handler]]
name = "thumbnails"
actions = ["deleted", "created", "created"]

[[provides.event-handler]]
name = "audit"

[[provides.auth-provider]]
name = "jwt"
description = "Bearer tokens signed by the identity service"

[[provides.policy-hook]]
name = "quotas"

[[provides.search-analyzer]]
name = "english"

[[provides.search-analyzer]]
name = "ngram"

[[provides.preview]]
name = "pgm"
media_types = ["image/x-portable-graymap", "Image/X-Portable-Anymap"]
"#;

#[test]
fn bitvault_kinds_parse_with_their_metadata() {
    let m = parse_ok(&with(KINDS)).manifest;
    assert_eq!(
        m.provides.kinds(),
        [
            Kind::EventHandler,
            Kind::AuthProvider,
            Kind::PolicyHook,
            Kind::SearchAnalyzer,
            Kind::Preview
        ]
    );
    let handlers = &m.provides.event_handler;
    assert_eq!(
        handlers[0].actions,
        [ObjectAction::Created, ObjectAction::Deleted],
        "sorted, duplicates dropped"
    );
    assert_eq!(
        handlers[1].actions,
        ObjectAction::ALL,
        "none named is every action"
    );
    assert_eq!(m.provides.auth_provider[0].name, "jwt");
    assert_eq!(m.provides.search_analyzer.len(), 2);
    let pgm = &m.provides.preview[0];
    assert_eq!(
        pgm.media_types[1], "image/x-portable-anymap",
        "stored lowercase"
    );
    assert!(pgm.accepts("IMAGE/X-Portable-Graymap; charset=binary"));
    assert!(!pgm.accepts("image/png"));
    assert_eq!(
        m.provides
            .preview_for("image/x-portable-anymap")
            .map(|p| p.name.as_str()),
        Some("pgm")
    );
    assert!(m.provides.preview_for("text/plain").is_none());
}

#[test]
fn bad_bitvault_declarations_name_their_key() {
    assert_invalid(
        &with("[[provides.event-handler]]\nname = \"h\"\nactions = [\"renamed\"]\n"),
        "provides.event-handler[0].actions[0]",
        "not an object action",
    );
    assert_invalid(
        &with("[[provides.preview]]\nname = \"p\"\n"),
        "provides.preview[0]",
        "declares no `media_types`",
    );
    assert_invalid(
        &with("[[provides.preview]]\nname = \"p\"\nmedia_types = [\"png\"]\n"),
        "provides.preview[0].media_types[0]",
        "is not a media type",
    );
    assert_invalid(
        &with(
            "[[provides.auth-provider]]\nname = \"a\"\n\n[[provides.auth-provider]]\nname = \"b\"\n",
        ),
        "provides.auth-provider",
        "provides one auth provider",
    );
    assert_invalid(
        &with("[[provides.policy-hook]]\nname = \"a\"\n\n[[provides.policy-hook]]\nname = \"b\"\n"),
        "provides.policy-hook",
        "provides one policy hook",
    );
    assert_invalid(
        &with(
            "[[provides.search-analyzer]]\nname = \"a\"\n\n[[provides.search-analyzer]]\nname = \"a\"\n",
        ),
        "provides.search-analyzer[1].name",
        "duplicate analyzer name",
    );
}
