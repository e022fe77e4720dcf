//! `plinth new --kind` for the streaming kinds (docs/design/0046), in Rust: each project
//! builds as written and passes its kind's conformance kit, the command its `next:` hint
//! runs. Python and JavaScript have no template for these kinds: asking for one is a usage
//! error that says so.

use crate::common::plinth_project;
use crate::reference_kinds::assert_kit_passes;

/// The streaming kinds, each with a Rust template and a kit.
const KINDS: &[&str] = &["content-transform", "storage-provider"];

#[test]
fn rust_templates_of_streaming_kinds_build_and_pass_their_kits() {
    let root = tempfile::Builder::new()
        .prefix("plinth-new-stream")
        .tempdir()
        .expect("temp dir");
    let root = root.path();
    for kind in KINDS {
        let created = plinth_project(root, &["new", kind, "--kind", kind]);
        assert_eq!(
            created.code, 0,
            "{kind}: {}\n{}",
            created.stdout, created.stderr
        );
        assert!(
            created.stdout.contains(&format!(
                "next: plinth build {kind} && plinth test --conformance {kind} {kind}"
            )),
            "{}",
            created.stdout
        );
        let built = plinth_project(root, &["build", kind]);
        assert_eq!(
            built.code, 0,
            "build {kind}: {}\n{}",
            built.stdout, built.stderr
        );
        let dir = root.join(kind);
        let path = dir.to_str().unwrap();
        let shown = plinth_project(root, &["--json", "show", path]);
        let provides = &serde_json::from_str::<serde_json::Value>(&shown.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", shown.stdout))["provides"];
        assert_eq!(provides["kinds"], serde_json::json!([kind]));
        let text = plinth_project(root, &["show", path]).stdout;
        let line = match *kind {
            "content-transform" => "content-transform upper: text/plain -> text/plain",
            _ => "storage-provider kv",
        };
        assert!(text.contains(line), "{text}");
        assert_kit_passes(&root.join("home"), kind, &dir, kind);
    }
}

#[test]
fn streaming_kinds_have_no_python_or_javascript_template() {
    let root = tempfile::tempdir().unwrap();
    for kind in KINDS {
        for lang in ["python", "js"] {
            let run = plinth_project(
                root.path(),
                &["--json", "new", "p", "--kind", kind, "--lang", lang],
            );
            assert_eq!(run.code, 2, "{kind} {lang}: {}\n{}", run.stdout, run.stderr);
            let text = format!("{}{}", run.stdout, run.stderr);
            assert!(
                text.contains("bad-argument") && text.contains("--lang rust"),
                "{text}"
            );
            assert!(
                !root.path().join("p").exists(),
                "{kind} {lang}: a project was written"
            );
        }
    }
}
