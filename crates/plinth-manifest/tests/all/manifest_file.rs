//! Whole manifests: the DESIGN §3.1 example, loading from disk, unknown keys, legacy runtimes,
//! syntax errors, digests and the diagnostics they all turn into.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failed test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{FILE, PLUGIN, RUNTIME, doc, parse, parse_ok, warning_messages, with};
use plinth_manifest::{
    Capabilities, Code, Digest, LimitOverrides, Manifest, ManifestError, PluginMeta, Provides,
    Runtime, SettingsDecl, Severity, ToDiagnostic, ToolDecl,
};

/// The example of DESIGN §3.1, with a real digest in place of the ellipsis.
fn design_example(digest: &Digest) -> String {
    format!(
        r#"[plugin]
id = "example.hello"            # required; [a-z0-9][a-z0-9._-]*, max 64 chars
version = "0.1.0"               # required; semver
name = "Hello"
description = "Echo back the user input."
license = "MIT"
authors = ["Jane Dev <jane@example.org>"]

[runtime]
kind = "wasm-component"         # the only accepted value
component = "hello.wasm"        # path relative to the manifest
api = "0.1.0"
world = "tool"
digest = "{digest}"

[capabilities]                  # what the plugin asks for; the host grants or not
log = true
http = {{ allow = ["api.example.com", "*.github.io"] }}
fs = {{ read = ["data"], write = ["out"] }}   # names from host config [dirs]
kv = true
events = {{ publish = ["discovery"] }}

[limits]                        # optional, may only lower the host's limits
fuel_units = 1_000_000_000

[settings]
schema = "settings.schema.json" # JSON Schema for the plugin's settings

[[tools]]
name = "count_vowels"
description = "Counts vowels"
input_schema = "count_vowels.schema.json"
"#
    )
}

#[test]
fn design_example_parses_into_the_expected_struct() {
    let digest = Digest::of(b"hello component");
    let parsed = parse_ok(&design_example(&digest));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let expected = Manifest {
        plugin: PluginMeta {
            id: "example.hello".parse().unwrap(),
            version: semver::Version::new(0, 1, 0),
            name: Some("Hello".into()),
            description: Some("Echo back the user input.".into()),
            license: Some("MIT".into()),
            authors: vec!["Jane Dev <jane@example.org>".into()],
        },
        runtime: Some(Runtime {
            component: PathBuf::from("hello.wasm"),
            api: Some(semver::Version::new(0, 1, 0)),
            world: Some("tool".into()),
            digest: Some(digest),
        }),
        capabilities: Capabilities {
            log: true,
            config: false,
            http: vec!["api.example.com".into(), "*.github.io".into()],
            fs_read: vec!["data".into()],
            fs_write: vec!["out".into()],
            watch: vec![],
            kv: true,
            events_publish: vec!["discovery".into()],
            sockets: vec![],
            websocket: vec![],
            custom: BTreeMap::new(),
        },
        limits: LimitOverrides {
            fuel_units: Some(1_000_000_000),
            mem_bytes: None,
            wall_timeout_ms: None,
        },
        settings: Some(SettingsDecl {
            schema: Some(PathBuf::from("settings.schema.json")),
        }),
        provides: Provides {
            tool: vec![ToolDecl {
                name: "count_vowels".into(),
                description: Some("Counts vowels".into()),
                input_schema: Some(PathBuf::from("count_vowels.schema.json")),
                output_schema: None,
            }],
            legacy: true,
            ..Provides::default()
        },
        dir: PathBuf::from("plugins/hello"),
    };
    assert_eq!(parsed.manifest, expected);
    let grants: Vec<String> = parsed
        .manifest
        .requested_grants()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        grants,
        [
            "log",
            "http:api.example.com",
            "http:*.github.io",
            "fs.read:data",
            "fs.write:out",
            "kv",
            "events.publish:discovery"
        ]
    );
}

#[test]
fn manifest_serializes_to_json() {
    let parsed = parse_ok(&design_example(&Digest::of(b"x")));
    let json = serde_json::to_value(&parsed.manifest).unwrap();
    assert_eq!(json["plugin"]["id"], "example.hello");
    assert_eq!(json["runtime"]["digest"], Digest::of(b"x").to_string());
    assert_eq!(json["capabilities"]["fs_write"][0], "out");
}

#[test]
fn unknown_keys_warn_with_their_path_at_every_level() {
    let text = doc(
        &format!("{PLUGIN}homepage = \"https://x\"\n"),
        &format!("{RUNTIME}entry = \"run\"\n"),
        r#"[capabilities]
http = { allow = ["a.com"], deny = ["b.com"] }
fs = { read = ["data"], exec = ["bin"] }
events = { publish = ["x"], subscribe = ["y"] }

[limits]
fuel_units = 10
cpu = 3

[settings]
schema = "s.json"
defaults = { a = 1 }

[[tools]]
name = "t"
color = "red"

[build]
command = "make"
"#,
    );
    let parsed = parse_ok(&text);
    let mut paths: Vec<String> = warning_messages(&parsed)
        .iter()
        .map(|m| m.split('`').nth(1).unwrap_or_default().to_owned())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "build",
            "capabilities.events.subscribe",
            "capabilities.fs.exec",
            "capabilities.http.deny",
            "limits.cpu",
            "plugin.homepage",
            "runtime.entry",
            "settings.defaults",
            "tools[0].color",
        ]
    );
    for w in &parsed.warnings {
        assert_eq!(w.severity, Severity::Warning);
        assert_eq!(w.plugin.as_deref(), Some("example.hello"));
        assert!(w.message.contains(FILE), "{}", w.message);
        assert!(w.hint.is_some());
    }
    // The parse itself is unaffected.
    assert_eq!(parsed.manifest.limits.fuel_units, Some(10));
}

