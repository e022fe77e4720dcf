//! Stack Composer's research tool (seed 002): answers a question from the app's documents.
//!
//! The tool `research` takes `{"question": "...", "k": 2}` and
//!
//! 1. asks the app's `retrieval` interface for the `k` best passages (`retrieval_search`);
//! 2. hands them, with the question, to the app's `llm` interface (`llm_chat`);
//! 3. returns `{"answer": "...", "sources": ["collection/name", ...]}`.
//!
//! With `"stream": true` it reads the reply through `llm.stream-chat` instead, one delta at a
//! time, and adds `"deltas": N`; with `"max_deltas": N` as well it stops reading after N
//! deltas (dropping the stream stops the model) and answers with what it read.
//!
//! Both interfaces are Stack Composer's own WIT (`wit/composer.wit`), not Plinth's: the
//! PDK exports the `tool` world, and this crate's own `wit_bindgen::generate!` adds the
//! app's imports. Built into one component, the imports of both are merged.

use plinth_pdk::prelude::*;

mod app {
    // The app's imports only: `imports` exports nothing, so it adds no exports to the
    // component the PDK's `export_tool!` describes.
    wit_bindgen::generate!({
        path: "wit",
        world: "acme:composer/imports",
    });
}

use app::acme::composer::{llm, retrieval};

struct Research;

impl Plugin for Research {}

impl Tool for Research {
    fn tools() -> Vec<ToolInfo> {
        vec![ToolInfo::new(
            "research",
            "Answers a question from the app's documents.",
            json!({
                "type": "object",
                "properties": {
                    "question": {"type": "string"},
                    "k": {"type": "integer", "minimum": 1},
                    "stream": {"type": "boolean"},
                    "max_deltas": {"type": "integer", "minimum": 0}
                },
                "required": ["question"]
            }),
        )]
    }

    fn call(name: &str, input: Value) -> Result<Value, ToolError> {
        match name {
            "research" => research(&input),
            other => Err(ToolError::UnknownTool(other.to_string())),
        }
    }
}

fn research(input: &Value) -> Result<Value, ToolError> {
    let question = input["question"]
        .as_str()
        .ok_or_else(|| ToolError::InvalidInput("`question` must be a string".into()))?;
    let k = input["k"].as_u64().unwrap_or(2).min(16) as u32;

    let chunks = retrieval::search(question, k);
    log::info(format!("retrieved {} passage(s)", chunks.len()));
    let context: Vec<String> = chunks
        .iter()
        .map(|c| format!("[{}] {}", c.source, c.text))
        .collect();
    let messages = vec![
        llm::Message {
            role: "system".into(),
            content: format!("Answer from these passages only.\n{}", context.join("\n")),
        },
        llm::Message {
            role: "user".into(),
            content: question.to_string(),
        },
    ];
    let sources: Vec<&str> = chunks.iter().map(|c| c.source.as_str()).collect();
    if input["stream"].as_bool() != Some(true) {
        let answer = llm::chat(&messages).map_err(ToolError::Failed)?;
        return Ok(json!({ "answer": answer, "sources": sources }));
    }
    let limit = input["max_deltas"]
        .as_u64()
        .map_or(usize::MAX, |n| n as usize);
    let deltas = llm::stream_chat(&messages);
    let mut answer = String::new();
    let mut read = 0;
    for delta in plinth_pdk::stream::items(|| deltas.next()).take(limit) {
        answer.push_str(&delta);
        read += 1;
    }
    // Dropping the stream before its end tells the app to stop the model.
    drop(deltas);
    Ok(json!({ "answer": answer, "sources": sources, "deltas": read }))
}

plinth_pdk::export_tool!(Research);
