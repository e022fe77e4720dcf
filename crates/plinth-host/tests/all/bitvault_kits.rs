//! The conformance kits of BitVault's small kinds (docs/design/0045) against the
//! `bitvault-kinds` guest: the reference passes every case of the `event-handler`,
//! `auth-provider`, `policy-hook`, `search-analyzer` and `preview` kits, and each broken
//! plugin (a mutant of the guest, or a `conformance.toml` missing an example) is caught by
//! the case it targets; every case catches at least one.

use std::collections::BTreeMap;

use plinth_host::Host;
use plinth_host::conformance::{self, CaseOutcome, Report, Suite};
use plinth_manifest::Kind;

use crate::bitvault_kinds::{BITVAULT_KINDS, NOTE, PGM, host, write_bitvault_dir};

/// The kits these tests cover.
const KITS: &[Kind] = &[
    Kind::EventHandler,
    Kind::AuthProvider,
    Kind::PolicyHook,
    Kind::SearchAnalyzer,
    Kind::Preview,
];

/// The guest's examples: its two issued tokens, a PGM image and a note.
fn fixtures() -> String {
    format!(
        r#"
[[example]]
kind = "auth-provider"
token = "tok-alice-acme-7f3a9c"
subject = "alice"
tenant = "acme"

[[example]]
kind = "auth-provider"
token = "tok-bob-globex-19b2e4"
subject = "bob"
tenant = "globex"

{PGM_EXAMPLE}
[[example]]
kind = "preview"
media_type = "text/x-bitvault-note"
content = {note:?}
"#,
        note = NOTE,
        PGM_EXAMPLE = pgm_example(),
    )
}

/// The PGM example, which the `fixtures:pgm` mutant drops.
fn pgm_example() -> String {
    format!(
        "[[example]]\nkind = \"preview\"\nmedia_type = \"image/x-portable-graymap\"\ncontent = {PGM:?}\n"
    )
}

fn report(host: &Host, kind: Kind, id: &str, fixtures: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    write_bitvault_dir(dir.path(), id, BITVAULT_KINDS);
    std::fs::write(dir.path().join("conformance.toml"), fixtures).unwrap();
    conformance::run(host, kind, dir.path()).unwrap()
}

#[test]
fn every_bitvault_kit_has_ten_cases_and_a_denied_twin() {
    for &kind in KITS {
        let suite = Suite::builtin(kind).unwrap();
        assert!(suite.cases.len() >= 10, "{kind}: {}", suite.cases.len());
        assert!(
            suite
                .cases
                .iter()
                .any(|c| c.grants.as_deref() == Some("without-each")),
            "{kind}"
        );
    }
}

#[test]
fn the_reference_passes_every_case_of_every_bitvault_kit() {
    let (host, _home) = host();
    let fixtures = fixtures();
    for &kind in KITS {
        let report = report(&host, kind, "test.bitvault", &fixtures);
        let not_passed: Vec<_> = report
            .cases
            .iter()
            .filter(|c| c.outcome != CaseOutcome::Passed)
            .collect();
        assert!(not_passed.is_empty(), "{kind}: {not_passed:#?}");
        assert_eq!(report.passed(), Suite::builtin(kind).unwrap().cases.len());
    }
}

#[test]
fn kits_that_need_examples_skip_without_them() {
    let (host, _home) = host();
    for kind in [Kind::AuthProvider, Kind::Preview] {
        let report = report(&host, kind, "test.bitvault", "");
        assert!(report.skipped() > 0, "{kind}: {:#?}", report.cases);
        assert!(!report.all_passed());
    }
    for kind in [Kind::EventHandler, Kind::PolicyHook, Kind::SearchAnalyzer] {
        assert!(
            report(&host, kind, "test.bitvault", "").all_passed(),
            "{kind}"
        );
    }
}

