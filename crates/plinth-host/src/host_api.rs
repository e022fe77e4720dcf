//! Implementations of the `plinth:host` interfaces. Each checks the plugin's grant on
//! every call: an ungranted call is answered with the interface's `missing-grant` case
//! (or, for `log`, dropped) and recorded for a diagnostic after the call.

use plinth_manifest::Grant;

use crate::bindings::{config, log};
use crate::log::{LogLevel, LogSource};
use crate::state::StoreState;

impl From<log::Level> for LogLevel {
    fn from(level: log::Level) -> Self {
        match level {
            log::Level::Trace => LogLevel::Trace,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Error => LogLevel::Error,
        }
    }
}

/// The hint a `missing-grant` carries: the command an operator runs to grant it.
pub(crate) fn grant_hint(plugin: &str, grant: &Grant) -> String {
    format!(
        "grant `{grant}` to {plugin}: `plinth grant {plugin} {grant}` (or `plinth call --grant {grant} …`); its manifest must request it too"
    )
}

impl log::Host for StoreState {
    fn log(&mut self, level: log::Level, message: String) {
        let allowed = self.plugin.has(&Grant::Log);
        crate::caps::audit(&self.plugin.id, &Grant::Log, allowed);
        if !allowed {
            self.note_missing_grant(Grant::Log);
            return;
        }
        self.log(level.into(), LogSource::Api, message);
    }

    fn enabled(&mut self, _level: log::Level) -> bool {
        self.plugin.has(&Grant::Log)
    }
}

impl config::Host for StoreState {
    fn get_all(&mut self) -> Result<String, config::ConfigError> {
        self.check_config()?;
        Ok(self.plugin.settings.current().json.clone())
    }

    fn get(&mut self, key: String) -> Result<Option<String>, config::ConfigError> {
        self.check_config()?;
        Ok(self
            .plugin
            .settings
            .current()
            .value
            .get(&key)
            .map(|v| v.to_string()))
    }
}

impl StoreState {
    fn check_config(&mut self) -> Result<(), config::ConfigError> {
        let allowed = self.plugin.has(&Grant::Config);
        crate::caps::audit(&self.plugin.id, &Grant::Config, allowed);
        if allowed {
            return Ok(());
        }
        self.note_missing_grant(Grant::Config);
        Err(config::ConfigError::MissingGrant(grant_hint(
            &self.plugin.id,
            &Grant::Config,
        )))
    }
}
