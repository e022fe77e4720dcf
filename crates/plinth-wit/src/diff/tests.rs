//! WIT fixtures written to temporary package folders, compared both ways.

use std::path::{Path, PathBuf};

use super::*;

const OK: Compatibility = Compatibility::Compatible;
const BREAKS: Compatibility = Compatibility::Breaking;

/// A package folder `name` under `root` holding `files`, each `(path, text)`.
fn package(root: &Path, name: &str, files: &[(&str, &str)]) -> WitSet {
    let dir = root.join(name);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    WitSet::load(&dir).expect("fixture WIT loads")
}

/// A one-file package folder.
fn single(root: &Path, name: &str, text: &str) -> WitSet {
    package(root, name, &[("main.wit", text)])
}

fn diff_of(old: &str, new: &str) -> Diff {
    let root = tempfile::tempdir().expect("tempdir");
    diff(
        &single(root.path(), "old", old),
        &single(root.path(), "new", new),
    )
}

#[track_caller]
fn change<'d>(diff: &'d Diff, item: &str) -> &'d Change {
    diff.changes
        .iter()
        .find(|c| c.item == item)
        .unwrap_or_else(|| panic!("no change of `{item}` in {:#?}", items(diff)))
}

fn items(diff: &Diff) -> Vec<String> {
    diff.changes
        .iter()
        .map(|c| format!("{} {}", c.item, c.change))
        .collect()
}

/// The two verdicts: (old plugins on new host, new plugins on old host).
fn verdicts(change: &Change) -> (Compatibility, Compatibility) {
    (
        change.old_plugins_on_new_host.compatibility,
        change.new_plugins_on_old_host.compatibility,
    )
}

const EXPORTED: &str = "
package ex:kind@0.1.0;
interface api {
    record info { name: string, schema: string }
    variant error { missing(string), failed(string) }
    enum level { low, high }
    flags access { read, write }
    record unused { a: u32 }
    describe: func() -> list<info>;
    call: func(name: string, input: string) -> result<string, error>;
    rank: func(l: level, a: access);
    stop: func();
}
world plugin { export api; }
";

#[test]
fn identical_wit_has_no_changes() {
    assert!(diff_of(EXPORTED, EXPORTED).is_empty());
}

#[test]
fn functions_of_an_exported_interface_break_old_plugins_when_added() {
    let new = EXPORTED
        .replace("    stop: func();\n", "")
        .replace(
            "rank: func(l: level, a: access);",
            "rank: func(l: level, a: access);\n    health: func() -> bool;",
        )
        .replace(
            "call: func(name: string, input: string)",
            "call: func(name: string, input: string, deadline: u64)",
        );
    let d = diff_of(EXPORTED, &new);

    let added = change(&d, "ex:kind/api#health");
    assert_eq!(added.change, ChangeKind::Added);
    assert_eq!(verdicts(added), (BREAKS, OK));
    assert!(
        added
            .old_plugins_on_new_host
            .reason
            .contains("do not export it")
    );
    assert_eq!(added.detail.as_deref(), Some("func() -> bool"));

    let removed = change(&d, "ex:kind/api#stop");
    assert_eq!(removed.change, ChangeKind::Removed);
    assert_eq!(verdicts(removed), (OK, BREAKS));

    let changed = change(&d, "ex:kind/api#call");
    assert_eq!(changed.change, ChangeKind::Changed);
    assert_eq!(verdicts(changed), (BREAKS, BREAKS));
    assert_eq!(
        changed.detail.as_deref(),
        Some(
            "func(name: string, input: string) -> result<string, error> → \
             func(name: string, input: string, deadline: u64) -> result<string, error>"
        )
    );
    assert_eq!(d.changes.len(), 3, "{:#?}", items(&d));
}

