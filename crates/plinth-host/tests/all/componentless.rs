//! Plugins without a component (docs/design/0044): a `theme.json` and a `plugin.toml`
//! with no `[runtime]`, loaded, checked and read like any plugin, with nothing to run.

use plinth_host::kinds::Theme;
use plinth_host::{Host, HostError, componentless_digest};
use plinth_manifest::{Code, Manifest, ToDiagnostic};

use crate::thoth_kinds::NIGHT;

/// A theme-only plugin folder: `plugin.toml` and `night.json`.
pub(crate) fn theme_dir(id: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("night.json"), NIGHT).unwrap();
    std::fs::write(
        dir.path().join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"1.0.0\"\nname = \"Night\"\n\n[[provides.theme]]\nname = \"night\"\nfile = \"night.json\"\n"
        ),
    )
    .unwrap();
    dir
}

#[test]
fn a_theme_alone_loads_lists_and_runs_nothing() {
    let host = Host::new().unwrap();
    let dir = theme_dir("thoth.theme-night");
    let plugin = host.load(dir.path()).unwrap();
    assert_eq!(plugin.id(), "thoth.theme-night");
    assert!(plugin.manifest().unwrap().is_componentless());
    let themes = plugin.kind::<Theme>().unwrap();
    let night = themes.get("night").unwrap();
    assert_eq!(night.colors["table.header"], "#1c2230");
    // Nothing to call: no exports, no imports.
    assert!(plugin.exports().iter().next().is_none());
    assert!(plugin.imports().is_empty());
    assert!(plugin.call_json("run", &[]).is_err());
    // Its digest is its files': a changed theme is a changed plugin.
    let manifest = Manifest::load(dir.path()).unwrap().manifest;
    assert_eq!(*plugin.digest(), componentless_digest(&manifest).unwrap());
    std::fs::write(
        dir.path().join("night.json"),
        NIGHT.replace("#4c8dff", "#ff4c8d"),
    )
    .unwrap();
    let again = host.load(dir.path()).unwrap();
    assert_ne!(again.digest(), plugin.digest());
    assert_eq!(
        again.kind::<Theme>().unwrap().get("night").unwrap().colors["accent"],
        "#ff4c8d"
    );
}

#[test]
fn a_broken_theme_fails_the_check_and_the_load_alike() {
    let host = Host::new().unwrap();
    let dir = theme_dir("thoth.theme-night");
    let checked = host.check(dir.path()).unwrap();
    assert_eq!(checked.id(), "thoth.theme-night");
    std::fs::write(
        dir.path().join("night.json"),
        r##"{"name":"Night","appearance":"dark","colors":{"background":"#000","foreground":"white","accent":"#fff"}}"##,
    )
    .unwrap();
    let load = host.load(dir.path()).unwrap_err();
    let check = host.check(dir.path()).unwrap_err();
    for err in [&load, &check] {
        assert!(matches!(err, HostError::Theme { .. }), "{err:?}");
        let diagnostic = err.to_diagnostic();
        assert_eq!(diagnostic.code, Code::InvalidTheme);
        assert!(
            diagnostic.message.contains("/colors/foreground"),
            "{diagnostic}"
        );
    }
    // A theme file that is missing: the same.
    std::fs::remove_file(dir.path().join("night.json")).unwrap();
    assert!(host.load(dir.path()).is_err());
    assert!(host.check(dir.path()).is_err());
}

/// A theme plugin folder holding `themes` (name, JSON text) as `NAME.json`.
fn themes_dir(themes: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = String::from("[plugin]\nid = \"test.themes\"\nversion = \"1.0.0\"\n\n");
    for (name, json) in themes {
        std::fs::write(dir.path().join(format!("{name}.json")), json).unwrap();
        manifest.push_str(&format!(
            "[[provides.theme]]\nname = \"{name}\"\nfile = \"{name}.json\"\n\n"
        ));
    }
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    dir
}

fn theme_json(name: &str, appearance: &str, bg: &str, fg: &str, accent: &str) -> String {
    format!(
        r#"{{"name":"{name}","appearance":"{appearance}","colors":{{"background":"{bg}","foreground":"{fg}","accent":"{accent}"}}}}"#
    )
}

/// The theme kit passes good themes and catches each broken one by the case it targets.
#[test]
fn the_theme_kit_passes_good_themes_and_catches_broken_ones() {
    use plinth_host::conformance::{self, CaseOutcome};
    use plinth_manifest::Kind;

    let host = Host::new().unwrap();
    let night = || theme_json("Night", "dark", "#101418", "#e6e6e6", "#4c8dff");
    let day = || theme_json("Day", "light", "#ffffff", "#202020", "#0050c0");
    let good = themes_dir(&[("night", night()), ("day", day())]);
    let report = conformance::run(&host, Kind::Theme, good.path()).unwrap();
    assert_eq!(report.cases.len(), 11);
    for case in &report.cases {
        assert_eq!(case.outcome, CaseOutcome::Passed, "{}", case.id);
    }

    let padded = format!("{}{}", night(), " ".repeat(70 * 1024));
    let broken: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "readable-text",
            vec![(
                "dim",
                theme_json("Dim", "dark", "#000000", "#444444", "#4c8dff"),
            )],
        ),
        (
            "visible-accent",
            vec![(
                "flat",
                theme_json("Flat", "dark", "#101418", "#e6e6e6", "#1c2228"),
            )],
        ),
        (
            "accent-differs",
            vec![(
                "plain",
                theme_json("Plain", "dark", "#101418", "#e6e6e6", "#e6e6e6"),
            )],
        ),
        (
            "appearance-matches",
            vec![(
                "liar",
                theme_json("Liar", "dark", "#ffffff", "#202020", "#0050c0"),
            )],
        ),
        (
            "opaque-background",
            vec![(
                "glass",
                theme_json("Glass", "dark", "#101418cc", "#e6e6e6", "#4c8dff"),
            )],
        ),
        (
            "named",
            vec![(
                "blank",
                theme_json("  ", "dark", "#101418", "#e6e6e6", "#4c8dff"),
            )],
        ),
        (
            "distinct-names",
            vec![
                ("night", night()),
                (
                    "again",
                    theme_json("Night", "light", "#ffffff", "#202020", "#0050c0"),
                ),
            ],
        ),
        (
            "distinct-colours",
            vec![
                ("night", night()),
                (
                    "twin",
                    theme_json("Twin", "dark", "#101418", "#e6e6e6", "#4c8dff"),
                ),
            ],
        ),
        ("compact", vec![("big", padded)]),
    ];
    for (target, themes) in broken {
        let dir = themes_dir(&themes);
        let report = conformance::run(&host, Kind::Theme, dir.path()).unwrap();
        let failed: Vec<&str> = report
            .cases
            .iter()
            .filter(|c| matches!(c.outcome, CaseOutcome::Failed(_)))
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(failed, [target], "{target}: {failed:?}");
    }
}
