//! `plinth search`, `push` and `pull`: a registry index on a loopback HTTP server and a real
//! docker-registry on 127.0.0.1.

use crate::common::plinth;

use crate::support;

use std::collections::HashMap;

use crate::support::{RegistryServer, StaticServer, make_package, sha256, skipped};

fn index_server() -> StaticServer {
    let package = make_package("example.hello", "1.0.0", b"wasm");
    let index = format!(
        r#"{{"schema_version": 1, "plugins": [
            {{"id": "example.hello", "name": "Hello", "description": "Says hello",
              "versions": [{{"version": "1.0.0", "digest": "{}", "url": "hello.plinth",
                             "capabilities": ["log"]}},
                           {{"version": "1.1.0-rc.1", "digest": "{}", "url": "hello.plinth"}}]}},
            {{"id": "acme.weather", "name": "Weather", "description": "Forecasts",
              "versions": [{{"version": "0.2.0", "digest": "{}", "url": "w.plinth"}}]}}]}}"#,
        sha256(&package),
        sha256(&package),
        sha256(&package)
    );
    StaticServer::start(HashMap::from([(
        "/index.json".to_owned(),
        index.into_bytes(),
    )]))
}

#[test]
fn search_prints_a_table_or_json_from_flag_or_config() {
    let server = index_server();
    let home = tempfile::tempdir().unwrap();
    let url = server.url("index.json");

    let run = plinth(home.path(), &["search", "HELLO", "--index", &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(lines[0].starts_with("ID") && lines[0].contains("LATEST"));
    assert!(lines[1].starts_with("example.hello  1.0.0"), "{}", lines[1]);
    assert!(lines[1].contains("Says hello"));

    // From host config, as JSON, pre-releases on request.
    std::fs::write(
        home.path().join("config.toml"),
        format!("[registry]\nindex = \"{url}\"\n"),
    )
    .unwrap();
    let run = plinth(home.path(), &["--json", "search", "", "--pre"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let plugins = doc["plugins"].as_array().unwrap();
    assert_eq!(plugins.len(), 2);
    assert_eq!(plugins[0]["id"], "acme.weather");
    assert_eq!(plugins[1]["id"], "example.hello");
    assert_eq!(plugins[1]["latest"], "1.1.0-rc.1");
    assert_eq!(
        plugins[1]["versions"],
        serde_json::json!(["1.0.0", "1.1.0-rc.1"])
    );

    let run = plinth(home.path(), &["--json", "search", "hello"]);
    assert_eq!(run.json()["plugins"][0]["latest"], "1.0.0");
    assert_eq!(
        run.json()["plugins"][0]["capabilities"],
        serde_json::json!(["log"])
    );
}

#[test]
fn search_errors_are_coded() {
    let home = tempfile::tempdir().unwrap();
    let run = plinth(home.path(), &["--json", "search", "x"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["diagnostics"][0]["code"], "bad-argument");

    let bad = home.path().join("index.json");
    std::fs::write(&bad, r#"{"schema_version": 1, "plugins": 3}"#).unwrap();
    let run = plinth(
        home.path(),
        &["--json", "search", "x", "--index", bad.to_str().unwrap()],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["diagnostics"][0]["code"], "invalid-index");

    let run = plinth(
        home.path(),
        &[
            "--json",
            "search",
            "x",
            "--index",
            home.path().join("nope.json").to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["diagnostics"][0]["code"], "missing-package");
}

#[test]
fn push_then_pull_writes_the_package_and_signature() {
    if skipped("cli_push_pull") {
        return;
    }
    let server = RegistryServer::start();
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let package = make_package("example.cli", "0.4.0", b"component");
    let file = work.path().join("cli-0.4.0.plinth");
    std::fs::write(&file, &package).unwrap();
    std::fs::write(work.path().join("cli-0.4.0.plinth.sig"), "a1b2c3\n").unwrap();
    let reference = format!("oci://{}/cli:0.4.0", server.address());

    let run = plinth(
        home.path(),
        &["--json", "push", file.to_str().unwrap(), &reference],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let pushed = run.json();
    assert_eq!(pushed["id"], "example.cli");
    assert_eq!(pushed["version"], "0.4.0");
    assert_eq!(pushed["signed"], true);
    assert_eq!(pushed["package_digest"], sha256(&package));

    let out = tempfile::tempdir().unwrap();
    let run = plinth(
        home.path(),
        &[
            "--json",
            "pull",
            &reference,
            "-o",
            out.path().to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["manifest_digest"], pushed["manifest_digest"]);
    assert_eq!(
        std::fs::read(out.path().join("cli-0.4.0.plinth")).unwrap(),
        package
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("cli-0.4.0.plinth.sig")).unwrap(),
        "a1b2c3\n"
    );

    // By digest, in text mode.
    let pinned = pushed["pinned"].as_str().unwrap();
    let out2 = tempfile::tempdir().unwrap();
    let run = plinth(
        home.path(),
        &["pull", pinned, "-o", out2.path().to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("cli-0.4.0.plinth"), "{}", run.stdout);

    // A tampered blob: coded, and nothing written.
    let blob = server.blob_path(&sha256(&package));
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();
    let out3 = tempfile::tempdir().unwrap();
    let run = plinth(
        home.path(),
        &[
            "--json",
            "pull",
            &reference,
            "-o",
            out3.path().to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["diagnostics"][0]["code"], "digest-mismatch");
    assert_eq!(std::fs::read_dir(out3.path()).unwrap().count(), 0);
}

#[test]
fn push_and_pull_refuse_bad_input() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("x.plinth");
    std::fs::write(&file, make_package("example.x", "1.0.0", b"c")).unwrap();

    let run = plinth(
        home.path(),
        &["--json", "push", file.to_str().unwrap(), "127.0.0.1/x:1"],
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["diagnostics"][0]["code"], "bad-argument");

    let junk = work.path().join("junk.plinth");
    std::fs::write(&junk, b"not an archive").unwrap();
    let run = plinth(
        home.path(),
        &[
            "--json",
            "push",
            junk.to_str().unwrap(),
            "oci://127.0.0.1:1/x:1",
        ],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["diagnostics"][0]["code"], "package-rejected");

    let dead = format!("oci://127.0.0.1:{}/x:1", support::free_port());
    let run = plinth(
        home.path(),
        &["--json", "push", file.to_str().unwrap(), &dead],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["diagnostics"][0]["code"], "registry-error");

    let out = tempfile::tempdir().unwrap();
    let run = plinth(
        home.path(),
        &["--json", "pull", &dead, "-o", out.path().to_str().unwrap()],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["diagnostics"][0]["code"], "registry-error");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}
