//! The host configuration file, `<home>/config.toml` (DESIGN §3).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::EngineSettings;
use crate::limits::Limits;

/// `[paths]`: where plugins live.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Paths {
    /// The user plugin directory (default `<home>/plugins`).
    pub user_dir: Option<PathBuf>,
    /// The system plugin directory (read-only to Plinth).
    pub system_dir: Option<PathBuf>,
}

/// `[security]`: what installs must prove.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Security {
    /// Refuse to install a package without a signature by a trusted key (default true;
    /// `plinth install --allow-unsigned` overrides it for one install).
    pub require_signatures: bool,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            require_signatures: true,
        }
    }
}

/// `[registry]`: where `plinth search` and registry installs look for plugins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrySettings {
    /// The plugin index: a JSON file path or an `http(s)://` URL.
    pub index: Option<String>,
}

/// The whole host configuration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct HostConfig {
    /// Per-call limits.
    pub limits: Limits,
    /// Engine-wide settings (pooling).
    pub engine: EngineSettings,
    /// Plugin directories.
    pub paths: Paths,
    /// Directory names grants may use, mapped to host paths.
    pub dirs: BTreeMap<String, PathBuf>,
    /// Install policy.
    pub security: Security,
    /// The plugin registry index.
    pub registry: RegistrySettings,
    /// Outgoing HTTP limits and switches.
    pub network: crate::NetworkSettings,
    /// `wasi:sockets` limits.
    pub sockets: crate::SocketSettings,
    /// Where the key-value store lives: redb (default) or a PostgreSQL or Redis server.
    pub kv: crate::KvSettings,
    /// Where events travel: the host's own bus (default) or a NATS server.
    pub events: crate::EventSettings,
    /// OpenTelemetry export (docs/design/0069).
    pub telemetry: crate::telemetry::TelemetrySettings,
}

/// The configuration file could not be read or parsed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

impl HostConfig {
    /// Reads `path`; a missing file is the default configuration.
    pub fn load(path: &Path) -> Result<HostConfig, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HostConfig::default()),
            Err(e) => {
                return Err(ConfigError {
                    path: path.into(),
                    reason: e.to_string(),
                });
            }
        };
        toml::from_str(&text).map_err(|e| ConfigError {
            path: path.into(),
            reason: e.to_string(),
        })
    }

    /// A [`crate::HostBuilder`] with these limits, engine, network and sockets settings and `[dirs]`
    /// (the directory names `fs.read:`, `fs.write:` and `watch:` grants use).
    pub fn host_builder(&self) -> crate::HostBuilder {
        let builder = crate::Host::builder()
            .limits(self.limits)
            .engine_settings(self.engine)
            .network(self.network.clone())
            .sockets(self.sockets)
            .kv_settings(self.kv.clone())
            .event_settings(self.events.clone());
        self.dirs
            .iter()
            .fold(builder, |builder, (name, path)| builder.dir(name, path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_limits_and_dirs() {
        let config: HostConfig = toml::from_str(
            r#"
            [limits]
            fuel_units = 10
            wall_timeout_ms = 20
            [dirs]
            waves = "/home/user/waves"
            "#,
        )
        .unwrap();
        assert_eq!(config.limits.fuel_units, 10);
        assert_eq!(config.limits.wall_timeout_ms, 20);
        assert_eq!(config.limits.mem_bytes, crate::limits::DEFAULT_MEMORY_BYTES);
        assert_eq!(config.dirs["waves"], PathBuf::from("/home/user/waves"));
    }

    #[test]
    fn reads_the_kv_backend() {
        assert_eq!(HostConfig::default().kv.backend, crate::KvBackendKind::Redb);
        let config: HostConfig = toml::from_str(
            "[kv]\nbackend = \"postgres\"\nurl = \"postgres://u:p@127.0.0.1:5432/db\"\npool_size = 4",
        )
        .unwrap();
        assert_eq!(config.kv.backend, crate::KvBackendKind::Postgres);
        assert_eq!(config.kv.pool_size, 4);
        assert_eq!(config.kv.timeout_ms, 5_000);
        assert!(toml::from_str::<HostConfig>("[kv]\nbackend = \"etcd\"").is_err());
        let config: HostConfig =
            toml::from_str("[events]\nbackend = \"nats\"\nurl = \"nats://127.0.0.1:4222\"")
                .unwrap();
        assert_eq!(config.events.backend, crate::EventBackendKind::Nats);
        assert_eq!(config.events.subject_prefix, "plinth");
    }

    #[test]
    fn signatures_are_required_unless_turned_off() {
        assert!(HostConfig::default().security.require_signatures);
        let config: HostConfig = toml::from_str("[security]\nrequire_signatures = false").unwrap();
        assert!(!config.security.require_signatures);
        assert!(toml::from_str::<HostConfig>("[security]\nrequire = false").is_err());
    }

    #[test]
    fn reads_the_registry_index() {
        let config: HostConfig =
            toml::from_str("[registry]\nindex = \"https://plugins.example.org/index.json\"")
                .unwrap();
        assert_eq!(
            config.registry.index.as_deref(),
            Some("https://plugins.example.org/index.json")
        );
        assert_eq!(HostConfig::default().registry.index, None);
    }

    #[test]
    fn reads_the_network_section() {
        let config: HostConfig =
            toml::from_str("[network]\nmax_body_bytes = 1024\nconsent = \"ask\"").unwrap();
        assert_eq!(config.network.max_body_bytes, 1024);
        assert_eq!(config.network.consent, crate::ConsentMode::Ask);
        assert_eq!(
            config.network.burst,
            crate::NetworkSettings::default().burst
        );
        assert!(toml::from_str::<HostConfig>("[network]\nrps = 1").is_err());
    }

    #[test]
    fn reads_the_sockets_section() {
        let config: HostConfig = toml::from_str("[sockets]\nmax_open = 2").unwrap();
        assert_eq!(config.sockets.max_open, 2);
        assert_eq!(
            config.sockets.max_bytes_per_call,
            crate::DEFAULT_MAX_SOCKET_BYTES
        );
        assert!(toml::from_str::<HostConfig>("[sockets]\nudp = true").is_err());
    }

    #[test]
    fn unknown_limit_is_an_error() {
        assert!(toml::from_str::<HostConfig>("[limits]\nfuel = 1").is_err());
    }
}
