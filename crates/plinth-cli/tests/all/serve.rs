//! `plinth serve`: the flags that keep it on loopback, and the real binary serving until
//! SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::common::plinth;

#[test]
fn a_network_address_needs_both_flags() {
    let home = tempfile::tempdir().unwrap();
    let run = plinth(home.path(), &["--json", "serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.first_code(), "bad-argument");
    let run = plinth(
        home.path(),
        &["--json", "serve", "--addr", "0.0.0.0:0", "--allow-remote"],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("--no-tls"), "{}", run.stdout);
    assert!(run.stdout.contains("--tls-cert"), "{}", run.stdout);
    assert!(!home.path().join("serve.token").exists());
}

#[test]
fn tls_needs_a_readable_certificate_and_key() {
    let home = tempfile::tempdir().unwrap();
    // Half a pair is a usage error.
    let run = plinth(
        home.path(),
        &[
            "--json",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--tls-cert",
            "cert.pem",
        ],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    // `--no-tls` and a certificate contradict each other.
    let run = plinth(
        home.path(),
        &[
            "--json",
            "serve",
            "--addr",
            "0.0.0.0:0",
            "--allow-remote",
            "--no-tls",
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
        ],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    // Files that are not there: refused before anything is served or written.
    let missing = home.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    let run = plinth(
        home.path(),
        &[
            "--json",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--tls-cert",
            missing,
            "--tls-key",
            missing,
        ],
    );
    assert_ne!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.first_code(), "bad-argument", "{}", run.stdout);
    assert!(run.stdout.contains("missing.pem"), "{}", run.stdout);
    assert!(!home.path().join("serve.token").exists());
}

#[test]
fn it_serves_until_sigterm() {
    let home = tempfile::tempdir().unwrap();
    let mut child = crate::common::plinth_command()
        .arg("--home")
        .arg(home.path())
        .args(["--json", "serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let started: serde_json::Value = serde_json::from_str(&first).unwrap();
    let url = started["listening"].as_str().unwrap();
    let address = url.strip_prefix("http://").unwrap();
    assert!(home.path().join("serve.token").is_file());
    // The dashboard's URL carries the token in its fragment.
    let token = std::fs::read_to_string(home.path().join("serve.token")).unwrap();
    assert_eq!(
        started["dashboard"].as_str().unwrap(),
        format!("{url}/#token={}", token.trim())
    );

    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /api/health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"ok\":true"), "{response}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "a graceful stop exits 0");
}
