//! Discovery edge cases: clashes, invalid manifests, missing components, stray folders.

use std::path::Path;

use plinth_manager::discovery::{Layout, Origin, PluginDirs, discover};
use plinth_manifest::{Code, Severity};

fn plugin(root: &Path, folder: &str, id: &str, version: &str, with_component: bool) {
    let dir = root.join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!("[plugin]\nid = \"{id}\"\nversion = \"{version}\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"p.wasm\"\n"),
    )
    .unwrap();
    if with_component {
        // Discovery never reads the component: garbage bytes are fine here.
        std::fs::write(dir.join("p.wasm"), b"not read").unwrap();
    }
}

#[test]
fn scans_user_and_system_dirs_and_reports_everything() {
    let user = tempfile::tempdir().unwrap();
    let system = tempfile::tempdir().unwrap();
    plugin(user.path(), "a", "x.a", "2.0.0", true);
    plugin(system.path(), "a", "x.a", "1.0.0", true); // shadowed by the user's
    plugin(system.path(), "b", "x.b", "1.0.0", true);
    plugin(user.path(), "c", "x.c", "1.0.0", false); // component missing
    plugin(user.path(), "d1", "x.d", "1.0.0", true);
    plugin(user.path(), "d2", "x.d", "1.0.1", true); // same id twice in one dir
    std::fs::create_dir_all(user.path().join("stray")).unwrap();
    std::fs::create_dir_all(user.path().join(".hidden")).unwrap();
    std::fs::create_dir_all(user.path().join("broken")).unwrap();
    std::fs::write(user.path().join("broken/plugin.toml"), "[plugin\n").unwrap();
    std::fs::write(user.path().join("README.md"), "not a folder").unwrap();

    let dirs = PluginDirs {
        user: user.path().into(),
        system: vec![system.path().into(), "/no/such/dir".into()],
    };
    let inventory = discover(&dirs);
    let ids: Vec<&str> = inventory.plugins.keys().map(String::as_str).collect();
    assert_eq!(ids, ["x.a", "x.b", "x.c", "x.d"]);
    let a = inventory.get("x.a").unwrap();
    assert_eq!(
        (a.origin, a.manifest.plugin.version.to_string().as_str()),
        (Origin::User, "2.0.0")
    );
    assert_eq!(inventory.get("x.b").unwrap().origin, Origin::System);
    assert!(!inventory.get("x.c").unwrap().component_present);
    assert!(inventory.get("x.d").unwrap().dir.ends_with("d1"));

    let codes = |id: &str| -> Vec<Code> { inventory.diagnostics_for(id).map(|d| d.code).collect() };
    assert_eq!(codes("x.a"), [Code::Shadowed]);
    assert_eq!(codes("x.c"), [Code::MissingPackage]);
    assert_eq!(codes("x.d"), [Code::Shadowed]);
    let shadow = inventory.diagnostics_for("x.a").next().unwrap();
    assert_eq!(shadow.severity, Severity::Warning);
    assert!(shadow.message.contains("user directory wins"), "{shadow}");
    let all: Vec<Code> = inventory.diagnostics.iter().map(|d| d.code).collect();
    assert!(all.contains(&Code::InvalidManifest), "{all:?}");
    assert_eq!(
        inventory
            .diagnostics
            .iter()
            .filter(|d| d.message.contains("stray"))
            .count(),
        1
    );
    assert!(
        !inventory
            .diagnostics
            .iter()
            .any(|d| d.message.contains(".hidden"))
    );
}

#[test]
fn a_fresh_home_has_nothing_and_no_diagnostics() {
    let home = tempfile::tempdir().unwrap();
    let dirs = PluginDirs::user_only(home.path().join("plugins"));
    let inventory = discover(&dirs);
    assert!(inventory.plugins.is_empty() && inventory.diagnostics.is_empty());
}

#[test]
fn config_paths_override_the_defaults() {
    let home = Path::new("/h");
    let default = PluginDirs::from_config(home, &Default::default());
    assert_eq!(default.user, Path::new("/h/plugins"));
    assert_eq!(default.system, [Path::new("/usr/share/plinth/plugins")]);
    let paths: plinth_host::HostConfig =
        toml::from_str("[paths]\nuser_dir = \"/u\"\nsystem_dir = \"/s\"\n").unwrap();
    let dirs = PluginDirs::from_config(home, &paths.paths);
    assert_eq!(
        (dirs.user.to_str(), dirs.system[0].to_str()),
        (Some("/u"), Some("/s"))
    );
}

/// A Stack Composer manifest for `x.wasm`.
fn stack_composer_toml(id: &str, version: &str, capabilities: &str) -> String {
    format!(
        "[plugin]\nid = \"{id}\"\nversion = \"{version}\"\nwasm_target = \"wasm32-wasip2\"\nsignature = \"file:hello-plugin.sig\"\ncapabilities = [{capabilities}]\n\n[meta]\nname = \"Hello Plugin\"\ndescription = \"Echo back the user input.\"\n"
    )
}

