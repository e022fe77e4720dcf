//! `plinth:host/config`: the plugin's settings, schema-checked at load and on update.

use plinth_manifest::Grant;

use super::gate::CallGate;
use crate::bindings::config;
use crate::settings::SettingsCell;

/// What `config` sees of a call.
pub(crate) struct ConfigView<'a> {
    pub(crate) gate: CallGate<'a>,
    pub(crate) settings: &'a SettingsCell,
}

linked_through!(
    /// Links `plinth:host/config` to a [`ConfigView`].
    Config => ConfigView
);

impl config::Host for ConfigView<'_> {
    fn get_all(&mut self) -> Result<String, config::ConfigError> {
        self.gate.check(Grant::Config)?;
        Ok(self.settings.current().json.clone())
    }

    fn get(&mut self, key: String) -> Result<Option<String>, config::ConfigError> {
        self.gate.check(Grant::Config)?;
        Ok(self
            .settings
            .current()
            .value
            .get(&key)
            .map(|v| v.to_string()))
    }
}
