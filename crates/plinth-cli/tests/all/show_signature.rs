//! `plinth show` reports the signature of a plugin directory, a `.plinth` package and an
//! installed plugin (DESIGN §7): trusted (and by which key), unsigned, untrusted-key or
//! bad-signature, in text and `--json`, without running the plugin.

use crate::common::Setup;

use std::fs;

use serde_json::json;

#[test]
fn show_reports_who_signed_a_directory_a_package_and_an_installed_plugin() {
    let s = Setup::new();

    // A plugin directory: unsigned, then signed by a key not yet trusted, then trusted.
    let run = s.run(&["--json", "show", "hello"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["signature"], json!({"status": "unsigned"}));
    assert_eq!(run.json()["id"], json!("example.hello"));
    let run = s.run(&["show", "hello"]);
    assert!(
        run.stdout.contains("  signature:   unsigned\n"),
        "{}",
        run.stdout
    );

    let run = s.run(&["--json", "keygen", "alice"]);
    let key = run.json()["key"].as_str().unwrap().to_owned();
    assert_eq!(s.run(&["sign", "hello", "--key", "alice.key"]).code, 0);
    let run = s.run(&["--json", "show", "hello"]);
    assert_eq!(
        run.json()["signature"],
        json!({"status": "untrusted-key", "key": key})
    );
    let run = s.run(&["show", "hello"]);
    assert!(
        run.stdout
            .contains(&format!("signed by a key not in the trust store ({key})")),
        "{}",
        run.stdout
    );

    assert_eq!(s.run(&["trust", "add", "alice.pub"]).code, 0);
    let run = s.run(&["--json", "show", "hello"]);
    assert_eq!(
        run.json()["signature"],
        json!({"status": "trusted", "signer": "alice"})
    );
    let run = s.run(&["show", "hello"]);
    assert!(
        run.stdout
            .contains("  signature:   signed by trusted key `alice`\n"),
        "{}",
        run.stdout
    );

    // A package: read from its archive, its signature FILE.sig beside it.
    assert_eq!(s.run(&["pack", "hello", "-o", "hello.plinth"]).code, 0);
    let run = s.run(&["--json", "show", "hello.plinth"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["signature"], json!({"status": "unsigned"}));
    assert_eq!(doc["id"], json!("example.hello"));
    assert_eq!(doc["component"], json!("hello.wasm"));
    assert_eq!(doc["package"], json!("hello.plinth"));
    assert!(!doc["exports"].as_array().unwrap().is_empty(), "{doc}");
    assert_eq!(
        s.run(&["sign", "hello.plinth", "--key", "alice.key"]).code,
        0
    );
    let run = s.run(&["--json", "show", "hello.plinth"]);
    assert_eq!(
        run.json()["signature"],
        json!({"status": "trusted", "signer": "alice"})
    );
    let run = s.run(&["show", "hello.plinth"]);
    assert!(
        run.stdout
            .contains("  component:   hello.wasm (in hello.plinth)\n"),
        "{}",
        run.stdout
    );

    // Other bytes under the same signature: reported, with the diagnostic.
    let good = fs::read(s.work.join("hello.plinth")).unwrap();
    let readme = s.work.join("hello/README.md");
    let original = fs::read(&readme).unwrap();
    fs::write(&readme, "changed").unwrap();
    assert_eq!(s.run(&["pack", "hello", "-o", "hello.plinth"]).code, 0);
    fs::write(&readme, original).unwrap();
    let run = s.run(&["--json", "show", "hello.plinth"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["signature"], json!({"status": "bad-signature"}));
    assert_eq!(run.first_code(), "bad-signature");
    let run = s.run(&["show", "hello.plinth"]);
    assert!(
        run.stdout.contains("  signature:   BAD SIGNATURE"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("error[bad-signature]"),
        "{}",
        run.stderr
    );
    fs::write(s.work.join("hello.plinth"), good).unwrap();

    // Installed from the package: the kept package.sig against the installed files.
    assert_eq!(s.run(&["install", "hello.plinth"]).code, 0);
    let run = s.run(&["--json", "show", "example.hello"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.json()["signature"],
        json!({"status": "trusted", "signer": "alice"})
    );
    assert_eq!(run.json()["package"], json!(null));
    // `check` of the installed folder agrees (it used to look for x.sig only).
    let dir = s.home.join("plugins/example.hello");
    let run = s.run(&["--json", "check", &dir.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.json()["signature"],
        json!({"status": "trusted", "signer": "alice"})
    );
    fs::write(dir.join("README.md"), "edited after the install").unwrap();
    let run = s.run(&["--json", "show", "example.hello"]);
    assert_eq!(run.json()["signature"], json!({"status": "bad-signature"}));

    // Installed from the directory: its component signature x.sig.
    assert_eq!(s.run(&["install", "hello"]).code, 0);
    let run = s.run(&["--json", "show", "example.hello"]);
    assert_eq!(
        run.json()["signature"],
        json!({"status": "trusted", "signer": "alice"})
    );
    assert!(dir.join("hello.sig").is_file());
}
