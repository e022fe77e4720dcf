use super::*;

fn file_with(text: &str) -> (tempfile::TempDir, StateFile) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plugins.toml");
    std::fs::write(&path, text).unwrap();
    (dir, StateFile::new(path))
}

const V1: &str = r#"# Plinth plugin state
[plugins]
schema_version = 1 # do not edit
future_key = "kept"

[[plugins.entries]]
id = "example.hello"
enabled = false   # off for now
artifact_path = "plugins/example.hello/hello.wasm"
grants = ["log", "config"]
colour = "blue"   # an unknown key
[plugins.entries.config]
greeting = "Plinth"
[plugins.entries.watch]
directories = ["/home/user/waves"]
debounce_ms = 250
"#;

#[test]
fn reads_every_key_of_design_3_2() {
    let (_dir, file) = file_with(V1);
    let loaded = file.load().unwrap();
    assert_eq!(loaded.migrated_from, None);
    let entry = loaded.section.entry("example.hello").unwrap();
    assert!(!entry.enabled);
    assert_eq!(entry.grants, ["log", "config"]);
    assert_eq!(entry.config["greeting"], "Plinth");
    let watch = entry.watch.as_ref().unwrap();
    assert_eq!(watch.directories, ["/home/user/waves"]);
    assert_eq!(watch.debounce_ms, 250);
    assert_eq!(entry.instance, InstanceMode::PerCall);
}

#[test]
fn an_edit_keeps_comments_order_unknown_keys_and_decor() {
    let (_dir, file) = file_with(V1);
    file.update(|doc| doc.set_enabled("example.hello", true))
        .unwrap();
    let text = std::fs::read_to_string(file.path()).unwrap();
    // Exactly one line changed, and it kept its trailing comment and spacing.
    let expected = V1.replace(
        "enabled = false   # off for now",
        "enabled = true   # off for now",
    );
    assert_eq!(text, expected);
}

#[test]
fn grants_are_added_once_and_removed() {
    let (_dir, file) = file_with(V1);
    let added = file
        .update(|doc| doc.add_grants("example.hello", &["kv".into(), "log".into()]))
        .unwrap();
    assert_eq!(added, ["kv"]);
    let removed = file
        .update(|doc| doc.remove_grants("example.hello", &["config".into(), "http:x".into()]))
        .unwrap();
    assert_eq!(removed, ["config"]);
    let section = file.load().unwrap().section;
    assert_eq!(section.entries[0].grants, ["log", "kv"]);
    let text = std::fs::read_to_string(file.path()).unwrap();
    assert!(
        text.contains("colour = \"blue\"   # an unknown key"),
        "{text}"
    );
    assert!(text.contains("future_key = \"kept\""), "{text}");
}

#[test]
fn a_new_entry_is_disabled_and_its_artifact_path_relative() {
    let dir = tempfile::tempdir().unwrap();
    let file = StateFile::new(dir.path().join("plugins.toml"));
    let component = dir.path().join("plugins/a/a.wasm");
    std::fs::create_dir_all(component.parent().unwrap()).unwrap();
    std::fs::write(&component, b"x").unwrap();
    file.update(|doc| doc.set_artifact_path("a", &component))
        .unwrap();
    let entry = file.load().unwrap().section.entries[0].clone();
    assert_eq!(entry.id, "a");
    assert!(!entry.enabled, "presence never enables");
    assert_eq!(entry.artifact_path.unwrap(), Path::new("plugins/a/a.wasm"));
}

#[test]
fn a_plugins_table_inside_a_larger_file_is_edited_alone() {
    let novywave = r#"# NovyWave workspace
[workspace]
opened_files = ["a.vcd", "b.fst"]
dock = "right"

[plugins]
schema_version = 1

[[plugins.entries]]
id = "novywave.hello_world"
enabled = true
artifact_path = "plugins/dist/hello_world_plugin.wasm"
[plugins.entries.config]
greeting = "NovyWave"

[timeline]
zoom = 2.5
"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".novywave");
    std::fs::write(&path, novywave).unwrap();
    let file = StateFile::new(&path);
    file.update(|doc| doc.set_enabled("novywave.hello_world", false))
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        novywave.replace("enabled = true", "enabled = false"),
        "only the one value changed"
    );
    assert_eq!(file.lock_path(), dir.path().join(".novywave.lock"));
}

