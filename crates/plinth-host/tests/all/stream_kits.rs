//! The conformance kits of the streaming kinds (docs/design/0046): the `pdk-transform`
//! guest passes every case of the `content-transform` kit, both reference storage
//! providers (files in a granted directory, chunks in KV) pass every case of the
//! `storage-provider` kit, and each broken plugin (a mutant of a guest, or a
//! `conformance.toml` missing an example) is caught by the case it targets; every case
//! catches at least one.

use std::collections::BTreeMap;

use plinth_host::conformance::{self, CaseOutcome, Report, Suite};
use plinth_host::{Host, Limits};
use plinth_manifest::Kind;

use crate::stream_kinds::{
    FS_STORE_MANIFEST, KV_STORE_MANIFEST, TRANSFORM_MANIFEST, host_in, write_plugin_dir,
};

/// The transform's examples: a text, and bytes to copy (the second is what the
/// `fixtures:octet` broken plugin drops).
const TEXT_EXAMPLE: &str = "[[example]]\nkind = \"content-transform\"\nmedia_type = \"text/plain\"\ncontent = \"Quarterly report\\nRevenue rose.\\n\"\n";
const OCTET_EXAMPLE: &str = "[[example]]\nkind = \"content-transform\"\nmedia_type = \"application/octet-stream\"\ncontent = \"opaque bytes, copied as they are\\n\"\n";

/// The kit's report on a plugin folder of `component`, on a host of its own: a fresh
/// `objects` directory and key-value store, so no run sees another's objects.
fn report(kind: Kind, component: &str, id: &str, fixtures: &str) -> Report {
    let home = tempfile::tempdir().unwrap();
    let host = host_in(home.path(), Limits::default().with_timeout_ms(30_000));
    run_kit(&host, kind, component, id, fixtures)
}

fn run_kit(host: &Host, kind: Kind, component: &str, id: &str, fixtures: &str) -> Report {
    let manifest = match (kind, component) {
        (Kind::ContentTransform, _) => TRANSFORM_MANIFEST,
        (_, c) if c == test_programs::PDK_STORAGE_KV => KV_STORE_MANIFEST,
        _ => FS_STORE_MANIFEST,
    };
    let dir = tempfile::tempdir().unwrap();
    write_plugin_dir(dir.path(), component, id, manifest);
    std::fs::write(dir.path().join("conformance.toml"), fixtures).unwrap();
    conformance::run(host, kind, dir.path()).unwrap()
}

fn assert_all_passed(report: &Report, what: &str) {
    let not_passed: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.outcome != CaseOutcome::Passed)
        .collect();
    assert!(not_passed.is_empty(), "{what}: {not_passed:#?}");
}

