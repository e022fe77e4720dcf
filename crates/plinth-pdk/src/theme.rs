//! The `theme-provider` kind: themes a plugin computes (a theme with no code is a
//! `theme.json` and needs no PDK).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::Plugin;

/// The `theme-provider` kind (world `plinth:theme-provider/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: theme_provider)`.
///
/// The application asks for a theme by name with a context of its own (e.g.
/// `{"appearance": "dark", "accent": "#3366ff"}`); the PDK parses the context
/// ([`Value::Null`] when it is not JSON), answers a name not in
/// [`THEMES`](ThemeProvider::THEMES) with an `Err` without calling
/// [`provide`](ThemeProvider::provide), and writes the [`Theme`] as the JSON the host
/// checks against the theme schema.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Adaptive;
///
/// impl Plugin for Adaptive {}
///
/// impl ThemeProvider for Adaptive {
///     const THEMES: &'static [&'static str] = &["adaptive"];
///
///     fn provide(_name: &str, context: Value) -> Result<Theme, String> {
///         let light = context["appearance"] == "light";
///         Ok(if light {
///             Theme::new("Adaptive", Appearance::Light, "#ffffff", "#202020", "#3366ff")
///         } else {
///             Theme::new("Adaptive", Appearance::Dark, "#1e1e1e", "#e0e0e0", "#3366ff")
///         })
///     }
/// }
///
/// plinth_pdk::export!(Adaptive: theme_provider);
/// # fn main() {}
/// ```
pub trait ThemeProvider: Plugin {
    /// The themes this provider computes: the `name`s of the manifest's
    /// `[[provides.theme-provider]]` entries.
    const THEMES: &'static [&'static str];

    /// Computes theme `name` for `context`. Answer any context, however odd, with a theme
    /// or an `Err`: a panic is a trap.
    fn provide(name: &str, context: Value) -> Result<Theme, String>;
}

/// Light or dark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appearance {
    /// A light theme.
    Light,
    /// A dark theme.
    Dark,
}

/// A theme: a display name, light or dark, and colour tokens (`#rgb`, `#rrggbb` or
/// `#rrggbbaa`; `background`, `foreground` and `accent` are required).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// The display name.
    pub name: String,
    /// Light or dark.
    pub appearance: Appearance,
    /// The colour tokens, e.g. `background`, `table.header`.
    pub colors: BTreeMap<String, String>,
}

impl Theme {
    /// A theme with the three required tokens.
    pub fn new(
        name: impl Into<String>,
        appearance: Appearance,
        background: &str,
        foreground: &str,
        accent: &str,
    ) -> Self {
        let colors = [
            ("background", background),
            ("foreground", foreground),
            ("accent", accent),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Self {
            name: name.into(),
            appearance,
            colors,
        }
    }

    /// The same theme with one more token (or a new value for one).
    pub fn with_color(mut self, token: impl Into<String>, color: impl Into<String>) -> Self {
        self.colors.insert(token.into(), color.into());
        self
    }

    /// The theme as the JSON of the theme schema.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "appearance": match self.appearance {
                Appearance::Light => "light",
                Appearance::Dark => "dark",
            },
            "colors": self.colors,
        })
    }
}

/// `theme-provider.provide`.
pub(crate) fn provide<T: ThemeProvider>(name: &str, context: &str) -> Result<String, String> {
    if !T::THEMES.contains(&name) {
        return Err(format!(
            "no theme `{name}`; this plugin provides {}",
            T::THEMES.join(", ")
        ));
    }
    let context = serde_json::from_str(context).unwrap_or(Value::Null);
    T::provide(name, context).map(|theme| theme.to_json().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl Plugin for Fixed {}

    impl ThemeProvider for Fixed {
        const THEMES: &'static [&'static str] = &["fixed"];

        fn provide(_name: &str, context: Value) -> Result<Theme, String> {
            Ok(
                Theme::new("Fixed", Appearance::Dark, "#000", "#fff", "#f80")
                    .with_color("note", context["note"].as_str().unwrap_or("#111")),
            )
        }
    }

    #[test]
    fn themes_are_written_as_the_schema_says() {
        let text = provide::<Fixed>("fixed", r##"{"note":"#222"}"##).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["appearance"], "dark");
        assert_eq!(value["colors"]["note"], "#222");
        assert_eq!(value["colors"]["accent"], "#f80");
        // A context that is not JSON reaches the provider as null.
        let text = provide::<Fixed>("fixed", "not json").unwrap();
        assert!(text.contains("#111"), "{text}");
    }

    #[test]
    fn undeclared_themes_are_answered_without_running_the_plugin() {
        let err = provide::<Fixed>("neon", "{}").unwrap_err();
        assert!(err.contains("no theme `neon`"), "{err}");
    }
}
