//! The copies embedded at build time (`build.rs`), as (relative path, text): the Rust PDK
//! crate, the repository's WIT (symlinked `deps/` copied), and the Python and JavaScript PDKs.
//! `plinth new` writes them into projects; the Python and JavaScript builds fall back on
//! them when a project has no copy of its own.

use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/vendored.rs"));

/// Writes (relative path, text) pairs under `root`, creating folders as needed.
pub fn write_files(root: &Path, files: &[(&str, &str)]) -> std::io::Result<()> {
    for (path, text) in files {
        let target = root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, text)?;
    }
    Ok(())
}
