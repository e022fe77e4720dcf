//! The conformance kits of Thoth's kinds (docs/design/0041) against the `thoth-kinds`
//! guest: the reference passes every case of the `file-loader`, `file-viewer`, `exporter`
//! and `theme-provider` kits, and each broken plugin (a mutant of the guest, or a
//! `conformance.toml` missing an example) is caught by the case it targets; every case
//! catches at least one.

use std::collections::BTreeMap;
use std::path::Path;

use plinth_host::Host;
use plinth_host::conformance::{self, CaseOutcome, Report, Suite};
use plinth_manifest::Kind;

use crate::thoth_kinds::{PEOPLE, THOTH_KINDS, host, write_thoth_dir};

/// The kits these tests cover.
const KITS: &[Kind] = &[
    Kind::FileLoader,
    Kind::FileViewer,
    Kind::Exporter,
    Kind::ThemeProvider,
];

/// The guest's examples: `people.csv` (beside the manifest) for the loader, a CSV and a
/// text file for the viewer, a table in CSV and JSON for the exporter.
const FIXTURES: &str = r#"
[[example]]
kind = "file-loader"
format = "csv"
file = "people.csv"
columns = [
  { name = "name", type = "string" },
  { name = "age", type = "int" },
  { name = "score", type = "float" },
  { name = "active", type = "bool" },
]
rows = 3
first_row = ["Ada", 36, 1.5, true]

[[example]]
kind = "file-viewer"
format = "csv"
file = "people.csv"

[[example]]
kind = "file-viewer"
format = "text"
content = "Notes\n\nThe first line.\nThe second line.\n"

[[example]]
kind = "exporter"
format = "csv"
columns = [{ name = "name", type = "string" }, { name = "age", type = "int" }]
rows = [["Ada", 36], ["Torvalds, Linus", 28]]
output = "name,age\nAda,36\n\"Torvalds, Linus\",28\n"

[[example]]
kind = "exporter"
format = "json"
columns = [{ name = "name", type = "string" }, { name = "age", type = "int" }]
rows = [["Ada", 36]]
"#;

/// The examples a `fixtures:` mutant drops, each the only one of its format.
const TEXT_VIEWER_EXAMPLE: &str = "[[example]]\nkind = \"file-viewer\"\nformat = \"text\"\ncontent = \"Notes\\n\\nThe first line.\\nThe second line.\\n\"\n";
const JSON_EXPORTER_EXAMPLE: &str = "[[example]]\nkind = \"exporter\"\nformat = \"json\"\ncolumns = [{ name = \"name\", type = \"string\" }, { name = \"age\", type = \"int\" }]\nrows = [[\"Ada\", 36]]\n";

fn report(host: &Host, kind: Kind, id: &str, fixtures: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), id, fixtures);
    conformance::run(host, kind, dir.path()).unwrap()
}

fn write_dir(dir: &Path, id: &str, fixtures: &str) {
    write_thoth_dir(dir, id, THOTH_KINDS);
    std::fs::write(dir.join("people.csv"), PEOPLE).unwrap();
    std::fs::write(dir.join("conformance.toml"), fixtures).unwrap();
}

#[test]
fn the_fixture_mutants_drop_exactly_one_example() {
    assert!(FIXTURES.contains(TEXT_VIEWER_EXAMPLE.trim_end()));
    assert!(FIXTURES.contains(JSON_EXPORTER_EXAMPLE.trim_end()));
}

#[test]
fn the_reference_passes_every_case_of_every_thoth_kit() {
    let (host, _home) = host();
    for &kind in KITS {
        let report = report(&host, kind, "test.thoth", FIXTURES);
        let not_passed: Vec<_> = report
            .cases
            .iter()
            .filter(|c| c.outcome != CaseOutcome::Passed)
            .collect();
        assert!(not_passed.is_empty(), "{kind}: {not_passed:#?}");
        let suite = Suite::builtin(kind).unwrap();
        assert_eq!(report.passed(), suite.cases.len());
        assert!(report.passed() >= 10, "{kind}: {}", report.passed());
    }
}

#[test]
fn kits_that_need_examples_skip_without_them() {
    let (host, _home) = host();
    for kind in [Kind::FileLoader, Kind::FileViewer, Kind::Exporter] {
        let report = report(&host, kind, "test.thoth", "");
        assert!(report.skipped() > 0, "{kind}: {:#?}", report.cases);
        assert!(!report.all_passed());
    }
    // The theme-provider kit's inputs are generic: it needs no example.
    assert!(report(&host, Kind::ThemeProvider, "test.thoth", "").all_passed());
}

