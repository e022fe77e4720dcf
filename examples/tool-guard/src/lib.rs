//! The reference `hook` plugin: at `before-tool-call` it
//!
//! 1. denies a tool the operator listed in the `deny_subjects` setting (read through
//!    `config` when granted; without the grant the list is empty);
//! 2. denies a call whose payload mentions a path under `/etc`: a string, or a word of one
//!    (split at ASCII white space), that is an absolute path whose first component is
//!    `etc` once `.` and `..` are resolved (`/tmp/../etc/hosts` is);
//! 3. modifies a payload whose `text` string has leading or trailing ASCII white space,
//!    trimming it;
//! 4. allows everything else, and every other hook point.
//!
//! The Python and JavaScript twins (`examples/tool-guard-py`, `examples/tool-guard-js`)
//! decide every event alike, with the same reasons.

use plinth_pdk::prelude::*;

/// The one point this hook handles, as in `plugin.toml`'s `[[provides.hook]]` entry.
const BEFORE_TOOL_CALL: &str = "before-tool-call";

/// The characters trimmed from `text` and splitting words: ASCII white space.
const ASCII_SPACE: &[char] = &[' ', '\t', '\n', '\r', '\x0c'];

struct ToolGuard;

impl Plugin for ToolGuard {}

impl Hook for ToolGuard {
    const POINTS: &'static [&'static str] = &[BEFORE_TOOL_CALL];

    fn handle(event: HookEvent) -> Decision {
        decide(&event, &denied_subjects())
    }
}

/// The decision, given the operator's deny list.
fn decide(event: &HookEvent, deny_subjects: &[String]) -> Decision {
    if deny_subjects.contains(&event.subject) {
        return Decision::deny(format!(
            "`{}` is denied by the operator's settings (`deny_subjects`)",
            event.subject
        ));
    }
    let Some(payload) = event.payload_object() else {
        return Decision::Allow;
    };
    let mut paths = Vec::new();
    for value in payload.values() {
        collect_etc_paths(value, &mut paths);
    }
    if let Some(path) = paths.iter().min() {
        return Decision::deny(format!(
            "`{}` would touch `{path}`, which is under /etc",
            event.subject
        ));
    }
    match payload.get("text") {
        Some(Value::String(text)) if text.trim_matches(ASCII_SPACE) != text => {
            let mut trimmed = payload.clone();
            trimmed.insert(
                "text".into(),
                Value::String(text.trim_matches(ASCII_SPACE).to_string()),
            );
            Decision::modify(trimmed)
        }
        _ => Decision::Allow,
    }
}

/// The `deny_subjects` setting, or nothing when it is unset or `config` is not granted.
fn denied_subjects() -> Vec<String> {
    match config::get("deny_subjects") {
        Ok(Some(Value::Array(items))) => items
            .into_iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Adds every word of every string in `value` that is a path under `/etc`.
fn collect_etc_paths(value: &Value, paths: &mut Vec<String>) {
    match value {
        Value::String(text) => paths.extend(
            text.split(ASCII_SPACE)
                .filter(|word| is_under_etc(word))
                .map(str::to_string),
        ),
        Value::Array(items) => items.iter().for_each(|item| collect_etc_paths(item, paths)),
        Value::Object(fields) => fields
            .values()
            .for_each(|item| collect_etc_paths(item, paths)),
        _ => {}
    }
}

/// Whether `word` is an absolute path whose first component, with `.` and `..` resolved,
/// is `etc`.
fn is_under_etc(word: &str) -> bool {
    if !word.starts_with('/') {
        return false;
    }
    let mut components: Vec<&str> = Vec::new();
    for component in word.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                components.pop();
            }
            name => components.push(name),
        }
    }
    components.first() == Some(&"etc")
}

plinth_pdk::export!(ToolGuard: hook);

#[cfg(test)]
mod tests {
    use super::*;

    fn event(subject: &str, payload: Value) -> HookEvent {
        HookEvent::new(BEFORE_TOOL_CALL, subject, payload.to_string())
    }

    #[test]
    fn paths_under_etc_are_found_after_resolving_dots() {
        for path in [
            "/etc",
            "/etc/passwd",
            "/tmp/../etc/hosts",
            "//etc//x",
            "/./etc",
        ] {
            assert!(is_under_etc(path), "{path}");
        }
        for path in ["etc/passwd", "/etcetera", "/home/etc", "/etc/../tmp", ""] {
            assert!(!is_under_etc(path), "{path}");
        }
    }

    #[test]
    fn denies_etc_paths_anywhere_in_the_payload_naming_the_least() {
        let decision = decide(
            &event(
                "run",
                json!({"args": ["-v", "/etc/shadow"], "command": "cat /etc/hosts"}),
            ),
            &[],
        );
        assert_eq!(
            decision,
            Decision::deny("`run` would touch `/etc/hosts`, which is under /etc")
        );
    }

    #[test]
    fn denies_listed_subjects_first() {
        let decision = decide(&event("rm", json!({})), &["rm".to_string()]);
        assert_eq!(
            decision,
            Decision::deny("`rm` is denied by the operator's settings (`deny_subjects`)")
        );
    }

    #[test]
    fn trims_text_and_allows_the_rest() {
        let decision = decide(&event("write", json!({"text": " hi\n", "n": 1})), &[]);
        let Decision::Modify(payload) = decision else {
            panic!("{decision:?}");
        };
        assert_eq!(Value::Object(payload), json!({"text": "hi", "n": 1}));
        for payload in [json!({"text": "hi"}), json!({}), json!({"text": 5})] {
            assert_eq!(decide(&event("write", payload), &[]), Decision::Allow);
        }
        let not_json = HookEvent::new(BEFORE_TOOL_CALL, "write", "not json");
        assert_eq!(decide(&not_json, &[]), Decision::Allow);
    }
}
