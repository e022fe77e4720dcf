//! The registry of kind providers: read from the serving versions, so enabling, disabling
//! and reloading a plugin change it at once, and status events carry each plugin's kinds.

use std::path::{Path, PathBuf};

use plinth_host::kinds::{ChainDecision, Tool};
use plinth_manager::Manager;
use plinth_manager::state::{InstanceMode, PluginEntry};
use plinth_manifest::Kind;
use serde_json::json;

use crate::common::{host, section, wait_for};

const SCHEMA: &str = r#"{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}"#;

fn kinds_plugin(root: &Path, id: &str, provides: &str) -> PathBuf {
    let dir = root.join(id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(test_programs::KINDS, dir.join("plugin.wasm")).unwrap();
    std::fs::write(dir.join("word_count.json"), SCHEMA).unwrap();
    write_manifest(&dir, id, provides);
    dir
}

fn write_manifest(dir: &Path, id: &str, provides: &str) {
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"1.0.0\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n{provides}"
        ),
    )
    .unwrap();
}

const TOOL: &str = "[[provides.tool]]\nname = \"word_count\"\ndescription = \"Counts the words in `text`.\"\ninput_schema = \"word_count.json\"\n";
const HOOK: &str = "[[provides.hook]]\npoint = \"before-tool-call\"\n";

fn entry(id: &str, dir: &Path, enabled: bool) -> PluginEntry {
    let mut entry = PluginEntry::new(id);
    entry.enabled = enabled;
    entry.artifact_path = Some(dir.join("plugin.wasm"));
    entry.instance = InstanceMode::PerCall;
    entry
}

fn ids(manager: &Manager, kind: Kind) -> Vec<String> {
    manager.providers(kind).into_iter().map(|p| p.id).collect()
}

#[test]
fn providers_follow_enable_disable_and_reload() {
    let root = tempfile::tempdir().unwrap();
    let a = kinds_plugin(root.path(), "test.kinds-a", &format!("{TOOL}{HOOK}"));
    let b = kinds_plugin(root.path(), "test.kinds-b", HOOK);
    let manager = Manager::builder(host()).build();
    let mut events = manager.subscribe();
    manager.apply(&section(vec![
        entry("test.kinds-a", &a, true),
        entry("test.kinds-b", &b, true),
    ]));
    let ready = wait_for(&mut events, "test.kinds-a", |s| s.name() == "ready");
    assert_eq!(ready.kinds, [Kind::Tool, Kind::Hook]);

    assert_eq!(ids(&manager, Kind::Tool), ["test.kinds-a"]);
    assert_eq!(ids(&manager, Kind::Hook), ["test.kinds-a", "test.kinds-b"]);
    assert!(ids(&manager, Kind::Command).is_empty());

    // Calls through the registry use the typed API.
    let provider = &manager.providers(Kind::Tool)[0];
    let output = provider
        .plugin
        .kind::<Tool>()
        .unwrap()
        .call("word_count", &json!({"text": "a b"}))
        .unwrap();
    assert_eq!(output, json!({"words": 2}));
    let outcome =
        manager
            .hook_chain()
            .run("before-tool-call", "read", json!({"path": "/etc/hosts"}));
    assert!(
        matches!(outcome.decision, ChainDecision::Denied { ref by, .. } if by == "test.kinds-a")
    );

    // Disabled: gone from the registry.
    manager.apply(&section(vec![
        entry("test.kinds-a", &a, true),
        entry("test.kinds-b", &b, false),
    ]));
    assert_eq!(ids(&manager, Kind::Hook), ["test.kinds-a"]);
    assert!(manager.plugin("test.kinds-b").is_none());

    // Reloaded without the hook: the registry and the event say so.
    write_manifest(&a, "test.kinds-a", TOOL);
    assert!(manager.reload("test.kinds-a"));
    let reloaded = wait_for(&mut events, "test.kinds-a", |s| s.name() == "ready");
    assert_eq!(reloaded.kinds, [Kind::Tool]);
    assert!(ids(&manager, Kind::Hook).is_empty());
    assert_eq!(ids(&manager, Kind::Tool), ["test.kinds-a"]);
}

