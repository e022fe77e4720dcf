//! Thoth's kinds through the typed host API (docs/design/0040): a CSV file loader read a
//! page at a time, exporters, a viewer, a data source whose UI nodes are checked against
//! the published schema, themes and a theme provider; lookups by extension that run
//! nothing; declared kinds the component lacks.

use std::path::Path;

use plinth_host::conformance::{self, CaseOutcome, Suite};
use plinth_host::kinds::{
    Cell, Column, ColumnType, DataSource, Exporter, FileLoader, FileViewer, KindError, Source,
    Table, Theme, ThemeProvider, UiEvent, UiEventKind, ui_node_violations,
};
use plinth_host::{Host, HostError, Limits, LoadOptions, Plugin};
use plinth_manifest::grant::Grant;
use plinth_manifest::{Code, FileQuery, Kind, ToDiagnostic};
use serde_json::json;

/// The manifest entries of every kind the `thoth-kinds` guest provides.
pub(crate) const THOTH_KINDS: &str = r#"
[capabilities]
kv = true
fs = { read = ["data"] }

[[provides.file-loader]]
name = "csv"
description = "Comma-separated values"
extensions = ["csv"]
media_types = ["text/csv"]

[[provides.file-viewer]]
name = "csv"
extensions = ["csv"]

[[provides.file-viewer]]
name = "text"
extensions = ["txt", "md"]
media_types = ["text/plain"]

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
name = "adaptive"

[[provides.theme]]
name = "night"
file = "night.json"
"#;

pub(crate) const NIGHT: &str = r##"{"name":"Night","appearance":"dark","colors":{"background":"#101418","foreground":"#e6e6e6","accent":"#4c8dff","table.header":"#1c2230"}}"##;

pub(crate) const PEOPLE: &str =
    "name,age,score,active\nAda,36,1.5,true\nGrace,,2.5,false\n\"Torvalds, Linus\",28,3,true\n";

/// A plugin folder for the `thoth-kinds` guest: `id`, then manifest text after `[runtime]`.
pub(crate) fn write_thoth_dir(dir: &Path, id: &str, rest: &str) {
    std::fs::copy(test_programs::THOTH_KINDS, dir.join("thoth.wasm")).unwrap();
    std::fs::write(dir.join("night.json"), NIGHT).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"thoth.wasm\"\n\n{rest}"
        ),
    )
    .unwrap();
}

/// A host with a key-value store and a `data` directory holding `people.csv`.
pub(crate) fn host() -> (Host, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("files");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("people.csv"), PEOPLE).unwrap();
    let host = Host::builder()
        .data_dir(home.path().join("kv"))
        .dir("data", &data)
        .limits(Limits::default().with_timeout_ms(3_000))
        .build()
        .unwrap();
    (host, home)
}

fn all_grants() -> Vec<Grant> {
    vec![Grant::Kv, Grant::FsRead("data".into())]
}

fn load(host: &Host, dir: &Path, grants: Vec<Grant>) -> Plugin {
    host.load_with(dir, LoadOptions::default().with_grants(grants))
        .unwrap()
}

fn plugin(host: &Host, id: &str) -> (Plugin, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    write_thoth_dir(dir.path(), id, THOTH_KINDS);
    (load(host, dir.path(), all_grants()), dir)
}

fn people_columns() -> Vec<Column> {
    vec![
        Column::new("name", ColumnType::String),
        Column::new("age", ColumnType::Int),
        Column::new("score", ColumnType::Float),
        Column::new("active", ColumnType::Bool),
    ]
}

