//! `plinth consent list | approve | deny` on `<home>/consent.toml`, the file a host reads.

use crate::common::plinth;
use plinth_host::{ConsentState, ConsentStore};
use serde_json::json;

#[test]
fn approve_and_deny_persist_and_list_shows_them() {
    let home = tempfile::tempdir().unwrap();
    let store = ConsentStore::open(home.path().join("consent.toml")).unwrap();
    store.deny("thoth", "old.example.com").unwrap();

    let listed = plinth(home.path(), &["--json", "consent", "list"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(
        listed.json()["consent"],
        json!([{"plugin": "thoth", "host": "old.example.com", "state": "denied"}])
    );

    let approved = plinth(
        home.path(),
        &["--json", "consent", "approve", "thoth", "api.example.com"],
    );
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    assert_eq!(approved.json()["state"], "approved");
    assert_eq!(
        store.state("thoth", "api.example.com").unwrap(),
        Some(ConsentState::Approved),
        "a running host sees the CLI's decision"
    );

    let denied = plinth(
        home.path(),
        &["consent", "deny", "thoth", "api.example.com"],
    );
    assert_eq!(denied.code, 0, "{}", denied.stderr);
    assert!(
        denied.stdout.contains("thoth: api.example.com denied"),
        "{}",
        denied.stdout
    );
    let text = plinth(home.path(), &["consent", "list"]);
    assert!(
        text.stdout.contains("thoth\tapi.example.com\tdenied"),
        "{}",
        text.stdout
    );
    let pending = plinth(home.path(), &["--json", "consent", "list", "--pending"]);
    assert_eq!(pending.json()["consent"], json!([]));
}

#[test]
fn a_broken_consent_file_is_a_diagnostic() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("consent.toml"), "consent = 1").unwrap();
    let run = plinth(home.path(), &["--json", "consent", "list"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.first_code(), "invalid-manifest");
}
