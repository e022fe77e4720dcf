//! The key-value store's durability and isolation, through its Rust API
//! (`plinth_host::KvStore`, the store behind `plinth:host/kv`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use plinth_host::{Host, KvLimits, KvNamespace, KvStore};

const CHILD_ENV: &str = "PLINTH_KV_CHILD_DB";

fn ns(tenant: Option<&str>) -> KvNamespace {
    KvNamespace {
        tenant: tenant.map(str::to_string),
        plugin: "writer".into(),
    }
}

/// Run as a child: writes keys forever, printing each one after `set` returned.
#[test]
fn kv_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return; // only does something when re-invoked by `acknowledged_writes_survive_sigkill`
    };
    let store = KvStore::open(&path, KvLimits::default()).unwrap();
    let ns = ns(None);
    let stdout = std::io::stdout();
    for i in 0u64.. {
        let key = format!("key-{i:08}");
        store.set(&ns, &key, key.as_bytes()).unwrap();
        use std::io::Write;
        let mut out = stdout.lock();
        writeln!(out, "ACK {key}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/kv.redb");
    // The child runs only `kv_child_writer`: libtest names it by its path below the crate
    // root (`kv::kv_child_writer`), which `--exact` matches whole.
    let module = module_path!()
        .split_once("::")
        .map_or("", |(_, module)| module);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &format!("{module}::kv_child_writer"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let reader = BufReader::new(child.stdout.take().unwrap());
    for line in reader.lines() {
        let line = line.unwrap();
        if let Some(key) = line.strip_prefix("ACK ") {
            acked.push(key.to_string());
        }
        if acked.len() >= 50 || Instant::now() > deadline {
            break;
        }
    }
    // SIGKILL mid-stream: the child is still writing.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        acked.len() >= 50,
        "the child acknowledged only {} writes",
        acked.len()
    );

    let store = KvStore::open(&db, KvLimits::default()).unwrap();
    for key in &acked {
        assert_eq!(
            store.get(&ns(None), key).unwrap().as_deref(),
            Some(key.as_bytes()),
            "acknowledged write {key} was lost"
        );
    }
}

#[test]
fn tenants_never_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let host = Host::builder().data_dir(dir.path()).build().unwrap();
    let kv = host.kv_store().unwrap();
    assert_eq!(kv.path(), dir.path().join("kv.redb"));
    let (a, b) = (ns(Some("acme")), ns(Some("globex")));
    kv.set(&a, "k", b"acme").unwrap();
    kv.increment(&b, "n", 2).unwrap();
    assert_eq!(kv.get(&b, "k").unwrap(), None);
    assert_eq!(kv.list_keys(&a, "", 10).unwrap(), ["k"]);
    assert_eq!(kv.list_keys(&b, "", 10).unwrap(), ["n"]);
    assert_eq!(kv.get(&ns(None), "k").unwrap(), None);
}

/// A damaged database is the host's storage failing (`storage-error`, naming the file),
/// not a plugin trap, and the file is left as it was for the operator.
#[test]
fn a_corrupt_database_is_a_storage_error() {
    use plinth_host::manifest::diagnostic::{Code, ToDiagnostic};

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kv.redb");
    let garbage = b"not a redb database, just bytes that happen to be here".repeat(100);
    std::fs::write(&file, &garbage).unwrap();
    let err = Host::builder()
        .data_dir(dir.path())
        .build()
        .expect_err("a corrupt database must not open");
    let diagnostic = err.to_diagnostic();
    assert_eq!(diagnostic.code, Code::StorageError, "{diagnostic:?}");
    assert!(diagnostic.message.contains("kv.redb"), "{diagnostic:?}");
    assert_eq!(std::fs::read(&file).unwrap(), garbage);
}
