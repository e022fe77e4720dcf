//! Dynamic (JSON) and typed calls over every WIT type kind (DESIGN §7).

use crate::common;

use std::sync::OnceLock;

use plinth_host::{LoadOptions, Plugin};
use plinth_manifest::diagnostic::Code;
use serde_json::{Value, json};

fn types() -> &'static Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        common::host()
            .load_bytes(
                "types",
                &common::bytes(test_programs::TYPES),
                LoadOptions::default(),
            )
            .expect("types guest loads")
    })
}

fn echo(func: &str, value: Value) -> Value {
    types()
        .call_json(
            &format!("test:types/echo#{func}"),
            std::slice::from_ref(&value),
        )
        .unwrap_or_else(|e| panic!("{func}({value}): {e}"))
}

fn bad(func: &str, args: &[Value]) -> String {
    let error = types()
        .call_json(&format!("test:types/echo#{func}"), args)
        .expect_err("must be refused");
    assert_eq!(error.code(), Code::BadArgument, "{error}");
    assert!(!error.is_guest_failure());
    error.to_string()
}

#[test]
fn every_type_kind_round_trips() {
    let cases = [
        ("echo-bool", json!(true)),
        ("echo-u8", json!(255)),
        ("echo-s8", json!(-128)),
        ("echo-u16", json!(65535)),
        ("echo-s16", json!(-32768)),
        ("echo-u32", json!(4_294_967_295u64)),
        ("echo-s32", json!(-2_147_483_648i64)),
        ("echo-u64", json!(u64::MAX)),
        ("echo-s64", json!(i64::MIN)),
        ("echo-f32", json!(0.1)),
        ("echo-f64", json!(0.1)),
        ("echo-char", json!("🦀")),
        ("echo-string", json!("héllo")),
        ("echo-list", json!(["a", "b"])),
        ("echo-record", json!({"x": 1, "y": -2, "label": "p"})),
        (
            "echo-shape",
            json!({"name": "tri", "points": [{"x": 0, "y": 0, "label": "o"}], "tag": null}),
        ),
        ("echo-tuple", json!([7, "seven", false])),
        ("echo-option", json!(null)),
        ("echo-option", json!(5)),
        ("echo-result", json!({"ok": "fine"})),
        ("echo-result", json!({"err": 3})),
        ("echo-result-empty", json!({"ok": null})),
        ("echo-result-empty", json!({"err": null})),
        ("echo-variant", json!("none")),
        (
            "echo-variant",
            json!({"num": 18_446_744_073_709_551_615u64}),
        ),
        ("echo-variant", json!({"text": "t"})),
        ("echo-enum", json!("light-blue")),
        ("echo-flags", json!(["read", "exec-now"])),
        ("echo-flags", json!([])),
    ];
    for (func, value) in cases {
        assert_eq!(echo(func, value.clone()), value, "{func}");
    }
}

#[test]
fn alternative_input_spellings() {
    // list<u8> takes a string as its UTF-8 bytes and prints numbers.
    assert_eq!(echo("echo-bytes", json!("hi")), json!([104, 105]));
    assert_eq!(echo("echo-bytes", json!([1, 2])), json!([1, 2]));
    // A payload-less case may be written `{"case": null}`.
    assert_eq!(echo("echo-variant", json!({"none": null})), json!("none"));
    // Flags come out in declaration order.
    assert_eq!(
        echo("echo-flags", json!(["exec-now", "read"])),
        json!(["read", "exec-now"])
    );
}

#[test]
fn several_parameters_and_no_result() {
    let plugin = types();
    assert_eq!(
        plugin
            .call_json("echo#many", &[json!(1), json!("b"), json!([1, 2, 3])])
            .unwrap(),
        json!([1, "b", 6])
    );
    assert_eq!(plugin.call_json("nothing", &[]).unwrap(), Value::Null);
    assert_eq!(plugin.call_json("run", &[]).unwrap(), json!("types"));
}

#[test]
fn wrong_shapes_are_bad_arguments_naming_the_parameter() {
    assert!(bad("echo-u8", &[json!(256)]).contains("out of range"));
    assert!(bad("echo-u8", &[json!(-1)]).contains("out of range"));
    assert!(bad("echo-u32", &[json!(1.5)]).contains("non-integer"));
    assert!(bad("echo-string", &[json!(1)]).contains("parameter `x`"));
    assert!(bad("echo-char", &[json!("ab")]).contains("one character"));
    assert!(bad("echo-record", &[json!({"x": 1, "y": 2})]).contains("missing field `label`"));
    assert!(
        bad(
            "echo-record",
            &[json!({"x": 1, "y": 2, "label": "", "z": 0})]
        )
        .contains("unknown field `z`")
    );
    assert!(bad("echo-enum", &[json!("purple")]).contains("light-blue"));
    assert!(bad("echo-flags", &[json!(["fly"])]).contains("unknown flag"));
    assert!(bad("echo-variant", &[json!({"big": 1})]).contains("unknown case"));
    assert!(bad("echo-tuple", &[json!([1, "x"])]).contains("3 elements"));
    assert!(bad("echo-result", &[json!({"maybe": 1})]).contains("\"ok\""));
    assert!(
        bad(
            "echo-shape",
            &[json!({"name": "n", "points": [{"x": "0", "y": 0, "label": ""}], "tag": null})]
        )
        .contains(".points[0].x")
    );
    assert!(bad("add", &[json!(1)]).contains("expected 2 argument(s)"));
    assert!(bad("take-counter", &[json!(1)]).contains("borrow<resource>"));
}

