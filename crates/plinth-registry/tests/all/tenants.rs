//! Tenants (BitVault): each tenant has its own home inside the host's, `<home>/tenants/<t>/`,
//! so its installs, lockfile, trust store and grants are its own, and a manager run for a
//! tenant keeps its key-value data apart. One tenant never sees another's plugins, grants
//! or data.

use std::path::Path;

use plinth_host::Host;
use plinth_manager::Manager;
use plinth_manager::discovery::{PluginDirs, discover};
use plinth_manager::state::StateFile;
use plinth_manifest::{Code, PluginId, ToDiagnostic};
use plinth_package::{Home, InstallOptions, SignaturePolicy, install_bytes, pack};
use serde_json::json;

const ID: &str = "test.caps";

/// The `caps` guest as a package asking for `kv`.
fn caps_package(root: &Path) -> Vec<u8> {
    let dir = root.join("caps");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{ID}\"\nversion = \"1.0.0\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"caps.wasm\"\n[capabilities]\nkv = true\n"
        ),
    )
    .unwrap();
    std::fs::copy(test_programs::CAPS, dir.join("caps.wasm")).unwrap();
    pack(&dir).unwrap().bytes
}

/// A manager for `tenant` over its home, with the grants of its `plugins.toml`.
fn manager(host: &Host, home: &Home, tenant: &str) -> Manager {
    let manager = Manager::builder(host.clone())
        .inventory(discover(&PluginDirs::user_only(home.plugins_dir())))
        .tenant(tenant)
        .build();
    let state = StateFile::in_home(home.root()).load().unwrap();
    manager.apply(&state.section);
    manager
}

fn run(manager: &Manager, args: &[&str]) -> String {
    let answer = manager.call_json(ID, "run", &[json!(args)]).unwrap();
    answer["ok"]
        .as_str()
        .or(answer["err"].as_str())
        .unwrap()
        .to_owned()
}

fn enable_with_kv(home: &Home) {
    StateFile::in_home(home.root())
        .update(|doc| {
            doc.set_enabled(ID, true)?;
            doc.add_grants(ID, &["kv".to_owned()])
        })
        .unwrap();
}

#[test]
fn tenants_never_see_each_others_plugins_grants_or_data() {
    let tmp = tempfile::tempdir().unwrap();
    let package = caps_package(tmp.path());
    let base = Home::new(tmp.path().join("home"));
    let (a, b) = (base.tenant("acme").unwrap(), base.tenant("globex").unwrap());
    assert_eq!(a.root(), base.root().join("tenants/acme"));
    let opts = InstallOptions::new(SignaturePolicy::AllowUnsigned);
    let id = PluginId::new(ID).unwrap();

    // Installed and granted for acme only.
    install_bytes(&a, &package, None, &opts).unwrap();
    enable_with_kv(&a);
    assert!(
        discover(&PluginDirs::user_only(b.plugins_dir()))
            .get(ID)
            .is_none()
    );
    assert!(b.lockfile().unwrap().get(&id).is_none());
    assert!(base.lockfile().unwrap().get(&id).is_none());
    let b_state = StateFile::in_home(b.root()).load().unwrap().section;
    assert!(b_state.entry(ID).is_none());

    let host = Host::builder()
        .data_dir(tmp.path().join("data"))
        .build()
        .unwrap();
    let for_a = manager(&host, &a, "acme");
    assert_eq!(run(&for_a, &["kv-set", "secret", "acme-only"]), "ok");
    // globex has no such plugin: the manager does not know it.
    let for_b = manager(&host, &b, "globex");
    assert_eq!(
        for_b
            .call_json(ID, "run", &[json!(["kv-get", "secret"])])
            .unwrap_err()
            .to_diagnostic()
            .code,
        Code::Disabled
    );

    // globex installs the same plugin and grants the same: still its own data.
    install_bytes(&b, &package, None, &opts).unwrap();
    enable_with_kv(&b);
    let for_b = manager(&host, &b, "globex");
    assert_eq!(run(&for_b, &["kv-get", "secret"]), "<none>");
    assert_eq!(run(&for_b, &["kv-set", "secret", "globex-only"]), "ok");
    assert_eq!(run(&for_a, &["kv-get", "secret"]), "acme-only");
    assert_eq!(run(&for_b, &["kv-list", "", "10"]), "secret");

    // Uninstalling for one tenant leaves the other's install alone.
    plinth_package::uninstall(&a, &id).unwrap();
    assert!(b.plugin_dir(&id).join("caps.wasm").is_file());
    assert!(b.lockfile().unwrap().get(&id).is_some());

    // A tenant id is one plain path component.
    for bad in ["", "..", "a/b", ".hidden", "-x", "a b"] {
        let error = base.tenant(bad).unwrap_err();
        assert_eq!(error.code(), Code::BadArgument, "{bad:?}");
    }
}
