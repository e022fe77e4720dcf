//! Table tests of every manifest field: good values parse to the expected model, bad values
//! fail with `invalid-manifest` at the exact key path.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failed test.

use std::path::PathBuf;

use crate::common::{PLUGIN, RUNTIME, assert_invalid, doc, parse_ok, with};
use plinth_manifest::{Digest, HookDecl, Kind, Manifest};

fn plugin_ok(body: &str) -> Manifest {
    parse_ok(&doc(body, RUNTIME, "")).manifest
}

fn runtime_ok(body: &str) -> Manifest {
    parse_ok(&doc(PLUGIN, body, "")).manifest
}

const V: &str = "version = \"0.1.0\"\n";
const ID: &str = "id = \"example.hello\"\n";

#[test]
fn plugin_id() {
    for good in ["example.hello", "a", "x9", "a-b_c.d", &"a".repeat(64)] {
        let m = plugin_ok(&format!("id = {good:?}\n{V}"));
        assert_eq!(m.plugin.id.as_str(), good);
    }
    let bad: &[(&str, &str)] = &[
        (
            "id = \"Bad Id\"",
            "\"Bad Id\" must match [a-z0-9][a-z0-9._-]*",
        ),
        ("id = \"\"", "must match"),
        ("id = \"-x\"", "must match"),
        ("id = \"a/b\"", "must match"),
        ("id = \"Upper\"", "must match"),
        ("id = 7", "expected a string, found an integer"),
        ("id = [\"a\"]", "expected a string, found an array"),
    ];
    for (line, reason) in bad {
        assert_invalid(
            &doc(&format!("{line}\n{V}"), RUNTIME, ""),
            "plugin.id",
            reason,
        );
    }
    let long = format!("id = {:?}\n{V}", "a".repeat(65));
    assert_invalid(&doc(&long, RUNTIME, ""), "plugin.id", "65 characters long");
    assert_invalid(&doc(V, RUNTIME, ""), "plugin.id", "required key is missing");
}

#[test]
fn plugin_version() {
    for (text, expected) in [
        ("0.1.0", "0.1.0"),
        ("1.2.3-beta.1+build", "1.2.3-beta.1+build"),
    ] {
        let m = plugin_ok(&format!("{ID}version = {text:?}\n"));
        assert_eq!(m.plugin.version, semver::Version::parse(expected).unwrap());
    }
    for (value, reason) in [
        ("\"1.0\"", "\"1.0\" is not a semver version"),
        ("\"v1.0.0\"", "is not a semver version"),
        ("\"\"", "is not a semver version"),
        ("1.0", "expected a string, found a float"),
    ] {
        let text = doc(&format!("{ID}version = {value}\n"), RUNTIME, "");
        assert_invalid(&text, "plugin.version", reason);
    }
    assert_invalid(
        &doc(ID, RUNTIME, ""),
        "plugin.version",
        "required key is missing",
    );
}

#[test]
fn plugin_optional_metadata() {
    let m = plugin_ok(&format!(
        "{PLUGIN}name = \"Hello\"\ndescription = \"d\"\nlicense = \"MIT OR Apache-2.0\"\nauthors = [\"A\", \"B <b@x>\"]\n"
    ));
    assert_eq!(m.plugin.name.as_deref(), Some("Hello"));
    assert_eq!(m.plugin.description.as_deref(), Some("d"));
    assert_eq!(m.plugin.license.as_deref(), Some("MIT OR Apache-2.0"));
    assert_eq!(m.plugin.authors, ["A", "B <b@x>"]);
    let m = plugin_ok(PLUGIN);
    assert_eq!((m.plugin.name, m.plugin.authors.len()), (None, 0));

    let bad: &[(&str, &str, &str)] = &[
        ("name = 1", "plugin.name", "expected a string"),
        (
            "description = true",
            "plugin.description",
            "found a boolean",
        ),
        ("license = {}", "plugin.license", "found a table"),
        (
            "authors = \"Jane\"",
            "plugin.authors",
            "expected an array of strings",
        ),
        (
            "authors = [\"Jane\", 3]",
            "plugin.authors[1]",
            "expected a string",
        ),
    ];
    for (line, key, reason) in bad {
        assert_invalid(&doc(&format!("{PLUGIN}{line}\n"), RUNTIME, ""), key, reason);
    }
}

