//! Helpers shared by the manifest test suites.
#![allow(dead_code)]

use std::path::Path;

use plinth_manifest::{Code, Manifest, ManifestError, Parsed, ToDiagnostic};

/// The file name every test manifest pretends to come from.
pub const FILE: &str = "plugins/hello/plugin.toml";

/// The required `[plugin]` body.
pub const PLUGIN: &str = "id = \"example.hello\"\nversion = \"0.1.0\"\n";

/// The required `[runtime]` body.
pub const RUNTIME: &str = "kind = \"wasm-component\"\ncomponent = \"hello.wasm\"\n";

/// A manifest from a `[plugin]` body, a `[runtime]` body and any further TOML.
pub fn doc(plugin: &str, runtime: &str, rest: &str) -> String {
    format!("[plugin]\n{plugin}\n[runtime]\n{runtime}\n{rest}\n")
}

/// A valid minimal manifest plus `rest`.
pub fn with(rest: &str) -> String {
    doc(PLUGIN, RUNTIME, rest)
}

pub fn parse(text: &str) -> Result<Parsed, ManifestError> {
    Manifest::parse(text, Path::new(FILE))
}

pub fn parse_ok(text: &str) -> Parsed {
    match parse(text) {
        Ok(parsed) => parsed,
        Err(e) => panic!("expected {text:?} to parse, got {e}"),
    }
}

/// Asserts `text` fails as `invalid-manifest` at exactly `key`, with `reason_part` in the reason.
pub fn assert_invalid(text: &str, key: &str, reason_part: &str) {
    let err = match parse(text) {
        Ok(_) => panic!("expected {key} to be invalid in:\n{text}"),
        Err(e) => e,
    };
    assert_eq!(err.code(), Code::InvalidManifest, "{err}");
    assert_eq!(err.to_diagnostic().code, Code::InvalidManifest);
    match &err {
        ManifestError::Invalid {
            file,
            key: got,
            reason,
        } => {
            assert_eq!(file, Path::new(FILE));
            assert_eq!(got, key, "wrong key for:\n{text}\nerror: {err}");
            assert!(
                reason.contains(reason_part),
                "reason {reason:?} lacks {reason_part:?}"
            );
        }
        other => panic!("expected Invalid at {key}, got {other:?}"),
    }
}

/// The `unknown-key` warning messages of a parse.
pub fn warning_messages(parsed: &Parsed) -> Vec<String> {
    parsed
        .warnings
        .iter()
        .map(|w| {
            assert_eq!(w.code, Code::UnknownKey);
            w.message.clone()
        })
        .collect()
}