#[test]
fn unknown_key_hint_suggests_a_close_known_key() {
    let parsed = parse_ok(&doc(&format!("{PLUGIN}descripton = \"x\"\n"), RUNTIME, ""));
    let w = &parsed.warnings[0];
    assert_eq!(
        w.message,
        format!("unknown key `plugin.descripton` in {FILE} is ignored")
    );
    assert_eq!(
        w.hint.as_deref(),
        Some("did you mean `plugin.description`?")
    );
    let parsed = parse_ok(&with("[limtis]\nfuel_units = 1\n"));
    assert_eq!(
        parsed.warnings[0].hint.as_deref(),
        Some("did you mean `limits`?")
    );
}

#[test]
fn non_bare_unknown_keys_are_quoted() {
    let parsed = parse_ok(&doc(&format!("{PLUGIN}\"x.y\" = 1\n"), RUNTIME, ""));
    assert_eq!(
        parsed.warnings[0].message,
        format!("unknown key `plugin.\"x.y\"` in {FILE} is ignored")
    );
}

#[test]
fn max_stack_bytes_warns_that_the_stack_limit_is_host_wide() {
    let parsed = parse_ok(&with(
        "[limits]\nmax_stack_bytes = 1048576\nmem_bytes = 1024\n",
    ));
    assert_eq!(parsed.warnings.len(), 1);
    let w = &parsed.warnings[0];
    assert_eq!(w.code, Code::UnknownKey);
    assert!(
        w.message.contains("limits.max_stack_bytes"),
        "{}",
        w.message
    );
    assert!(w.message.contains("host-wide"), "{}", w.message);
    assert_eq!(parsed.manifest.limits.mem_bytes, Some(1024));
}

#[test]
fn legacy_runtime_kinds_are_refused() {
    for kind in [
        "wasm",
        "wasm-module",
        "native",
        "wasi",
        "WASM-COMPONENT",
        "",
    ] {
        // Legacy manifests often lack keys Plinth needs; the kind is reported first anyway.
        let text = format!(
            "[plugin]\nid = \"Old Plugin\"\n[runtime]\nkind = {kind:?}\npath = \"x.wasm\"\n"
        );
        let err = parse(&text).unwrap_err();
        match &err {
            ManifestError::LegacyRuntime { file, kind: got } => {
                assert_eq!(file, Path::new(FILE));
                assert_eq!(got, kind);
            }
            other => panic!("{kind}: expected LegacyRuntime, got {other:?}"),
        }
        assert_eq!(err.code(), Code::LegacyRuntime);
        let d = err.to_diagnostic();
        assert_eq!(d.code, Code::LegacyRuntime);
        assert!(d.message.contains(FILE));
        let hint = d.hint.unwrap_or_default();
        assert!(
            hint.contains("cargo build --target wasm32-wasip2"),
            "{hint}"
        );
        assert!(hint.contains("plinth build"), "{hint}");
    }
}