#[test]
fn flat_plugins_are_found_beside_folders_in_user_and_system_dirs() {
    let user = tempfile::tempdir().unwrap();
    let system = tempfile::tempdir().unwrap();
    // The user directory: Stack Composer's flat layout, with a readme and a stray module.
    std::fs::copy(test_programs::HELLO, user.path().join("hello-plugin.wasm")).unwrap();
    std::fs::write(
        user.path().join("hello-plugin.toml"),
        stack_composer_toml("org.example.hello", "0.2.0", "\"log\", \"retrieval\""),
    )
    .unwrap();
    std::fs::write(user.path().join("readme.md"), "# Hello").unwrap();
    std::fs::write(user.path().join("stray.wasm"), b"\0asm").unwrap();
    // The system directory: the same plugin (older, shadowed) flat, and a plugin folder.
    std::fs::copy(
        test_programs::HELLO,
        system.path().join("hello-plugin.wasm"),
    )
    .unwrap();
    std::fs::write(
        system.path().join("hello-plugin.toml"),
        stack_composer_toml("org.example.hello", "0.1.0", "\"log\""),
    )
    .unwrap();
    plugin(system.path(), "b", "x.b", "1.0.0", true);

    let dirs = PluginDirs {
        user: user.path().into(),
        system: vec![system.path().into()],
    };
    let inventory = discover(&dirs);
    let ids: Vec<&String> = inventory.plugins.keys().collect();
    assert_eq!(ids, ["org.example.hello", "x.b"]);
    let hello = inventory.get("org.example.hello").unwrap();
    assert_eq!(hello.layout, Layout::Flat);
    assert_eq!(hello.origin, Origin::User);
    assert_eq!(hello.manifest.plugin.version.to_string(), "0.2.0");
    assert_eq!(hello.manifest.plugin.name.as_deref(), Some("Hello Plugin"));
    assert_eq!(hello.source(), user.path().join("hello-plugin.wasm"));
    assert!(hello.component_present);
    let requested: Vec<String> = hello
        .manifest
        .requested_grants()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(requested, ["log", "retrieval"]);
    assert_eq!(inventory.get("x.b").unwrap().layout, Layout::Folder);

    let codes: Vec<(Code, String)> = inventory
        .diagnostics
        .iter()
        .map(|d| (d.code, d.message.clone()))
        .collect();
    assert!(
        codes
            .iter()
            .any(|(c, m)| *c == Code::Shadowed && m.contains("hello-plugin.toml")),
        "{codes:?}"
    );
    assert!(
        codes
            .iter()
            .any(|(c, m)| *c == Code::MissingPackage && m.contains("stray.wasm")),
        "{codes:?}"
    );
    assert!(
        !codes.iter().any(|(_, m)| m.contains("readme")),
        "a readme is not a plugin: {codes:?}"
    );
}

#[test]
fn a_flat_plugin_runs_under_the_manager_and_a_core_module_is_refused_with_a_hint() {
    let user = tempfile::tempdir().unwrap();
    std::fs::copy(test_programs::HELLO, user.path().join("hello-plugin.wasm")).unwrap();
    std::fs::write(
        user.path().join("hello-plugin.toml"),
        stack_composer_toml("org.example.hello", "0.2.0", "\"log\""),
    )
    .unwrap();
    // A module built for `wasm32-wasi` (the smallest valid core module).
    std::fs::write(user.path().join("old.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(
        user.path().join("old.toml"),
        "[plugin]\nid = \"org.example.old\"\nversion = \"0.1.0\"\nwasm_target = \"wasm32-wasi\"\n",
    )
    .unwrap();
    let inventory = discover(&PluginDirs::user_only(user.path()));
    assert!(
        inventory
            .diagnostics
            .iter()
            .any(|d| d.code == Code::NotAComponent
                && d.severity == Severity::Warning
                && d.plugin.as_deref() == Some("org.example.old")),
        "{:?}",
        inventory.diagnostics
    );

    let manager = plinth_manager::Manager::builder(crate::common::host())
        .inventory(inventory)
        .build();
    let mut events = manager.subscribe();
    let mut hello = crate::common::entry_by_id("org.example.hello");
    hello.grants = vec!["log".into()];
    let old = crate::common::entry_by_id("org.example.old");
    manager.apply(&crate::common::section(vec![hello, old]));
    crate::common::wait_for(&mut events, "org.example.hello", |s| s.name() == "ready");
    let said = manager
        .call_json("org.example.hello", "run", &[serde_json::json!(["Ada"])])
        .unwrap();
    assert_eq!(said, serde_json::json!({"ok": "Hello, Ada!"}));
    let plugin = manager.plugin("org.example.hello").unwrap();
    assert_eq!(
        plugin.manifest().unwrap().plugin.version.to_string(),
        "0.2.0"
    );
    let failed = crate::common::wait_for(&mut events, "org.example.old", |s| s.name() == "error");
    match failed.status {
        plinth_manager::Status::Error(diagnostic) => {
            assert_eq!(diagnostic.code, Code::NotAComponent, "{diagnostic:?}");
            assert!(
                diagnostic
                    .hint
                    .as_deref()
                    .unwrap_or_default()
                    .contains("wasm32-wasip2"),
                "{diagnostic:?}"
            );
        }
        other => panic!("expected an error, got {other:?}"),
    }
}
