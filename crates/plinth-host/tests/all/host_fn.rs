//! App-defined host functions (`HostBuilder::host_interface`) end to end through the
//! `host-fn` guest, which imports `test:app/math@0.1.0`.

use std::sync::{Arc, Mutex};

use plinth_host::log::{LogRecord, LogSink};
use plinth_host::manifest::diagnostic::{Code, ToDiagnostic};
use plinth_host::manifest::grant::Grant;
use plinth_host::{
    CallFailure, Host, HostCallContext, HostError, HostFnError, HostInterface, LoadOptions, Plugin,
};
use serde_json::{Value, json};

const MATH: &str = "test:app/math@0.1.0";

fn math_grant(scope: Option<&str>) -> Grant {
    Grant::Custom {
        name: "math".into(),
        scope: scope.map(str::to_string),
    }
}

fn run(plugin: &Plugin, args: &[&str]) -> Result<Value, plinth_host::CallError> {
    plugin.call_json("run", &[json!(args)])
}

fn load(host: &Host, grants: Vec<Grant>) -> Plugin {
    let options = LoadOptions::default()
        .with_grants(grants)
        .with_tenant("acme");
    host.load_with(test_programs::HOST_FN, options).unwrap()
}

/// A sink collecting the messages logged.
fn collecting() -> (LogSink, Arc<Mutex<Vec<String>>>) {
    let messages = Arc::new(Mutex::new(Vec::new()));
    let into = messages.clone();
    let sink: LogSink = Arc::new(move |r: &LogRecord| into.lock().unwrap().push(r.message.clone()));
    (sink, messages)
}

#[test]
fn a_granted_call_reaches_the_closure_with_the_callers_context() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let math = HostInterface::new("math", MATH).func(
        "add",
        move |cx: &HostCallContext, (a, b): (u32, u32)| {
            record.lock().unwrap().push((
                cx.plugin_id().to_string(),
                cx.tenant().map(str::to_string),
                cx.capability().to_string(),
                cx.allows_scope("exact"),
            ));
            Ok::<_, HostFnError>((a + b,))
        },
    );
    let host = Host::builder().host_interface(math).build().unwrap();
    let plugin = load(&host, vec![math_grant(Some("exact"))]);
    assert_eq!(
        run(&plugin, &["add", "2", "3"]).unwrap(),
        json!({"ok": "5"})
    );
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        &[(
            "host_fn".to_string(),
            Some("acme".to_string()),
            "math".to_string(),
            true
        )]
    );
    let info = host
        .inspect(&std::fs::read(test_programs::HOST_FN).unwrap())
        .unwrap();
    let import = info.imports.iter().find(|i| i.name == MATH).unwrap();
    assert!(import.provided);
}

#[test]
fn an_ungranted_call_traps_with_missing_grant_and_the_grant_command() {
    let calls = Arc::new(Mutex::new(0));
    let count = calls.clone();
    let math = HostInterface::new("math", MATH).func(
        "add",
        move |_: &HostCallContext, (a, b): (u32, u32)| {
            *count.lock().unwrap() += 1;
            Ok::<_, HostFnError>((a + b,))
        },
    );
    let host = Host::builder().host_interface(math).build().unwrap();
    // Loads without the grant (like Plinth's own interfaces); only the call is refused.
    let plugin = load(&host, vec![Grant::Log]);
    let error = run(&plugin, &["add", "2", "3"]).unwrap_err();
    assert_eq!(
        error.failure,
        CallFailure::MissingGrant {
            grant: math_grant(None)
        }
    );
    let diagnostic = error.to_diagnostic();
    assert_eq!(diagnostic.code, Code::MissingGrant);
    assert!(
        diagnostic
            .hint
            .unwrap_or_default()
            .contains("`plinth grant host_fn math`"),
        "{error}"
    );
    assert_eq!(*calls.lock().unwrap(), 0, "the closure never ran");
    // The instance was dropped; the next call starts clean.
    assert_eq!(run(&plugin, &["noop"]).unwrap(), json!({"ok": ""}));
}

