//! The metadata of Thoth's kinds (docs/design/0040): file formats with extensions and
//! media types, exporters' formats, the data source, themes and theme providers, and the
//! lookup of a loader or viewer for a file without running anything.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failed test.

use std::path::{Path, PathBuf};

use crate::common::{assert_invalid, parse_ok, with};
use plinth_manifest::{ExportFormatDecl, FileQuery, Kind, ThemeDecl};

const LOADERS: &str = r#"
[[provides.file-loader]]
name = "csv"
description = "Comma-separated values"
extensions = ["csv", "CSV.GZ"]
media_types = ["text/csv"]

[[provides.file-loader]]
name = "gz"
extensions = ["gz"]

[[provides.file-loader]]
name = "tsv"
media_types = ["text/tab-separated-values"]
"#;

#[test]
fn file_loaders_declare_formats_an_application_picks_by_extension_or_media_type() {
    let m = parse_ok(&with(LOADERS)).manifest;
    assert_eq!(m.provides.kinds(), [Kind::FileLoader]);
    assert!(m.provides.needs_component());
    let csv = &m.provides.file_loader[0];
    assert_eq!(csv.extensions, ["csv", "csv.gz"], "stored lowercase");
    assert_eq!(csv.media_types, ["text/csv"]);

    let names = |found: Vec<&plinth_manifest::FileFormatDecl>| -> Vec<String> {
        found.into_iter().map(|f| f.name.clone()).collect()
    };
    let by_path = |p: &str| names(m.provides.loaders_for(FileQuery::Path(Path::new(p))));
    assert_eq!(by_path("/data/Sales.CSV"), ["csv"]);
    // The longest extension first: `csv.gz` is more specific than `gz`.
    assert_eq!(by_path("x.csv.gz"), ["csv", "gz"]);
    assert_eq!(by_path("x.tar.gz"), ["gz"]);
    assert!(by_path("csv").is_empty(), "a bare name is not an extension");
    assert!(by_path("x.xcsv").is_empty());
    assert!(by_path("notes.txt").is_empty());
    let by_type = |t: &str| names(m.provides.loaders_for(FileQuery::MediaType(t)));
    assert_eq!(by_type("Text/CSV; charset=utf-8"), ["csv"]);
    assert_eq!(by_type("text/tab-separated-values"), ["tsv"]);
    assert!(by_type("application/json").is_empty());
    assert!(
        m.provides
            .viewers_for(FileQuery::Path(Path::new("a.csv")))
            .is_empty()
    );
}

#[test]
fn exporters_data_sources_themes_and_providers_parse() {
    let m = parse_ok(&with(
        r#"
[[provides.exporter]]
name = "csv"
extension = "csv"
media_type = "text/csv"

[[provides.exporter]]
name = "json"
description = "An array of objects"
extension = "json"
media_type = "application/json"

[[provides.file-viewer]]
name = "markdown"
extensions = ["md"]

[[provides.data-source]]
name = "url"
title = "URL source"

[[provides.theme-provider]]
name = "adaptive"
"#,
    ))
    .manifest;
    assert_eq!(
        m.provides.kinds(),
        [
            Kind::FileViewer,
            Kind::Exporter,
            Kind::DataSource,
            Kind::ThemeProvider
        ]
    );
    assert_eq!(
        m.provides.export_format("json"),
        Some(&ExportFormatDecl {
            name: "json".into(),
            description: Some("An array of objects".into()),
            extension: "json".into(),
            media_type: "application/json".into(),
        })
    );
    assert_eq!(m.provides.data_source[0].title, "URL source");
    assert_eq!(m.provides.theme_provider[0].name, "adaptive");
    assert_eq!(
        m.provides
            .viewers_for(FileQuery::Path(Path::new("README.md")))
            .len(),
        1
    );
}

#[test]
fn a_theme_needs_no_component() {
    let m = parse_ok(&with(
        "[[provides.theme]]\nname = \"solarized\"\nfile = \"themes/solarized.json\"\n",
    ))
    .manifest;
    assert_eq!(m.provides.kinds(), [Kind::Theme]);
    assert_eq!(
        m.provides.theme,
        [ThemeDecl {
            name: "solarized".into(),
            file: PathBuf::from("themes/solarized.json"),
        }]
    );
    assert!(!m.provides.needs_component());
}

