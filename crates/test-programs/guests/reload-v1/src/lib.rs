//! Version 1 of the reload guest; the behaviour lives in `reload-common/plugin.rs`.

/// What every answer of this build says.
const VERSION: &str = "v1";

include!("../../reload-common/plugin.rs");