#[test]
fn scopes_are_the_apps_to_require() {
    let math =
        HostInterface::new("math", MATH).func("add", |cx: &HostCallContext, (a, b): (u32, u32)| {
            cx.require_scope("big")?;
            Ok::<_, HostFnError>((a + b,))
        });
    let host = Host::builder().host_interface(math).build().unwrap();
    let small = load(&host, vec![math_grant(Some("small"))]);
    let error = run(&small, &["add", "2", "3"]).unwrap_err();
    assert_eq!(
        error.failure,
        CallFailure::MissingGrant {
            grant: math_grant(Some("big"))
        }
    );
    for grants in [vec![math_grant(Some("big"))], vec![math_grant(None)]] {
        let plugin = load(&host, grants);
        assert_eq!(
            run(&plugin, &["add", "2", "3"]).unwrap(),
            json!({"ok": "5"})
        );
    }
}

#[test]
fn a_denial_value_replaces_the_trap_and_is_logged() {
    let (sink, messages) = collecting();
    let math = HostInterface::new("math", MATH).func_with_denial(
        "add",
        |_: &HostCallContext, hint: String| {
            assert!(hint.contains("plinth grant host_fn math"), "{hint}");
            (u32::MAX,)
        },
        |_: &HostCallContext, (a, b): (u32, u32)| Ok::<_, HostFnError>((a + b,)),
    );
    let host = Host::builder()
        .log_sink(sink)
        .host_interface(math)
        .build()
        .unwrap();
    let plugin = load(&host, Vec::new());
    assert_eq!(
        run(&plugin, &["add", "2", "3"]).unwrap(),
        json!({"ok": u32::MAX.to_string()})
    );
    let logged = messages.lock().unwrap();
    assert!(
        logged
            .iter()
            .any(|m| m.starts_with("missing-grant") && m.contains("`math`")),
        "{logged:?}"
    );
}

#[test]
fn async_functions_and_failures() {
    let math = HostInterface::new("math", MATH).func_async(
        "add",
        |cx: HostCallContext, (a, b): (u32, u32)| async move {
            tokio::task::yield_now().await;
            match a.checked_add(b) {
                Some(sum) => Ok((sum,)),
                None => Err(HostFnError::failed(format!(
                    "{} overflowed",
                    cx.plugin_id()
                ))),
            }
        },
    );
    let host = Host::builder().host_interface(math).build().unwrap();
    let plugin = load(&host, vec![math_grant(None)]);
    assert_eq!(
        run(&plugin, &["add", "40", "2"]).unwrap(),
        json!({"ok": "42"})
    );
    let error = run(&plugin, &["add", &u32::MAX.to_string(), "1"]).unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::Trap);
    assert!(error.to_string().contains("host_fn overflowed"), "{error}");

    let ungranted = load(&host, Vec::new());
    let error = run(&ungranted, &["add", "1", "1"]).unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::MissingGrant);
}

#[test]
fn an_unregistered_or_mistyped_interface_is_unsupported_host_api() {
    let host = Host::new().unwrap();
    let error = host
        .load_with(test_programs::HOST_FN, LoadOptions::default())
        .unwrap_err();
    assert!(
        matches!(&error, HostError::UnsupportedHostApi { interfaces, .. } if interfaces == &[MATH.to_string()]),
        "{error}"
    );

    // Registered with the wrong signature: Wasmtime's type check refuses it at load.
    let wrong = HostInterface::new("math", MATH)
        .func("add", |_: &HostCallContext, (a,): (u32,)| {
            Ok::<_, HostFnError>((a,))
        });
    let host = Host::builder().host_interface(wrong).build().unwrap();
    let error = host
        .load_with(test_programs::HOST_FN, LoadOptions::default())
        .unwrap_err();
    assert_eq!(
        error.to_diagnostic().code,
        Code::UnsupportedHostApi,
        "{error}"
    );
}
