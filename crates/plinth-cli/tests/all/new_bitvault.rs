//! `plinth new --kind` for BitVault's small kinds (docs/design/0045), in Rust, Python and
//! JavaScript: each project builds as written and passes its kind's conformance kit, the
//! command its `next:` hint runs. The Python and JavaScript builds need componentize-py and
//! componentize-js (`scripts/install-lang-tools`); each language's run one at a time.

use crate::common::new_kind_project_built;
use crate::reference_kinds::assert_kit_passes;

/// The kinds with a template, each with its kit.
const KINDS: &[&str] = &[
    "event-handler",
    "auth-provider",
    "policy-hook",
    "search-analyzer",
    "preview",
];

#[test]
fn rust_templates_of_bitvault_kinds_build_and_pass_their_kits() {
    let root = tempfile::Builder::new()
        .prefix("plinth-new-bitvault")
        .tempdir()
        .expect("temp dir");
    let root = root.path();
    for kind in KINDS {
        let dir = new_kind_project_built(root, kind, kind, None);
        assert_kit_passes(&root.join("home"), kind, &dir, kind);
    }
}

// One test per language, so that libtest runs the two languages' builds side by side.
#[test]
fn python_templates_of_bitvault_kinds_build_and_pass_their_kits() {
    templates_build_and_pass_their_kits("python");
}

#[test]
fn javascript_templates_of_bitvault_kinds_build_and_pass_their_kits() {
    templates_build_and_pass_their_kits("js");
}

/// Every kind's `--lang LANG` template: `new`, its hint, `build`, and the kit.
fn templates_build_and_pass_their_kits(lang: &str) {
    let root = tempfile::Builder::new()
        .prefix("plinth-new-bitvault")
        .tempdir()
        .expect("temp dir");
    let root = root.path();
    for kind in KINDS {
        let name = format!("{kind}-{lang}");
        let dir = new_kind_project_built(root, &name, kind, Some(lang));
        assert_kit_passes(&root.join("home"), kind, &dir, &name);
    }
}