const V0: &str = r#"# written by the first prototype
[plugins]

[[plugins.entries]]
id = "novywave.hello_world"
path = "plugins/dist/hello_world_plugin.wasm" # the built component
[plugins.entries.settings]
greeting = "NovyWave"

[[plugins.entries]]
id = "novywave.off"
enabled = false
path = "plugins/dist/off.wasm"
"#;

#[test]
fn version_0_is_migrated_in_memory_by_a_read() {
    let (_dir, file) = file_with(V0);
    let loaded = file.load().unwrap();
    assert_eq!(loaded.migrated_from, Some(0));
    assert_eq!(loaded.section.schema_version, 1);
    let hello = loaded.section.entry("novywave.hello_world").unwrap();
    assert!(hello.enabled, "v0 loaded every listed entry");
    assert_eq!(
        hello.artifact_path.as_deref(),
        Some(Path::new("plugins/dist/hello_world_plugin.wasm"))
    );
    assert_eq!(hello.config["greeting"], "NovyWave");
    assert!(!loaded.section.entry("novywave.off").unwrap().enabled);
    assert_eq!(
        std::fs::read_to_string(file.path()).unwrap(),
        V0,
        "a read never writes"
    );
}

#[test]
fn version_0_is_written_back_as_version_1() {
    let (_dir, file) = file_with(V0);
    file.update(|_| Ok(())).unwrap();
    let text = std::fs::read_to_string(file.path()).unwrap();
    let expected = r#"# written by the first prototype
[plugins]
schema_version = 1

[[plugins.entries]]
id = "novywave.hello_world"
artifact_path = "plugins/dist/hello_world_plugin.wasm" # the built component
enabled = true
[plugins.entries.config]
greeting = "NovyWave"

[[plugins.entries]]
id = "novywave.off"
enabled = false
artifact_path = "plugins/dist/off.wasm"
"#;
    assert_eq!(text, expected);
    let again = file.load().unwrap();
    assert_eq!(again.migrated_from, None);
    assert_eq!(
        again.section,
        StateFile::new(file.path()).load().unwrap().section
    );
}

#[test]
fn a_newer_version_is_refused_and_left_untouched() {
    let text = "[plugins]\nschema_version = 2\n\n[[plugins.entries]]\nid = \"a\"\n";
    let (_dir, file) = file_with(text);
    let error = file.load().unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::StateTooNew);
    let error = file.update(|doc| doc.set_enabled("a", true)).unwrap_err();
    assert!(matches!(
        error,
        StateError::TooNew {
            found: 2,
            known: 1,
            ..
        }
    ));
    assert_eq!(std::fs::read_to_string(file.path()).unwrap(), text);
}

#[test]
fn bad_files_are_coded_and_untouched() {
    for (text, code) in [
        ("[plugins\n", Code::InvalidManifest),
        ("plugins = 3\n", Code::InvalidManifest),
        (
            "[plugins]\nschema_version = \"one\"\n",
            Code::InvalidManifest,
        ),
        (
            "[plugins]\nschema_version = 1\n[[plugins.entries]]\nid = \"a\"\n[[plugins.entries]]\nid = \"a\"\n",
            Code::InvalidManifest,
        ),
        (
            "[plugins]\nschema_version = 1\n[[plugins.entries]]\nenabled = true\n",
            Code::InvalidManifest,
        ),
    ] {
        let (_dir, file) = file_with(text);
        let error = file.load().unwrap_err();
        assert_eq!(error.to_diagnostic().code, code, "{text}");
        let _ = file.update(|doc| doc.set_enabled("a", true));
        assert_eq!(std::fs::read_to_string(file.path()).unwrap(), text);
    }
}

#[test]
fn a_missing_file_is_an_empty_section_and_a_write_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = StateFile::in_home(dir.path());
    assert_eq!(file.load().unwrap().section, PluginsSection::new());
    assert!(!file.path().exists(), "a read never writes");
    file.update(|doc| doc.set_enabled("a", true)).unwrap();
    let text = std::fs::read_to_string(file.path()).unwrap();
    assert!(
        text.starts_with("[plugins]\nschema_version = 1\n"),
        "{text}"
    );
    assert!(file.load().unwrap().section.entries[0].enabled);
}

