//! Discovery edge cases: clashes, invalid manifests, missing components, stray folders.

use std::path::Path;

use plinth_manager::discovery::{Origin, PluginDirs, discover};
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