#[test]
fn missing_or_mistyped_tables() {
    let runtime_only = format!("[runtime]\n{RUNTIME}");
    assert_invalid(&runtime_only, "plugin", "required table is missing");
    let plugin_only = format!("[plugin]\n{PLUGIN}");
    assert_invalid(&plugin_only, "runtime", "required table is missing");
    assert_invalid("", "plugin", "required table is missing");
    assert_invalid(
        &format!("plugin = 1\n[runtime]\n{RUNTIME}"),
        "plugin",
        "expected a table",
    );
    assert_invalid(
        &format!("runtime = \"wasm\"\n[plugin]\n{PLUGIN}"),
        "runtime",
        "expected a table",
    );
    for (section, key) in [
        ("capabilities = 1", "capabilities"),
        ("limits = []", "limits"),
        ("settings = \"x\"", "settings"),
    ] {
        // Top-level keys must come before the first table header.
        let text = format!("{section}\n[plugin]\n{PLUGIN}\n[runtime]\n{RUNTIME}");
        assert_invalid(&text, key, "expected a table");
    }
}

#[test]
fn runtime_kind_and_component() {
    let m = runtime_ok(RUNTIME);
    assert_eq!(
        m.runtime.as_ref().unwrap().component,
        PathBuf::from("hello.wasm")
    );
    assert_eq!(m.dir, PathBuf::from("plugins/hello"));
    assert_eq!(
        m.component_path(),
        Some(PathBuf::from("plugins/hello/hello.wasm"))
    );

    for (text, normal) in [
        ("./hello.wasm", "hello.wasm"),
        (
            "target/wasm32-wasip2/release/hello.wasm",
            "target/wasm32-wasip2/release/hello.wasm",
        ),
        ("build/../hello.wasm", "hello.wasm"),
    ] {
        let m = runtime_ok(&format!(
            "kind = \"wasm-component\"\ncomponent = {text:?}\n"
        ));
        assert_eq!(
            m.runtime.unwrap().component,
            PathBuf::from(normal),
            "{text}"
        );
    }

    let bad: &[(&str, &str, &str)] = &[
        (
            "component = \"/abs/hello.wasm\"",
            "runtime.component",
            "is absolute",
        ),
        (
            "component = \"../other/hello.wasm\"",
            "runtime.component",
            "leaves the plugin directory",
        ),
        (
            "component = \"a/../../hello.wasm\"",
            "runtime.component",
            "leaves the plugin directory",
        ),
        (
            "component = \"C:/hello.wasm\"",
            "runtime.component",
            "is absolute",
        ),
        (
            "component = \"dir\\\\hello.wasm\"",
            "runtime.component",
            "uses '\\'",
        ),
        ("component = \"\"", "runtime.component", "is empty"),
        (
            "component = \".\"",
            "runtime.component",
            "plugin directory itself",
        ),
        ("component = 1", "runtime.component", "expected a string"),
        ("", "runtime.component", "required key is missing"),
    ];
    for (line, key, reason) in bad {
        let text = doc(PLUGIN, &format!("kind = \"wasm-component\"\n{line}\n"), "");
        assert_invalid(&text, key, reason);
    }
    let no_kind = doc(PLUGIN, "component = \"hello.wasm\"\n", "");
    assert_invalid(&no_kind, "runtime.kind", "required key is missing");
    let numeric_kind = doc(PLUGIN, "kind = 2\ncomponent = \"hello.wasm\"\n", "");
    assert_invalid(&numeric_kind, "runtime.kind", "expected a string");
}

#[test]
fn runtime_api_world_digest() {
    let digest = Digest::of(b"component bytes");
    let m = runtime_ok(&format!(
        "{RUNTIME}api = \"0.1.0\"\nworld = \"file-loader\"\ndigest = \"{digest}\"\n"
    ));
    let runtime = m.runtime.unwrap();
    assert_eq!(runtime.api, Some(semver::Version::new(0, 1, 0)));
    assert_eq!(runtime.world.as_deref(), Some("file-loader"));
    assert_eq!(runtime.digest, Some(digest));
    let runtime = runtime_ok(RUNTIME).runtime.unwrap();
    assert_eq!(
        (runtime.api, runtime.world, runtime.digest),
        (None, None, None)
    );

    let bad: &[(&str, &str, &str)] = &[
        ("api = \"0.1\"", "runtime.api", "not a semver version"),
        ("api = 1", "runtime.api", "expected a string"),
        ("world = \"Tool\"", "runtime.world", "not a WIT world name"),
        (
            "world = \"plinth:plugin/tool\"",
            "runtime.world",
            "not a WIT world name",
        ),
        ("world = \"\"", "runtime.world", "not a WIT world name"),
        (
            "digest = \"md5:abcd\"",
            "runtime.digest",
            "unsupported digest algorithm `md5`",
        ),
        (
            "digest = \"sha256:1234\"",
            "runtime.digest",
            "expected 64 hex digits",
        ),
        (
            "digest = \"e3b0c442\"",
            "runtime.digest",
            "expected `sha256:`",
        ),
        ("digest = 5", "runtime.digest", "expected a string"),
    ];
    for (line, key, reason) in bad {
        assert_invalid(&doc(PLUGIN, &format!("{RUNTIME}{line}\n"), ""), key, reason);
    }
}

