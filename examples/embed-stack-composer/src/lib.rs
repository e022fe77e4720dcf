//! Stack Composer on Plinth (seed 002): its plugin host, end to end.
//!
//! - [`PluginHost`] is Stack Composer's own API (`load_plugin(path).await`,
//!   `call_plugin(id, "run", &["hello"]).await`, list, unload) over Plinth's manager,
//!   configured by `plugin-host.toml` ([`PluginHostConfig`]): plugins discovered in a user
//!   and a system directory (flat `x.wasm`/`x.toml`/`x.sig`), only those signed by a key
//!   of `trusted_keys.toml` ([`trust`]) loaded, limits applied, hot reload, and the
//!   host's network mode (`offline`, or through a proxy).
//! - The app's host functions, each an app-defined WIT interface under its capability:
//!   `retrieval_search` (`acme:composer/retrieval`, `retrieval`), `llm_chat`
//!   (`acme:composer/llm`, `llm`, streamed by `stream-chat`), `plan_solve`
//!   (`acme:composer/plan`, `plan`), `network_fetch` (`acme:composer/network`,
//!   `network`); `log` is Plinth's own.
//!
//! Retrieval searches a small in-memory document set; the language model and the planner
//! are deterministic stand-ins that run in-process (no network, no weights), so the example
//! and its tests are reproducible. A real app registers the same interfaces over its vector
//! store, model and planner.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub mod config;
pub mod functions;
mod plugin_host;
pub mod trust;

pub use config::PluginHostConfig;
pub use functions::{NETWORK, PLAN, PlanStep};
pub use plugin_host::{Embedding, PluginHost, PluginHostError, PluginInfo};

use plinth_host::wit::ToolError;
use plinth_host::{
    Host, HostBuilder, HostCallContext, HostFnError, HostInterface, Plugin, StreamSender,
};
use wasmtime::component::{ComponentType, Lift, Lower};

/// The WIT name of the retrieval interface.
pub const RETRIEVAL: &str = "acme:composer/retrieval@0.1.0";
/// The WIT name of the language-model interface.
pub const LLM: &str = "acme:composer/llm@0.1.0";

/// One document of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The collection (`retrieval:COLLECTION` grants one).
    pub collection: String,
    /// The document's name in its collection.
    pub name: String,
    /// Its text.
    pub text: String,
}

/// `acme:composer/retrieval` `chunk`.
#[derive(Debug, Clone, PartialEq, Eq, ComponentType, Lift, Lower)]
#[component(record)]
pub struct Chunk {
    /// `collection/name`.
    pub source: String,
    /// The passage.
    pub text: String,
}

/// `acme:composer/llm` `message`.
#[derive(Debug, Clone, PartialEq, Eq, ComponentType, Lift, Lower)]
#[component(record)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// What was said.
    pub content: String,
}

/// The demo document set: two collections.
pub fn documents() -> Vec<Document> {
    [
        ("docs", "wasmtime", "Wasmtime runs WebAssembly components with fuel and epoch limits."),
        ("docs", "plinth", "Plinth grants each plugin capabilities one by one; ungranted calls fail with missing-grant."),
        ("docs", "wit", "WIT describes the interfaces a component imports and exports."),
        ("notes", "lunch", "The team lunch is on Friday at noon."),
    ]
    .into_iter()
    .map(|(collection, name, text)| Document {
        collection: collection.into(),
        name: name.into(),
        text: text.into(),
    })
    .collect()
}

/// The words of `text`, lowercased, for matching.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
        .collect()
}

/// Whether the caller's grant covers `collection`: the unscoped `retrieval` covers all.
fn may_read(cx: &HostCallContext, collection: &str) -> bool {
    cx.granted_scopes()
        .iter()
        .any(|scope| scope.is_none_or(|s| s == collection))
}

/// The `k` documents sharing most words with `query`, best first, among those the caller
/// may read. Ties keep the store's order.
pub fn search(docs: &[Document], cx: &HostCallContext, query: &str, k: u32) -> Vec<Chunk> {
    let wanted = words(query);
    let mut scored: Vec<(usize, &Document)> = docs
        .iter()
        .filter(|d| may_read(cx, &d.collection))
        .map(|d| {
            let have = words(&d.text);
            (wanted.iter().filter(|w| have.contains(w)).count(), d)
        })
        .filter(|(score, _)| *score > 0)
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored
        .into_iter()
        .take(k as usize)
        .map(|(_, d)| Chunk {
            source: format!("{}/{}", d.collection, d.name),
            text: d.text.clone(),
        })
        .collect()
}

/// The stand-in model: quotes the first passage of the system prompt for the last user
/// question, or says it found nothing. Deterministic, so answers can be asserted.
pub fn chat(messages: &[Message]) -> Result<String, String> {
    let question = messages
        .iter()
        .rfind(|m| m.role == "user")
        .ok_or("the conversation has no user message")?;
    let passage = messages
        .iter()
        .filter(|m| m.role == "system")
        .flat_map(|m| m.content.lines())
        .find(|line| line.starts_with('['));
    Ok(match passage {
        Some(passage) => format!("{} → {passage}", question.content),
        None => format!("{} → I found nothing about that.", question.content),
    })
}