/// Every broken plugin and the case it must fail. `fixtures:NAME` keeps the guest and
/// drops an example from `conformance.toml`.
const MUTANTS: &[(Kind, &str, &str)] = &[
    (Kind::FileLoader, "loader-wrong-columns", "examples-columns"),
    (Kind::FileLoader, "loader-mistyped", "examples-rows"),
    (Kind::FileLoader, "loader-ragged", "truncated-file"),
    (Kind::FileLoader, "loader-stuck", "examples-rows"),
    (Kind::FileLoader, "loader-overfull", "one-row-pages"),
    (Kind::FileLoader, "loader-wrong-count", "row-count-matches"),
    (Kind::FileLoader, "loader-nondeterministic", "deterministic"),
    (Kind::FileLoader, "loader-empty-traps", "empty-file"),
    (Kind::FileLoader, "loader-binary-traps", "binary-garbage"),
    (Kind::FileLoader, "loader-truncated-traps", "truncated-file"),
    (
        Kind::FileLoader,
        "loader-unknown-traps",
        "unknown-format-answered",
    ),
    (Kind::FileLoader, "loader-heavy", "modest-fuel"),
    (Kind::FileLoader, "denied-traps", "denied-grants"),
    (
        Kind::FileViewer,
        "fixtures:text-viewer",
        "formats-have-examples",
    ),
    (
        Kind::FileViewer,
        "viewer-bad-node",
        "examples-are-valid-nodes",
    ),
    (Kind::FileViewer, "viewer-nondeterministic", "deterministic"),
    (Kind::FileViewer, "viewer-empty-traps", "empty-file"),
    (Kind::FileViewer, "viewer-binary-traps", "binary-garbage"),
    (Kind::FileViewer, "viewer-truncated-traps", "truncated-file"),
    (Kind::FileViewer, "viewer-large-traps", "large-file"),
    (
        Kind::FileViewer,
        "viewer-unknown-traps",
        "unknown-format-answered",
    ),
    (Kind::FileViewer, "viewer-heavy", "modest-fuel"),
    (Kind::FileViewer, "denied-traps", "denied-grants"),
    (
        Kind::Exporter,
        "fixtures:json-exporter",
        "formats-have-examples",
    ),
    (Kind::Exporter, "exporter-wrong-output", "examples-export"),
    (Kind::Exporter, "exporter-nondeterministic", "deterministic"),
    (Kind::Exporter, "exporter-empty-output", "output-not-empty"),
    (Kind::Exporter, "exporter-bytes-trap", "every-column-type"),
    (Kind::Exporter, "exporter-empty-table-traps", "empty-table"),
    (Kind::Exporter, "exporter-no-rows-traps", "no-rows"),
    (Kind::Exporter, "exporter-null-traps", "nulls"),
    (Kind::Exporter, "exporter-awkward-traps", "awkward-text"),
    (Kind::Exporter, "exporter-large-traps", "large-table"),
    (
        Kind::Exporter,
        "exporter-unknown-trap",
        "unknown-format-answered",
    ),
    (Kind::Exporter, "denied-traps", "denied-grants"),
    (
        Kind::ThemeProvider,
        "theme-default-invalid",
        "default-is-valid",
    ),
    (Kind::ThemeProvider, "theme-light-invalid", "light-is-valid"),
    (Kind::ThemeProvider, "theme-dark-invalid", "dark-is-valid"),
    (
        Kind::ThemeProvider,
        "theme-nondeterministic",
        "deterministic",
    ),
    (Kind::ThemeProvider, "theme-low-contrast", "readable"),
    (
        Kind::ThemeProvider,
        "theme-light-low-contrast",
        "light-readable",
    ),
    (
        Kind::ThemeProvider,
        "theme-array-traps",
        "context-not-an-object",
    ),
    (
        Kind::ThemeProvider,
        "theme-unknown-key-traps",
        "unknown-context-keys",
    ),
    (Kind::ThemeProvider, "theme-large-traps", "large-context"),
    (
        Kind::ThemeProvider,
        "theme-unknown-traps",
        "unknown-theme-answered",
    ),
    (Kind::ThemeProvider, "theme-heavy", "modest-fuel"),
    (Kind::ThemeProvider, "denied-traps", "denied-grants"),
];

#[test]
fn every_case_of_every_thoth_kit_catches_a_broken_plugin() {
    let (host, _home) = host();
    let mut caught: BTreeMap<(Kind, String), Vec<&str>> = BTreeMap::new();
    let mut missed = Vec::new();
    for &(kind, mutant, target) in MUTANTS {
        let report = match mutant.strip_prefix("fixtures:") {
            Some("text-viewer") => report(
                &host,
                kind,
                "test.thoth",
                &FIXTURES.replace(TEXT_VIEWER_EXAMPLE, ""),
            ),
            Some("json-exporter") => report(
                &host,
                kind,
                "test.thoth",
                &FIXTURES.replace(JSON_EXPORTER_EXAMPLE, ""),
            ),
            Some(other) => panic!("unknown fixtures mutant {other}"),
            None => report(
                &host,
                kind,
                &format!("test.thoth.mutant-{mutant}"),
                FIXTURES,
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
    let total = MUTANTS.len();
    println!("the Thoth kits caught {total} of {total} broken plugins");
}

/// The manifest of the `pdk-thoth` guest (Thoth's kinds written with the Rust PDK).
const PDK_THOTH_KINDS: &str = r#"
[[provides.file-loader]]
name = "csv"
extensions = ["csv"]

[[provides.file-viewer]]
name = "csv"
extensions = ["csv"]

[[provides.file-viewer]]
name = "text"
extensions = ["txt"]

[[provides.exporter]]
name = "csv"
extension = "csv"
media_type = "text/csv"

[[provides.exporter]]
name = "json"
extension = "json"
media_type = "application/json"

[[provides.data-source]]
name = "numbers"
title = "Numbers"

[[provides.theme-provider]]
name = "plain"
"#;

#[test]
fn a_plugin_written_with_the_rust_pdk_passes_every_thoth_kit_and_the_data_source_kit() {
    let (host, _home) = host();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(test_programs::PDK_THOTH, dir.path().join("thoth.wasm")).unwrap();
    std::fs::write(
        dir.path().join("plugin.toml"),
        format!(
            "[plugin]\nid = \"test.pdk-thoth\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"thoth.wasm\"\n{PDK_THOTH_KINDS}"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("people.csv"), PEOPLE).unwrap();
    std::fs::write(dir.path().join("conformance.toml"), FIXTURES).unwrap();
    for &kind in KITS.iter().chain([&Kind::DataSource]) {
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
