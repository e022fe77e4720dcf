//! `Host::check` and `Host::inspect` read the component's type without compiling it
//! (docs/design/0054): they must agree with `Host::load` on every guest and every broken
//! manifest, naming the same code.

use std::path::Path;

use plinth_host::Host;
use plinth_host::manifest::Kind;
use plinth_host::manifest::diagnostic::{Code, ToDiagnostic};

use crate::common;

/// What a load or a check concluded: the kinds bound, or the error's code.
type Verdict = Result<Vec<Kind>, Code>;

fn loaded(host: &Host, path: &Path) -> Verdict {
    host.load(path)
        .map(|plugin| plugin.kinds())
        .map_err(|e| e.to_diagnostic().code)
}

fn checked(host: &Host, path: &Path) -> Verdict {
    host.check(path)
        .map(|checked| checked.kinds().to_vec())
        .map_err(|e| e.to_diagnostic().code)
}

#[test]
fn the_static_check_agrees_with_the_load_on_every_guest() {
    let host = common::host();
    let mut compared = 0;
    for (name, path) in test_programs::ALL {
        let path = Path::new(path);
        let load = loaded(host, path);
        let check = checked(host, path);
        if *name == "BIG_MEMORY" {
            // A memory that starts too large is the engine's to find: only a compile does.
            assert_eq!(load, Err(Code::MemoryLimit), "{name}");
            assert!(check.is_ok(), "{name}: {check:?}");
            continue;
        }
        assert_eq!(check, load, "{name}");
        compared += 1;
    }
    assert!(compared > 20, "only {compared} guests compared");
}

#[test]
fn the_static_check_agrees_with_the_load_on_every_example() {
    let host = common::host();
    for (example, wasm, file) in [
        ("hello", test_programs::HELLO, "hello.wasm"),
        (
            "count-vowels",
            test_programs::COUNT_VOWELS,
            "count_vowels.wasm",
        ),
        ("word-count", test_programs::WORD_COUNT, "word_count.wasm"),
        ("tool-guard", test_programs::TOOL_GUARD, "tool_guard.wasm"),
        ("greet", test_programs::GREET, "greet.wasm"),
        (
            "waveform-scanner",
            test_programs::WAVEFORM_SCANNER,
            "waveform_scanner.wasm",
        ),
        ("visits", test_programs::VISITS, "visits.wasm"),
    ] {
        let dir = example_with(example, wasm, file);
        let load = loaded(host, dir.path());
        assert!(load.is_ok(), "{example}: {load:?}");
        assert_eq!(checked(host, dir.path()), load, "{example}");
    }
}

/// An example's folder with its component, as `plinth build` leaves it.
fn example_with(name: &str, wasm: &str, file: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(test_programs::example_dir(name)).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::copy(wasm, dir.path().join(file)).unwrap();
    dir
}

/// `examples/hello` (a `plinth:plugin@0.1.0` command) under a manifest with `extra` lines.
fn hello_with(runtime: &str, rest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(test_programs::HELLO, dir.path().join("hello.wasm")).unwrap();
    std::fs::write(
        dir.path().join("plugin.toml"),
        format!(
            "[plugin]\nid = \"test.check\"\nversion = \"0.1.0\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"hello.wasm\"\n{runtime}\n{rest}"
        ),
    )
    .unwrap();
    dir
}

#[test]
fn broken_manifests_fail_the_check_with_the_loads_code() {
    let host = common::host();
    let zeros = format!("digest = \"sha256:{}\"", "0".repeat(64));
    // Each broken one way; the expected code where it is this check's own.
    let cases: &[(&str, &str, Option<Code>)] = &[
        (
            "",
            "[[provides.hook]]\npoint = \"p\"",
            Some(Code::KindMismatch),
        ),
        (
            "",
            "[[provides.tool]]\nname = \"t\"\ndescription = \"d\"",
            // A tool without `input_schema` is a manifest error before any kind check.
            Some(Code::InvalidManifest),
        ),
        ("world = \"tool\"", "", Some(Code::RuntimeMismatch)),
        ("world = \"nope\"", "", Some(Code::RuntimeMismatch)),
        ("api = \"0.2.0\"", "", Some(Code::RuntimeMismatch)),
        (&zeros, "", None),
        ("", "[settings]\nschema = \"missing.json\"", None),
    ];
    for (runtime, rest, code) in cases {
        let dir = hello_with(runtime, rest);
        let load = loaded(host, dir.path());
        assert!(load.is_err(), "{runtime} {rest}: {load:?}");
        if let Some(code) = code {
            assert_eq!(load, Err(*code), "{runtime} {rest}");
        }
        assert_eq!(checked(host, dir.path()), load, "{runtime} {rest}");
    }
    // The same component under a correct manifest: both pass, with the same kinds.
    let dir = hello_with("world = \"plugin\"\napi = \"0.1.0\"", "");
    let load = loaded(host, dir.path());
    assert_eq!(load, Ok(vec![Kind::Command]));
    assert_eq!(checked(host, dir.path()), load);
}

#[test]
fn an_invalid_function_body_fails_the_check_as_it_fails_the_compile() {
    // Well-formed binary, invalid code: the function returns nothing but declares an i32.
    let bytes = wat::parse_str(
        r#"(component
             (core module $m (func (export "f") (result i32)))
             (core instance $i (instantiate $m))
             (func (export "f") (result u32) (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invalid_body.wasm");
    std::fs::write(&path, &bytes).unwrap();
    let host = common::host();
    let load = loaded(host, &path);
    assert!(load.is_err(), "{load:?}");
    assert_eq!(checked(host, &path), load);
    assert_eq!(
        host.inspect(&bytes)
            .map(drop)
            .map_err(|e| e.to_diagnostic().code),
        load.map(drop)
    );
}

#[test]
fn inspect_prints_exports_with_their_wit_types() {
    let inspection = common::host()
        .inspect(&common::bytes(test_programs::KINDS))
        .unwrap();
    let signatures: Vec<String> = inspection.exports.iter().map(|e| e.signature()).collect();
    assert!(
        signatures.contains(
            &"plinth:tool/tool@0.1.0#call(name: string, input: string) -> result<string, tool-error>"
                .to_string()
        ),
        "{signatures:#?}"
    );
    assert!(
        inspection
            .exports
            .iter()
            .any(|e| e.name == "plinth:command/command@0.1.0#run"),
        "{signatures:#?}"
    );
    assert_eq!(
        inspection.digest,
        plinth_host::manifest::digest::Digest::of(&common::bytes(test_programs::KINDS))
    );
}

#[test]
fn the_checked_settings_schema_validates_settings_as_the_load_does() {
    let dir = hello_with("", "[settings]\nschema = \"schema.json\"");
    std::fs::write(
        dir.path().join("schema.json"),
        r#"{"type": "object", "properties": {"greeting": {"type": "string"}}}"#,
    )
    .unwrap();
    let checked = common::host().check(dir.path()).unwrap();
    assert!(
        checked
            .validate_settings(&serde_json::json!({"greeting": "hi"}))
            .is_ok()
    );
    let err = checked
        .validate_settings(&serde_json::json!({"greeting": 1}))
        .unwrap_err();
    assert_eq!(err.to_diagnostic().code, Code::RejectedSchema);
}
