//! `schema_version` migrations of a `[plugins]` table, done on the `toml_edit` document so
//! comments, order and unknown keys survive.
//!
//! Version 0 is a `[plugins]` table without `schema_version`: the layout of the first
//! `.novywave` prototype. Its entries are `[[plugins.entries]]` tables like version 1's,
//! except that
//!
//! - the component is `path` (version 1: `artifact_path`),
//! - the settings table is `settings` (version 1: `config`),
//! - `enabled` may be absent and then means `true` (the prototype loaded every entry it
//!   listed; version 1 reads an absent `enabled` as `false`).
//!
//! Migrating renames the two keys (keeping their values and comments; a renamed key moves
//! to the end of its entry), writes `enabled = true` where it was absent, and sets
//! `schema_version = 1`.

use toml_edit::{Item, Key, Table, value};

use super::StateError;
use super::model::SCHEMA_VERSION;

/// What [`migrate`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Migration {
    /// Already the current version.
    Current,
    /// Migrated from this older version.
    From(u32),
}

/// The version written in `plugins`, 0 when absent.
pub(crate) fn version_of(plugins: &Table) -> Result<u32, String> {
    match plugins.get("schema_version") {
        None => Ok(0),
        Some(item) => item
            .as_integer()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| "`plugins.schema_version` must be a non-negative integer".into()),
    }
}

/// Brings `plugins` to [`SCHEMA_VERSION`] in place; refuses a newer version.
pub(crate) fn migrate(
    plugins: &mut Table,
    file: &std::path::Path,
) -> Result<Migration, StateError> {
    let found = version_of(plugins).map_err(|reason| StateError::Invalid {
        path: file.into(),
        reason,
    })?;
    if found > SCHEMA_VERSION {
        return Err(StateError::TooNew {
            path: file.into(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(Migration::Current);
    }
    v0_to_v1(plugins);
    Ok(Migration::From(found))
}

fn v0_to_v1(plugins: &mut Table) {
    if let Some(entries) = plugins
        .get_mut("entries")
        .and_then(Item::as_array_of_tables_mut)
    {
        for entry in entries.iter_mut() {
            rename(entry, "path", "artifact_path");
            rename(entry, "settings", "config");
            if !entry.contains_key("enabled") {
                entry.insert("enabled", value(true));
            }
        }
    }
    plugins.set_implicit(false);
    plugins.insert("schema_version", value(i64::from(SCHEMA_VERSION)));
    // `schema_version` goes first, where people look for it.
    plugins.sort_values_by(|a, _, b, _| {
        let rank = |k: &Key| u8::from(k.get() != "schema_version");
        rank(a).cmp(&rank(b))
    });
}

/// Renames `from` to `to` keeping the value and its decor, unless `to` is already set.
fn rename(entry: &mut Table, from: &str, to: &str) {
    if entry.contains_key(to) {
        return;
    }
    if let Some((key, item)) = entry.remove_entry(from) {
        let new_key = Key::new(to).with_leaf_decor(key.leaf_decor().clone());
        entry.insert_formatted(&new_key, item);
    }
}
