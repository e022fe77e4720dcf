//! Tool schemas compiled once per schema text, not once per load (docs/design/0076).
//!
//! Compiling a JSON Schema first checks it against its draft's meta-schema, and compiling
//! that meta-schema (draft 2020-12: `$dynamicRef`, a dozen vocabularies, their patterns)
//! is most of what a new process pays to load a plugin that declares a tool. A process
//! that only calls an export never needs the tool's validator at all.
//!
//! So a load compiles a tool's schema only when its text is new: the first load of a
//! schema text compiles it (a schema that is not one is still refused at load) and, when
//! the host has a compile cache directory, records the SHA-256 of the text in
//! `<cache dir>/schemas/`. A later load of the same text, in this process or another,
//! leaves the compilation to the tool's first use. Entries are trusted under the compile
//! cache's rule ([`crate::cache::trust_entry`]): anyone able to write them could also write
//! compiled code there. Even then a forged entry skips nothing: a schema that does not
//! compile at first use fails that call with `invalid-manifest` instead of being ignored.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use plinth_manifest::digest::Digest;
use serde_json::Value;

use crate::settings::compile_schema;

/// The first and only line of an entry: its format.
const FORMAT: &str = "plinth-schema-compiled-v1";

/// Schema texts that compiled before, kept in `<cache dir>/schemas/` (nothing is kept
/// without a cache directory, so every load compiles).
#[derive(Debug, Default)]
pub(crate) struct CompiledSchemas {
    dir: Option<PathBuf>,
}

impl CompiledSchemas {
    pub(crate) fn new(cache_dir: Option<&Path>) -> Self {
        Self {
            dir: cache_dir.map(|dir| dir.join("schemas")),
        }
    }

    /// The schema `schema` (whose file held `text`): compiled now when its text is new,
    /// else on first use. Err: the reason it is not a JSON Schema.
    pub(crate) fn load(&self, text: &str, schema: Value) -> Result<LazySchema, String> {
        let entry = self.entry(text);
        if entry.as_deref().is_some_and(known) {
            return Ok(LazySchema {
                schema: Arc::new(schema),
                validator: Arc::default(),
            });
        }
        let validator = compile_schema(&schema)?;
        if let Some(entry) = entry {
            remember(&entry);
        }
        Ok(LazySchema {
            schema: Arc::new(schema),
            validator: Arc::new(OnceLock::from(Ok(validator))),
        })
    }

    /// The entry for `text`: named by its SHA-256.
    fn entry(&self, text: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(Digest::of(text.as_bytes()).to_hex()))
    }
}

/// Whether `entry` says its schema compiled: a trusted file holding the format line.
fn known(entry: &Path) -> bool {
    crate::cache::trust_entry(entry).is_ok()
        && std::fs::read_to_string(entry).is_ok_and(|text| text.trim_end() == FORMAT)
}

/// Records that the schema of `entry` compiled; failing only costs a compile next time.
fn remember(entry: &Path) {
    if let Err(error) = crate::cache::write_private(entry, format!("{FORMAT}\n").as_bytes()) {
        tracing::debug!(entry = %entry.display(), %error, "could not record a compiled schema");
    }
}

/// A JSON Schema and its validator, compiled at load or at first use.
#[derive(Clone)]
pub(crate) struct LazySchema {
    schema: Arc<Value>,
    validator: Arc<OnceLock<Result<jsonschema::Validator, String>>>,
}

impl LazySchema {
    /// The validator, compiled now if the load left it; Err: why the schema does not
    /// compile.
    pub(crate) fn validator(&self) -> Result<&jsonschema::Validator, &str> {
        self.validator
            .get_or_init(|| compile_schema(&self.schema))
            .as_ref()
            .map_err(String::as_str)
    }

    /// Whether the validator is compiled yet.
    #[cfg(test)]
    fn compiled(&self) -> bool {
        self.validator.get().is_some()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &str = r#"{"type": "object", "required": ["text"]}"#;

    #[test]
    fn a_schema_text_compiles_at_its_first_load_and_at_first_use_after() {
        let cache = tempfile::tempdir().unwrap();
        let schemas = CompiledSchemas::new(Some(cache.path()));
        let value: Value = serde_json::from_str(SCHEMA).unwrap();

        let first = schemas.load(SCHEMA, value.clone()).unwrap();
        assert!(first.compiled(), "a new text is compiled at load");
        let again = CompiledSchemas::new(Some(cache.path()))
            .load(SCHEMA, value.clone())
            .unwrap();
        assert!(!again.compiled(), "a known text is left to first use");
        let validator = again.validator().unwrap();
        assert!(validator.is_valid(&json!({"text": "a"})));
        assert!(!validator.is_valid(&json!({})));

        // Without a cache directory nothing is known and nothing is written.
        let bare = CompiledSchemas::default().load(SCHEMA, value).unwrap();
        assert!(bare.compiled());
    }

    #[test]
    fn a_schema_that_does_not_compile_is_refused_at_load_and_never_recorded() {
        let cache = tempfile::tempdir().unwrap();
        let schemas = CompiledSchemas::new(Some(cache.path()));
        let bad = r#"{"type": 12}"#;
        let reason = schemas
            .load(bad, serde_json::from_str(bad).unwrap())
            .err()
            .unwrap();
        assert!(reason.contains("not a JSON Schema"), "{reason}");
        assert!(schemas.entry(bad).is_some_and(|e| !e.exists()));
    }

    #[test]
    fn a_forged_entry_defers_the_error_to_first_use_and_never_skips_the_check() {
        let cache = tempfile::tempdir().unwrap();
        let schemas = CompiledSchemas::new(Some(cache.path()));
        let bad = r#"{"type": 12}"#;
        remember(&schemas.entry(bad).unwrap());
        let lazy = schemas
            .load(bad, serde_json::from_str(bad).unwrap())
            .unwrap();
        let reason = lazy.validator().err().unwrap();
        assert!(reason.contains("not a JSON Schema"), "{reason}");
    }

    #[test]
    fn an_entry_of_another_format_or_not_a_file_is_not_trusted() {
        let cache = tempfile::tempdir().unwrap();
        let schemas = CompiledSchemas::new(Some(cache.path()));
        let value: Value = serde_json::from_str(SCHEMA).unwrap();
        let entry = schemas.entry(SCHEMA).unwrap();
        std::fs::create_dir_all(entry.parent().unwrap()).unwrap();
        std::fs::write(&entry, "something else\n").unwrap();
        assert!(schemas.load(SCHEMA, value.clone()).unwrap().compiled());
        std::fs::remove_file(&entry).unwrap();
        std::fs::create_dir(&entry).unwrap();
        assert!(schemas.load(SCHEMA, value).unwrap().compiled());
    }
}
