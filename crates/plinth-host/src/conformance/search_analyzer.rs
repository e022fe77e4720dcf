//! The `search-analyzer` kit's steps (docs/design/0045): the case's text given to every
//! declared analyzer; the host checks each token against the text (a term, offsets on
//! character boundaries inside the text, positions that never decrease).

use super::run::{Check, Verdict, clean, fail, unknown};
use super::suite::Case;
use crate::kinds::{KindError, SearchAnalyzer};
use crate::plugin::Plugin;

/// An analyzer name no plugin declares.
const UNKNOWN_ANALYZER: &str = "conformance-unknown-analyzer";

pub(super) fn step(case: &Case, plugin: &Plugin) -> Check {
    let analyzers = plugin
        .kind::<SearchAnalyzer>()
        .map_err(|e| fail(e.to_string()))?;
    let text = text(case);
    let names: Vec<&str> = analyzers
        .analyzers()
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    if names.is_empty() {
        return Err(Verdict::Skip(
            "the manifest declares no [[provides.search-analyzer]] analyzer".into(),
        ));
    }
    let each = |check: &dyn Fn(&str) -> Result<(), String>| -> Check {
        for name in &names {
            check(name).map_err(|reason| fail(format!("analyzer `{name}`: {reason}")))?;
        }
        Ok(())
    };
    let analyze = |name: &str| analyzers.analyze(name, &text);
    match (case.step.as_str(), case.expect.as_str()) {
        ("analyze", "tokens") => each(&|name| match analyze(name) {
            Ok(tokens) if tokens.is_empty() => Err("gave no token".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }),
        ("analyze", "no-tokens") => each(&|name| match analyze(name) {
            Ok(tokens) if tokens.is_empty() => Ok(()),
            Ok(tokens) => Err(format!(
                "gave {} tokens (the first {:?}) for text without a word",
                tokens.len(),
                tokens[0].term
            )),
            Err(e) => Err(e.to_string()),
        }),
        ("analyze", "answers") => each(&|name| match analyze(name) {
            Ok(_) => Ok(()),
            Err(e) if clean(&e) => Ok(()),
            Err(e) => Err(e.to_string()),
        }),
        ("analyze", "same-twice") => each(&|name| {
            let first = analyze(name).map_err(|e| e.to_string())?;
            let second = analyze(name).map_err(|e| e.to_string())?;
            if first == second {
                Ok(())
            } else {
                Err(format!(
                    "gave {} tokens, then {} different ones",
                    first.len(),
                    second.len()
                ))
            }
        }),
        ("analyze-guest", "error") => match analyzers.analyze_guest(UNKNOWN_ANALYZER, &text) {
            Err(KindError::PluginFailed { .. }) => Ok(()),
            Ok(tokens) => Err(fail(format!(
                "gave {} tokens for an analyzer nobody declared",
                tokens.len()
            ))),
            Err(e) => Err(fail(format!(
                "expected the plugin's `unknown-analyzer` for a name nobody declared, got {e}"
            ))),
        },
        (_, other) => Err(unknown(case, other)),
    }
}

/// The case's `text`, or for `large:N` N bytes of text lines.
fn text(case: &Case) -> String {
    let text = case.text.as_deref().unwrap_or("The quick brown fox");
    match text
        .strip_prefix("large:")
        .and_then(|n| n.parse::<usize>().ok())
    {
        Some(n) => String::from_utf8(super::inputs::text_lines(n)).unwrap_or_default(),
        None => text.to_string(),
    }
}
