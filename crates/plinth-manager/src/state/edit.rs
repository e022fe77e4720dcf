//! [`StateDoc`]: format-preserving edits of the `[plugins]` table.

use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value};

use super::StateError;
use super::model::PluginsSection;

/// The `[plugins]` table of a parsed state file, open for edits inside
/// [`super::StateFile::update`].
#[derive(Debug)]
pub struct StateDoc<'a> {
    doc: &'a mut DocumentMut,
    path: &'a Path,
}

impl<'a> StateDoc<'a> {
    pub(crate) fn new(doc: &'a mut DocumentMut, path: &'a Path) -> Self {
        Self { doc, path }
    }

    fn invalid(&self, reason: impl Into<String>) -> StateError {
        StateError::Invalid {
            path: self.path.into(),
            reason: reason.into(),
        }
    }

    /// The typed section as it stands now.
    pub fn section(&self) -> Result<PluginsSection, StateError> {
        let Some(plugins) = self.doc.get("plugins") else {
            return Ok(PluginsSection::new());
        };
        // Re-rendered alone, the table reads like a small TOML document of its own.
        let mut alone = DocumentMut::new();
        alone.insert("plugins", plugins.clone());
        #[derive(serde::Deserialize)]
        struct Root {
            plugins: PluginsSection,
        }
        let root: Root = toml::from_str(&alone.to_string())
            .map_err(|e| self.invalid(e.to_string().trim_end().to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        for entry in &root.plugins.entries {
            if !seen.insert(entry.id.as_str()) {
                return Err(self.invalid(format!(
                    "plugin `{}` has two `[[plugins.entries]]`",
                    entry.id
                )));
            }
        }
        Ok(root.plugins)
    }

    fn entries_mut(&mut self) -> Result<&mut ArrayOfTables, StateError> {
        let path = self.path.to_path_buf();
        let plugins = self
            .doc
            .entry("plugins")
            .or_insert_with(|| Item::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| not_table(&path))?;
        plugins
            .entry("entries")
            .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
            .as_array_of_tables_mut()
            .ok_or_else(|| StateError::Invalid {
                path,
                reason: "`plugins.entries` must be written as `[[plugins.entries]]` tables to be edited by Plinth".into(),
            })
    }

    /// The entry table of `id`, if there is one.
    pub fn entry_mut(&mut self, id: &str) -> Result<Option<&mut Table>, StateError> {
        Ok(self
            .entries_mut()?
            .iter_mut()
            .find(|t| t.get("id").and_then(Item::as_str) == Some(id)))
    }

    /// The entry table of `id`, created (disabled, nothing granted) when missing.
    pub fn ensure_entry(&mut self, id: &str) -> Result<&mut Table, StateError> {
        let path = self.path;
        let entries = self.entries_mut()?;
        let at = entries
            .iter()
            .position(|t| t.get("id").and_then(Item::as_str) == Some(id));
        let at = match at {
            Some(at) => at,
            None => {
                let mut table = Table::new();
                table.insert("id", toml_edit::value(id));
                table.insert("enabled", toml_edit::value(false));
                table.insert("grants", toml_edit::value(Array::new()));
                entries.push(table);
                entries.len() - 1
            }
        };
        entries.get_mut(at).ok_or_else(|| not_table(path))
    }

    /// Sets `enabled`; returns the previous value (absent reads as `false`).
    pub fn set_enabled(&mut self, id: &str, enabled: bool) -> Result<bool, StateError> {
        let entry = self.ensure_entry(id)?;
        let before = entry
            .get("enabled")
            .and_then(Item::as_bool)
            .unwrap_or(false);
        set_keeping_decor(entry, "enabled", Value::from(enabled));
        Ok(before)
    }

    /// Writes `artifact_path` (relative to the state file's directory when it is inside it).
    pub fn set_artifact_path(&mut self, id: &str, component: &Path) -> Result<(), StateError> {
        let base = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let relative = relative_to(component, &base);
        let text = relative.to_string_lossy().into_owned();
        let entry = self.ensure_entry(id)?;
        if entry.get("artifact_path").and_then(Item::as_str) != Some(text.as_str()) {
            set_keeping_decor(entry, "artifact_path", Value::from(text));
        }
        Ok(())
    }

    /// Adds grant strings not yet present; returns the ones added.
    pub fn add_grants(&mut self, id: &str, grants: &[String]) -> Result<Vec<String>, StateError> {
        let path = self.path.to_path_buf();
        let entry = self.ensure_entry(id)?;
        let array = grants_array(entry, &path)?;
        let mut added = Vec::new();
        for grant in grants {
            let present = array.iter().any(|v| v.as_str() == Some(grant.as_str()));
            if !present {
                array.push(grant.as_str());
                added.push(grant.clone());
            }
        }
        Ok(added)
    }

    /// Takes back the operator's review of `id`: `enabled = false` and no grants (settings
    /// and the rest of the entry stay). For a plugin that is new or replaced under an id
    /// that had an entry (docs/design/0034). Returns what was taken back; `None` when `id`
    /// has no entry (none is created).
    pub fn reset_review(&mut self, id: &str) -> Result<Option<ReviewReset>, StateError> {
        let path = self.path.to_path_buf();
        let Some(entry) = self.entry_mut(id)? else {
            return Ok(None);
        };
        let was_enabled = entry
            .get("enabled")
            .and_then(Item::as_bool)
            .unwrap_or(false);
        set_keeping_decor(entry, "enabled", Value::from(false));
        let array = grants_array(entry, &path)?;
        let grants = array
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        array.clear();
        Ok(Some(ReviewReset {
            was_enabled,
            grants,
        }))
    }

    /// Replaces the settings (`config` table) of `id`, creating the entry (disabled, nothing
    /// granted) when missing. Nested objects are written as inline tables. A JSON `null`
    /// has no TOML form: it is refused, nothing changes.
    pub fn set_config(
        &mut self,
        id: &str,
        config: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), StateError> {
        let mut values = Vec::with_capacity(config.len());
        for (key, value) in config {
            let value = toml_value(value).map_err(|reason| StateError::Invalid {
                path: self.path.to_path_buf(),
                reason: format!("setting `{key}` of `{id}`: {reason}"),
            })?;
            values.push((key.as_str(), value));
        }
        let entry = self.ensure_entry(id)?;
        match entry.get_mut("config").and_then(Item::as_table_mut) {
            // Filled in place: the table keeps its position in the file.
            Some(table) => {
                table.clear();
                for (key, value) in values {
                    table.insert(key, Item::Value(value));
                }
            }
            None => {
                let mut table = Table::new();
                for (key, value) in values {
                    table.insert(key, Item::Value(value));
                }
                entry.insert("config", Item::Table(table));
            }
        }
        Ok(())
    }

    /// Removes grant strings; returns the ones that were present.
    pub fn remove_grants(
        &mut self,
        id: &str,
        grants: &[String],
    ) -> Result<Vec<String>, StateError> {
        let path = self.path.to_path_buf();
        let Some(entry) = self.entry_mut(id)? else {
            return Ok(Vec::new());
        };
        let array = grants_array(entry, &path)?;
        let mut removed = Vec::new();
        for grant in grants {
            let at = array
                .iter()
                .position(|v| v.as_str() == Some(grant.as_str()));
            if let Some(at) = at {
                array.remove(at);
                removed.push(grant.clone());
            }
        }
        Ok(removed)
    }
}

/// What [`StateDoc::reset_review`] took back.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReviewReset {
    /// Whether the plugin was enabled.
    pub was_enabled: bool,
    /// The grants it had.
    pub grants: Vec<String>,
}

fn not_table(path: &Path) -> StateError {
    StateError::Invalid {
        path: path.into(),
        reason: "`plugins` must be a table (`[plugins]`)".into(),
    }
}

/// The entry's `grants` array, created when missing.
fn grants_array<'t>(entry: &'t mut Table, path: &Path) -> Result<&'t mut Array, StateError> {
    entry
        .entry("grants")
        .or_insert_with(|| toml_edit::value(Array::new()))
        .as_array_mut()
        .ok_or_else(|| StateError::Invalid {
            path: path.into(),
            reason: "`grants` must be an array of strings".into(),
        })
}