#[test]
fn concurrent_writers_lose_no_update() {
    let (_dir, file) = file_with(V1);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let file = StateFile::new(file.path());
            std::thread::spawn(move || {
                for i in 0..10 {
                    let grant = format!("events.publish:t{t}-{i}");
                    file.update(|doc| doc.add_grants("example.hello", &[grant]))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let grants = &file.load().unwrap().section.entries[0].grants;
    assert_eq!(grants.len(), 2 + 80, "{grants:?}");
    for t in 0..8 {
        for i in 0..10 {
            assert!(grants.contains(&format!("events.publish:t{t}-{i}")));
        }
    }
}

#[test]
fn a_failed_edit_writes_nothing() {
    let (_dir, file) = file_with(V1);
    let error = file
        .update(|doc| -> Result<(), StateError> {
            doc.set_enabled("example.hello", true)?;
            Err(StateError::Invalid {
                path: "x".into(),
                reason: "refused".into(),
            })
        })
        .unwrap_err();
    assert!(matches!(error, StateError::Invalid { .. }));
    assert_eq!(std::fs::read_to_string(file.path()).unwrap(), V1);
}

#[test]
fn an_implicit_version_0_table_gets_its_header() {
    let text = "# top\n[[plugins.entries]]\nid = \"a\"\npath = \"a.wasm\"\n";
    let (_dir, file) = file_with(text);
    file.update(|_| Ok(())).unwrap();
    let written = std::fs::read_to_string(file.path()).unwrap();
    let loaded = file.load().unwrap();
    assert_eq!(loaded.migrated_from, None, "{written}");
    let entry = &loaded.section.entries[0];
    assert!(entry.enabled);
    assert_eq!(entry.artifact_path.as_deref(), Some(Path::new("a.wasm")));
    // The comment stays with the header it was written above.
    assert!(written.contains("# top\n[[plugins.entries]]"), "{written}");
    let header = written
        .find("[plugins]\nschema_version = 1")
        .expect(&written);
    assert!(
        header < written.find("[[plugins.entries]]").unwrap(),
        "{written}"
    );
}

#[test]
fn reset_review_disables_and_empties_the_grants_only() {
    let (_dir, file) = file_with(&V1.replace("enabled = false", "enabled = true"));
    let reset = file
        .update(|doc| doc.reset_review("example.hello"))
        .unwrap();
    assert_eq!(
        reset,
        Some(ReviewReset {
            was_enabled: true,
            grants: vec!["log".into(), "config".into()],
        })
    );
    let text = std::fs::read_to_string(file.path()).unwrap();
    // Only those two lines changed; comments, settings and unknown keys stay.
    let expected = V1.replace("grants = [\"log\", \"config\"]", "grants = []");
    assert_eq!(text, expected);
    // No entry, none created.
    let none = file.update(|doc| doc.reset_review("absent")).unwrap();
    assert_eq!(none, None);
    assert_eq!(std::fs::read_to_string(file.path()).unwrap(), expected);
}

#[test]
fn settings_are_replaced_whole_and_a_null_is_refused() {
    let (_dir, file) = file_with(V1);
    let settings = serde_json::json!({"greeting": "Salut", "limits": {"max": 3, "names": ["a"]}});
    let serde_json::Value::Object(settings) = settings else {
        unreachable!()
    };
    file.update(|doc| doc.set_config("example.hello", &settings))
        .unwrap();
    let loaded = file.load().unwrap();
    let entry = loaded.section.entry("example.hello").unwrap();
    assert_eq!(
        serde_json::Value::Object(entry.config.clone()),
        serde_json::Value::Object(settings)
    );
    let text = std::fs::read_to_string(file.path()).unwrap();
    assert!(text.contains("# Plinth plugin state"), "{text}");
    assert!(text.contains("colour = \"blue\""), "{text}");

    let before = text;
    let serde_json::Value::Object(null) = serde_json::json!({"greeting": null}) else {
        unreachable!()
    };
    assert!(
        file.update(|doc| doc.set_config("example.hello", &null))
            .is_err()
    );
    assert_eq!(std::fs::read_to_string(file.path()).unwrap(), before);
}