/// Every broken plugin and the case it must fail. `fixtures:pgm` keeps the guest and drops
/// the PGM example from `conformance.toml`.
const MUTANTS: &[(Kind, &str, &str)] = &[
    (Kind::EventHandler, "ev-created-traps", "created-answers"),
    (Kind::EventHandler, "ev-reject-empty", "created-answers"),
    (Kind::EventHandler, "ev-updated-traps", "updated-answers"),
    (Kind::EventHandler, "ev-deleted-traps", "deleted-answers"),
    (Kind::EventHandler, "ev-nondeterministic", "deterministic"),
    (Kind::EventHandler, "ev-unicode-traps", "unicode-path"),
    (Kind::EventHandler, "ev-long-path-traps", "long-path"),
    (Kind::EventHandler, "ev-attributes-traps", "many-attributes"),
    (Kind::EventHandler, "ev-size-overflow", "huge-size"),
    (
        Kind::EventHandler,
        "ev-media-type-traps",
        "empty-media-type",
    ),
    (
        Kind::EventHandler,
        "ev-retry-forever",
        "retry-within-an-hour",
    ),
    (Kind::EventHandler, "heavy", "modest-fuel"),
    (Kind::EventHandler, "denied-traps", "denied-grants"),
    (Kind::AuthProvider, "auth-wrong-tenant", "examples-identify"),
    (Kind::AuthProvider, "auth-bad-tenant", "examples-identify"),
    (Kind::AuthProvider, "auth-nondeterministic", "deterministic"),
    (Kind::AuthProvider, "auth-empty-accepted", "empty-denied"),
    (Kind::AuthProvider, "auth-accept-all", "garbage-denied"),
    (
        Kind::AuthProvider,
        "auth-tamper-accepted",
        "tampered-denied",
    ),
    (
        Kind::AuthProvider,
        "auth-case-insensitive",
        "case-variant-denied",
    ),
    (Kind::AuthProvider, "auth-trims", "padded-denied"),
    (
        Kind::AuthProvider,
        "auth-control-traps",
        "control-characters",
    ),
    (Kind::AuthProvider, "auth-large-traps", "large-token"),
    (Kind::AuthProvider, "heavy", "modest-fuel"),
    (Kind::AuthProvider, "denied-traps", "denied-grants"),
    (Kind::PolicyHook, "pol-get-traps", "get-answers"),
    (Kind::PolicyHook, "pol-put-traps", "put-answers"),
    (Kind::PolicyHook, "pol-large-put-traps", "large-put-answers"),
    (Kind::PolicyHook, "pol-add-empty-name", "large-put-answers"),
    (
        Kind::PolicyHook,
        "pol-unknown-op-traps",
        "unknown-operation",
    ),
    (Kind::PolicyHook, "pol-nondeterministic", "deterministic"),
    (Kind::PolicyHook, "pol-slow", "within-deadline"),
    (Kind::PolicyHook, "pol-unicode-traps", "unicode-path"),
    (Kind::PolicyHook, "pol-attributes-traps", "many-attributes"),
    (Kind::PolicyHook, "pol-anonymous-traps", "empty-subject"),
    (Kind::PolicyHook, "heavy", "modest-fuel"),
    (Kind::PolicyHook, "denied-traps", "denied-grants"),
    (Kind::SearchAnalyzer, "an-no-tokens", "plain-text"),
    (Kind::SearchAnalyzer, "an-char-offsets", "unicode-offsets"),
    (
        Kind::SearchAnalyzer,
        "an-positions-backwards",
        "positions-never-decrease",
    ),
    (Kind::SearchAnalyzer, "an-empty-token", "empty-text"),
    (
        Kind::SearchAnalyzer,
        "an-whitespace-tokens",
        "whitespace-only",
    ),
    (Kind::SearchAnalyzer, "an-punct-traps", "punctuation"),
    (Kind::SearchAnalyzer, "an-nondeterministic", "deterministic"),
    (Kind::SearchAnalyzer, "an-large-traps", "large-text"),
    (
        Kind::SearchAnalyzer,
        "an-unknown-traps",
        "unknown-analyzer-answered",
    ),
    (Kind::SearchAnalyzer, "heavy", "modest-fuel"),
    (Kind::SearchAnalyzer, "denied-traps", "denied-grants"),
    (Kind::Preview, "fixtures:pgm", "media-types-have-examples"),
    (Kind::Preview, "pv-no-preview", "examples-preview"),
    (Kind::Preview, "pv-fake-png", "examples-preview"),
    (Kind::Preview, "pv-huge-preview", "small-previews"),
    (Kind::Preview, "pv-nondeterministic", "deterministic"),
    (Kind::Preview, "pv-empty-traps", "empty-content"),
    (Kind::Preview, "pv-binary-traps", "binary-garbage"),
    (Kind::Preview, "pv-truncated-traps", "truncated-content"),
    (Kind::Preview, "pv-large-traps", "large-content"),
    (Kind::Preview, "pv-unknown-traps", "unsupported-answered"),
    (Kind::Preview, "heavy", "modest-fuel"),
    (Kind::Preview, "denied-traps", "denied-grants"),
];

#[test]
fn every_case_of_every_bitvault_kit_catches_a_broken_plugin() {
    let (host, _home) = host();
    let fixtures = fixtures();
    assert!(fixtures.contains(&pgm_example()));
    let mut caught: BTreeMap<(Kind, String), Vec<&str>> = BTreeMap::new();
    let mut missed = Vec::new();
    for &(kind, mutant, target) in MUTANTS {
        let report = match mutant {
            "fixtures:pgm" => report(
                &host,
                kind,
                "test.bitvault",
                &fixtures.replace(&pgm_example(), ""),
            ),
            _ => report(
                &host,
                kind,
                &format!("test.bitvault.mutant-{mutant}"),
                &fixtures,
            ),
        };
        let failed = report.failures();
        if !failed.contains(&target) {
            missed.push(format!(
                "{kind}/{target} did not catch {mutant} (failed: {failed:?}; {:?})",
                report
                    .cases
                    .iter()
                    .find(|c| c.id == target)
                    .map(|c| &c.outcome)
            ));
        }
        for id in failed {
            caught
                .entry((kind, id.to_string()))
                .or_default()
                .push(mutant);
        }
    }
    assert!(missed.is_empty(), "{missed:#?}");
    for &kind in KITS {
        for case in Suite::builtin(kind).unwrap().cases {
            assert!(
                caught.contains_key(&(kind, case.id.clone())),
                "no broken plugin fails {kind}/{}",
                case.id
            );
        }
    }
}

#[test]
fn a_plugin_written_with_the_rust_pdk_passes_every_bitvault_kit() {
    let (host, _home) = host();
    let dir = tempfile::tempdir().unwrap();
    write_bitvault_dir(dir.path(), "test.pdk-bitvault", BITVAULT_KINDS);
    std::fs::copy(
        test_programs::PDK_BITVAULT,
        dir.path().join("bitvault.wasm"),
    )
    .unwrap();
    std::fs::write(dir.path().join("conformance.toml"), fixtures()).unwrap();
    for &kind in KITS {
        let report = conformance::run(&host, kind, dir.path()).unwrap();
        let not_passed: Vec<_> = report
            .cases
            .iter()
            .filter(|c| c.outcome != CaseOutcome::Passed)
            .collect();
        assert!(not_passed.is_empty(), "{kind}: {not_passed:#?}");
        assert!(report.passed() >= 10);
    }
}