/// Replaces a value but keeps its decor (the comment after it, the spacing around it).
fn set_keeping_decor(table: &mut Table, key: &str, mut new: Value) {
    if let Some(old) = table.get(key).and_then(Item::as_value) {
        *new.decor_mut() = old.decor().clone();
    }
    table.insert(key, Item::Value(new));
}

/// `path` relative to `base` when it lies under it, else `path` unchanged.
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (path_abs, base_abs) = (absolute(path), absolute(base));
    match path_abs.strip_prefix(&base_abs) {
        Ok(rest) => rest.to_path_buf(),
        Err(_) => path.to_path_buf(),
    }
}

/// A JSON value as TOML: objects as inline tables; `null` has no TOML form.
fn toml_value(value: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as Json;
    Ok(match value {
        Json::Null => return Err("`null` has no TOML form".into()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(f)) if n.as_u64().is_none() => Value::from(f),
            _ => return Err(format!("{n} is out of TOML's integer range")),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => {
            let mut array = Array::new();
            for item in items {
                array.push(toml_value(item)?);
            }
            Value::Array(array)
        }
        Json::Object(fields) => {
            let mut table = toml_edit::InlineTable::new();
            for (key, field) in fields {
                table.insert(key, toml_value(field)?);
            }
            Value::InlineTable(table)
        }
    })
}
