//! The research plugin through Stack Composer's host functions: answered with both grants,
//! refused without `llm`, and an interface nobody registered refused at load.

use std::path::Path;
use std::sync::{Arc, Mutex};

use embed_stack_composer::{ResearchError, host_builder, research};
use plinth_host::log::LogRecord;
use plinth_host::manifest::Grant;
use plinth_host::manifest::diagnostic::{Code, ToDiagnostic};
use plinth_host::{HostError, LoadOptions};
use serde_json::json;

/// The example's plugin folder with its built component in place.
fn plugin_dir() -> tempfile::TempDir {
    plugin_dir_with(|manifest| manifest)
}

/// [`plugin_dir`] with the manifest edited by `edit`.
fn plugin_dir_with(edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let example = test_programs::example_dir("composer-research");
    let manifest = std::fs::read_to_string(example.join("plugin.toml")).unwrap();
    std::fs::write(dir.path().join("plugin.toml"), edit(manifest)).unwrap();
    std::fs::copy(
        test_programs::COMPOSER_RESEARCH,
        dir.path().join("composer_research.wasm"),
    )
    .unwrap();
    dir
}

fn grants(list: &[&str]) -> LoadOptions {
    LoadOptions::default().with_grants(list.iter().map(|g| g.parse::<Grant>().unwrap()))
}

#[test]
fn answers_with_retrieval_and_llm_granted() {
    let dir = plugin_dir();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = logs.clone();
    let host = host_builder()
        .log_sink(Arc::new(move |r: &LogRecord| {
            sink.lock().unwrap().push(r.message.clone())
        }))
        .build()
        .unwrap();
    let plugin = host
        .load_with(dir.path(), grants(&["log", "retrieval", "llm"]))
        .unwrap();

    let output = research(&plugin, "How does Plinth handle missing-grant calls?").unwrap();
    assert_eq!(
        output,
        json!({
            "answer": "How does Plinth handle missing-grant calls? → [docs/plinth] Plinth grants each plugin capabilities one by one; ungranted calls fail with missing-grant.",
            "sources": ["docs/plinth"],
        })
    );
    assert!(
        logs.lock()
            .unwrap()
            .contains(&"retrieved 1 passage(s)".to_string()),
        "{logs:?}"
    );
}

#[test]
fn a_scoped_grant_limits_the_collections_searched() {
    let dir = plugin_dir();
    let host = host_builder().build().unwrap();
    let question = "Team lunch on Friday?";
    let all = host
        .load_with(dir.path(), grants(&["retrieval", "llm"]))
        .unwrap();
    assert_eq!(
        research(&all, question).unwrap()["sources"],
        json!(["notes/lunch"])
    );

    let docs_only = host
        .load_with(dir.path(), grants(&["retrieval:docs", "llm"]))
        .unwrap();
    let output = research(&docs_only, question).unwrap();
    assert_eq!(output["sources"], json!([]));
    assert_eq!(
        output["answer"],
        json!("Team lunch on Friday? → I found nothing about that.")
    );
}

#[test]
fn without_the_llm_grant_the_call_is_refused_with_missing_grant() {
    let host = host_builder().build().unwrap();
    // Not granted; then granted, but the manifest does not request it (two-sided grants).
    let unrequested = plugin_dir_with(|m| m.replace("llm = true", "llm = false"));
    let requested = plugin_dir();
    for (dir, options) in [
        (&requested, grants(&["log", "retrieval"])),
        (&unrequested, grants(&["log", "retrieval", "llm"])),
    ] {
        let plugin = host.load_with(dir.path(), options).unwrap();
        let Err(ResearchError::Call(error)) = research(&plugin, "What is WIT?") else {
            panic!("the call was not refused");
        };
        let diagnostic = error.to_diagnostic();
        assert_eq!(diagnostic.code, Code::MissingGrant, "{diagnostic}");
        let hint = diagnostic.hint.unwrap_or_default();
        assert!(
            hint.contains("plinth grant composer.research llm"),
            "{hint}"
        );
    }
}

#[test]
fn an_interface_nobody_registered_is_unsupported_host_api() {
    let dir = plugin_dir();
    let host = plinth_host::Host::builder()
        .host_interface(embed_stack_composer::retrieval_interface(Arc::new(
            embed_stack_composer::documents(),
        )))
        .build()
        .unwrap();
    let error = host
        .load_with(dir.path(), grants(&["retrieval", "llm"]))
        .unwrap_err();
    let HostError::UnsupportedHostApi { interfaces, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(interfaces, &[embed_stack_composer::LLM.to_string()]);
    assert_eq!(error.to_diagnostic().code, Code::UnsupportedHostApi);
    assert!(Path::new(test_programs::COMPOSER_RESEARCH).is_file());
}

#[test]
fn registering_over_plinth_is_refused_at_build() {
    for interface in [
        plinth_host::HostInterface::new("kv", "acme:composer/kv@0.1.0"),
        plinth_host::HostInterface::new("retrieval", "plinth:host/kv@0.1.0"),
    ] {
        let error = plinth_host::Host::builder()
            .host_interface(interface)
            .build()
            .unwrap_err();
        assert!(matches!(error, HostError::HostInterface { .. }), "{error}");
    }
}