#[test]
fn a_csv_loader_reads_a_typed_table_a_page_at_a_time() {
    let (host, _home) = host();
    let (plugin, _dir) = plugin(&host, "test.thoth");
    assert_eq!(
        plugin.kinds(),
        [
            Kind::FileLoader,
            Kind::FileViewer,
            Kind::Exporter,
            Kind::DataSource,
            Kind::Theme,
            Kind::ThemeProvider
        ]
    );
    let loaders = plugin.kind::<FileLoader>().unwrap();
    assert_eq!(loaders.formats()[0].name, "csv");

    for source in [
        Source::Bytes(PEOPLE.as_bytes().to_vec()),
        Source::Path("/data/people.csv".into()),
    ] {
        let calls = plugin.usage().calls;
        let mut reader = loaders.open("csv", source).unwrap();
        assert_eq!(reader.columns(), people_columns());
        let first = reader.next_page(2).unwrap().unwrap();
        assert_eq!(
            first,
            [
                vec![
                    Cell::String("Ada".into()),
                    Cell::Int(36),
                    Cell::Float(1.5),
                    Cell::Bool(true)
                ],
                vec![
                    Cell::String("Grace".into()),
                    Cell::Null,
                    Cell::Float(2.5),
                    Cell::Bool(false)
                ],
            ]
        );
        let second = reader.next_page(2).unwrap().unwrap();
        assert_eq!(second[0][0], Cell::String("Torvalds, Linus".into()));
        assert_eq!(second.len(), 1);
        assert!(reader.is_done());
        assert_eq!(reader.next_page(2).unwrap(), None);
        assert_eq!(reader.rows_read(), 3);
        // One call for the columns, one per page, each in a fresh instance.
        assert_eq!(plugin.usage().calls, calls + 3);
    }

    let table = loaders
        .open("csv", Source::Bytes(PEOPLE.into()))
        .unwrap()
        .read_all(1)
        .unwrap();
    assert_eq!(table.rows.len(), 3);
    assert_eq!(
        table.rows_as_json()[1],
        json!({"name": "Grace", "age": null, "score": 2.5, "active": false})
    );
}

#[test]
fn loader_failures_are_coded() {
    let (host, _home) = host();
    let (plugin, _dir) = plugin(&host, "test.thoth");
    let loaders = plugin.kind::<FileLoader>().unwrap();

    // An undeclared format is refused before the guest runs.
    let calls = plugin.usage().calls;
    let err = loaders
        .open("xlsx", Source::Bytes(b"x".to_vec()))
        .unwrap_err();
    assert_eq!(err.code(), Code::UnknownFormat);
    assert!(err.to_string().contains("its formats: csv"), "{err}");
    assert_eq!(plugin.usage().calls, calls);

    // Bad data is the plugin's own answer, with its case as the code.
    let err = loaders.open("csv", Source::Bytes(Vec::new())).unwrap_err();
    let KindError::PluginFailed { code, .. } = &err else {
        panic!("expected plugin-failed, got {err:?}");
    };
    assert_eq!(code, "invalid-data");
    assert_eq!(err.code(), Code::PluginFailed);
    let mut reader = loaders
        .open("csv", Source::Bytes(b"a,b\n1,2\nx,3\n".to_vec()))
        .unwrap();
    let err = reader.next_page(10).unwrap_err();
    assert_eq!(err.code(), Code::PluginFailed, "{err}");
    assert!(
        err.to_string()
            .contains("`x` is not a value of an int column"),
        "{err}"
    );

    // Without `fs.read:data` the file is not there: a clean `io` failure, not a trap.
    let dir = tempfile::tempdir().unwrap();
    write_thoth_dir(dir.path(), "test.thoth-nofs", THOTH_KINDS);
    let denied = load(&host, dir.path(), vec![Grant::Kv]);
    let err = denied
        .kind::<FileLoader>()
        .unwrap()
        .open("csv", Source::Path("/data/people.csv".into()))
        .unwrap_err();
    let KindError::PluginFailed { code, .. } = &err else {
        panic!("expected plugin-failed, got {err:?}");
    };
    assert_eq!(code, "io");
}

#[test]
fn broken_pages_are_invalid_output() {
    let (host, _home) = host();
    for (mutant, page, needle) in [
        (
            "loader-mistyped",
            1,
            "at `/rows/0/1`: a `string` value in the `int` column `age`",
        ),
        ("loader-ragged", 2, "at `/rows/1`: 3 cells for 2 columns"),
        (
            "loader-overfull",
            1,
            "a page of 2 rows where at most 1 were asked for",
        ),
        ("loader-stuck", 1, "the cursor did not move"),
    ] {
        let (plugin, _dir) = plugin(&host, &format!("test.thoth.mutant-{mutant}"));
        let loaders = plugin.kind::<FileLoader>().unwrap();
        let source = if mutant == "loader-ragged" {
            Source::Bytes(b"name,age\nAda,36\nBob,1,extra\n".to_vec())
        } else {
            Source::Bytes(PEOPLE.as_bytes().to_vec())
        };
        let mut reader = loaders.open("csv", source).unwrap();
        let err = reader.next_page(page).unwrap_err();
        assert_eq!(err.code(), Code::InvalidOutput, "{mutant}: {err}");
        assert!(err.to_string().contains(needle), "{mutant}: {err}");
    }
}

