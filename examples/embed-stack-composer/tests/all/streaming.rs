//! `llm.stream-chat`, a streaming app-defined host function (docs/design/0065): 10 000
//! deltas read in order, a plugin that stops reading stops the model, a model that hangs
//! ends at the plugin's wall clock, and no stream without the grant.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use embed_stack_composer::{
    ModelStats, ResearchError, chat, deltas, host_builder_with, research_with,
};
use plinth_host::manifest::Grant;
use plinth_host::manifest::diagnostic::{Code, ToDiagnostic};
use plinth_host::{Limits, LoadOptions, Plugin, STREAM_BUFFER};
use serde_json::json;

fn load(stats: &Arc<ModelStats>, grants: &[&str], limits: Option<Limits>) -> Plugin {
    let dir = tempfile::tempdir().unwrap();
    let example = test_programs::example_dir("composer-research");
    std::fs::copy(example.join("plugin.toml"), dir.path().join("plugin.toml")).unwrap();
    std::fs::copy(
        test_programs::COMPOSER_RESEARCH,
        dir.path().join("composer_research.wasm"),
    )
    .unwrap();
    let host = host_builder_with(stats.clone()).build().unwrap();
    let mut options =
        LoadOptions::default().with_grants(grants.iter().map(|g| g.parse::<Grant>().unwrap()));
    if let Some(limits) = limits {
        options = options.with_limits(limits);
    }
    host.load_with(dir.path(), options).unwrap()
}

/// A question of `n` words the model echoes back, so its reply streams in more than `n`
/// deltas.
fn long_question(n: usize) -> String {
    (0..n)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The stand-in model's reply to `question` with no passage found, as `chat` gives it.
fn expected_reply(question: &str) -> String {
    chat(&[embed_stack_composer::Message {
        role: "user".into(),
        content: question.into(),
    }])
    .unwrap()
}

#[test]
fn ten_thousand_deltas_arrive_in_order() {
    let stats = Arc::new(ModelStats::default());
    let plugin = load(&stats, &["log", "retrieval", "llm"], None);
    let question = long_question(10_000);
    let reply = expected_reply(&question);
    let pieces = deltas(&reply).len() as u64;
    assert!(pieces > 10_000, "{pieces}");

    let output = research_with(
        &plugin,
        json!({"question": question, "k": 1, "stream": true}),
    )
    .unwrap();
    assert_eq!(output["answer"], reply);
    assert_eq!(output["deltas"], pieces);
    assert_eq!(stats.sent.load(Ordering::Relaxed), pieces);
    assert_eq!(stats.finished.load(Ordering::Relaxed), 1);
    assert_eq!(stats.stopped.load(Ordering::Relaxed), 0);

    // The same reply as the one-shot `chat`.
    let whole = research_with(&plugin, json!({"question": question, "k": 1})).unwrap();
    assert_eq!(whole["answer"], reply);
}

#[test]
fn a_plugin_that_stops_reading_stops_the_model() {
    let stats = Arc::new(ModelStats::default());
    let plugin = load(&stats, &["log", "retrieval", "llm"], None);
    let question = long_question(10_000);
    let reply = expected_reply(&question);
    let output = research_with(
        &plugin,
        json!({"question": question, "k": 1, "stream": true, "max_deltas": 5}),
    )
    .unwrap();
    assert_eq!(output["deltas"], 5);
    assert_eq!(output["answer"], deltas(&reply)[..5].concat());

    // The producer stopped (its next send failed, or Plinth dropped it with the stream); it
    // never got further than the buffer allows.
    let deadline = Instant::now() + Duration::from_secs(20);
    while stats.stopped.load(Ordering::Relaxed) == 0 {
        assert!(Instant::now() < deadline, "the model did not stop");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(stats.finished.load(Ordering::Relaxed), 0);
    let sent = stats.sent.load(Ordering::Relaxed);
    assert!(sent <= 5 + STREAM_BUFFER as u64 + 1, "{sent}");
}

#[test]
fn a_model_that_hangs_ends_at_the_plugins_wall_clock() {
    let stats = Arc::new(ModelStats::default());
    let limits = Limits {
        wall_timeout_ms: 300,
        ..Limits::default()
    };
    let plugin = load(&stats, &["log", "retrieval", "llm"], Some(limits));
    let started = Instant::now();
    let failed = research_with(&plugin, json!({"question": "stall", "stream": true}));
    let Err(ResearchError::Call(error)) = failed else {
        panic!("{failed:?}");
    };
    assert_eq!(error.to_diagnostic().code, Code::Timeout, "{error}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The hanging producer went with the call's instance.
    let deadline = Instant::now() + Duration::from_secs(20);
    while stats.stopped.load(Ordering::Relaxed) == 0 {
        assert!(
            Instant::now() < deadline,
            "the hanging producer was not dropped"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The plugin keeps working afterwards.
    let output = research_with(&plugin, json!({"question": "wit", "stream": true})).unwrap();
    assert_eq!(output["answer"], expected_reply_with_passage("wit"));
}

/// The stand-in model's reply to `question` through the plugin (with its passages).
fn expected_reply_with_passage(question: &str) -> String {
    let stats = Arc::new(ModelStats::default());
    let plugin = load(&stats, &["log", "retrieval", "llm"], None);
    research_with(&plugin, json!({"question": question})).unwrap()["answer"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn without_the_llm_grant_no_stream_starts() {
    let stats = Arc::new(ModelStats::default());
    let plugin = load(&stats, &["log", "retrieval"], None);
    let failed = research_with(&plugin, json!({"question": "wit", "stream": true}));
    let Err(ResearchError::Call(error)) = failed else {
        panic!("{failed:?}");
    };
    assert_eq!(error.to_diagnostic().code, Code::MissingGrant, "{error}");
    assert_eq!(stats.sent.load(Ordering::Relaxed), 0);
}
