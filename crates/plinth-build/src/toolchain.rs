//! Finding the toolchain program of a language.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::{BuildError, Language};

/// The environment variable that names the language's toolchain program.
fn variable(language: Language) -> &'static str {
    match language {
        Language::Python => "PLINTH_COMPONENTIZE_PY",
        Language::JavaScript => "PLINTH_COMPONENTIZE_JS",
        Language::Rust => "CARGO",
    }
}

/// The toolchain program for `language`: `$PLINTH_COMPONENTIZE_PY` /
/// `$PLINTH_COMPONENTIZE_JS` / `$CARGO`, else the program on `PATH`, else (JavaScript) under
/// the `scripts/install-lang-tools` prefix (`$PLINTH_NODE_PREFIX`, default
/// `~/.local/share/plinth/node`).
pub fn find_toolchain(language: Language) -> Result<PathBuf, BuildError> {
    find_in(
        language,
        std::env::var_os(variable(language)),
        std::env::var_os("PATH"),
    )
}

/// [`find_toolchain`] with the variable's value and `PATH` given.
pub(crate) fn find_in(
    language: Language,
    named: Option<OsString>,
    path: Option<OsString>,
) -> Result<PathBuf, BuildError> {
    let program = language.toolchain_name();
    let missing = |detail: String| BuildError::ToolchainMissing {
        language,
        program: program.to_string(),
        detail,
    };
    if let Some(named) = named {
        let named = PathBuf::from(named);
        return if named.is_file() {
            Ok(named)
        } else {
            Err(missing(format!(
                "{}={} is not a file",
                variable(language),
                named.display()
            )))
        };
    }
    let mut candidates: Vec<PathBuf> = path
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(program))
                .collect()
        })
        .unwrap_or_default();
    if language == Language::JavaScript {
        candidates.push(node_prefix().join("node_modules/.bin").join(program));
    }
    candidates
        .into_iter()
        .find(|path| path.is_file())
        .ok_or_else(|| missing("not found on PATH".into()))
}

/// Where `scripts/install-lang-tools` puts npm packages.
fn node_prefix() -> PathBuf {
    if let Some(prefix) = std::env::var_os("PLINTH_NODE_PREFIX") {
        return prefix.into();
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| OsString::from("."));
    PathBuf::from(home).join(".local/share/plinth/node")
}
