//! Components made in the test from WIT (`wit_component::dummy_module`: every function's
//! body is `unreachable`, so nothing here could run even if it were called).

use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, Resolve, WorldId};

use super::*;

/// A component of `world` in `resolve`.
fn encode(resolve: &Resolve, world: WorldId) -> Vec<u8> {
    let mut module = wit_component::dummy_module(resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, resolve, world, StringEncoding::UTF8)
        .expect("metadata");
    ComponentEncoder::default()
        .module(&module)
        .expect("module")
        .validate(true)
        .encode()
        .expect("component")
}

/// A component of the only world in `wit`.
fn component(wit: &str) -> Vec<u8> {
    let mut resolve = Resolve::default();
    let package = resolve.push_str("test.wit", wit).expect("WIT");
    let world = resolve.select_world(&[package], None).expect("a world");
    encode(&resolve, world)
}

/// A component of the served `plinth:tool@0.1.0` world `plugin`.
fn served_tool_plugin() -> Vec<u8> {
    let resolve = served().resolve();
    let package = served().packages()[3];
    let world = resolve
        .select_world(&[package], Some("plugin"))
        .expect("world");
    encode(resolve, world)
}

const TOOL: &str = "plinth:tool/tool@0.1.0";

/// `plinth:tool/tool` at `version` with `body` as the interface, exported by a world.
fn tool_component(version: &str, body: &str) -> Vec<u8> {
    component(&format!(
        "package plinth:tool@{version};\ninterface tool {{\n{body}\n}}\nworld plugin {{ export tool; }}\n"
    ))
}

const TYPES: &str = "
    record tool-info { name: string, description: string, input-schema: string, output-schema: option<string> }
    variant tool-error { unknown-tool(string), invalid-input(string), failed(string) }
";

#[test]
fn a_component_built_on_the_served_world_passes() {
    let bytes = served_tool_plugin();
    let problems =
        check_exports(&bytes, &[TOOL, "plinth:plugin/lifecycle@0.1.0"]).expect("decodes");
    assert_eq!(problems, []);

    let exports = component_exports(&bytes).expect("decodes");
    let names: Vec<&str> = exports.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["plinth:plugin/lifecycle@0.1.0", TOOL]);
    let call = exports[1]
        .functions
        .iter()
        .find(|f| f.name == "call")
        .expect("call");
    assert_eq!(
        call.signature,
        "func(name: string, input: string) -> result<string, tool-error>"
    );
    let imports = component_imports(&bytes).expect("decodes");
    assert!(imports.iter().any(|e| e.name == "plinth:host/log@0.1.0"));
}

#[test]
fn a_missing_function_is_named_with_its_signature() {
    let bytes = tool_component(
        "0.1.0",
        &format!("{TYPES}\nlist-tools: func() -> list<tool-info>;"),
    );
    let problems = check_exports(&bytes, &[TOOL]).expect("decodes");
    assert_eq!(
        problems,
        [Problem::MissingFunction {
            interface: TOOL.into(),
            function: "call".into(),
            expected: "func(name: string, input: string) -> result<string, tool-error>".into(),
        }]
    );
    assert_eq!(
        problems[0].to_string(),
        "`plinth:tool/tool@0.1.0` is exported without `call`; expected `call: func(name: \
         string, input: string) -> result<string, tool-error>`"
    );
}

#[test]
fn a_mistyped_function_shows_both_signatures_and_the_differing_type() {
    let body = "
        record tool-info { name: string, description: string, input-schema: string }
        variant tool-error { unknown-tool(string), invalid-input(string), failed(string) }
        list-tools: func() -> list<tool-info>;
        call: func(name: string, input: list<u8>) -> result<string, tool-error>;
    ";
    let bytes = tool_component("0.1.0", body);
    let problems = check_exports(&bytes, &[TOOL]).expect("decodes");
    assert_eq!(problems.len(), 2, "{problems:#?}");
    let Problem::MistypedFunction {
        function,
        expected,
        found,
        difference,
        ..
    } = &problems[0]
    else {
        panic!("not mistyped: {problems:#?}");
    };
    assert_eq!(function, "list-tools");
    assert_eq!(expected, found, "the signatures read the same");
    let difference = difference.as_ref().expect("the differing type");
    assert_eq!(difference.name, "tool-info");
    assert!(
        difference
            .expected
            .contains("output-schema: option<string>")
    );
    assert!(!difference.found.contains("output-schema"));

    let Problem::MistypedFunction { found, .. } = &problems[1] else {
        panic!("not mistyped: {problems:#?}");
    };
    assert_eq!(
        found,
        "func(name: string, input: list<u8>) -> result<string, tool-error>"
    );
    assert!(
        problems[1]
            .to_string()
            .starts_with("`plinth:tool/tool@0.1.0#call` has the wrong type")
    );
}

