//! A tool provider with one tool, `count_vowels`: `{"text": "Plinth"}` → `{"count": 1}`.

use plinth_pdk::prelude::*;

const COUNT_VOWELS: &str = "count_vowels";

/// The input schema, shared with `plugin.toml`'s `[[tools]]` entry.
const COUNT_VOWELS_SCHEMA: &str = include_str!("../count_vowels.schema.json");

struct CountVowels;

impl Plugin for CountVowels {}

impl Tool for CountVowels {
    fn tools() -> Vec<ToolInfo> {
        let schema = serde_json::from_str(COUNT_VOWELS_SCHEMA)
            .expect("count_vowels.schema.json is valid JSON (checked by the example's tests)");
        vec![ToolInfo::new(
            COUNT_VOWELS,
            "Counts the vowels (a, e, i, o, u, either case) in `text`.",
            schema,
        )]
    }

    fn call(name: &str, input: Value) -> Result<Value, ToolError> {
        if name != COUNT_VOWELS {
            return Err(ToolError::UnknownTool(name.to_string()));
        }
        let text = input.get("text").and_then(Value::as_str).ok_or_else(|| {
            ToolError::InvalidInput("expected an object with a string `text`".into())
        })?;
        let count = count_vowels(text);
        log::debug(format!(
            "count_vowels: {count} in {} characters",
            text.chars().count()
        ));
        Ok(json!({ "count": count }))
    }
}

fn count_vowels(text: &str) -> usize {
    text.chars()
        .filter(|c| matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u'))
        .count()
}

plinth_pdk::export_tool!(CountVowels);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_vowels_in_either_case() {
        assert_eq!(count_vowels("Plinth"), 1);
        assert_eq!(count_vowels("AEIOU aeiou xyz"), 10);
        assert_eq!(count_vowels(""), 0);
    }

    #[test]
    fn rejects_input_without_text() {
        assert!(matches!(
            CountVowels::call(COUNT_VOWELS, json!([1])),
            Err(ToolError::InvalidInput(_))
        ));
        assert!(matches!(
            CountVowels::call(COUNT_VOWELS, json!({"txt": "a"})),
            Err(ToolError::InvalidInput(_))
        ));
    }

    #[test]
    fn rejects_unknown_tools() {
        assert_eq!(
            CountVowels::call("count_consonants", json!({"text": "a"})),
            Err(ToolError::UnknownTool("count_consonants".into()))
        );
    }

    #[test]
    fn schema_parses() {
        assert_eq!(
            CountVowels::tools()[0].input_schema["required"],
            json!(["text"])
        );
    }
}
