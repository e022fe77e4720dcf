//! Guest components for Plinth's tests, built from source by this crate's build script.
//!
//! Every guest is a constant holding the absolute path of its `.wasm` file, named after the
//! file in screaming snake case:
//!
//! - each `cdylib` or `bin` crate of the `guests/` workspace (`PDK_PLUGIN`, `HOSTILE`, …),
//!   built for `wasm32-wasip2` in release mode;
//! - the examples `examples/hello`, `examples/count-vowels`, `examples/waveform-scanner` and
//!   `examples/visits` (`HELLO`, `COUNT_VOWELS`, `WAVEFORM_SCANNER`, `VISITS`);
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

include!(concat!(env!("OUT_DIR"), "/guests.rs"));

/// The absolute path of `examples/NAME` in this checkout, e.g. `example_dir("hello")`. The
/// folder holds the example's `plugin.toml`; its component is the constant of the same name.
pub fn example_dir(name: &str) -> PathBuf {
    Path::new(EXAMPLES_DIR).join(name)
}