#[test]
fn a_later_version_on_the_track_counts_and_another_track_does_not() {
    let body = format!(
        "{TYPES}\nlist-tools: func() -> list<tool-info>;\ncall: func(name: string, input: string) -> result<string, tool-error>;"
    );
    let patch = tool_component("0.1.1", &body);
    assert_eq!(check_exports(&patch, &[TOOL]).expect("decodes"), []);

    let minor = tool_component("0.2.0", &body);
    assert_eq!(
        check_exports(&minor, &[TOOL]).expect("decodes"),
        [Problem::MissingInterface {
            interface: TOOL.into(),
            found: Some("plinth:tool/tool@0.2.0".into()),
        }]
    );
}

#[test]
fn bad_input_and_unknown_requirements_are_errors() {
    let not_wasm = check_exports(b"not wasm at all", &[TOOL]).expect_err("not a component");
    assert_eq!(not_wasm.code(), plinth_manifest::Code::NotAComponent);
    let core_module = b"\0asm\x01\0\0\0";
    assert!(check_exports(core_module, &[TOOL]).is_err());

    let bytes = served_tool_plugin();
    let unknown = check_exports(&bytes, &["plinth:tool/tool@9.0.0"]).expect_err("not served");
    assert_eq!(unknown.code(), plinth_manifest::Code::RuntimeMismatch);
}

#[test]
fn components_diff_by_their_worlds() {
    let body = format!(
        "{TYPES}\nlist-tools: func() -> list<tool-info>;\ncall: func(name: string, input: string) -> result<string, tool-error>;"
    );
    let old = WitSet::decode(&tool_component("0.1.0", &body), "old.wasm").expect("decodes");
    let new = WitSet::decode(
        &tool_component("0.1.0", &format!("{body}\nhealth: func() -> bool;")),
        "new.wasm",
    )
    .expect("decodes");
    let d = crate::diff(&old, &new);
    let health = d
        .changes
        .iter()
        .find(|c| c.item == "plinth:tool/tool#health")
        .expect("health added");
    assert!(health.old_plugins_on_new_host.is_breaking());
    assert!(!health.new_plugins_on_old_host.is_breaking());
}

#[test]
fn imports_the_host_does_not_serve_are_named() {
    let bytes = served_tool_plugin();
    let decoded = Component::decode(&bytes).expect("decodes");
    assert_eq!(decoded.check_imports(served()), []);

    let bytes = component(
        "package ex:plugin;
         world plugin {
             import plinth:host/log@0.1.0;
             import plinth:host/secrets@0.1.0;
             import wasi:cli/environment@0.2.0;
         }
         package plinth:host@0.1.0 {
             interface log {
                 enum level { trace, debug, info, warn, error }
                 log: func(level: level, message: string);
                 enabled: func(level: level) -> u8;
                 flush: func();
             }
             interface secrets { get: func(name: string) -> string; }
         }
         package wasi:cli@0.2.0 { interface environment { get-arguments: func() -> list<string>; } }",
    );
    let problems = Component::decode(&bytes)
        .expect("decodes")
        .check_imports(served());
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "`plinth:host/log@0.1.0#enabled` has the wrong type: expected `func(level: level) \
             -> bool`, found `func(level: level) -> u8`",
            "the component imports `plinth:host/log@0.1.0#flush: func()`, which this host's \
             `plinth:host/log@0.1.0` lacks",
            "the component imports `plinth:host/secrets@0.1.0`, which this host does not serve",
        ]
    );
}