#[test]
fn syntax_errors_give_file_line_and_column() {
    let text = "[plugin]\nid = \"a\"\nversion = \"0.1.0\"\nname = \"unterminated\n";
    match parse(text).unwrap_err() {
        ManifestError::Syntax {
            file,
            line,
            column,
            message,
        } => {
            assert_eq!(file, Path::new(FILE));
            assert_eq!(line, 4);
            assert!(column >= 8, "column {column}");
            assert!(!message.is_empty());
        }
        other => panic!("expected Syntax, got {other:?}"),
    }
    let dup = "[plugin]\nid = \"a\"\nid = \"b\"\n";
    let err = parse(dup).unwrap_err();
    assert!(
        matches!(err, ManifestError::Syntax { line: 3, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), Code::InvalidManifest);
    let d = err.to_diagnostic();
    assert!(
        d.message.starts_with(&format!("{FILE}:3:")),
        "{}",
        d.message
    );
    assert!(d.hint.unwrap_or_default().contains("line 3"));
}

#[test]
fn digest_verification() {
    let bytes = b"\0asm component bytes";
    let pinned = with("").replace(
        "component = \"hello.wasm\"\n",
        &format!(
            "component = \"hello.wasm\"\ndigest = \"{}\"\n",
            Digest::of(bytes)
        ),
    );
    let manifest = parse_ok(&pinned).manifest;
    assert!(manifest.verify_digest(bytes).is_ok());
    let err = manifest.verify_digest(b"tampered").unwrap_err();
    match &err {
        ManifestError::DigestMismatch { expected, actual } => {
            assert_eq!(*expected, Digest::of(bytes));
            assert_eq!(*actual, Digest::of(b"tampered"));
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert_eq!(err.code(), Code::DigestMismatch);
    let hint = err.to_diagnostic().hint.unwrap_or_default();
    assert!(
        hint.contains(&Digest::of(b"tampered").to_string()),
        "{hint}"
    );

    let unpinned = parse_ok(&with("")).manifest;
    assert!(unpinned.verify_digest(b"anything").is_ok());
}

#[test]
fn load_from_directory_or_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plugin.toml"), with("")).unwrap();
    let from_dir = Manifest::load(dir.path()).unwrap();
    assert_eq!(from_dir.manifest.dir, dir.path());
    assert_eq!(
        from_dir.manifest.component_path(),
        Some(dir.path().join("hello.wasm"))
    );
    let from_file = Manifest::load(&dir.path().join("plugin.toml")).unwrap();
    assert_eq!(from_file, from_dir);
}

#[test]
fn load_reports_missing_and_unreadable_files() {
    let dir = tempfile::tempdir().unwrap();
    let err = Manifest::load(dir.path()).unwrap_err();
    match &err {
        ManifestError::Missing { path } => assert_eq!(path, &dir.path().join("plugin.toml")),
        other => panic!("expected Missing, got {other:?}"),
    }
    assert_eq!(err.code(), Code::MissingPackage);
    assert_eq!(err.to_diagnostic().code, Code::MissingPackage);

    let err = Manifest::load(&dir.path().join("absent/plugin.toml")).unwrap_err();
    assert!(matches!(err, ManifestError::Missing { .. }), "{err:?}");

    // A path through a regular file is "nothing there", not an I/O failure.
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let err = Manifest::load(&dir.path().join("file/plugin.toml")).unwrap_err();
    assert!(matches!(err, ManifestError::Missing { .. }), "{err:?}");

    let bad_utf8 = dir.path().join("bad.toml");
    std::fs::write(&bad_utf8, [0xff, 0xfe, 0x00]).unwrap();
    let err = Manifest::load(&bad_utf8).unwrap_err();
    assert!(matches!(err, ManifestError::Io { .. }), "{err:?}");
    assert_eq!(err.code(), Code::InvalidManifest);
}

#[test]
fn invalid_manifest_diagnostic_names_file_key_and_hint() {
    let err = parse(&doc("id = \"Bad Id\"\nversion = \"0.1.0\"\n", RUNTIME, "")).unwrap_err();
    let d = err.to_diagnostic().with_plugin("Bad Id");
    assert_eq!(d.code, Code::InvalidManifest);
    assert_eq!(d.severity, Severity::Error);
    assert!(
        d.message.starts_with(&format!(
            "{FILE}: plugin.id: \"Bad Id\" must match [a-z0-9][a-z0-9._-]*"
        )),
        "{}",
        d.message
    );
    assert!(
        d.hint
            .as_deref()
            .unwrap_or_default()
            .contains("example.hello")
    );
    assert!(d.to_string().starts_with("error[invalid-manifest]: "));
}

#[test]
fn dir_of_a_bare_file_name_is_the_current_directory() {
    let parsed = Manifest::parse(&with(""), Path::new("plugin.toml")).unwrap();
    assert_eq!(parsed.manifest.dir, PathBuf::from("."));
    assert_eq!(
        parsed.manifest.component_path(),
        Some(PathBuf::from("./hello.wasm"))
    );
}

/// Every prefix of a full manifest either parses or fails with an error: never a panic. A
/// cheap stand-in for the fuzz target, run on every test.
#[test]
fn truncated_manifests_never_panic() {
    let text = design_example(&Digest::of(b"x"));
    for (end, _) in text.char_indices() {
        let _ = parse(&text[..end]);
    }
}

/// Hostile: a FIFO named `plugin.toml` (no writer) and an oversized manifest. On main,
/// `Manifest::load` opened the FIFO and blocked forever (so `plinth check` hung), and read
/// any size into memory; now both are refused at once with a coded diagnostic.
#[cfg(unix)]
#[test]
fn a_fifo_or_oversized_manifest_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("plugin.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (done, result) = std::sync::mpsc::channel();
    let path = dir.path().to_path_buf();
    std::thread::spawn(move || done.send(Manifest::load(&path).map(|_| ())));
    let err = result
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("loading a FIFO manifest blocked")
        .unwrap_err();
    assert_eq!(err.code(), Code::NotARegularFile, "{err}");
    assert!(err.to_string().contains("fifo"), "{err}");

    let big = dir.path().join("big.toml");
    let mut text = String::from("[plugin]\nid = \"a\"\nversion = \"0.1.0\"\n");
    text.push_str(&"# padding\n".repeat(120_000));
    std::fs::write(&big, text).unwrap();
    let err = Manifest::load(&big).unwrap_err();
    assert_eq!(err.code(), Code::TooLarge, "{err}");
}
