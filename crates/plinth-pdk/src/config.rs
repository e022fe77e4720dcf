//! The plugin's settings, read on demand (`plinth:host/config`).
//!
//! Needs the `config` capability. `Plugin::on_load` receives the same settings without it.

use std::fmt;

use serde_json::Value;

use crate::bindings::plinth::host::config as host;

/// Why a settings read failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The plugin was not granted `config`; the payload is the host's hint.
    MissingGrant(String),
    /// The host sent text that is not JSON (a host bug, reported rather than hidden).
    InvalidJson(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingGrant(hint) => write!(f, "the `config` capability is not granted: {hint}"),
            Self::InvalidJson(why) => write!(f, "the host sent settings that are not JSON: {why}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<host::ConfigError> for ConfigError {
    fn from(err: host::ConfigError) -> Self {
        match err {
            host::ConfigError::MissingGrant(hint) => Self::MissingGrant(hint),
        }
    }
}

/// All settings, as one JSON object.
pub fn get_all() -> Result<Value, ConfigError> {
    parse(&host::get_all()?)
}

/// Setting `key` as JSON, or `None` when it is not set.
pub fn get(key: &str) -> Result<Option<Value>, ConfigError> {
    host::get(key)?.map(|text| parse(&text)).transpose()
}

fn parse(text: &str) -> Result<Value, ConfigError> {
    serde_json::from_str(text).map_err(|err| ConfigError::InvalidJson(err.to_string()))
}