#[test]
fn limits() {
    let m = parse_ok(&with(
        "[limits]\nfuel_units = 1_000_000_000\nmem_bytes = 67108864\nwall_timeout_ms = 250\n",
    ))
    .manifest;
    assert_eq!(m.limits.fuel_units, Some(1_000_000_000));
    assert_eq!(m.limits.mem_bytes, Some(64 << 20));
    assert_eq!(m.limits.wall_timeout_ms, Some(250));
    let m = parse_ok(&with("")).manifest;
    assert_eq!(m.limits, Default::default());

    for key in ["fuel_units", "mem_bytes", "wall_timeout_ms"] {
        for (value, reason) in [
            ("0", "must be a positive integer, found 0"),
            ("-5", "must be a positive integer, found -5"),
            ("\"10\"", "expected a positive integer, found a string"),
            ("1.5", "found a float"),
        ] {
            let text = with(&format!("[limits]\n{key} = {value}\n"));
            assert_invalid(&text, &format!("limits.{key}"), reason);
        }
    }
}

#[test]
fn settings() {
    let m = parse_ok(&with("[settings]\nschema = \"settings.schema.json\"\n")).manifest;
    let schema = m.settings.and_then(|s| s.schema);
    assert_eq!(schema, Some(PathBuf::from("settings.schema.json")));
    let m = parse_ok(&with("[settings]\n")).manifest;
    assert_eq!(m.settings.map(|s| s.schema), Some(None));
    assert_eq!(parse_ok(&with("")).manifest.settings, None);

    assert_invalid(
        &with("[settings]\nschema = \"../s.json\"\n"),
        "settings.schema",
        "leaves",
    );
    assert_invalid(
        &with("[settings]\nschema = \"/etc/s.json\"\n"),
        "settings.schema",
        "absolute",
    );
    assert_invalid(
        &with("[settings]\nschema = 1\n"),
        "settings.schema",
        "expected a string",
    );
}

#[test]
fn tools() {
    let m = parse_ok(&with(
        "[[tools]]\nname = \"count_vowels\"\ndescription = \"Counts vowels\"\ninput_schema = \"count_vowels.schema.json\"\n\n[[tools]]\nname = \"echo\"\n",
    ))
    .manifest;
    let tools = &m.provides.tool;
    assert!(m.provides.legacy);
    assert_eq!(m.provides.kinds(), [Kind::Tool]);
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0].name, "count_vowels");
    assert_eq!(tools[0].description.as_deref(), Some("Counts vowels"));
    assert_eq!(
        tools[0].input_schema,
        Some(PathBuf::from("count_vowels.schema.json"))
    );
    assert_eq!(
        (tools[1].name.as_str(), &tools[1].description),
        ("echo", &None)
    );

    let bad: &[(&str, &str, &str)] = &[
        (
            "[[tools]]\ndescription = \"x\"\n",
            "tools[0].name",
            "required key is missing",
        ),
        (
            "[[tools]]\nname = \"\"\n",
            "tools[0].name",
            "is not a tool name",
        ),
        (
            "[[tools]]\nname = \"has space\"\n",
            "tools[0].name",
            "is not a tool name",
        ),
        (
            "[[tools]]\nname = 3\n",
            "tools[0].name",
            "expected a string",
        ),
        (
            "[[tools]]\nname = \"a\"\n[[tools]]\nname = \"b\"\n[[tools]]\nname = \"a\"\n",
            "tools[2].name",
            "duplicate tool name \"a\" (also declared by tools[0])",
        ),
        (
            "[[tools]]\nname = \"a\"\ninput_schema = \"../x.json\"\n",
            "tools[0].input_schema",
            "leaves",
        ),
        (
            "[[tools]]\nname = \"a\"\ndescription = 1\n",
            "tools[0].description",
            "expected a string",
        ),
        (
            "[tools]\nname = \"a\"\n",
            "tools",
            "expected an array of tables ([[tools]])",
        ),
        ("tools = [1]\n", "tools[0]", "expected a table"),
    ];
    for (rest, key, reason) in bad {
        let text = if rest.starts_with("tools =") {
            format!("{rest}[plugin]\n{PLUGIN}\n[runtime]\n{RUNTIME}")
        } else {
            with(rest)
        };
        assert_invalid(&text, key, reason);
    }
}