#[test]
fn functions_of_an_imported_interface_break_new_plugins_when_added() {
    let old = "
package ex:host@0.1.0;
interface log { write: func(text: string); flush: func(); }
world plugin { import log; }
";
    let new = old.replace("flush: func();", "level: func() -> u8;");
    let d = diff_of(old, &new);
    let added = change(&d, "ex:host/log#level");
    assert_eq!(verdicts(added), (OK, BREAKS));
    assert!(
        added
            .new_plugins_on_old_host
            .reason
            .contains("old host, which lacks it")
    );
    let removed = change(&d, "ex:host/log#flush");
    assert_eq!(verdicts(removed), (BREAKS, OK));
    assert!(
        removed
            .old_plugins_on_new_host
            .reason
            .contains("no longer serves it")
    );
}

#[test]
fn record_fields_variant_cases_enums_and_flags_break_both_ways_when_used() {
    let new = EXPORTED
        .replace(
            "record info { name: string, schema: string }",
            "record info { name: string, schema: option<string>, tags: list<string> }",
        )
        .replace(
            "variant error { missing(string), failed(string) }",
            "variant error { missing(string), failed, denied(string) }",
        )
        .replace("enum level { low, high }", "enum level { low, mid, high }")
        .replace("flags access { read, write }", "flags access { read }")
        .replace("record unused { a: u32 }", "record unused { a: u64 }");
    let d = diff_of(EXPORTED, &new);

    let field = change(&d, "ex:kind/api#info.tags");
    assert_eq!(
        (field.kind, field.change),
        (ItemKind::Field, ChangeKind::Added)
    );
    assert_eq!(verdicts(field), (BREAKS, BREAKS));
    assert!(
        field
            .old_plugins_on_new_host
            .reason
            .contains("`info` is used by `describe`")
    );

    let retyped = change(&d, "ex:kind/api#info.schema");
    assert_eq!(retyped.change, ChangeKind::Changed);
    assert_eq!(retyped.detail.as_deref(), Some("string → option<string>"));

    let case = change(&d, "ex:kind/api#error.denied");
    assert_eq!(
        (case.kind, case.change),
        (ItemKind::Case, ChangeKind::Added)
    );
    assert_eq!(verdicts(case), (BREAKS, BREAKS));
    let payload = change(&d, "ex:kind/api#error.failed");
    assert_eq!(payload.detail.as_deref(), Some("string → no payload"));

    assert_eq!(
        verdicts(change(&d, "ex:kind/api#level.mid")),
        (BREAKS, BREAKS)
    );
    let flag = change(&d, "ex:kind/api#access.write");
    assert_eq!(flag.change, ChangeKind::Removed);
    assert!(flag.old_plugins_on_new_host.reason.contains("`rank`"));

    // A type no function uses is no part of the contract.
    let unused = change(&d, "ex:kind/api#unused.a");
    assert_eq!(verdicts(unused), (OK, OK));
    assert_eq!(unused.old_plugins_on_new_host.reason, "no function uses it");

    // The functions' own signatures read the same: only the types are reported.
    assert!(d.changes.iter().all(|c| c.kind != ItemKind::Function));
}

#[test]
fn reordered_fields_and_a_changed_kind_are_changes() {
    let new = EXPORTED
        .replace(
            "record info { name: string, schema: string }",
            "record info { schema: string, name: string }",
        )
        .replace(
            "enum level { low, high }",
            "variant level { low, high(u8) }",
        );
    let d = diff_of(EXPORTED, &new);
    let info = change(&d, "ex:kind/api#info");
    assert_eq!(
        info.detail.as_deref(),
        Some("order name, schema → schema, name")
    );
    assert_eq!(verdicts(info), (BREAKS, BREAKS));
    let level = change(&d, "ex:kind/api#level");
    assert_eq!(
        level.detail.as_deref(),
        Some("enum { low, high } → variant { low, high(u8) }")
    );
}