/// Thoth picks a loader for a file from the enabled plugins' manifests: by extension or
/// media type, most specific first, without running any plugin (docs/design/0040).
#[test]
fn loaders_and_viewers_are_looked_up_by_extension_and_media_type() {
    let root = tempfile::tempdir().unwrap();
    let thoth = |id: &str, provides: &str| {
        let dir = root.path().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(test_programs::THOTH_KINDS, dir.join("plugin.wasm")).unwrap();
        write_manifest(&dir, id, provides);
        dir
    };
    let csv = thoth(
        "test.csv",
        "[[provides.file-loader]]\nname = \"csv\"\nextensions = [\"csv\", \"csv.gz\"]\nmedia_types = [\"text/csv\"]\n[[provides.file-viewer]]\nname = \"csv\"\nextensions = [\"csv\"]\n",
    );
    let gz = thoth(
        "test.gz",
        "[[provides.file-loader]]\nname = \"csv\"\nextensions = [\"gz\"]\n",
    );
    let off = thoth(
        "test.off",
        "[[provides.file-loader]]\nname = \"csv\"\nextensions = [\"csv\"]\n",
    );
    let manager = Manager::builder(host()).build();
    let mut events = manager.subscribe();
    manager.apply(&section(vec![
        entry("test.csv", &csv, true),
        entry("test.gz", &gz, true),
        entry("test.off", &off, false),
    ]));
    wait_for(&mut events, "test.csv", |s| s.name() == "ready");
    wait_for(&mut events, "test.gz", |s| s.name() == "ready");

    let found = |query| -> Vec<String> {
        manager
            .loaders_for(query)
            .into_iter()
            .map(|(p, f)| format!("{}:{}", p.id, f.name))
            .collect()
    };
    use plinth_manifest::FileQuery;
    let calls: u64 = manager
        .providers(Kind::FileLoader)
        .iter()
        .map(|p| p.plugin.usage().calls)
        .sum();
    assert_eq!(
        found(FileQuery::Path(Path::new("/tmp/Sales.CSV"))),
        ["test.csv:csv"],
        "a disabled plugin is not offered"
    );
    assert_eq!(
        found(FileQuery::Path(Path::new("sales.csv.gz"))),
        ["test.csv:csv", "test.gz:csv"]
    );
    assert_eq!(found(FileQuery::MediaType("text/csv")), ["test.csv:csv"]);
    assert!(found(FileQuery::Path(Path::new("a.parquet"))).is_empty());
    let viewers = manager.viewers_for(FileQuery::Path(Path::new("a.csv")));
    assert_eq!(viewers.len(), 1);
    assert_eq!(viewers[0].0.id, "test.csv");
    let after: u64 = manager
        .providers(Kind::FileLoader)
        .iter()
        .map(|p| p.plugin.usage().calls)
        .sum();
    assert_eq!(calls, after, "a lookup runs no plugin");
}

/// A theme without a component (docs/design/0044) is discovered, enabled and listed like
/// any plugin; a broken `theme.json` is an error status, and the fix a hot reload.
#[test]
fn a_theme_without_a_component_is_enabled_listed_and_reloaded() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("thoth.night");
    std::fs::create_dir_all(&dir).unwrap();
    let theme = |accent: &str| {
        format!(
            r##"{{"name":"Night","appearance":"dark","colors":{{"background":"#000","foreground":"#fff","accent":"{accent}"}}}}"##
        )
    };
    std::fs::write(dir.join("night.json"), theme("#48f")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        "[plugin]\nid = \"thoth.night\"\nversion = \"1.0.0\"\n\n[[provides.theme]]\nname = \"night\"\nfile = \"night.json\"\n",
    )
    .unwrap();
    let inventory = plinth_manager::discovery::discover(
        &plinth_manager::discovery::PluginDirs::user_only(root.path()),
    );
    let found = inventory.get("thoth.night").unwrap();
    assert!(found.component_present);
    assert_eq!(found.component(), dir.join("plugin.toml"));

    let manager = Manager::builder(host()).build();
    let mut events = manager.subscribe();
    let mut night = PluginEntry::new("thoth.night");
    night.enabled = true;
    night.artifact_path = Some(found.component());
    manager.apply(&section(vec![night]));
    let ready = wait_for(&mut events, "thoth.night", |s| s.name() == "ready");
    assert_eq!(ready.kinds, [Kind::Theme]);
    let providers = manager.providers(Kind::Theme);
    assert_eq!(providers.len(), 1);
    let themes = providers[0]
        .plugin
        .kind::<plinth_host::kinds::Theme>()
        .unwrap();
    assert_eq!(themes.get("night").unwrap().colors["accent"], "#48f");

    // A broken theme: the new version fails, the old one keeps serving.
    std::fs::write(dir.join("night.json"), theme("blue")).unwrap();
    assert!(!manager.reload("thoth.night"));
    // Fixed: reloaded with the new colour.
    std::fs::write(dir.join("night.json"), theme("#f84")).unwrap();
    assert!(manager.reload("thoth.night"));
    let themes = manager.providers(Kind::Theme)[0].plugin.clone();
    assert_eq!(
        themes
            .kind::<plinth_host::kinds::Theme>()
            .unwrap()
            .get("night")
            .unwrap()
            .colors["accent"],
        "#f84"
    );
}
