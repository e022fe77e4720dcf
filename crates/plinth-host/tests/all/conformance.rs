//! The conformance kits (docs/design/0039) against the `kinds` guest: the reference
//! behaviour passes every case of every kind, and each deliberately broken plugin (a
//! mutant of the guest, or of its manifest) is caught by the case it targets.

use std::collections::BTreeMap;
use std::path::Path;

use plinth_host::conformance::{self, CaseOutcome, Report, Suite};
use plinth_host::{Host, Limits};
use plinth_manifest::Kind;

use crate::kinds::{ALL_KINDS, write_kinds_dir};

/// The kits the `kinds` guest is the reference of (Thoth's kinds: `thoth_kinds.rs`).
const KINDS_GUEST_KITS: &[Kind] = &[Kind::Command, Kind::Tool, Kind::Hook];

/// The examples of the `kinds` guest.
const FIXTURES: &str = r#"
[[example]]
kind = "tool"
tool = "word_count"
input = { text = "one two  three" }
output = { words = 3 }

[[example]]
kind = "hook"
event = { point = "before-tool-call", subject = "read_file", payload = { path = "/etc/passwd" } }
decision = "deny"

[[example]]
kind = "hook"
event = { point = "before-tool-call", subject = "write", payload = { text = "  hi  " } }
decision = "modify"
payload = { text = "hi" }

[[example]]
kind = "hook"
event = { point = "before-tool-call", subject = "read_file", payload = { path = "/tmp/x" } }
decision = "allow"

[[example]]
kind = "command"
args = ["Ada"]
output = "Hello, Ada!"

[[example]]
kind = "command"
args = ["--shout"]
error = true
"#;

fn host() -> (Host, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let host = Host::builder()
        .data_dir(data.path())
        .limits(Limits::default().with_timeout_ms(3_000))
        .build()
        .unwrap();
    (host, data)
}

fn plugin(dir: &Path, id: &str) {
    write_kinds_dir(dir, id, ALL_KINDS);
    std::fs::write(dir.join("conformance.toml"), FIXTURES).unwrap();
}

fn report(host: &Host, kind: Kind, id: &str, edit: impl FnOnce(&Path)) -> Report {
    let dir = tempfile::tempdir().unwrap();
    plugin(dir.path(), id);
    edit(dir.path());
    conformance::run(host, kind, dir.path()).unwrap()
}

#[test]
fn the_reference_plugin_passes_every_case_of_every_kind() {
    let (host, _data) = host();
    for &kind in KINDS_GUEST_KITS {
        let report = report(&host, kind, "test.kinds", |_| {});
        let not_passed: Vec<_> = report
            .cases
            .iter()
            .filter(|c| c.outcome != CaseOutcome::Passed)
            .collect();
        assert!(not_passed.is_empty(), "{kind}: {not_passed:#?}");
        assert_eq!(report.passed(), Suite::builtin(kind).unwrap().cases.len());
        assert!(report.passed() >= 10);
    }
}

#[test]
fn a_plugin_without_examples_skips_rather_than_passes() {
    let (host, _data) = host();
    let report = report(&host, Kind::Tool, "test.kinds", |dir| {
        std::fs::remove_file(dir.join("conformance.toml")).unwrap();
    });
    assert!(report.skipped() > 0);
    assert!(!report.all_passed());
    assert_eq!(report.failed(), 0, "{:#?}", report.cases);
}

/// Every mutant and the cases it must fail. A mutant named `manifest:…` keeps the guest
/// and breaks the plugin folder instead.
const MUTANTS: &[(Kind, &str, &[&str])] = &[
    (Kind::Tool, "list-extra", &["list-matches-manifest"]),
    (Kind::Tool, "wrong-description", &["descriptions-match"]),
    (Kind::Tool, "wrong-schema", &["schemas-match"]),
    (
        Kind::Tool,
        "manifest:schema-accepts-anything",
        &[
            "input-schemas-are-objects",
            "schema-violation-refused-by-the-host",
        ],
    ),
    (Kind::Tool, "wrong-output", &["examples-answer"]),
    (Kind::Tool, "output-not-json", &["output-is-json"]),
    (Kind::Tool, "nondeterministic", &["deterministic"]),
    (Kind::Tool, "unknown-traps", &["unknown-tool-answered"]),
    (Kind::Tool, "invalid-traps", &["not-json-refused"]),
    (
        Kind::Tool,
        "invalid-as-failed",
        &["schema-violation-refused-by-the-guest"],
    ),
    (Kind::Tool, "denied-traps", &["denied-grants"]),
    (Kind::Hook, "hook-wrong-decision", &["examples-decide"]),
    (Kind::Hook, "hook-deny-unknown", &["unknown-point-allows"]),
    (Kind::Hook, "hook-traps-empty", &["empty-payload"]),
    (Kind::Hook, "hook-traps-bad-json", &["not-json-payload"]),
    (Kind::Hook, "hook-traps-large", &["large-payload"]),
    (Kind::Hook, "hook-empty-reason", &["deny-has-reason"]),
    (Kind::Hook, "hook-modify-array", &["modify-is-object"]),
    (Kind::Hook, "hook-sluggish", &["within-deadline"]),
    (Kind::Hook, "hook-nondeterministic", &["deterministic"]),
    (Kind::Hook, "denied-traps", &["denied-grants"]),
    (Kind::Command, "command-wrong-output", &["examples-answer"]),
    (Kind::Command, "command-traps-no-args", &["no-arguments"]),
    (
        Kind::Command,
        "command-traps-unknown-flag",
        &["unknown-option"],
    ),
    (
        Kind::Command,
        "command-traps-empty-arg",
        &["empty-argument"],
    ),
    (Kind::Command, "command-traps-many", &["many-arguments"]),
    (
        Kind::Command,
        "command-traps-unicode",
        &["unicode-argument"],
    ),
    (Kind::Command, "command-empty-err", &["err-has-message"]),
    (
        Kind::Command,
        "command-nondeterministic",
        &["deterministic"],
    ),
    (Kind::Command, "command-heavy", &["modest-fuel"]),
    (Kind::Command, "denied-traps", &["denied-grants"]),
];

#[test]
fn every_case_catches_a_broken_plugin() {
    let (host, _data) = host();
    // case id → mutants that failed it, per kind.
    let mut caught: BTreeMap<(Kind, String), Vec<&str>> = BTreeMap::new();
    let mut missed = Vec::new();
    for &(kind, mutant, targets) in MUTANTS {
        let report = match mutant.strip_prefix("manifest:") {
            Some("schema-accepts-anything") => report(&host, kind, "test.kinds", |dir| {
                std::fs::write(dir.join("word_count.json"), "{}").unwrap();
            }),
            Some(other) => panic!("unknown manifest mutant {other}"),
            None => report(&host, kind, &format!("test.kinds.mutant-{mutant}"), |_| {}),
        };
        let failed = report.failures();
        for target in targets {
            if !failed.contains(target) {
                missed.push(format!(
                    "{kind}/{target} did not catch {mutant} (failed: {failed:?})"
                ));
            }
        }
        for id in failed {
            caught
                .entry((kind, id.to_string()))
                .or_default()
                .push(mutant);
        }
    }
    assert!(missed.is_empty(), "{missed:#?}");
    let total = MUTANTS.len();
    println!("the kits caught {total} of {total} broken plugins");
    for &kind in KINDS_GUEST_KITS {
        for case in Suite::builtin(kind).unwrap().cases {
            assert!(
                caught.contains_key(&(kind, case.id.clone())),
                "no broken plugin fails {kind}/{}",
                case.id
            );
        }
    }
}
