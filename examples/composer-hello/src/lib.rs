//! Stack Composer's hello plugin (seed 002), rebuilt as a component: `run(["hello"])` echoes
//! its input, and other verbs reach each host function of the app.
//!
//! | `run` arguments | does |
//! | --- | --- |
//! | `search QUERY [K]` | `retrieval.search` (`retrieval_search`): the sources found |
//! | `chat QUESTION` | retrieval, then `llm.stream-chat` (`llm_chat`, streamed): the reply and its delta count |
//! | `plan DOMAIN PROBLEM` | `plan.solve` (`plan_solve`): the numbered steps |
//! | `fetch URL [BODY]` | `network.fetch` (`network_fetch`): the response body |
//! | `spin` | loops forever (a runaway plugin: the host's fuel ends it) |
//! | `hog MIB` | allocates MIB mebibytes (a memory bomb: the host's memory cap ends it) |
//! | anything else | echoes the arguments, joined by spaces |
//!
//! Every verb logs a line through Plinth's `log` (Stack Composer's `log` host function).
//! The app's interfaces are the WIT of `examples/composer-research/wit` (world
//! `acme:composer/stack-composer`).

use plinth_pdk::prelude::*;

mod app {
    wit_bindgen::generate!({
        path: "../composer-research/wit",
        world: "acme:composer/stack-composer",
    });
}

use app::acme::composer::{llm, network, plan, retrieval};

struct Hello;

impl Plugin for Hello {}

impl Command for Hello {
    fn run(args: Vec<String>) -> Result<String, String> {
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["search", query, rest @ ..] => search(query, rest.first().copied()),
            ["chat", question @ ..] => chat(&question.join(" ")),
            ["plan", domain, problem @ ..] => solve(domain, &problem.join(" ")),
            ["fetch", url, body @ ..] => fetch(url, body.first().copied()),
            ["spin"] => spin(),
            ["hog", mib] => hog(mib),
            _ => {
                let said = args.join(" ");
                log::info(format!("echoing {said:?}"));
                Ok(said)
            }
        }
    }
}

fn search(query: &str, k: Option<&str>) -> Result<String, String> {
    let k = k.and_then(|k| k.parse().ok()).unwrap_or(2);
    let chunks = retrieval::search(query, k);
    log::info(format!("retrieved {} passage(s)", chunks.len()));
    let sources: Vec<&str> = chunks.iter().map(|c| c.source.as_str()).collect();
    Ok(sources.join(" "))
}

fn chat(question: &str) -> Result<String, String> {
    let chunks = retrieval::search(question, 1);
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
    let deltas = llm::stream_chat(&messages);
    let mut answer = String::new();
    let mut count = 0;
    for delta in plinth_pdk::stream::items(|| deltas.next()) {
        answer.push_str(&delta);
        count += 1;
    }
    log::info(format!("streamed {count} delta(s)"));
    Ok(format!("{answer} ({count} deltas)"))
}

fn solve(domain: &str, problem: &str) -> Result<String, String> {
    let steps = plan::solve(domain, problem)?;
    log::info(format!("planned {} step(s)", steps.len()));
    let lines: Vec<String> = steps
        .iter()
        .map(|s| format!("{}. {}", s.index, s.action))
        .collect();
    Ok(lines.join("\n"))
}

fn fetch(url: &str, body: Option<&str>) -> Result<String, String> {
    log::info(format!("fetching {url}"));
    network::fetch(url, body)
}

fn spin() -> Result<String, String> {
    log::info("spinning");
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn hog(mib: &str) -> Result<String, String> {
    let mib: usize = mib.parse().map_err(|e| format!("`{mib}`: {e}"))?;
    log::info(format!("allocating {mib} MiB"));
    // Reserved, not written: the memory grows without spending fuel on filling it.
    let mut held = Vec::new();
    for _ in 0..mib {
        let mut block: Vec<u8> = Vec::with_capacity(1 << 20);
        block.push(1);
        held.push(std::hint::black_box(block));
    }
    Ok(format!("held {} MiB", held.len()))
}

plinth_pdk::export_command!(Hello);