#[test]
fn resources_and_their_methods() {
    let old = "
package ex:files@0.1.0;
interface files {
    resource file {
        constructor(path: string);
        read: func(n: u32) -> list<u8>;
    }
    type bytes = list<u8>;
}
world plugin { import files; }
";
    let new = old
        .replace(
            "read: func(n: u32) -> list<u8>;",
            "read: func(n: u64) -> list<u8>;\n        size: func() -> u64;",
        )
        .replace(
            "type bytes = list<u8>;",
            "type bytes = list<s8>;\n    resource dir;",
        );
    let d = diff_of(old, &new);
    assert_eq!(
        verdicts(change(&d, "ex:files/files#file.read")),
        (BREAKS, BREAKS)
    );
    assert_eq!(
        verdicts(change(&d, "ex:files/files#file.size")),
        (OK, BREAKS)
    );
    let dir = change(&d, "ex:files/files#dir");
    assert_eq!((dir.kind, verdicts(dir)), (ItemKind::Type, (OK, BREAKS)));
    let alias = change(&d, "ex:files/files#bytes");
    assert_eq!(alias.detail.as_deref(), Some("list<u8> → list<s8>"));
    assert_eq!(verdicts(alias), (OK, OK));
}

#[test]
fn world_imports_and_exports_added_and_removed() {
    let old = "
package ex:kind@0.1.0;
interface log { write: func(text: string); }
interface kv { get: func(key: string) -> option<string>; }
interface api { run: func(); }
interface extra { more: func(); }
world plugin { import log; import kv; export api; }
";
    let new = old.replace(
        "world plugin { import log; import kv; export api; }",
        "world plugin { import log; export api; export extra; import tick: func(); }\nworld other { export api; }",
    );
    let d = diff_of(old, &new);
    let import = change(&d, "ex:kind/plugin#import(ex:kind/kv)");
    assert_eq!(
        (import.kind, import.change),
        (ItemKind::Import, ChangeKind::Removed)
    );
    assert_eq!(verdicts(import), (BREAKS, OK));
    let export = change(&d, "ex:kind/plugin#export(ex:kind/extra)");
    assert_eq!(
        (export.kind, export.change),
        (ItemKind::Export, ChangeKind::Added)
    );
    assert_eq!(verdicts(export), (BREAKS, OK));
    assert_eq!(
        verdicts(change(&d, "ex:kind/plugin#import(tick)")),
        (OK, BREAKS)
    );
    let world = change(&d, "ex:kind/other");
    assert_eq!(
        (world.kind, verdicts(world)),
        (ItemKind::World, (OK, BREAKS))
    );
}

#[test]
fn package_versions_are_matched_and_judged_by_semver_track() {
    let v = |version: &str| EXPORTED.replace("ex:kind@0.1.0", &format!("ex:kind@{version}"));
    let patch = diff_of(&v("0.1.0"), &v("0.1.3"));
    let bump = change(&patch, "ex:kind");
    assert_eq!(bump.detail.as_deref(), Some("version 0.1.0 → 0.1.3"));
    assert_eq!(verdicts(bump), (OK, OK));
    assert_eq!(patch.changes.len(), 1);

    let minor = diff_of(&v("0.1.0"), &v("0.2.0").replace("stop: func();", ""));
    assert_eq!(verdicts(change(&minor, "ex:kind")), (BREAKS, BREAKS));
    // Matched despite the version: items are compared, not reported as a new package.
    assert_eq!(
        change(&minor, "ex:kind/api#stop").change,
        ChangeKind::Removed
    );
}

#[test]
fn an_interface_in_no_world_breaks_both_ways_and_says_so() {
    let old = "package ex:loose@0.1.0;\ninterface free { a: func(); }\n";
    let new = "package ex:loose@0.1.0;\ninterface free { a: func(); b: func(); }\n";
    let d = diff_of(old, new);
    let added = change(&d, "ex:loose/free#b");
    assert_eq!(verdicts(added), (BREAKS, BREAKS));
    assert!(added.old_plugins_on_new_host.reason.contains("in no world"));
}

#[test]
fn host_interfaces_without_a_world_take_their_role_from_the_served_wit() {
    let old = "package plinth:host@0.1.0;\ninterface log { log: func(message: string); }\n";
    let new = "package plinth:host@0.1.1;\ninterface log { log: func(message: string); flush: func(); }\n";
    let d = diff_of(old, new);
    let added = change(&d, "plinth:host/log#flush");
    assert_eq!(verdicts(added), (OK, BREAKS));
    assert!(
        added
            .new_plugins_on_old_host
            .reason
            .contains("in the WIT this host serves, plugins import this interface")
    );
}