#[test]
fn exporters_write_declared_formats() {
    let (host, _home) = host();
    let (plugin, _dir) = plugin(&host, "test.thoth");
    let table = plugin
        .kind::<FileLoader>()
        .unwrap()
        .open("csv", Source::Bytes(PEOPLE.into()))
        .unwrap()
        .read_all(100)
        .unwrap();
    let exporters = plugin.kind::<Exporter>().unwrap();
    let names: Vec<(&str, &str)> = exporters
        .formats()
        .iter()
        .map(|f| (f.name.as_str(), f.media_type.as_str()))
        .collect();
    assert_eq!(names, [("csv", "text/csv"), ("json", "application/json")]);

    let csv = exporters.export("csv", &table).unwrap();
    assert_eq!(
        String::from_utf8(csv).unwrap(),
        "name,age,score,active\nAda,36,1.5,true\nGrace,,2.5,false\n\"Torvalds, Linus\",28,3,true\n"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&exporters.export("json", &table).unwrap()).unwrap();
    assert_eq!(json, serde_json::Value::Array(table.rows_as_json()));

    let calls = plugin.usage().calls;
    let err = exporters.export("parquet", &table).unwrap_err();
    assert_eq!(err.code(), Code::UnknownFormat);
    let ragged = Table {
        columns: people_columns(),
        rows: vec![vec![Cell::String("Ada".into())]],
    };
    let err = exporters.export("csv", &ragged).unwrap_err();
    assert_eq!(err.code(), Code::InvalidInput);
    assert!(err.to_string().contains("/rows/0"), "{err}");
    assert_eq!(plugin.usage().calls, calls, "the guest must not run");

    let bytes = Table {
        columns: vec![Column::new("blob", ColumnType::Bytes)],
        rows: vec![vec![Cell::Bytes(vec![1, 2])]],
    };
    let err = exporters.export("csv", &bytes).unwrap_err();
    let KindError::PluginFailed { code, .. } = &err else {
        panic!("expected plugin-failed, got {err:?}");
    };
    assert_eq!(code, "unsupported");
}

#[test]
fn viewers_answer_checked_ui_nodes() {
    let (host, _home) = host();
    let (plugin, _dir) = plugin(&host, "test.thoth");
    let viewers = plugin.kind::<FileViewer>().unwrap();
    let view = viewers
        .view("csv", Source::Path("/data/people.csv".into()))
        .unwrap();
    assert_eq!(view.node["type"], "table");
    assert_eq!(
        view.node["columns"],
        json!(["name", "age", "score", "active"])
    );
    assert_eq!(view.height_hint, 200);
    let text = viewers
        .view("text", Source::Bytes(b"hello".to_vec()))
        .unwrap();
    assert_eq!(text.node, json!({"type": "text", "text": "hello"}));
    assert!(ui_node_violations(&text.node).is_empty());

    let (broken, _dir) = plugin_mutant(&host, "viewer-bad-node");
    let err = broken
        .kind::<FileViewer>()
        .unwrap()
        .view("text", Source::Bytes(b"hello".to_vec()))
        .unwrap_err();
    let KindError::InvalidNode { violations, .. } = &err else {
        panic!("expected an invalid node, got {err:?}");
    };
    assert_eq!(violations[0].rule, "required", "{violations:?}");
    assert_eq!(err.code(), Code::InvalidOutput);
}

fn plugin_mutant(host: &Host, mutant: &str) -> (Plugin, tempfile::TempDir) {
    plugin(host, &format!("test.thoth.mutant-{mutant}"))
}

