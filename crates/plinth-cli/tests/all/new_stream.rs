//! `plinth new --kind` for the streaming kinds (docs/design/0046, 0070), in Rust, Python
//! and JavaScript: each project builds as written and passes its kind's whole conformance
//! kit (`bounded-memory` included), the command its `next:` hint runs.

use crate::common::{new_kind_project_built, plinth_project};
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
        let dir = new_kind_project_built(root, kind, kind, None);
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
fn python_and_javascript_templates_of_streaming_kinds_build_and_pass_their_kits() {
    let root = tempfile::Builder::new()
        .prefix("plinth-new-stream-scripted")
        .tempdir()
        .expect("temp dir");
    let root = root.path();
    for lang in ["python", "js"] {
        for kind in KINDS {
            let name = format!("{kind}-{lang}");
            let dir = new_kind_project_built(root, &name, kind, Some(lang));
            let text = plinth_project(root, &["show", dir.to_str().unwrap()]).stdout;
            // The scripted transform is `header` (a line, then the input forwarded by the
            // host), not the Rust template's `upper`: docs/design/0070.
            let line = match *kind {
                "content-transform" => "content-transform header: text/plain -> text/plain",
                _ => "storage-provider kv",
            };
            assert!(text.contains(line), "{name}: {text}");
            assert_kit_passes(&root.join("home"), kind, &dir, &name);
        }
    }
}
