//! Rust projects: `cargo build --release --target wasm32-wasip2`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::{BuildError, Language, RUST_TARGET};

/// Runs cargo (`$CARGO`, else `cargo`) in `dir` and returns the built `.wasm` of the crate's
/// cdylib. cargo's own messages go to stderr as it runs.
pub fn cargo_build(dir: &Path) -> Result<PathBuf, BuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(&cargo)
        .current_dir(dir)
        .args(["build", "--release", "--target", RUST_TARGET])
        .arg("--message-format=json-render-diagnostics")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| BuildError::ToolchainNotRunnable {
            language: Language::Rust,
            program: "cargo".into(),
            source,
        })?;
    let mut artifact = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(wasm) = cdylib_wasm(&line) {
                artifact = Some(wasm);
            }
        }
    }
    let status = child.wait().map_err(|source| BuildError::Io {
        action: "wait for",
        path: PathBuf::from(&cargo),
        source,
    })?;
    if !status.success() {
        return Err(BuildError::ToolchainFailed {
            language: Language::Rust,
            program: "cargo".into(),
            status: status.to_string(),
            stderr_tail: String::new(),
        });
    }
    artifact.ok_or(BuildError::OutputMissing {
        language: Language::Rust,
        program: "cargo".into(),
    })
}

/// The `.wasm` file of a `compiler-artifact` message about a cdylib target.
fn cdylib_wasm(line: &str) -> Option<PathBuf> {
    let message = serde_json::from_str::<Value>(line).ok()?;
    if message["reason"] != "compiler-artifact" {
        return None;
    }
    let is_cdylib = message["target"]["kind"]
        .as_array()
        .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
    if !is_cdylib {
        return None;
    }
    message["filenames"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|f| f.ends_with(".wasm"))
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_cdylib_wasm_counts() {
        let lib = r#"{"reason":"compiler-artifact","target":{"kind":["cdylib"]},"filenames":["/t/x.wasm"]}"#;
        assert_eq!(cdylib_wasm(lib), Some(PathBuf::from("/t/x.wasm")));
        let rlib =
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"filenames":["/t/x.rlib"]}"#;
        assert_eq!(cdylib_wasm(rlib), None);
        assert_eq!(cdylib_wasm("not json"), None);
        assert_eq!(cdylib_wasm(r#"{"reason":"build-finished"}"#), None);
    }
}
