//! `plugin-host.toml`, Stack Composer's plugin-host configuration (seed 002, § 8), and what
//! each key becomes in Plinth.
//!
//! ```toml
//! [limits]                      # Plinth's per-call limits, same names
//! fuel_units = 10000000
//! mem_bytes = 268435456
//! wall_timeout_ms = 5000
//!
//! [paths]
//! user_dir = "~/.local/share/stack-composer/plugins"   # wins an id found in both
//! system_dir = "/opt/stack-composer/plugins"
//! trusted_keys = "~/.local/share/stack-composer/trusted_keys.toml"
//! state_dir = "~/.local/share/stack-composer/plinth"  # compile cache, Plinth's trust store
//!
//! [network]
//! mode = "online"                # or "offline": every fetch refused before any socket
//! proxy = "http://127.0.0.1:3128"  # optional: every request goes through it
//! allow_http = false             # plain http:// URLs (https only by default)
//!
//! [permissions]                  # what the app grants each plugin (deny by default)
//! "org.example.hello" = ["log", "retrieval", "llm", "plan", "network"]
//!
//! [reload]
//! watch = true                   # hot reload on file change
//! debounce_ms = 200
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plinth_host::{Limits, NetworkMode, NetworkSettings};
use serde::Deserialize;

/// The whole `plugin-host.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginHostConfig {
    /// `[limits]`: Plinth's [`Limits`] (the seed's three keys, and Plinth's others).
    pub limits: Limits,
    /// `[paths]`.
    pub paths: PathsConfig,
    /// `[network]`.
    pub network: NetworkConfig,
    /// `[permissions]`: plugin id → grant strings (`log`, `retrieval`, `retrieval:docs`,
    /// `llm`, `plan`, `network`, or any Plinth grant). A plugin not listed is granted
    /// nothing: its calls into a host function fail with `missing-grant`.
    pub permissions: BTreeMap<String, Vec<String>>,
    /// `[reload]`.
    pub reload: ReloadConfig,
}

/// `[paths]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathsConfig {
    /// The user plugin directory (default `~/.local/share/stack-composer/plugins`).
    pub user_dir: Option<PathBuf>,
    /// The system plugin directory (default `/opt/stack-composer/plugins`).
    pub system_dir: Option<PathBuf>,
    /// The trusted keys (default `trusted_keys.toml` beside the user directory).
    pub trusted_keys: Option<PathBuf>,
    /// Where Plinth keeps its compile cache and its form of the trusted keys (default
    /// `plinth` beside the user directory).
    pub state_dir: Option<PathBuf>,
}

/// `[network]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// `online` (default) or `offline`.
    pub mode: NetworkMode,
    /// `http://HOST:PORT` of the proxy every request goes through.
    pub proxy: Option<String>,
    /// Whether plain `http://` URLs may be fetched.
    pub allow_http: bool,
}

/// `[reload]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReloadConfig {
    /// Watch the plugin directories and reload a plugin whose files change (default true).
    pub watch: bool,
    /// How long changes settle before a reload, in milliseconds (default 200).
    pub debounce_ms: u64,
}

impl Default for ReloadConfig {
    fn default() -> Self {
        Self {
            watch: true,
            debounce_ms: 200,
        }
    }
}

/// `plugin-host.toml` could not be read or parsed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

impl PluginHostConfig {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<PluginHostConfig, ConfigError> {
        let error = |reason: String| ConfigError {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        toml::from_str(&text).map_err(|e| error(e.message().to_owned()))
    }

    /// The user plugin directory, `~` expanded.
    pub fn user_dir(&self) -> PathBuf {
        expand(
            self.paths
                .user_dir
                .as_deref()
                .unwrap_or(Path::new("~/.local/share/stack-composer/plugins")),
        )
    }

    /// The system plugin directory, `~` expanded.
    pub fn system_dir(&self) -> PathBuf {
        expand(
            self.paths
                .system_dir
                .as_deref()
                .unwrap_or(Path::new("/opt/stack-composer/plugins")),
        )
    }

    /// The trusted-keys file, `~` expanded.
    pub fn trusted_keys(&self) -> PathBuf {
        match &self.paths.trusted_keys {
            Some(path) => expand(path),
            None => beside_user_dir(&self.user_dir(), "trusted_keys.toml"),
        }
    }

    /// Plinth's state directory, `~` expanded.
    pub fn state_dir(&self) -> PathBuf {
        match &self.paths.state_dir {
            Some(path) => expand(path),
            None => beside_user_dir(&self.user_dir(), "plinth"),
        }
    }

    /// The grants of plugin `id` (none when `[permissions]` does not list it).
    pub fn grants_of(&self, id: &str) -> Vec<String> {
        self.permissions.get(id).cloned().unwrap_or_default()
    }

    /// Plinth's network settings for `[network]`.
    pub fn network_settings(&self) -> NetworkSettings {
        let mut settings = NetworkSettings::default()
            .with_mode(self.network.mode)
            .with_plain_http(self.network.allow_http);
        if let Some(proxy) = &self.network.proxy {
            settings = settings.with_proxy(proxy.clone());
        }
        settings
    }
}

fn beside_user_dir(user_dir: &Path, name: &str) -> PathBuf {
    user_dir.parent().unwrap_or(Path::new(".")).join(name)
}

/// `~/x` as `$HOME/x`; other paths as they are.
fn expand(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_seeds_file_and_defaults_the_rest() {
        let config: PluginHostConfig = toml::from_str(
            r#"
            [limits]
            fuel_units   = 10000000
            mem_bytes    = 268435456
            wall_timeout_ms = 5000

            [paths]
            user_dir  = "/home/u/.local/share/stack-composer/plugins"
            system_dir = "/opt/stack-composer/plugins"
            "#,
        )
        .unwrap();
        assert_eq!(config.limits.fuel_units, 10_000_000);
        assert_eq!(config.limits.mem_bytes, 268_435_456);
        assert_eq!(config.limits.wall_timeout_ms, 5_000);
        assert_eq!(
            config.trusted_keys(),
            Path::new("/home/u/.local/share/stack-composer/trusted_keys.toml")
        );
        assert_eq!(
            config.state_dir(),
            Path::new("/home/u/.local/share/stack-composer/plinth")
        );
        assert_eq!(config.network.mode, NetworkMode::Online);
        assert!(config.reload.watch);
        assert!(config.grants_of("org.example.hello").is_empty());
    }

    #[test]
    fn network_modes_and_permissions() {
        let config: PluginHostConfig = toml::from_str(
            r#"
            [network]
            mode = "offline"
            proxy = "http://127.0.0.1:3128"
            [permissions]
            "org.example.hello" = ["log", "retrieval:docs"]
            "#,
        )
        .unwrap();
        let settings = config.network_settings();
        assert_eq!(settings.mode, NetworkMode::Offline);
        assert_eq!(settings.proxy.as_deref(), Some("http://127.0.0.1:3128"));
        assert_eq!(
            config.grants_of("org.example.hello"),
            ["log", "retrieval:docs"]
        );
        assert!(toml::from_str::<PluginHostConfig>("[network]\nmode = \"airplane\"").is_err());
        assert!(toml::from_str::<PluginHostConfig>("[limits]\nfuel = 1").is_err());
    }
}
