//! A small walker over a parsed TOML table that remembers which keys the parser asked for, so
//! every key it did not ask for becomes an `unknown-key` warning with its full dotted path.
//!
//! A manual walk (rather than `#[derive(Deserialize)]` + `serde_ignored`) is used because
//! `[capabilities]` mixes fixed keys with app-defined ones, and because each bad value must be
//! reported with its exact key path and a reason written for people.

use std::path::Path;

use toml::{Table, Value};

use super::error::ManifestError;
use crate::diagnostic::{Code, Diagnostic};

/// What the walk accumulates across sections: the file for messages, and warnings.
#[derive(Debug)]
pub(super) struct Ctx<'f> {
    pub(super) file: &'f Path,
    pub(super) warnings: Vec<Diagnostic>,
}

impl<'f> Ctx<'f> {
    pub(super) fn new(file: &'f Path) -> Self {
        Ctx {
            file,
            warnings: Vec::new(),
        }
    }

    /// An `invalid-manifest` error for `key`.
    pub(super) fn invalid(&self, key: &str, reason: impl Into<String>) -> ManifestError {
        ManifestError::Invalid {
            file: self.file.to_path_buf(),
            key: key.to_owned(),
            reason: reason.into(),
        }
    }

    /// A type error for `key`, naming what was expected and what was found.
    pub(super) fn wrong_type(&self, key: &str, expected: &str, found: &Value) -> ManifestError {
        let found = found.type_str();
        let article = if found.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        self.invalid(key, format!("expected {expected}, found {article} {found}"))
    }

    pub(super) fn warn(&mut self, message: String, hint: &str) {
        self.warnings
            .push(Diagnostic::new(Code::UnknownKey, message).with_hint(hint));
    }
}

/// Joins a dotted key path, quoting keys that are not TOML bare keys so the path reads back
/// as the key the author wrote.
pub(super) fn join_key(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

/// One table being read, with the keys asked for so far.
#[derive(Debug)]
pub(super) struct Section<'t> {
    path: String,
    table: &'t Table,
    known: Vec<&'t str>,
}

impl<'t> Section<'t> {
    pub(super) fn new(path: String, table: &'t Table) -> Self {
        Section {
            path,
            table,
            known: Vec::new(),
        }
    }

    /// The section's own dotted path: `provides.file-loader[0]`.
    pub(super) fn path(&self) -> &str {
        &self.path
    }

    /// The full dotted path of `name` in this section.
    pub(super) fn key(&self, name: &str) -> String {
        join_key(&self.path, name)
    }

    /// The raw value of `name`, marking the key as known whether or not it is present.
    pub(super) fn get(&mut self, name: &'static str) -> Option<&'t Value> {
        self.known.push(name);
        self.table.get(name)
    }

    /// The keys nobody asked for yet, marking them known; `[capabilities]` uses this to
    /// collect app-defined capabilities.
    pub(super) fn take_rest(&mut self) -> Vec<(&'t String, &'t Value)> {
        let rest: Vec<_> = self
            .table
            .iter()
            .filter(|(k, _)| !self.known.contains(&k.as_str()))
            .collect();
        self.known.extend(rest.iter().map(|(k, _)| k.as_str()));
        rest
    }

    pub(super) fn string(
        &mut self,
        ctx: &Ctx<'_>,
        name: &'static str,
    ) -> Result<Option<&'t str>, ManifestError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ctx.wrong_type(&self.key(name), "a string", other)),
        }
    }

    pub(super) fn required_string(
        &mut self,
        ctx: &Ctx<'_>,
        name: &'static str,
    ) -> Result<&'t str, ManifestError> {
        self.string(ctx, name)?
            .ok_or_else(|| ctx.invalid(&self.key(name), "required key is missing"))
    }

    pub(super) fn bool(
        &mut self,
        ctx: &Ctx<'_>,
        name: &'static str,
    ) -> Result<Option<bool>, ManifestError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(ctx.wrong_type(&self.key(name), "true or false", other)),
        }
    }

    /// A strictly positive integer: a limit of zero would make every call fail, which is never
    /// what an author means.
    pub(super) fn positive(
        &mut self,
        ctx: &Ctx<'_>,
        name: &'static str,
    ) -> Result<Option<u64>, ManifestError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Integer(n)) => match u64::try_from(*n) {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(ctx.invalid(
                    &self.key(name),
                    format!("must be a positive integer, found {n}"),
                )),
            },
            Some(other) => Err(ctx.wrong_type(&self.key(name), "a positive integer", other)),
        }
    }

    pub(super) fn strings(
        &mut self,
        ctx: &Ctx<'_>,
        name: &'static str,
    ) -> Result<Vec<String>, ManifestError> {
        let key = self.key(name);
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(value) => string_array(ctx, &key, value),
        }
    }

    pub(super) fn table(
        &mut self,
        ctx: &Ctx<'_>,
        name: &'static str,
    ) -> Result<Option<Section<'t>>, ManifestError> {
        let key = self.key(name);
        match self.get(name) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(Section::new(key, t))),
            Some(other) => Err(ctx.wrong_type(&key, "a table", other)),
        }
    }

    /// Warns about every key nobody asked for, suggesting a known key when one is a likely
    /// misspelling.
    pub(super) fn finish(self, ctx: &mut Ctx<'_>) {
        for key in self.table.keys() {
            if self.known.contains(&key.as_str()) {
                continue;
            }
            let path = join_key(&self.path, key);
            let message = format!("unknown key `{path}` in {} is ignored", ctx.file.display());
            match closest(key, &self.known) {
                Some(guess) => ctx.warn(
                    message,
                    &format!("did you mean `{}`?", join_key(&self.path, guess)),
                ),
                None => ctx.warn(
                    message,
                    "check its spelling; keys this version of Plinth does not know are ignored so that newer manifests still load",
                ),
            }
        }
    }
}

/// An array of strings at `key`, naming the index of a bad element.
pub(super) fn string_array(
    ctx: &Ctx<'_>,
    key: &str,
    value: &Value,
) -> Result<Vec<String>, ManifestError> {
    let Value::Array(items) = value else {
        return Err(ctx.wrong_type(key, "an array of strings", value));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(ctx.wrong_type(&format!("{key}[{i}]"), "a string", other)),
        })
        .collect()
}

/// The known key closest to `key` by edit distance, if close enough to be a typo: one edit
/// for short keys (where two edits turn any key into any other), two otherwise.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let limit = if key.chars().count() <= 3 { 1 } else { 2 };
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance, small inputs only (manifest keys).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_quote_non_bare_keys() {
        assert_eq!(join_key("", "plugin"), "plugin");
        assert_eq!(join_key("plugin", "id"), "plugin.id");
        assert_eq!(join_key("capabilities", "a.b"), "capabilities.\"a.b\"");
        assert_eq!(join_key("x", "a b"), "x.\"a b\"");
    }

    #[test]
    fn edit_distance_table() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("descripton", "description"), 1);
        assert_eq!(edit_distance("kind", "knid"), 2);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(closest("verison", &["id", "version"]), Some("version"));
        assert_eq!(closest("homepage", &["id", "version"]), None);
        assert_eq!(closest("ab", &["id"]), None);
    }
}
