//! Building plugin projects into WebAssembly components: Rust with
//! `cargo build --target wasm32-wasip2`, Python with componentize-py and JavaScript with
//! componentize-js. Detection, the toolchain checks with their install hints, the exact
//! arguments, and the PDK and WIT copies embedded for projects that have none live here, so
//! `plinth build`, `plinth new`, the benches and the tests build the same way.
//!
//! Every failure is a [`BuildError`] naming its stage, with a diagnostic code
//! (`missing-package`, `build-failed`, `io-error`) through
//! [`ToDiagnostic`](plinth_manifest::ToDiagnostic).
//!
//! ```no_run
//! # fn main() -> Result<(), plinth_build::BuildError> {
//! use std::path::Path;
//! let dir = Path::new("examples/count-vowels-py");
//! let language = plinth_build::Language::detect(dir)
//!     .ok_or_else(|| plinth_build::BuildError::NotAProject { dir: dir.into() })?;
//! plinth_build::build(language, dir, "tool", &dir.join("count_vowels.wasm"))?;
//!
//! // A project with `[[provides.KIND]]` entries: the kinds' world.
//! let dir = Path::new("examples/word-count-py");
//! let world = plinth_build::World::for_project(dir, None)?;
//! plinth_build::build(plinth_build::Language::Python, dir, world, &dir.join("word_count.wasm"))?;
//! # Ok(())
//! # }
//! ```
//!
//! See docs/design/0018 (Python and JavaScript plugins) and 0029 (this crate).

#![deny(missing_docs)]
#![deny(clippy::unwrap_used)]

mod componentize;
mod error;
mod rust;
mod toolchain;
pub mod vendored;
mod world;

use std::path::Path;

use plinth_manifest::FileMode;

pub use componentize::componentize;
pub use error::BuildError;
pub use rust::cargo_build;
pub use toolchain::find_toolchain;
pub use world::World;

/// The target every Rust plugin builds for.
pub const RUST_TARGET: &str = "wasm32-wasip2";
/// The componentize-py version Plinth is tested with (`scripts/install-lang-tools`).
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";
/// The componentize-js version Plinth is tested with (`scripts/install-lang-tools`).
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";
/// The entry module of a Python project.
pub const PY_ENTRY: &str = "app.py";
/// The entry module of a JavaScript project.
pub const JS_ENTRY: &str = "app.js";

/// What a plugin project is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// A `Cargo.toml` crate with a cdylib.
    Rust,
    /// An `app.py` module.
    Python,
    /// An `app.js` module.
    JavaScript,
}

impl Language {
    /// The project's language from its files (`Cargo.toml`, then `app.py`, then `app.js`),
    /// if it is one Plinth builds.
    pub fn detect(dir: &Path) -> Option<Language> {
        if dir.join("Cargo.toml").is_file() {
            Some(Language::Rust)
        } else if dir.join(PY_ENTRY).is_file() {
            Some(Language::Python)
        } else if dir.join(JS_ENTRY).is_file() {
            Some(Language::JavaScript)
        } else {
            None
        }
    }

    /// The program that builds it: `cargo`, `componentize-py` or `componentize-js`.
    pub fn toolchain_name(self) -> &'static str {
        match self {
            Language::Rust => "cargo",
            Language::Python => "componentize-py",
            Language::JavaScript => "componentize-js",
        }
    }

    /// The install command shown when the toolchain is missing.
    pub fn install_hint(self) -> String {
        match self {
            Language::Python => format!(
                "install it with `pip install componentize-py=={COMPONENTIZE_PY_VERSION}` \
                 (or `scripts/install-lang-tools` in a Plinth checkout), or set PLINTH_COMPONENTIZE_PY"
            ),
            Language::JavaScript => format!(
                "install it with `npm install --prefix ~/.local/share/plinth/node \
                 @bytecodealliance/componentize-js@{COMPONENTIZE_JS_VERSION}` \
                 (or `scripts/install-lang-tools` in a Plinth checkout), or set PLINTH_COMPONENTIZE_JS"
            ),
            Language::Rust => {
                "install Rust from https://rustup.rs, then `rustup target add wasm32-wasip2`".into()
            }
        }
    }
}

