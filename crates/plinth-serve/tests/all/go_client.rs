//! The Go client in `examples/go-client` (Go standard library only) passes its own test
//! against a real server: a signed plugin installed for a tenant, reviewed, granted,
//! enabled, called, and its metrics read.

use std::path::Path;
use std::process::Command;

use plinth_package::SecretKey;

use crate::common::{Served, entry_in, trust, word_count_dir};

#[tokio::test(flavor = "multi_thread")]
async fn the_go_client_passes_its_test() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let key = SecretKey::generate().unwrap();
    let tenant_home = plinth_package::Home::new(&home).tenant("bitvault").unwrap();
    trust(tenant_home.root(), "bitvault-release", &key);
    let packed = plinth_package::pack(&word_count_dir(tmp.path())).unwrap();
    let package = tmp.path().join("word-count.plinth");
    std::fs::write(&package, &packed.bytes).unwrap();
    std::fs::write(
        tmp.path().join("word-count.plinth.sig"),
        key.sign(&packed.package.subject()).to_text(),
    )
    .unwrap();
    let served = Served::start(&home).await;

    let client_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/go-client");
    let mut go = Command::new("go");
    go.args(["test", "-v", "-count=1", "./..."])
        .current_dir(&client_dir)
        .env("PLINTH_URL", &served.base)
        .env("PLINTH_TOKEN", &served.token)
        .env("PLINTH_PACKAGE", &package)
        .env("PLINTH_TENANT", "bitvault")
        .env("GOFLAGS", "-mod=mod")
        .env("GOCACHE", tmp.path().join("gocache"))
        .env("GOPATH", tmp.path().join("gopath"))
        // Standard library only: nothing may be downloaded.
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local");
    let output = tokio::task::spawn_blocking(move || go.output())
        .await
        .unwrap()
        .expect("go runs (scripts/install-test-servers installs golang-go)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "go test failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("--- PASS: TestDaemonFlow"),
        "the flow did not run:\n{stdout}"
    );

    let state: toml::Table = std::fs::read_to_string(tenant_home.root().join("plugins.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let entry = entry_in(&state, "example.word-count").unwrap();
    assert_eq!(entry["enabled"].as_bool(), Some(true));
    assert_eq!(entry["grants"], toml::Value::Array(vec!["log".into()]));
    assert!(served.entry("example.word-count").is_none());
}
