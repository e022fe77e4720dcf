//! Files for the `file-loader` and `file-viewer` kits: the plugin's examples, or the
//! generic files the cases name (`empty`, `binary:N`, `truncated`, `text:N`), each paired
//! with the format it is read as.

use super::run::{Verdict, fail};
use super::suite::Case;

/// Generic files are capped here, whatever the case asks.
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// One file a step reads: the format it is read as and its content.
pub(super) struct Input {
    pub format: String,
    pub content: Vec<u8>,
}

/// The files `case.source` names. `examples` are the plugin's `(format, content)`;
/// generic files are read as each of the `declared` formats. `format = "unknown"`
/// replaces every format with one nobody declared.
pub(super) fn files(
    case: &Case,
    examples: &[(&str, &[u8])],
    declared: &[&str],
) -> Result<Vec<Input>, Verdict> {
    let source = case.source.as_deref().unwrap_or("example");
    let need_examples = || {
        if examples.is_empty() {
            Err(Verdict::Skip(format!(
                "conformance.toml has no {} example",
                case_kind(case)
            )))
        } else {
            Ok(())
        }
    };
    let each_declared = |content: Vec<u8>| -> Vec<Input> {
        declared
            .iter()
            .map(|format| Input {
                format: (*format).to_string(),
                content: content.clone(),
            })
            .collect()
    };
    let mut inputs = match source {
        "example" => {
            need_examples()?;
            examples
                .iter()
                .map(|(format, content)| Input {
                    format: (*format).to_string(),
                    content: content.to_vec(),
                })
                .collect()
        }
        "truncated" => {
            need_examples()?;
            examples
                .iter()
                .map(|(format, content)| Input {
                    format: (*format).to_string(),
                    content: truncated(content),
                })
                .collect()
        }
        "empty" => each_declared(Vec::new()),
        other => {
            let (generator, n) = other
                .split_once(':')
                .and_then(|(g, n)| Some((g, n.parse::<usize>().ok()?.min(MAX_BYTES))))
                .ok_or_else(|| fail(format!("unknown `source = {other:?}` in the suite")))?;
            match generator {
                "binary" => each_declared((0..n).map(|i| (i % 256) as u8).collect()),
                "text" => each_declared(text_lines(n)),
                _ => return Err(fail(format!("unknown `source = {other:?}` in the suite"))),
            }
        }
    };
    if inputs.is_empty() {
        return Err(Verdict::Skip("the manifest declares no format".into()));
    }
    if case.format.as_deref() == Some("unknown") {
        for input in &mut inputs {
            input.format = UNKNOWN_FORMAT.into();
        }
        inputs.truncate(1);
    }
    Ok(inputs)
}

/// A suite's attribute list: absent (none), a table of names and values, or `"many:N"`
/// (N attributes).
pub(super) fn attributes(
    value: Option<&serde_json::Value>,
) -> Result<Vec<(String, String)>, Verdict> {
    use serde_json::Value;
    match value {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => {
            let n: usize = s
                .strip_prefix("many:")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| fail(format!("unknown `attributes = {s:?}` in the suite")))?;
            Ok((0..n.min(MAX_ATTRIBUTES))
                .map(|i| (format!("x-attr-{i}"), format!("value {i}")))
                .collect())
        }
        Some(Value::Object(map)) => Ok(map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect()),
        Some(other) => Err(fail(format!("unknown `attributes = {other}` in the suite"))),
    }
}

/// Generated attribute lists are capped here.
const MAX_ATTRIBUTES: usize = 100_000;

/// A suite's text as written, or for `large:N` N bytes (`a/a/a/…`, a deep path).
pub(super) fn sized(text: &str) -> String {
    match text
        .strip_prefix("large:")
        .and_then(|n| n.parse::<usize>().ok())
    {
        Some(n) => {
            let n = n.min(MAX_BYTES);
            "a/".repeat(n / 2 + 1)[..n].to_string()
        }
        None => text.to_string(),
    }
}

/// A format name no plugin declares.
pub(super) const UNKNOWN_FORMAT: &str = "conformance-unknown-format";

fn case_kind(case: &Case) -> &'static str {
    if case.step.starts_with("render") {
        "preview"
    } else if case.step.starts_with("view") {
        "file-viewer"
    } else {
        "file-loader"
    }
}

/// The content cut in the middle of its middle line (never at a line break).
fn truncated(content: &[u8]) -> Vec<u8> {
    let mut cut = content.len() / 2;
    while cut > 0 && matches!(content.get(cut - 1), Some(b'\n' | b'\r')) {
        cut -= 1;
    }
    content[..cut].to_vec()
}

/// `bytes` bytes of numbered text lines.
pub(super) fn text_lines(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 64);
    let mut n = 0u64;
    while out.len() < bytes {
        out.extend_from_slice(format!("line {n}: the quick brown fox jumps\n").as_bytes());
        n += 1;
    }
    out.truncate(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_files_end_mid_line() {
        let cut = truncated(b"a,b\n1,2\n3,4\n");
        assert_eq!(cut, b"a,b\n1,");
        assert!(!truncated(b"a\nb\nc\nd\n").ends_with(b"\n"));
        assert!(truncated(b"").is_empty());
    }

    #[test]
    fn text_lines_have_the_size_asked_for() {
        let text = text_lines(1 << 20);
        assert_eq!(text.len(), 1 << 20);
        assert!(std::str::from_utf8(&text).is_ok());
    }
}