#[test]
fn a_data_source_renders_a_panel_and_handles_events() {
    let (host, _home) = host();
    let (plugin, _dir) = plugin(&host, "test.thoth");
    let source = plugin.kind::<DataSource>().unwrap();
    assert_eq!(source.decl().unwrap().title, "Numbers");

    let panel = source.render_ui().unwrap();
    assert_eq!(panel.node["type"], "column");
    assert_eq!(panel.node["children"][2]["id"], "load");
    assert_eq!(panel.height_hint, 160);

    let event = |widget: &str, kind, value: &str| UiEvent {
        widget_id: widget.into(),
        kind,
        value: value.into(),
    };
    let clicked = source
        .handle_event(&event("load", UiEventKind::Click, ""))
        .unwrap();
    assert_eq!(clicked.node["children"][3]["text"], "Loading.");
    let changed = source
        .handle_event(&event("count", UiEventKind::Change, "12"))
        .unwrap();
    assert_eq!(changed.node["children"][3]["text"], "Count: 12");
    let notified = source
        .handle_event(&event("", UiEventKind::Notify, "theme"))
        .unwrap();
    assert_eq!(notified.node["children"][3]["text"], "Notified: theme");
    let sidebar = source.render_sidebar().unwrap().unwrap();
    assert_eq!(sidebar.node, json!({"type": "text", "text": "Numbers"}));

    // A node that breaks the schema never reaches the application: `invalid-output`
    // with the JSON path and rule.
    let err = source
        .handle_event(&event("break", UiEventKind::Click, ""))
        .unwrap_err();
    let KindError::InvalidNode { violations, .. } = &err else {
        panic!("expected an invalid node, got {err:?}");
    };
    assert_eq!(err.code(), Code::InvalidOutput);
    assert_eq!(violations[0].path, "/children/1/type", "{violations:?}");
    assert_eq!(violations[0].rule, "enum", "{violations:?}");
    let diagnostic = err.to_diagnostic();
    assert!(diagnostic.hint.unwrap().contains("/children/1/type"));
    assert_eq!(diagnostic.plugin.as_deref(), Some("test.thoth"));

    let (broken, _dir) = plugin_mutant(&host, "source-bad-node");
    let err = broken
        .kind::<DataSource>()
        .unwrap()
        .render_ui()
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidOutput, "{err}");
}

#[test]
fn a_data_source_reads_its_table_a_page_at_a_time() {
    let (host, _home) = host();
    let (plugin, _dir) = plugin(&host, "test.thoth");
    let source = plugin.kind::<DataSource>().unwrap();
    let reader = source.open(&json!({"count": 5})).unwrap();
    assert_eq!(reader.info().row_count, Some(5));
    let table = reader.read_all(2).unwrap();
    assert_eq!(table.rows.len(), 5);
    assert_eq!(table.rows[4], [Cell::Int(4), Cell::Int(16)]);

    let err = source.open(&json!("nope")).unwrap_err();
    let KindError::PluginFailed { code, .. } = &err else {
        panic!("expected plugin-failed, got {err:?}");
    };
    assert_eq!(code, "invalid-query");
}

#[test]
fn themes_are_read_at_load_and_providers_are_checked() {
    let (host, _home) = host();
    let (plugin, dir) = plugin(&host, "test.thoth");
    let themes = plugin.kind::<Theme>().unwrap();
    let night = themes.get("night").unwrap();
    assert_eq!(night.name, "Night");
    assert_eq!(night.colors["table.header"], "#1c2230");

    let provider = plugin.kind::<ThemeProvider>().unwrap();
    let light = provider
        .provide(
            "adaptive",
            &json!({"appearance": "light", "accent": "#ff8800"}),
        )
        .unwrap();
    assert_eq!(light.colors["accent"], "#ff8800");
    assert_eq!(light.colors["background"], "#ffffff");
    let err = provider
        .provide("adaptive", &json!({"accent": "orange"}))
        .unwrap_err();
    let KindError::InvalidTheme { violations, .. } = &err else {
        panic!("expected invalid-theme, got {err:?}");
    };
    assert_eq!(violations[0].path, "/colors/accent", "{violations:?}");
    assert_eq!(err.code(), Code::InvalidTheme);
    let err = provider
        .provide("adaptive", &json!({"broken": true}))
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidTheme, "{err}");
    let err = provider.provide("neon", &json!({})).unwrap_err();
    assert_eq!(err.code(), Code::UnknownFormat, "{err}");

    // A theme that breaks the schema fails the load, naming the theme and the path.
    std::fs::write(
        dir.path().join("night.json"),
        r##"{"name":"Night","appearance":"dusk","colors":{"background":"#000","foreground":"#fff","accent":"#fff"}}"##,
    )
    .unwrap();
    let Err(err) = host.load_with(dir.path(), LoadOptions::default().with_grants(all_grants()))
    else {
        panic!("a broken theme loads");
    };
    assert!(matches!(err, HostError::Theme { .. }), "{err:?}");
    let diagnostic = err.to_diagnostic();
    assert_eq!(diagnostic.code, Code::InvalidTheme);
    assert!(diagnostic.message.contains("/appearance"), "{diagnostic}");
}

