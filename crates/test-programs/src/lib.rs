//! Guest components for Plinth's tests, built from source by this crate's build script.
//!
//! Every guest is a constant holding the absolute path of its `.wasm` file, named after the
//! file in screaming snake case:
//!
//! - each `cdylib` or `bin` crate of the `guests/` workspace (`PDK_PLUGIN`, `HOSTILE`, …),
//!   built for `wasm32-wasip2` in release mode;
//! - the examples `examples/hello`, `examples/count-vowels`, `examples/waveform-scanner`,
//!   `examples/visits` and the kinds' reference plugins `examples/word-count`,
//!   `examples/tool-guard` and `examples/greet` (`HELLO`, `COUNT_VOWELS`, `WAVEFORM_SCANNER`,
//!   `VISITS`, `WORD_COUNT`, `TOOL_GUARD`, `GREET`);
//! - each `wat/*.wat` file, assembled (`START_TRAP`, …); the ones named `core_*` are core
//!   modules, not components, for tests of their rejection.
//!
//! [`ALL`] lists them and [`foreach_guest!`] expands a macro once per guest, so a suite can
//! check that it covers every guest. A new guest is a new crate (or `.wat` file) and nothing
//! else. Building needs the target: `rustup target add wasm32-wasip2`.
//!
//! ```
//! let hello = std::fs::read(test_programs::HELLO)?;
//! assert!(hello.starts_with(b"\0asm"));
//! assert!(test_programs::example_dir("hello").join("plugin.toml").is_file());
//! # Ok::<(), std::io::Error>(())
//! ```

#![deny(missing_docs)]

use std::path::{Path, PathBuf};

pub mod fault_proxy;
pub mod http_proxy;
pub mod nats;
pub mod postgres;
pub mod redis;

include!(concat!(env!("OUT_DIR"), "/guests.rs"));

/// The absolute path of `examples/NAME` in this checkout, e.g. `example_dir("hello")`. The
/// folder holds the example's `plugin.toml`; its component is the constant of the same name.
pub fn example_dir(name: &str) -> PathBuf {
    Path::new(EXAMPLES_DIR).join(name)
}

/// Feeds every file below `dir` into `hasher`: names and contents, in sorted order, skipping
/// `.wasm` files, `__pycache__` and hidden entries. Tests and benchmarks that build a
/// Python or JavaScript example key their cached component on it.
///
/// # Panics
///
/// When `dir` or a file below it cannot be read.
pub fn fingerprint(dir: &Path, hasher: &mut impl std::hash::Hasher) {
    use std::hash::Hash;

    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if name.ends_with(".wasm") || name == "__pycache__" || name.starts_with('.') {
            continue;
        }
        name.hash(hasher);
        if path.is_dir() {
            fingerprint(&path, hasher);
        } else {
            std::fs::read(&path)
                .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
                .hash(hasher);
        }
    }
}