#[test]
fn export_names_resolve_like_the_linker() {
    let plugin = types();
    for name in ["test:types/echo#add", "echo#add", "add"] {
        assert_eq!(
            plugin.call_json(name, &[json!(2), json!(-5)]).unwrap(),
            json!(-3),
            "{name}"
        );
    }
    for name in ["nope", "test:types/echo@1.0.0#add", "other#add"] {
        let error = plugin.call_json(name, &[json!(1), json!(2)]).unwrap_err();
        assert_eq!(error.code(), Code::UnknownExport, "{name}");
        assert!(error.to_string().contains("test:types/echo#add"), "{error}");
    }
}

#[test]
fn typed_calls_take_rust_values() {
    let plugin = types();
    let (sum,): (i64,) = plugin.call("add", (40i64, 2i64)).unwrap();
    assert_eq!(sum, 42);
    let (text,): (String,) = plugin.call("echo-string", ("typed".to_string(),)).unwrap();
    assert_eq!(text, "typed");
    let error = plugin.call::<(u8,), (u8,)>("add", (1,)).unwrap_err();
    assert_eq!(error.code(), Code::BadArgument);
}

#[test]
fn live_instance_checks_each_rust_signature_once_and_keeps_it() {
    let plugin = types();
    let mut live = plugin.instantiate().unwrap();
    let error = live.call::<(u8,), (u8,)>("add", (1,)).unwrap_err();
    assert_eq!(error.code(), Code::BadArgument);
    for _ in 0..3 {
        let (sum,): (i64,) = live.call("add", (40i64, 2i64)).unwrap();
        assert_eq!(sum, 42);
    }
    // Same parameters, other result type: still checked, not served from the cache.
    let error = live
        .call::<(i64, i64), (String,)>("add", (1, 2))
        .unwrap_err();
    assert_eq!(error.code(), Code::BadArgument);
    let (text,): (String,) = live.call("echo-string", ("x".to_string(),)).unwrap();
    assert_eq!(text, "x");
    assert_eq!(
        live.call_json("add", &[json!(2), json!(3)]).unwrap(),
        json!(5)
    );
    assert_eq!(
        live.call_json("add", &[json!(4), json!(3)]).unwrap(),
        json!(7)
    );
    // A signature mismatch is the caller's error: the instance lives on.
    assert_eq!(live.instantiations(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_calls_run_on_the_callers_runtime() {
    let plugin = types().clone();
    let value = plugin
        .call_json_async("add", &[json!(1), json!(2)])
        .await
        .unwrap();
    assert_eq!(value, json!(3));
    let (sum,): (i64,) = plugin.call_async("add", (5i64, 5i64)).await.unwrap();
    assert_eq!(sum, 10);
    // The blocking API refuses to block a runtime thread.
    let error = plugin.call_json("add", &[json!(1), json!(2)]).unwrap_err();
    assert_eq!(error.code(), Code::BadArgument);
    let spawned = tokio::spawn(async move { plugin.call_json_async("run", &[]).await });
    assert_eq!(spawned.await.unwrap().unwrap(), json!("types"));
}

/// JSON numbers are read to the nearest `f64`, as Rust's own parser reads them: this one
/// (the largest value whose double is still finite) used to come in one unit in the last
/// place too high, so its double overflowed to infinity.
#[test]
fn json_numbers_are_read_to_the_nearest_float() {
    let text = "8.988465674311579e307";
    let exact: f64 = text.parse().unwrap();
    assert!((exact * 2.0).is_finite());
    let arg: serde_json::Value = serde_json::from_str(text).unwrap();
    let echoed = echo("echo-f64", arg);
    assert_eq!(echoed.as_f64(), Some(exact), "{echoed}");
    assert_eq!(echoed.to_string().parse::<f64>().ok(), Some(exact));
}

/// `list<u8>` and `string` signatures are called through the typed path of their plan
/// (docs/design/0072): the same JSON in and out as every other signature, the same
/// refusals, the same result budget.
#[test]
fn typed_path_signatures_behave_like_every_other() {
    // Every spelling the Val path takes, and its refusals in its words.
    assert_eq!(echo("echo-bytes", json!([0, 255])), json!([0, 255]));
    assert_eq!(echo("echo-bytes", json!("")), json!([]));
    assert!(bad("echo-bytes", &[json!([256])]).contains("at [0]: 256 is out of range for u8"));
    assert!(bad("echo-bytes", &[json!([1, -1])]).contains("at [1]: -1 is out of range for u8"));
    assert!(bad("echo-bytes", &[json!([0.5])]).contains("non-integer"));
    assert!(bad("echo-bytes", &[json!({"a": 1})]).contains("parameter `x`: expected list<u8>"));
    assert!(bad("echo-string", &[json!(null)]).contains("parameter `x`: expected string"));

    // A result is charged what its JSON takes, a JSON node's size per number: 16 bytes of
    // `list<u8>` fit in 4 KiB of result budget and 256 do not.
    let limits = plinth_host::Limits::default().with_result_bytes(4096);
    let plugin = common::host()
        .load_bytes(
            "types-small-results",
            &common::bytes(test_programs::TYPES),
            LoadOptions::default().with_limits(limits),
        )
        .unwrap();
    let call = |n: usize| plugin.call_json("test:types/echo#echo-bytes", &[json!(vec![7; n])]);
    assert_eq!(call(16).unwrap(), json!(vec![7; 16]));
    let error = call(256).unwrap_err();
    assert_eq!(error.code(), Code::TooLarge, "{error}");
    let mut live = plugin.instantiate().unwrap();
    assert_eq!(
        live.call_json("test:types/echo#echo-bytes", &[json!(vec![7; 256])])
            .unwrap_err()
            .code(),
        Code::TooLarge
    );
    // The instance that failed is replaced; the next call answers.
    assert_eq!(
        live.call_json("test:types/echo#echo-bytes", &[json!([1])])
            .unwrap(),
        json!([1])
    );
}

/// `call_json_text` takes and gives JSON text: the same answers, refusals and limits as
/// `call_json`, on the typed path's signatures and on every other (docs/design/0077).
#[test]
fn json_text_calls_answer_and_refuse_as_value_calls_do() {
    let plugin = types();
    let text =
        |func: &str, args: &str| plugin.call_json_text(&format!("test:types/echo#{func}"), args);
    let value = |func: &str, args: &str| {
        let args: Vec<Value> = serde_json::from_str(args).unwrap();
        plugin.call_json(&format!("test:types/echo#{func}"), &args)
    };
    // Answers: the same JSON, as text.
    for (func, args) in [
        ("echo-bytes", "[[0, 9, 10, 99, 100, 255]]"),
        ("echo-bytes", r#"["héllo"]"#),
        ("echo-bytes", " [ [ ] ] "),
        ("echo-string", r#"["quote \" and é \u00e9"]"#),
        ("echo-u32", "[4294967295]"),
        ("echo-bool", "[false]"),
        ("echo-record", r#"[{"x": 1, "y": -2, "label": "p"}]"#),
        ("echo-list", r#"[["a", "b"]]"#),
    ] {
        let answer = text(func, args).unwrap_or_else(|e| panic!("{func}({args}): {e}"));
        let expected = value(func, args).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&answer).unwrap(),
            expected,
            "{func}"
        );
        assert_eq!(answer, expected.to_string(), "{func}: the same text");
    }
    // Refusals: the same code and words, whichever path would have run.
    for (func, args) in [
        ("echo-bytes", "[[256]]"),
        ("echo-bytes", "[[1, -1]]"),
        ("echo-bytes", "[[0.5]]"),
        ("echo-bytes", "[[01]]"),
        ("echo-bytes", r#"[{"a": 1}]"#),
        ("echo-bytes", "[[1], [2]]"),
        ("echo-string", "[null]"),
        ("echo-u32", "[4294967296]"),
    ] {
        let by_text = text(func, args).unwrap_err();
        assert_eq!(
            by_text.code(),
            Code::BadArgument,
            "{func}({args}): {by_text}"
        );
        if let Ok(args) = serde_json::from_str::<Vec<Value>>(args) {
            let by_value = plugin
                .call_json(&format!("test:types/echo#{func}"), &args)
                .unwrap_err();
            assert_eq!(
                by_text.to_string(),
                by_value.to_string(),
                "{func}({args:?})"
            );
        }
    }
    // Text that is not a JSON array of arguments.
    for args in ["[[1]", "[1] x", "{}", "", "\"text\""] {
        let error = text("echo-bytes", args).unwrap_err();
        assert_eq!(error.code(), Code::BadArgument, "{args:?}: {error}");
    }

    // The result budget holds for text as for values, on a live instance too.
    let limits = plinth_host::Limits::default().with_result_bytes(4096);
    let small = common::host()
        .load_bytes(
            "types-small-text-results",
            &common::bytes(test_programs::TYPES),
            LoadOptions::default().with_limits(limits),
        )
        .unwrap();
    let args = |n: usize| serde_json::to_string(&[vec![7u8; n]]).unwrap();
    assert_eq!(
        small
            .call_json_text("test:types/echo#echo-bytes", &args(16))
            .unwrap(),
        serde_json::to_string(&vec![7u8; 16]).unwrap()
    );
    let error = small
        .call_json_text("test:types/echo#echo-bytes", &args(256))
        .unwrap_err();
    assert_eq!(error.code(), Code::TooLarge, "{error}");
    let mut live = small.instantiate().unwrap();
    assert_eq!(
        live.call_json_text("test:types/echo#echo-bytes", &args(256))
            .unwrap_err()
            .code(),
        Code::TooLarge
    );
    assert_eq!(
        live.call_json_text("test:types/echo#echo-bytes", "[[1]]")
            .unwrap(),
        "[1]"
    );
}