#[test]
fn loaders_and_viewers_are_found_by_extension_without_running_anything() {
    let (host, _home) = host();
    let (plugin, _dir) = plugin(&host, "test.thoth");
    let calls = plugin.usage().calls;
    let provides = &plugin.manifest().unwrap().provides;
    let loaders = provides.loaders_for(FileQuery::Path(Path::new("/home/a/People.CSV")));
    assert_eq!(loaders.len(), 1);
    assert_eq!(loaders[0].name, "csv");
    assert!(
        provides
            .loaders_for(FileQuery::MediaType("text/csv; charset=utf-8"))
            .iter()
            .any(|f| f.name == "csv")
    );
    assert!(
        provides
            .loaders_for(FileQuery::Path(Path::new("a.txt")))
            .is_empty()
    );
    let viewers = provides.viewers_for(FileQuery::Path(Path::new("notes.md")));
    assert_eq!(viewers[0].name, "text");
    assert_eq!(plugin.usage().calls, calls, "a lookup runs no plugin code");
}

#[test]
fn a_declared_kind_the_component_lacks_fails_the_load() {
    let (host, _home) = host();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(test_programs::KINDS, dir.path().join("kinds.wasm")).unwrap();
    std::fs::write(
        dir.path().join("plugin.toml"),
        "[plugin]\nid = \"test.not-a-loader\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"kinds.wasm\"\n\n[[provides.file-loader]]\nname = \"csv\"\nextensions = [\"csv\"]\n",
    )
    .unwrap();
    let Err(err) = host.load(dir.path()) else {
        panic!("a component without the file-loader export loads as one");
    };
    let diagnostic = err.to_diagnostic();
    assert_eq!(diagnostic.code, Code::KindMismatch);
    assert!(
        diagnostic
            .message
            .contains("plinth:file-loader/file-loader@0.1.0"),
        "{diagnostic}"
    );
}

/// The `data-source` kit (conformance/data-source.toml): the reference passes every case,
/// and each broken plugin is caught by the case it targets; every case catches one.
#[test]
fn the_data_source_kit_passes_the_reference_and_catches_every_mutant() {
    let (host, _home) = host();
    let run = |id: &str| {
        let dir = tempfile::tempdir().unwrap();
        write_thoth_dir(dir.path(), id, THOTH_KINDS);
        conformance::run(&host, Kind::DataSource, dir.path()).unwrap()
    };
    let reference = run("test.thoth");
    let not_passed: Vec<_> = reference
        .cases
        .iter()
        .filter(|c| c.outcome != CaseOutcome::Passed)
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
    let suite = Suite::builtin(Kind::DataSource).unwrap();
    assert!(suite.cases.len() >= 10);
    assert_eq!(reference.passed(), suite.cases.len());

    const MUTANTS: &[(&str, &str)] = &[
        ("source-bad-node", "panel-is-a-valid-node"),
        ("source-nondeterministic", "deterministic"),
        ("sidebar-bad-node", "sidebar-is-a-valid-node"),
        ("source-load-bad-node", "panel-widgets-answer"),
        ("source-unknown-widget-traps", "unknown-widget"),
        ("source-empty-traps", "empty-change"),
        ("source-http-traps", "garbled-http-response"),
        ("source-notify-bad-node", "notify"),
        ("source-large-traps", "large-value"),
        ("source-query-traps", "query-not-json"),
        ("source-empty-query-traps", "empty-query"),
        ("denied-traps", "denied-grants"),
    ];
    let mut caught = std::collections::BTreeSet::new();
    let mut missed = Vec::new();
    for (mutant, target) in MUTANTS {
        let report = run(&format!("test.thoth.mutant-{mutant}"));
        let failed = report.failures();
        if !failed.contains(target) {
            missed.push(format!(
                "{target} did not catch {mutant} (failed: {failed:?})"
            ));
        }
        caught.extend(failed.into_iter().map(str::to_owned));
    }
    assert!(missed.is_empty(), "{missed:#?}");
    for case in &suite.cases {
        assert!(
            caught.contains(&case.id),
            "no broken plugin fails {}",
            case.id
        );
    }
    println!(
        "the data-source kit caught {n} of {n} broken plugins",
        n = MUTANTS.len()
    );
}