#[test]
fn bad_entries_name_their_key() {
    let bad: &[(&str, &str, &str)] = &[
        (
            "[[provides.file-loader]]\nname = \"csv\"\n",
            "provides.file-loader[0]",
            "neither `extensions` nor `media_types`",
        ),
        (
            "[[provides.file-loader]]\nname = \"csv\"\nextensions = [\".csv\"]\n",
            "provides.file-loader[0].extensions[0]",
            "without the leading dot",
        ),
        (
            "[[provides.file-viewer]]\nname = \"csv\"\nmedia_types = [\"text\"]\n",
            "provides.file-viewer[0].media_types[0]",
            "is not a media type",
        ),
        (
            "[[provides.file-loader]]\nname = \"csv\"\nextensions = [\"csv\"]\n[[provides.file-loader]]\nname = \"csv\"\nextensions = [\"txt\"]\n",
            "provides.file-loader[1].name",
            "duplicate format name \"csv\" (also declared by provides.file-loader[0])",
        ),
        (
            "[[provides.file-loader]]\nextensions = [\"csv\"]\n",
            "provides.file-loader[0].name",
            "required key is missing",
        ),
        (
            "[[provides.exporter]]\nname = \"csv\"\nmedia_type = \"text/csv\"\n",
            "provides.exporter[0].extension",
            "required key is missing",
        ),
        (
            "[[provides.exporter]]\nname = \"csv\"\nextension = \"csv\"\n",
            "provides.exporter[0].media_type",
            "required key is missing",
        ),
        (
            "[[provides.data-source]]\nname = \"url\"\n",
            "provides.data-source[0].title",
            "required key is missing",
        ),
        (
            "[[provides.data-source]]\nname = \"a\"\ntitle = \"A\"\n[[provides.data-source]]\nname = \"b\"\ntitle = \"B\"\n",
            "provides.data-source",
            "a component provides one data source",
        ),
        (
            "[[provides.theme]]\nname = \"dark\"\nfile = \"../dark.json\"\n",
            "provides.theme[0].file",
            "leaves",
        ),
        (
            "[[provides.theme]]\nname = \"dark\"\n",
            "provides.theme[0].file",
            "required key is missing",
        ),
        (
            "[[provides.theme-provider]]\nname = \"a b\"\n",
            "provides.theme-provider[0].name",
            "is not a tool name",
        ),
    ];
    for (rest, key, reason) in bad {
        assert_invalid(&with(rest), key, reason);
    }
}

/// A manifest without `[runtime]`: `[plugin]` and `rest`.
fn componentless(rest: &str) -> String {
    format!("[plugin]\n{}\n{rest}\n", crate::common::PLUGIN)
}

#[test]
fn a_theme_alone_is_a_plugin_without_a_component() {
    let m = parse_ok(&componentless(
        "[[provides.theme]]\nname = \"solarized\"\nfile = \"themes/solarized.json\"\n",
    ))
    .manifest;
    assert!(m.is_componentless());
    assert_eq!(m.runtime, None);
    assert_eq!(m.component_path(), None);
    assert_eq!(m.provides.kinds(), [Kind::Theme]);
    assert_eq!(
        m.named_files(),
        [(Path::new("themes/solarized.json"), "theme")]
    );
    // No pin to check against: any bytes pass.
    assert!(m.verify_digest(b"anything").is_ok());
}

#[test]
fn only_a_theme_may_go_without_a_component() {
    // Nothing declared, or a kind that runs code: [runtime] is required.
    assert_invalid(&componentless(""), "runtime", "required table is missing");
    assert_invalid(
        &componentless("[[provides.theme-provider]]\nname = \"adaptive\"\n"),
        "runtime",
        "only a plugin that provides themes alone",
    );
    let theme = "[[provides.theme]]\nname = \"night\"\nfile = \"night.json\"\n";
    assert_invalid(
        &componentless(&format!(
            "{theme}[[provides.tool]]\nname = \"x\"\ndescription = \"x\"\ninput_schema = \"x.json\"\n"
        )),
        "runtime",
        "required table is missing",
    );
    // Nothing runs, so nothing may be asked for.
    assert_invalid(
        &componentless(&format!("[capabilities]\nlog = true\n\n{theme}")),
        "capabilities",
        "can use no capability",
    );
    assert_invalid(
        &componentless(&format!("[settings]\nschema = \"s.json\"\n\n{theme}")),
        "settings",
        "has no settings",
    );
}

#[test]
fn named_files_list_what_a_package_must_carry() {
    let m = parse_ok(&with(
        "[settings]\nschema = \"settings.json\"\n\n[[provides.theme]]\nname = \"night\"\nfile = \"night.json\"\n",
    ))
    .manifest;
    assert_eq!(
        m.named_files(),
        [
            (Path::new("hello.wasm"), "component"),
            (Path::new("settings.json"), "settings schema"),
            (Path::new("night.json"), "theme"),
        ]
    );
}