#[test]
fn the_streaming_kits_have_their_cases_and_a_denied_twin() {
    for (kind, least) in [(Kind::ContentTransform, 10), (Kind::StorageProvider, 20)] {
        let suite = Suite::builtin(kind).unwrap();
        assert!(suite.cases.len() >= least, "{kind}: {}", suite.cases.len());
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
fn the_transform_passes_every_case_of_its_kit() {
    let fixtures = format!("{TEXT_EXAMPLE}\n{OCTET_EXAMPLE}");
    let report = report(
        Kind::ContentTransform,
        test_programs::PDK_TRANSFORM,
        "test.transform",
        &fixtures,
    );
    assert_all_passed(&report, "pdk-transform");
    assert_eq!(
        report.passed(),
        Suite::builtin(Kind::ContentTransform).unwrap().cases.len()
    );
}

#[test]
fn both_reference_providers_pass_every_case_of_the_storage_kit() {
    for component in [test_programs::PDK_STORAGE_FS, test_programs::PDK_STORAGE_KV] {
        let report = report(Kind::StorageProvider, component, "test.store", "");
        assert_all_passed(&report, component);
        assert_eq!(
            report.passed(),
            Suite::builtin(Kind::StorageProvider).unwrap().cases.len()
        );
    }
}

/// Every broken plugin and the case it must fail. `fixtures:octet` keeps the guest and
/// drops the octet-stream example from `conformance.toml`; the storage mutants are of the
/// files provider.
const MUTANTS: &[(Kind, &str, &str)] = &[
    (
        Kind::ContentTransform,
        "fixtures:octet",
        "media-types-have-examples",
    ),
    (Kind::ContentTransform, "ct-fail", "examples-transform"),
    (
        Kind::ContentTransform,
        "ct-bad-media-type",
        "examples-transform-whole",
    ),
    (
        Kind::ContentTransform,
        "ct-wrong-output-type",
        "declared-output-type",
    ),
    (
        Kind::ContentTransform,
        "ct-nondeterministic",
        "streamed-equals-whole",
    ),
    (
        Kind::ContentTransform,
        "ct-nondeterministic",
        "deterministic",
    ),
    (Kind::ContentTransform, "ct-empty-traps", "empty-content"),
    (Kind::ContentTransform, "ct-binary-traps", "binary-garbage"),
    (
        Kind::ContentTransform,
        "ct-truncated-traps",
        "truncated-content",
    ),
    (Kind::ContentTransform, "ct-buffers", "bounded-memory"),
    (
        Kind::ContentTransform,
        "ct-write-unwrap",
        "output-cap-answered",
    ),
    (
        Kind::ContentTransform,
        "ct-accepts-all",
        "unsupported-answered",
    ),
    (Kind::ContentTransform, "ct-heavy", "modest-fuel"),
    (Kind::ContentTransform, "ct-denied-traps", "denied-grants"),
    (Kind::StorageProvider, "sp-size-lies", "round-trip"),
    (Kind::StorageProvider, "sp-empty-fails", "empty-object"),
    (Kind::StorageProvider, "sp-small-cap", "large-object"),
    (Kind::StorageProvider, "sp-ascii-keys", "unicode-key"),
    (Kind::StorageProvider, "sp-first-wins", "overwrite"),
    (Kind::StorageProvider, "sp-head-zero", "head-size"),
    (Kind::StorageProvider, "sp-missing-empty", "get-missing"),
    (Kind::StorageProvider, "sp-head-missing-ok", "head-missing"),
    (
        Kind::StorageProvider,
        "sp-delete-missing-ok",
        "delete-missing",
    ),
    (Kind::StorageProvider, "sp-delete-noop", "delete-then-get"),
    (
        Kind::StorageProvider,
        "sp-delete-truncates",
        "head-after-delete",
    ),
    (Kind::StorageProvider, "sp-delete-noop", "delete-unlists"),
    (Kind::StorageProvider, "sp-unsorted", "listing-order"),
    (Kind::StorageProvider, "sp-ignore-cursor", "listing-pages"),
    (
        Kind::StorageProvider,
        "sp-limit-plus-one",
        "listing-one-per-page",
    ),
    (Kind::StorageProvider, "sp-ignore-prefix", "listing-prefix"),
    (
        Kind::StorageProvider,
        "sp-ignore-cursor",
        "listing-prefix-pages",
    ),
    (
        Kind::StorageProvider,
        "sp-empty-page-cursor",
        "listing-empty",
    ),
    (Kind::StorageProvider, "sp-key-collision", "concurrent-puts"),
    (Kind::StorageProvider, "sp-appends", "concurrent-same-key"),
    (
        Kind::StorageProvider,
        "sp-no-key-check",
        "invalid-key-empty",
    ),
    (
        Kind::StorageProvider,
        "sp-no-key-check",
        "invalid-key-dotdot",
    ),
    (Kind::StorageProvider, "sp-no-key-check", "invalid-key-nul"),
    (Kind::StorageProvider, "sp-no-key-check", "invalid-key-long"),
    (
        Kind::StorageProvider,
        "sp-no-key-check",
        "invalid-key-absolute",
    ),
    (
        Kind::StorageProvider,
        "sp-write-unwrap",
        "output-cap-answered",
    ),
    (Kind::StorageProvider, "sp-heavy", "modest-fuel"),
    (Kind::StorageProvider, "sp-denied-traps", "denied-grants"),
];

#[test]
fn every_case_of_the_streaming_kits_catches_a_broken_plugin() {
    let fixtures = format!("{TEXT_EXAMPLE}\n{OCTET_EXAMPLE}");
    let mut reports: BTreeMap<(Kind, &str), Report> = BTreeMap::new();
    let mut caught: BTreeMap<(Kind, String), Vec<&str>> = BTreeMap::new();
    let mut missed = Vec::new();
    for &(kind, mutant, target) in MUTANTS {
        let report = reports.entry((kind, mutant)).or_insert_with(|| {
            let report = match (kind, mutant) {
                (_, "fixtures:octet") => report(
                    kind,
                    test_programs::PDK_TRANSFORM,
                    "test.transform",
                    TEXT_EXAMPLE,
                ),
                (Kind::ContentTransform, _) => report(
                    kind,
                    test_programs::PDK_TRANSFORM,
                    &format!("test.transform.mutant-{mutant}"),
                    &fixtures,
                ),
                _ => report(
                    kind,
                    test_programs::PDK_STORAGE_FS,
                    &format!("test.store.mutant-{mutant}"),
                    "",
                ),
            };
            for id in report.failures() {
                caught
                    .entry((kind, id.to_string()))
                    .or_default()
                    .push(mutant);
            }
            report
        });
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
    }
    assert!(missed.is_empty(), "{missed:#?}");
    for kind in [Kind::ContentTransform, Kind::StorageProvider] {
        for case in Suite::builtin(kind).unwrap().cases {
            assert!(
                caught.contains_key(&(kind, case.id.clone())),
                "no broken plugin fails {kind}/{}",
                case.id
            );
        }
    }
    let plugins = reports.len();
    eprintln!("the streaming kits caught {plugins} of {plugins} broken plugins");
}
