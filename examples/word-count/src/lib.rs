//! The reference `tool` plugin: one tool, `word_count`, `{"text": "one two  three"}` →
//! `{"words": 3}`. Words are separated by white space (Unicode `White_Space`).
//!
//! The Python and JavaScript twins (`examples/word-count-py`, `examples/word-count-js`)
//! answer every input alike.

use plinth_pdk::prelude::*;
use serde::{Deserialize, Serialize};

const WORD_COUNT: &str = "word_count";

/// The description, the same as in `plugin.toml`'s `[[provides.tool]]` entry.
const DESCRIPTION: &str = "Counts the words in `text`.";

/// The schemas `plugin.toml` names, read from the same files.
const INPUT_SCHEMA: &str = include_str!("../word_count.schema.json");
const OUTPUT_SCHEMA: &str = include_str!("../word_count.output.json");

/// The input: the schema's object with one string, and nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    text: String,
}

#[derive(Debug, Serialize)]
struct Output {
    words: usize,
}

struct WordCount;

impl Plugin for WordCount {}

impl Tool for WordCount {
    fn tools() -> Vec<ToolInfo> {
        vec![
            ToolInfo::new(WORD_COUNT, DESCRIPTION, schema(INPUT_SCHEMA))
                .with_output_schema(schema(OUTPUT_SCHEMA)),
        ]
    }

    fn call(name: &str, input: Value) -> Result<Value, ToolError> {
        match name {
            WORD_COUNT => typed(input, word_count),
            other => Err(ToolError::UnknownTool(other.to_string())),
        }
    }
}

fn word_count(input: Input) -> Result<Output, ToolError> {
    let words = count_words(&input.text);
    log::debug(format!(
        "word_count: {words} in {} characters",
        input.text.chars().count()
    ));
    Ok(Output { words })
}

fn count_words(text: &str) -> usize {
    text.split_whitespace().count()
}

fn schema(text: &str) -> Value {
    serde_json::from_str(text).expect("the schema files are JSON (checked by the tests below)")
}

plinth_pdk::export!(WordCount: tool);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words_between_any_white_space() {
        assert_eq!(count_words("one two  three"), 3);
        assert_eq!(count_words(""), 0);
        assert_eq!(count_words("  tabs\tand\nnew lines\u{a0}count too "), 6);
    }

    #[test]
    fn input_that_does_not_fit_is_invalid() {
        for input in [json!([1]), json!({"txt": "a"}), json!({"text": 5})] {
            assert!(
                matches!(
                    WordCount::call(WORD_COUNT, input.clone()),
                    Err(ToolError::InvalidInput(_))
                ),
                "{input}"
            );
        }
        // A fitting input logs, which works only inside WebAssembly: Plinth's tests call it
        // through the host (crates/plinth-cli/tests/all/reference_kinds.rs).
    }

    #[test]
    fn unknown_tools_are_named() {
        assert_eq!(
            WordCount::call("char_count", json!({"text": "a"})),
            Err(ToolError::UnknownTool("char_count".into()))
        );
    }

    #[test]
    fn schemas_parse() {
        let tool = &WordCount::tools()[0];
        assert_eq!(tool.input_schema["required"], json!(["text"]));
        assert_eq!(
            tool.output_schema.as_ref().map(|s| &s["required"]),
            Some(&json!(["words"]))
        );
    }
}
