//! `plinth:host/kv` end to end through the `caps` guest.

use plinth_host::manifest::grant::Grant;
use plinth_host::{Host, KvLimits, LoadOptions, Plugin};
use serde_json::{Value, json};

fn run(plugin: &Plugin, args: &[&str]) -> Result<String, String> {
    match plugin.call_json("run", &[json!(args)]).unwrap() {
        Value::Object(map) if map.contains_key("ok") => Ok(map["ok"].as_str().unwrap().into()),
        Value::Object(map) => Err(map["err"].as_str().unwrap().into()),
        other => panic!("unexpected result {other}"),
    }
}

fn host(dir: &std::path::Path) -> Host {
    Host::builder()
        .data_dir(dir)
        .kv_limits(KvLimits {
            max_key_bytes: 32,
            max_value_bytes: 100,
            quota_bytes: 250,
        })
        .build()
        .unwrap()
}

fn load(host: &Host, tenant: Option<&str>, grants: Vec<Grant>) -> Plugin {
    let mut options = LoadOptions::default().with_grants(grants);
    if let Some(tenant) = tenant {
        options = options.with_tenant(tenant);
    }
    host.load_with(test_programs::CAPS, options).unwrap()
}

#[test]
fn operations_persist_across_hosts() {
    let dir = tempfile::tempdir().unwrap();
    {
        let p = load(&host(dir.path()), None, vec![Grant::Kv]);
        assert_eq!(run(&p, &["kv-get", "a"]).unwrap(), "<none>");
        assert_eq!(run(&p, &["kv-set", "a", "1"]).unwrap(), "ok");
        assert_eq!(run(&p, &["kv-set", "b", "2"]).unwrap(), "ok");
        assert_eq!(run(&p, &["kv-inc", "n", "41"]).unwrap(), "41");
        assert_eq!(run(&p, &["kv-inc", "n", "1"]).unwrap(), "42");
        assert!(run(&p, &["kv-inc", "a", "1"]).is_ok());
        assert_eq!(run(&p, &["kv-set", "s", "text"]).unwrap(), "ok");
        assert!(
            run(&p, &["kv-inc", "s", "1"])
                .unwrap_err()
                .starts_with("not-a-number")
        );
        assert_eq!(run(&p, &["kv-delete", "s"]).unwrap(), "true");
        assert_eq!(run(&p, &["kv-list", "", "2"]).unwrap(), "a,b");
    }
    // A new host (another process, say) on the same data directory sees the data.
    let p = load(&host(dir.path()), None, vec![Grant::Kv]);
    assert_eq!(run(&p, &["kv-get", "n"]).unwrap(), "42");
    assert_eq!(run(&p, &["kv-list", "", "10"]).unwrap(), "a,b,n");
}

#[test]
fn caps_quota_and_missing_grant() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    let p = load(&host, None, vec![Grant::Kv]);
    let long_key = "k".repeat(33);
    assert!(
        run(&p, &["kv-set", &long_key, "v"])
            .unwrap_err()
            .starts_with("too-large")
    );
    assert!(
        run(&p, &["kv-set-n", "big", "101"])
            .unwrap_err()
            .starts_with("too-large")
    );
    assert_eq!(run(&p, &["kv-set-n", "k1", "100"]).unwrap(), "ok");
    assert_eq!(run(&p, &["kv-set-n", "k2", "100"]).unwrap(), "ok");
    let err = run(&p, &["kv-set-n", "k3", "100"]).unwrap_err();
    assert!(err.starts_with("quota-exceeded"), "{err}");
    assert_eq!(run(&p, &["kv-get", "k3"]).unwrap(), "<none>");

    let ungranted = load(&host, None, vec![]);
    let err = run(&ungranted, &["kv-get", "k1"]).unwrap_err();
    assert!(
        err.starts_with("missing-grant") && err.contains("plinth grant caps kv"),
        "{err}"
    );
}

#[test]
fn tenants_are_isolated() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    let acme = load(&host, Some("acme"), vec![Grant::Kv]);
    let globex = load(&host, Some("globex"), vec![Grant::Kv]);
    assert_eq!(
        run(&acme, &["kv-set", "secret", "acme-data"]).unwrap(),
        "ok"
    );
    assert_eq!(run(&globex, &["kv-get", "secret"]).unwrap(), "<none>");
    assert_eq!(run(&globex, &["kv-list", "", "10"]).unwrap(), "");
    assert_eq!(
        run(&globex, &["kv-set", "secret", "globex-data"]).unwrap(),
        "ok"
    );
    assert_eq!(run(&acme, &["kv-get", "secret"]).unwrap(), "acme-data");
}

/// Every grant decision, allowed or not, is recorded on the `plinth::audit` target.
#[test]
fn grant_decisions_are_audited() {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("plinth::audit=info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global: the call runs on the host's runtime threads. The only subscriber in this
    // test binary.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    let granted = load(&host, None, vec![Grant::Kv]);
    let ungranted = load(&host, None, vec![]);
    run(&granted, &["kv-get", "a"]).unwrap();
    run(&ungranted, &["kv-get", "a"]).unwrap_err();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let decisions: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("plinth::audit") && l.contains("grant=kv"))
        .collect();
    assert!(
        decisions.iter().any(|l| l.contains("allowed=true")),
        "{text}"
    );
    assert!(
        decisions.iter().any(|l| l.contains("allowed=false")),
        "{text}"
    );
}
