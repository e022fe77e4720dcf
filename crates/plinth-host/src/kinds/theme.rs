//! The `theme` kind (a `theme.json` colour-token map, no component) and the
//! `theme-provider` kind (themes a plugin computes), both checked against the published
//! theme schema (`docs/schemas/theme.schema.json`).

use std::collections::BTreeMap;

use plinth_manifest::plugin_file::{self, PluginFileError};
use plinth_manifest::{Kind, Manifest, ThemeProviderDecl};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ui::check_theme;
use super::{Binding, Checker, KindError, block};
use crate::error::HostError;
use crate::plugin::Plugin;

/// Largest `theme.json` read.
pub const THEME_MAX_BYTES: u64 = 256 * 1024;

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(String, String), (Result<String, String>,)>(
        "provide",
        "func(name: string, context: string) -> result<string, string>",
    )
}

/// Light or dark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Appearance {
    /// A light theme.
    Light,
    /// A dark theme.
    Dark,
}

/// A theme, checked against the theme schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemeSpec {
    /// The theme's display name (from its JSON).
    pub name: String,
    /// Light or dark.
    pub appearance: Appearance,
    /// The colour tokens (`background`, `foreground`, `accent`, and any others), each
    /// `#rgb`, `#rrggbb` or `#rrggbbaa`.
    pub colors: BTreeMap<String, String>,
}

/// A theme's JSON text as a [`ThemeSpec`], or `invalid-theme` with the JSON path.
fn parse_theme(plugin: &str, name: &str, text: &str) -> Result<ThemeSpec, KindError> {
    let value = check_theme(plugin, name, text)?;
    serde_json::from_value::<ThemeSpec>(value).map_err(|e| KindError::InvalidTheme {
        plugin: plugin.into(),
        theme: name.into(),
        reason: format!("does not read as a theme: {e}"),
        violations: Vec::new(),
    })
}

/// Reads and checks every `[[provides.theme]]` of `manifest`, by entry name: what a host
/// does at load, and what `plinth check` does for a theme-only plugin. Runs no code.
pub fn load_themes(manifest: &Manifest) -> Result<Vec<(String, ThemeSpec)>, KindError> {
    let plugin = manifest.id().as_str();
    manifest
        .provides
        .theme
        .iter()
        .map(|decl| {
            let file = manifest.dir.join(&decl.file);
            let text = plugin_file::read_to_string(&file, THEME_MAX_BYTES).map_err(|e| {
                let reason = match e {
                    PluginFileError::Missing { .. } => {
                        format!("has no file: {} does not exist", file.display())
                    }
                    other => format!("cannot be read: {other}"),
                };
                KindError::InvalidTheme {
                    plugin: plugin.into(),
                    theme: decl.name.clone(),
                    reason,
                    violations: Vec::new(),
                }
            })?;
            Ok((decl.name.clone(), parse_theme(plugin, &decl.name, &text)?))
        })
        .collect()
}

/// The `theme` kind of one plugin: [`Plugin::kind`]`::<`[`Theme`](super::Theme)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct Themes<'p> {
    themes: &'p [(String, ThemeSpec)],
}

impl<'p> Themes<'p> {
    pub(super) fn new(themes: &'p [(String, ThemeSpec)]) -> Self {
        Self { themes }
    }

    /// Every theme, by its `[[provides.theme]]` name, read and checked at load.
    pub fn list(&self) -> &'p [(String, ThemeSpec)] {
        self.themes
    }

    /// The theme called `name`.
    pub fn get(&self, name: &str) -> Option<&'p ThemeSpec> {
        self.themes.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

/// The `theme-provider` kind of one plugin:
/// [`Plugin::kind`]`::<`[`ThemeProvider`](super::ThemeProvider)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct ThemeProviders<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> ThemeProviders<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// The themes the manifest declares; nothing runs.
    pub fn themes(&self) -> &'p [ThemeProviderDecl] {
        self.plugin
            .manifest()
            .map_or(&[], |m| m.provides.theme_provider.as_slice())
    }

    /// Computes theme `name` for `context` in a fresh instance; the answer is checked
    /// against the theme schema (`invalid-theme` with the JSON path otherwise).
    pub async fn provide_async(&self, name: &str, context: &Value) -> Result<ThemeSpec, KindError> {
        let themes = self.themes();
        if !themes.is_empty() && !themes.iter().any(|t| t.name == name) {
            return Err(KindError::UnknownFormat {
                plugin: self.plugin.id().into(),
                kind: Kind::ThemeProvider,
                format: name.into(),
                known: themes.iter().map(|t| t.name.clone()).collect(),
            });
        }
        self.provide_guest_async(name, context).await
    }

    /// [`Self::provide_async`] without the manifest's name check: what the guest does
    /// with any name (the conformance kits ask it for a theme nobody declared).
    pub(crate) async fn provide_guest_async(
        &self,
        name: &str,
        context: &Value,
    ) -> Result<ThemeSpec, KindError> {
        let (answer,): (Result<String, String>,) = self
            .plugin
            .call_async(
                &self.binding.func("provide"),
                (name.to_owned(), context.to_string()),
            )
            .await?;
        let text = answer.map_err(|reason| KindError::PluginFailed {
            plugin: self.plugin.id().into(),
            what: format!("theme provider `{name}`"),
            code: "failed".into(),
            reason,
        })?;
        parse_theme(self.plugin.id(), name, &text)
    }

    /// Blocking [`Self::provide_async`].
    pub fn provide(&self, name: &str, context: &Value) -> Result<ThemeSpec, KindError> {
        block(
            self.plugin,
            &self.binding.func("provide"),
            self.provide_async(name, context),
        )
    }

    /// Blocking [`Self::provide_guest_async`].
    pub(crate) fn provide_guest(
        &self,
        name: &str,
        context: &Value,
    ) -> Result<ThemeSpec, KindError> {
        block(
            self.plugin,
            &self.binding.func("provide"),
            self.provide_guest_async(name, context),
        )
    }
}