/// The `retrieval` interface over `docs`.
pub fn retrieval_interface(docs: Arc<Vec<Document>>) -> HostInterface {
    HostInterface::new("retrieval", RETRIEVAL).func(
        "search",
        move |cx: &HostCallContext, (query, k): (String, u32)| {
            Ok::<_, HostFnError>((search(&docs, cx, &query, k),))
        },
    )
}

/// The pieces a reply streams in: each word with the whitespace after it, so the pieces
/// joined are the reply.
pub fn deltas(reply: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    for c in reply.chars() {
        if !c.is_whitespace() && piece.ends_with(char::is_whitespace) {
            pieces.push(std::mem::take(&mut piece));
        }
        piece.push(c);
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    pieces
}

/// What the stand-in model's streams did, for the embedder to watch.
#[derive(Debug, Default)]
pub struct ModelStats {
    /// Deltas handed to the plugin's stream (buffered or read).
    pub sent: AtomicU64,
    /// Streams that ended before their last delta: the plugin stopped reading, or its
    /// instance ended (Plinth then drops the producer).
    pub stopped: AtomicU64,
    /// Streams sent to their end.
    pub finished: AtomicU64,
}

/// Counts a stream that ended before its last delta, however it ended: the plugin stopped
/// reading (`send` failed), or Plinth dropped the producer with the plugin's instance.
struct Unfinished {
    stats: Arc<ModelStats>,
    finished: bool,
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.stats.finished
        } else {
            &self.stats.stopped
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Streams the stand-in model's reply to `messages`, one [`deltas`] piece at a time; a
/// question that is exactly `stall` never answers (a model that hangs).
async fn stream_reply(
    messages: Vec<Message>,
    out: StreamSender<String>,
    stats: Arc<ModelStats>,
) -> Result<(), HostFnError> {
    let mut end = Unfinished {
        stats: stats.clone(),
        finished: false,
    };
    if messages
        .iter()
        .rfind(|m| m.role == "user")
        .map(|m| m.content.as_str())
        == Some("stall")
    {
        std::future::pending::<()>().await;
    }
    let reply = chat(&messages).map_err(HostFnError::failed)?;
    for piece in deltas(&reply) {
        if out.send(piece).await.is_err() {
            return Ok(());
        }
        stats.sent.fetch_add(1, Ordering::Relaxed);
    }
    end.finished = true;
    Ok(())
}

/// The `llm` interface with the stand-in model: `chat`, and `stream-chat` whose replies
/// stream as [`deltas`] (counted in `stats`).
pub fn llm_interface(stats: Arc<ModelStats>) -> HostInterface {
    HostInterface::new("llm", LLM)
        .func(
            "chat",
            |_cx: &HostCallContext, (messages,): (Vec<Message>,)| {
                Ok::<_, HostFnError>((chat(&messages),))
            },
        )
        .func_stream(
            "stream-chat",
            "deltas",
            move |_cx: HostCallContext, (messages,): (Vec<Message>,), out: StreamSender<String>| {
                stream_reply(messages, out, stats.clone())
            },
        )
}

/// A host builder with both of Stack Composer's interfaces registered.
pub fn host_builder() -> HostBuilder {
    host_builder_with(Arc::default())
}

/// [`host_builder`], with the model's stream counts in `stats`.
pub fn host_builder_with(stats: Arc<ModelStats>) -> HostBuilder {
    Host::builder()
        .host_interface(retrieval_interface(Arc::new(documents())))
        .host_interface(llm_interface(stats))
}

/// Why a tool call failed: Plinth refused or the plugin trapped, or the tool said no.
#[derive(Debug)]
pub enum ResearchError {
    /// The call failed in the host (`missing-grant`, `trap`, a limit).
    Call(plinth_host::CallError),
    /// The tool returned an error.
    Tool(ToolError),
}

/// Calls the plugin's `research` tool with `question`; returns its JSON output.
pub fn research(plugin: &Plugin, question: &str) -> Result<serde_json::Value, ResearchError> {
    research_with(plugin, serde_json::json!({ "question": question, "k": 2 }))
}

/// Calls the plugin's `research` tool with `input` (`question`, `k`, `stream`,
/// `max_deltas`); returns its JSON output.
pub fn research_with(
    plugin: &Plugin,
    input: serde_json::Value,
) -> Result<serde_json::Value, ResearchError> {
    let input = input.to_string();
    let (result,): (Result<String, ToolError>,) = plugin
        .call("call", ("research".to_string(), input))
        .map_err(ResearchError::Call)?;
    let output = result.map_err(ResearchError::Tool)?;
    serde_json::from_str(&output)
        .map_err(|e| ResearchError::Tool(ToolError::Failed(format!("output is not JSON: {e}"))))
}