#[test]
fn packages_only_one_side_has() {
    let root = tempfile::tempdir().expect("tempdir");
    let host = "package ex:host@0.1.0;\ninterface log { write: func(t: string); }\n";
    let old = package(
        root.path(),
        "old",
        &[
            (
                "main.wit",
                "package ex:kind@0.1.0;\nworld plugin { import ex:host/log@0.1.0; }\n",
            ),
            ("deps/host/host.wit", host),
        ],
    );
    let new = single(
        root.path(),
        "new",
        "package ex:kind@0.1.0;\nworld plugin {}\n",
    );
    let d = diff(&old, &new);
    let package = change(&d, "ex:host");
    assert_eq!(package.change, ChangeKind::Removed);
    assert_eq!(verdicts(package), (BREAKS, OK));
    assert_eq!(
        verdicts(change(&d, "ex:kind/plugin#import(ex:host/log)")),
        (BREAKS, OK)
    );
}

/// The repository's `wit/` folder.
fn repo_wit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit")
}

#[test]
fn a_real_package_folder_with_linked_deps_equals_itself() {
    let tool = WitSet::load(repo_wit().join("plinth-tool@0.1.0")).expect("real WIT loads");
    assert!(diff(&tool, &tool).is_empty());
}

#[test]
fn the_frozen_tools_interface_against_the_tool_kind() {
    let plugin = WitSet::load(repo_wit().join("plinth-plugin@0.1.0")).expect("loads");
    let tool = WitSet::load(repo_wit().join("plinth-tool@0.1.0")).expect("loads");
    let d = diff_interfaces(&plugin, "plinth:plugin/tools", &tool, "plinth:tool/tool")
        .expect("both interfaces exist");
    let renamed = change(&d, "plinth:tool/tool");
    assert_eq!(
        renamed.detail.as_deref(),
        Some("plinth:plugin/tools@0.1.0 → plinth:tool/tool@0.1.0")
    );
    assert_eq!(verdicts(renamed), (BREAKS, BREAKS));
    let schema = change(&d, "plinth:tool/tool#tool-info.output-schema");
    assert_eq!(
        (schema.kind, schema.change),
        (ItemKind::Field, ChangeKind::Added)
    );
    assert_eq!(schema.detail.as_deref(), Some("option<string>"));
    assert_eq!(verdicts(schema), (BREAKS, BREAKS));
    assert!(
        schema
            .old_plugins_on_new_host
            .reason
            .contains("`list-tools`")
    );
    // `call`, `list-tools` and `tool-error` read the same in both.
    assert_eq!(d.changes.len(), 2, "{:#?}", items(&d));

    let unknown = diff_interfaces(&plugin, "plinth:plugin/nope", &tool, "plinth:tool/tool");
    assert!(matches!(unknown, Err(WitError::UnknownInterface { .. })));
}

#[test]
fn a_single_wit_file_and_unreadable_inputs() {
    let root = tempfile::tempdir().expect("tempdir");
    let file = root.path().join("one.wit");
    std::fs::write(&file, EXPORTED).expect("write");
    let set = WitSet::load(&file).expect("a .wit file loads");
    assert!(matches!(set.origin(), crate::Origin::Package(_)));

    let missing = WitSet::load(root.path().join("nothing")).expect_err("missing");
    assert_eq!(missing.code(), plinth_manifest::Code::MissingPackage);

    std::fs::write(
        &file,
        "package ex:bad;\ninterface i { f: func(x: nope); }\n",
    )
    .expect("write");
    let invalid = WitSet::load(&file).expect_err("invalid");
    assert_eq!(invalid.code(), plinth_manifest::Code::InvalidWit);
    assert!(invalid.to_string().contains("nope"), "{invalid}");

    let wasm = root.path().join("junk.wasm");
    std::fs::write(&wasm, b"\0asm\x01\0\0\0garbage").expect("write");
    let junk = WitSet::load(&wasm).expect_err("not a component");
    assert_eq!(junk.code(), plinth_manifest::Code::NotAComponent);
}
