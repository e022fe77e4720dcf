//! Plugin ids: the stable name a plugin is installed, granted and called by.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated plugin id: `[a-z0-9][a-z0-9._-]*`, at most 64 characters.
///
/// The grammar keeps ids safe as directory names, cache keys and grant-file keys on every
/// platform, and lower case so two ids never differ only by case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginId(String);

impl PluginId {
    /// The longest id allowed.
    pub const MAX_LEN: usize = 64;

    /// Validates `id`.
    pub fn new(id: impl Into<String>) -> Result<PluginId, PluginIdError> {
        let id = id.into();
        let mut bytes = id.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let rest_ok = bytes.all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
        if !(first_ok && rest_ok) {
            return Err(PluginIdError::BadCharacters(id));
        }
        if id.len() > Self::MAX_LEN {
            let len = id.len();
            return Err(PluginIdError::TooLong { id, len });
        }
        Ok(PluginId(id))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not a plugin id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginIdError {
    /// Empty, or a character outside the grammar.
    #[error(
        "{0:?} must match [a-z0-9][a-z0-9._-]* (lowercase letters, digits, '.', '_' and '-', starting with a letter or digit)"
    )]
    BadCharacters(String),
    /// Longer than [`PluginId::MAX_LEN`].
    #[error("{id:?} is {len} characters long; a plugin id has at most 64")]
    TooLong {
        /// The id as given.
        id: String,
        /// Its length.
        len: usize,
    },
}

impl FromStr for PluginId {
    type Err = PluginIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PluginId::new(s)
    }
}

impl fmt::Display for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PluginId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for PluginId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Serialize for PluginId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PluginId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        PluginId::new(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn id_table() {
        for good in ["example.hello", "a", "0", "a-b_c.d", &"a".repeat(64)] {
            assert_eq!(PluginId::new(good).unwrap().as_str(), good);
        }
        for bad in ["", "Bad Id", "-a", ".a", "_a", "a/b", "a b", "Ab", "é"] {
            assert_eq!(
                PluginId::new(bad),
                Err(PluginIdError::BadCharacters(bad.into())),
                "{bad}"
            );
        }
        let long = "a".repeat(65);
        assert_eq!(
            long.parse::<PluginId>(),
            Err(PluginIdError::TooLong { id: long, len: 65 })
        );
    }

    #[test]
    fn serde_validates() {
        let id: PluginId = serde_json::from_str("\"example.hello\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"example.hello\"");
        assert!(serde_json::from_str::<PluginId>("\"Bad\"").is_err());
    }
}
