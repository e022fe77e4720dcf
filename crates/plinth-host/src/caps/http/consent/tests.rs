use std::time::Duration;

use super::*;

fn pending(asked: Asked) -> bool {
    asked == Asked::State(ConsentState::Pending)
}

#[test]
fn asks_once_and_keeps_decisions_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consent.toml");
    let store = ConsentStore::open(&path).unwrap();
    assert!(pending(
        store.ask(None, "thoth", "api.example.com").unwrap()
    ));
    assert!(pending(
        store.ask(None, "thoth", "api.example.com").unwrap()
    ));
    store.approve("thoth", "api.example.com").unwrap();
    store.deny("thoth", "evil.example.com").unwrap();
    let again = ConsentStore::open(&path).unwrap();
    assert_eq!(
        again.state("thoth", "api.example.com").unwrap(),
        Some(ConsentState::Approved)
    );
    assert_eq!(
        again.ask(None, "thoth", "evil.example.com").unwrap(),
        Asked::State(ConsentState::Denied)
    );
    assert_eq!(again.state("other", "api.example.com").unwrap(), None);
    assert_eq!(again.list().unwrap().len(), 2);
}

#[test]
fn a_broken_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consent.toml");
    std::fs::write(&path, "consent = 3").unwrap();
    let err = ConsentStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("consent.toml"), "{err}");
}

#[test]
fn in_memory_store() {
    let store = ConsentStore::in_memory();
    assert!(pending(store.ask(None, "p", "h").unwrap()));
    store.deny("p", "h").unwrap();
    assert_eq!(store.state("p", "h").unwrap(), Some(ConsentState::Denied));
}

/// Hostile: another process (`plinth consent deny`) holds the sidecar lock and writes a
/// denial while the host is asking. The host must wait for the lock, re-read, and see the
/// denial; on main the host neither took the lock nor waited, answered `pending` from its
/// read and then renamed its stale whole file over the operator's denial.
#[test]
fn a_decision_made_under_the_lock_is_never_overwritten_by_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consent.toml");
    let host_store = std::sync::Arc::new(ConsentStore::open(&path).unwrap());
    let operator = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.path().join("consent.toml.lock"))
        .unwrap();
    operator.lock().unwrap();

    let asking = {
        let store = host_store.clone();
        std::thread::spawn(move || store.ask(None, "thoth", "evil.example.com").unwrap())
    };
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !asking.is_finished(),
        "the host asked without waiting for the lock"
    );
    std::fs::write(
        &path,
        "[[consent]]\nplugin = \"thoth\"\nhost = \"evil.example.com\"\nstate = \"denied\"\n",
    )
    .unwrap();
    operator.unlock().unwrap();

    assert_eq!(asking.join().unwrap(), Asked::State(ConsentState::Denied));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("denied") && !text.contains("pending"),
        "{text}"
    );
}

/// Hostile: two stores on one file (two processes) write at once; every entry survives.
#[test]
fn concurrent_writers_in_two_stores_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consent.toml");
    let limits = ConsentLimits {
        max_pending_per_plugin: 1000,
        new_per_second: 1000.0,
        burst: 1000,
    };
    let host = ConsentStore::open(&path).unwrap().with_limits(limits);
    let cli = ConsentStore::open(&path).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..40 {
                host.ask(None, "p", &format!("asked{i}.example")).unwrap();
            }
        });
        s.spawn(|| {
            for i in 0..40 {
                cli.deny("p", &format!("denied{i}.example")).unwrap();
            }
        });
    });
    assert_eq!(ConsentStore::open(&path).unwrap().list().unwrap().len(), 80);
}

/// Hostile: a plugin asking for endless new hosts cannot grow the file past the cap.
#[test]
fn pending_hosts_are_capped_per_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consent.toml");
    let store = ConsentStore::open(&path)
        .unwrap()
        .with_limits(ConsentLimits {
            max_pending_per_plugin: 32,
            new_per_second: 1e9,
            burst: 1000,
        });
    for i in 0..32 {
        assert!(pending(
            store.ask(None, "p", &format!("h{i}.example")).unwrap()
        ));
    }
    let size = std::fs::metadata(&path).unwrap().len();
    for i in 32..100 {
        let asked = store.ask(None, "p", &format!("h{i}.example")).unwrap();
        assert_eq!(asked, Asked::TooManyPending);
    }
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
    // Hosts already asked for still answer, and other plugins have their own cap.
    assert!(pending(store.ask(None, "p", "h0.example").unwrap()));
    assert!(pending(store.ask(None, "q", "h0.example").unwrap()));
}

/// Hostile: new pending entries are rate-limited per plugin before anything is written.
#[test]
fn new_pending_entries_are_rate_limited() {
    let store = ConsentStore::in_memory().with_limits(ConsentLimits {
        max_pending_per_plugin: 32,
        new_per_second: 0.001,
        burst: 2,
    });
    assert!(pending(store.ask(None, "p", "a").unwrap()));
    assert!(pending(store.ask(None, "p", "b").unwrap()));
    assert_eq!(store.ask(None, "p", "c").unwrap(), Asked::RateLimited);
    assert_eq!(store.list().unwrap().len(), 2);
    assert!(pending(store.ask(None, "other", "c").unwrap()));
}

/// Hostile: an approval given for tenant A is not seen by the same plugin of tenant B.
#[test]
fn decisions_are_kept_per_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consent.toml");
    let store = ConsentStore::open(&path).unwrap();
    store
        .decide(
            Some("acme"),
            "thoth",
            "api.example.com",
            ConsentState::Approved,
        )
        .unwrap();
    assert_eq!(
        store
            .ask(Some("globex"), "thoth", "api.example.com")
            .unwrap(),
        Asked::State(ConsentState::Pending)
    );
    assert_eq!(
        store.ask(None, "thoth", "api.example.com").unwrap(),
        Asked::State(ConsentState::Pending)
    );
    assert_eq!(
        store.ask(Some("acme"), "thoth", "api.example.com").unwrap(),
        Asked::State(ConsentState::Approved)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("tenant = \"acme\""), "{text}");
}
