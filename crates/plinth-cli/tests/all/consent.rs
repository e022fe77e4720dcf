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

/// Hostile: a host holds the consent file's lock (it is mid-write). `plinth consent deny`
/// must wait for it and then re-read, so neither side's entry is lost. On main the CLI
/// took no lock: it wrote at once, and the host's rename then put back its stale copy.
#[test]
fn the_cli_waits_for_the_consent_lock_and_keeps_the_hosts_entry() {
    let home = tempfile::tempdir().unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(home.path().join("consent.toml.lock"))
        .unwrap();
    lock.lock().unwrap();
    let path = home.path().to_path_buf();
    let deny = std::thread::spawn(move || {
        plinth(&path, &["consent", "deny", "thoth", "evil.example.com"])
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(!deny.is_finished(), "the CLI wrote without the lock");
    // The host's write, made while it holds the lock.
    std::fs::write(
        home.path().join("consent.toml"),
        "[[consent]]\nplugin = \"thoth\"\nhost = \"api.example.com\"\nstate = \"pending\"\n",
    )
    .unwrap();
    lock.unlock().unwrap();
    let denied = deny.join().unwrap();
    assert_eq!(denied.code, 0, "{}", denied.stderr);
    let store = ConsentStore::open(home.path().join("consent.toml")).unwrap();
    assert_eq!(store.list().unwrap().len(), 2, "{:?}", store.list());
    assert_eq!(
        store.state("thoth", "evil.example.com").unwrap(),
        Some(ConsentState::Denied)
    );
}

/// `--tenant T` decides for tenant T: the entry names the tenant, and T's listing shows it.
#[test]
fn tenant_decisions_name_the_tenant() {
    let home = tempfile::tempdir().unwrap();
    let approved = plinth(
        home.path(),
        &[
            "--tenant",
            "acme",
            "consent",
            "approve",
            "thoth",
            "api.example.com",
        ],
    );
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    let store = ConsentStore::open(home.path().join("tenants/acme/consent.toml")).unwrap();
    assert_eq!(
        store
            .state_for(Some("acme"), "thoth", "api.example.com")
            .unwrap(),
        Some(ConsentState::Approved)
    );
    assert_eq!(store.state("thoth", "api.example.com").unwrap(), None);
    let listed = plinth(
        home.path(),
        &["--json", "--tenant", "acme", "consent", "list"],
    );
    assert_eq!(
        listed.json()["consent"],
        json!([{"plugin": "thoth", "host": "api.example.com", "state": "approved"}])
    );
}