/// Builds the `language` project in `dir` and places the component at `destination`
/// atomically: a failed build leaves the previous component as it was, and a reader never
/// sees half a file.
///
/// `world` matters to Python and JavaScript projects, whose toolchains take it: the kinds
/// of [`World::for_project`], or a `plinth:plugin@0.1.0` world by name (`"tool"`,
/// `"plugin"`). A Rust crate chooses its world itself, with the PDK's export macro.
pub fn build(
    language: Language,
    dir: &Path,
    world: impl Into<World>,
    destination: &Path,
) -> Result<(), BuildError> {
    let world = world.into();
    match language {
        Language::Rust => {
            let built = cargo_build(dir)?;
            plinth_manifest::copy_atomic(&built, destination, FileMode::Readable)?;
            Ok(())
        }
        Language::Python | Language::JavaScript => {
            plinth_manifest::replace_with(destination, FileMode::Readable, |_, temp| {
                componentize(language, dir, &world, temp)
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use plinth_manifest::{Code, ToDiagnostic};

    use super::*;

    #[test]
    fn detects_by_entry_file_rust_first() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Language::detect(dir.path()), None);
        std::fs::write(dir.path().join(JS_ENTRY), "").unwrap();
        assert_eq!(Language::detect(dir.path()), Some(Language::JavaScript));
        std::fs::write(dir.path().join(PY_ENTRY), "").unwrap();
        assert_eq!(Language::detect(dir.path()), Some(Language::Python));
        std::fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        assert_eq!(Language::detect(dir.path()), Some(Language::Rust));
    }

    #[test]
    fn errors_name_their_stage_and_code() {
        let not = BuildError::NotAProject { dir: "x".into() };
        assert_eq!(not.to_diagnostic().code, Code::MissingPackage);
        assert!(not.to_string().contains("no Cargo.toml, app.py or app.js"));
        let failed = BuildError::ToolchainFailed {
            language: Language::Python,
            program: "componentize-py".into(),
            status: "exit status: 1".into(),
            stderr_tail: "NameError".into(),
        };
        let d = failed.to_diagnostic();
        assert_eq!(d.code, Code::BuildFailed);
        assert_eq!(
            d.message,
            "componentize-py failed (exit status: 1):\nNameError"
        );
        assert!(d.hint.unwrap().contains("app.py"));
        let io = BuildError::from(plinth_manifest::WriteError {
            action: "write",
            path: "out.wasm".into(),
            source: std::io::Error::other("disk full"),
        });
        assert_eq!(io.to_diagnostic().code, Code::IoError);
        assert_eq!(io.to_string(), "cannot write out.wasm: disk full");
    }

    #[test]
    fn a_missing_toolchain_is_build_failed_with_the_install_command() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PY_ENTRY), "").unwrap();
        let missing = toolchain::find_in(
            Language::Python,
            Some(dir.path().join("no-such-tool").into_os_string()),
            None,
        )
        .unwrap_err();
        let d = missing.to_diagnostic();
        assert_eq!(d.code, Code::BuildFailed);
        assert!(
            d.hint
                .unwrap()
                .contains("pip install componentize-py==0.25.1")
        );
        assert!(
            d.message.contains("PLINTH_COMPONENTIZE_PY="),
            "{}",
            d.message
        );
    }

    #[test]
    fn a_failed_build_keeps_the_old_component() {
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join("x.wasm");
        std::fs::write(&destination, "old").unwrap();
        // Rust: `dir` has no Cargo.toml, so cargo fails (or is missing): either way no copy.
        let failed = build(Language::Rust, dir.path(), "tool", &destination);
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&destination).unwrap(), "old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }
}
