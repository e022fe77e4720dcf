//! TLS to the key-value servers (docs/design/0067): PostgreSQL and Redis started on
//! 127.0.0.1 with TLS only, their certificate signed by a CA the test makes; the
//! conformance suite passes over TLS with `[kv] ca_file` naming that CA, and a server
//! whose certificate another CA signed is refused at once with `io` naming TLS, never
//! used in plain text.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plinth_host::manifest::diagnostic::{Code, ToDiagnostic};
use plinth_host::{Host, KvBackendKind, KvError, KvSettings};
use test_programs::postgres::Postgres;
use test_programs::redis::Redis;

use crate::kv_backends::{LIMITS, caps_plugin, conformance, postgres_url, run, wait};

/// A CA, a server certificate for 127.0.0.1 it signed, and another CA's file.
struct Pki {
    dir: tempfile::TempDir,
    cert: String,
    key: String,
}

fn ca(name: &str) -> rcgen::CertifiedIssuer<'static, rcgen::KeyPair> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap()
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ours = ca("Plinth test database CA");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &*ours)
            .unwrap();
        std::fs::write(dir.path().join("ca.pem"), ours.pem()).unwrap();
        std::fs::write(
            dir.path().join("other-ca.pem"),
            ca("Someone else's CA").pem(),
        )
        .unwrap();
        Pki {
            cert: cert.pem(),
            key: key.serialize_pem(),
            dir,
        }
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn other_ca_file(&self) -> PathBuf {
        self.dir.path().join("other-ca.pem")
    }
}

fn settings(kind: KvBackendKind, url: String, ca_file: &Path) -> KvSettings {
    KvSettings {
        ca_file: Some(ca_file.to_path_buf()),
        ..KvSettings::server(kind, url)
    }
}

/// The suite over TLS, then the same server behind a CA the host does not trust: refused
/// at the handshake, at once (no retries until the timeout), as `io` naming TLS, and
/// through a plugin's call the same.
fn over_tls(kind: KvBackendKind, url: &str, pki: &Pki) {
    let host = Host::builder()
        .kv_limits(LIMITS)
        .kv_settings(settings(kind, url.to_string(), &pki.ca_file()))
        .build()
        .unwrap();
    conformance(host.kv().unwrap());
    drop(host);

    let untrusted = settings(kind, url.to_string(), &pki.other_ca_file());
    let host = Host::builder().kv_settings(untrusted).build().unwrap();
    let started = Instant::now();
    let err = wait(host.kv().unwrap().get(&ns(), "k")).unwrap_err();
    let KvError::Io(message) = &err else {
        panic!("{kind:?}: {err:?}")
    };
    assert!(message.contains(": TLS: "), "{kind:?}: {message}");
    assert!(
        message.contains("UnknownIssuer") || message.contains("unknown issuer"),
        "{kind:?}: {message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{kind:?}: refused at once, not retried for the timeout: {:?}",
        started.elapsed()
    );
    let plugin = caps_plugin(&host, 10_000);
    let refused = run(&plugin, &["kv-set", "a", "1"]).unwrap().unwrap_err();
    assert!(refused.starts_with("io"), "{kind:?}: {refused}");
    assert!(refused.contains("TLS"), "{kind:?}: {refused}");
}

fn ns() -> plinth_host::KvNamespace {
    plinth_host::KvNamespace {
        tenant: None,
        plugin: "tls".into(),
    }
}

#[test]
fn postgres_over_tls_passes_the_suite_and_refuses_an_unknown_ca() {
    let pki = Pki::new();
    let pg = Postgres::start_tls(&pki.cert, &pki.key);
    let url = postgres_url(pg.port);
    over_tls(
        KvBackendKind::Postgres,
        &format!("{url}?sslmode=require"),
        &pki,
    );
    // The server takes TLS only: the same URL without `sslmode` (plain TCP) is turned
    // away by the server itself.
    let plain = KvSettings {
        timeout_ms: 500,
        ..KvSettings::server(KvBackendKind::Postgres, url)
    };
    let host = Host::builder().kv_settings(plain).build().unwrap();
    let err = wait(host.kv().unwrap().get(&ns(), "k")).unwrap_err();
    assert!(err.to_string().contains("PostgreSQL"), "{err}");
}

#[test]
fn redis_over_tls_passes_the_suite_and_refuses_an_unknown_ca() {
    let pki = Pki::new();
    let redis = Redis::start_tls(&pki.cert, &pki.key);
    over_tls(
        KvBackendKind::Redis,
        &format!("rediss://127.0.0.1:{}/0", redis.port),
        &pki,
    );
    // A plain-text client on the TLS port gets no answer it can read: `io`, never data.
    let plain = KvSettings {
        timeout_ms: 500,
        ..KvSettings::server(KvBackendKind::Redis, redis.url())
    };
    let host = Host::builder().kv_settings(plain).build().unwrap();
    assert!(wait(host.kv().unwrap().get(&ns(), "k")).is_err());
}

/// TLS settings that cannot work, or could fall back to plain text, stop the build with
/// `storage-error`.
#[test]
fn tls_settings_are_checked_when_the_host_is_built() {
    let pki = Pki::new();
    let missing = pki.dir.path().join("missing.pem");
    let empty = pki.dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let pg = "postgres://u:p@127.0.0.1:5432/db";
    let cases = [
        // `prefer` could quietly fall back to plain text.
        (
            KvSettings::server(KvBackendKind::Postgres, format!("{pg}?sslmode=prefer")),
            "sslmode=prefer",
        ),
        // A CA without TLS is a mistake, not a plain connection.
        (
            settings(KvBackendKind::Postgres, pg.to_string(), &pki.ca_file()),
            "ca_file",
        ),
        (
            settings(
                KvBackendKind::Redis,
                "redis://127.0.0.1:6379/0".into(),
                &pki.ca_file(),
            ),
            "ca_file",
        ),
        (
            settings(
                KvBackendKind::Postgres,
                format!("{pg}?sslmode=require"),
                &missing,
            ),
            "missing.pem",
        ),
        (
            settings(
                KvBackendKind::Redis,
                "rediss://127.0.0.1:6379/0".into(),
                &empty,
            ),
            "no PEM certificate",
        ),
    ];
    for (settings, says) in cases {
        let err = Host::builder()
            .kv_settings(settings.clone())
            .build()
            .unwrap_err();
        let diagnostic = err.to_diagnostic();
        assert_eq!(diagnostic.code, Code::StorageError, "{settings:?}");
        assert!(diagnostic.message.contains(says), "{diagnostic:?}");
    }
}