#[test]
fn provides_kinds() {
    let m = parse_ok(&with(
        "[[provides.tool]]\nname = \"word_count\"\ndescription = \"Counts words\"\ninput_schema = \"wc.json\"\noutput_schema = \"wc.out.json\"\n\n[[provides.hook]]\npoint = \"before-tool-call\"\npriority = -5\ndeadline_ms = 200\n\n[[provides.hook]]\npoint = \"after-tool-call\"\n\n[[provides.command]]\n",
    ))
    .manifest;
    assert!(!m.provides.legacy);
    assert_eq!(m.provides.kinds(), [Kind::Command, Kind::Tool, Kind::Hook]);
    let tool = m.provides.tool("word_count").unwrap();
    assert_eq!(tool.description.as_deref(), Some("Counts words"));
    assert_eq!(tool.input_schema, Some(PathBuf::from("wc.json")));
    assert_eq!(tool.output_schema, Some(PathBuf::from("wc.out.json")));
    assert_eq!(
        m.provides.hook,
        [
            HookDecl {
                point: "before-tool-call".into(),
                priority: -5,
                deadline_ms: Some(200),
            },
            HookDecl {
                point: "after-tool-call".into(),
                priority: 0,
                deadline_ms: None,
            },
        ]
    );

    // The 0.1.0 world names map onto kinds.
    let legacy = parse_ok(&doc(PLUGIN, &format!("{RUNTIME}world = \"plugin\"\n"), "")).manifest;
    assert_eq!(legacy.provides.kinds(), [Kind::Command]);
    assert!(legacy.provides.legacy);
    let none = parse_ok(&with("")).manifest;
    assert!(none.provides.is_empty() && !none.provides.legacy);

    let tool = "[[provides.tool]]\nname = \"a\"\ndescription = \"d\"\ninput_schema = \"a.json\"\n";
    let bad: Vec<(String, &str, &str)> = vec![
        (
            "[[provides.tool]]\nname = \"a\"\ninput_schema = \"a.json\"\n".into(),
            "provides.tool[0].description",
            "required key is missing",
        ),
        (
            "[[provides.tool]]\nname = \"a\"\ndescription = \"d\"\n".into(),
            "provides.tool[0].input_schema",
            "required key is missing",
        ),
        (
            format!("{tool}{tool}"),
            "provides.tool[1].name",
            "duplicate tool name \"a\" (also declared by provides.tool[0])",
        ),
        (
            "[[provides.tool]]\nname = \"a\"\ndescription = \"d\"\ninput_schema = \"../a.json\"\n"
                .into(),
            "provides.tool[0].input_schema",
            "leaves",
        ),
        (
            "[provides.tool]\nname = \"a\"\n".into(),
            "provides.tool",
            "expected an array of tables ([[provides.tool]])",
        ),
        (
            "[[provides.hook]]\npoint = \"Before Call\"\n".into(),
            "provides.hook[0].point",
            "is not a hook point name",
        ),
        (
            "[[provides.hook]]\npoint = \"x\"\n[[provides.hook]]\npoint = \"x\"\n".into(),
            "provides.hook[1].point",
            "declared twice",
        ),
        (
            "[[provides.hook]]\npoint = \"x\"\npriority = 1.5\n".into(),
            "provides.hook[0].priority",
            "expected an integer",
        ),
        (
            "[[provides.hook]]\npoint = \"x\"\npriority = 99999999999\n".into(),
            "provides.hook[0].priority",
            "out of range",
        ),
        (
            "[[provides.hook]]\n".into(),
            "provides.hook[0].point",
            "required key is missing",
        ),
        (
            format!("{tool}[[tools]]\nname = \"b\"\n"),
            "provides",
            "mixes [[provides.KIND]] with the 0.1.0 form",
        ),
        ("provides = 3\n".into(), "provides", "expected a table"),
    ];
    for (rest, key, reason) in &bad {
        let text = if rest.starts_with("provides =") {
            format!("{rest}[plugin]\n{PLUGIN}\n[runtime]\n{RUNTIME}")
        } else {
            with(rest)
        };
        assert_invalid(&text, key, reason);
    }
}

#[test]
fn unknown_kinds_are_warnings() {
    let parsed = parse_ok(&with(
        "[[provides.palette]]\nfile = \"palette.json\"\n[[provides.command]]\nsummary = \"x\"\n",
    ));
    assert_eq!(parsed.manifest.provides.kinds(), [Kind::Command]);
    let messages: Vec<&str> = parsed.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("unknown plugin kind `provides.palette`")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("provides.command[0].summary")),
        "{messages:?}"
    );
}
