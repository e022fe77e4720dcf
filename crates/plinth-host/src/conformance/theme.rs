//! The `theme` kit's steps (docs/design/0041, 0044): the themes the host read and checked
//! against the schema at load, checked for what a schema cannot say — contrast, an
//! appearance that matches the colours, names and colours that tell themes apart.

use std::collections::BTreeSet;

use super::run::{Check, fail, unknown};
use super::suite::Case;
use super::theme_provider::{contrast, luminance, readable};
use crate::kinds::{Appearance, Theme, ThemeSpec};
use crate::plugin::Plugin;

/// WCAG 2's contrast for interface components (1.4.11).
const VISIBLE_CONTRAST: f64 = 3.0;

/// Largest theme file the kit calls compact.
const COMPACT_BYTES: u64 = 64 * 1024;

pub(super) fn step(
    case: &Case,
    plugin: &Plugin,
    reload: &dyn Fn() -> Result<Plugin, String>,
) -> Check {
    let themes = plugin.kind::<Theme>().map_err(|e| fail(e.to_string()))?;
    let list = themes.list();
    let each = |check: &dyn Fn(&ThemeSpec) -> Result<(), String>| -> Check {
        for (name, theme) in list {
            check(theme).map_err(|reason| fail(format!("theme `{name}`: {reason}")))?;
        }
        Ok(())
    };
    match (case.step.as_str(), case.expect.as_str()) {
        ("themes", "some") if list.is_empty() => {
            Err(fail("the manifest declares no [[provides.theme]]"))
        }
        ("themes", "some") => Ok(()),
        ("themes", "readable") => each(&readable),
        ("themes", "accent-differs") => each(&|theme| {
            let accent = color(theme, "accent")?.to_lowercase();
            for other in ["foreground", "background"] {
                if color(theme, other)?.to_lowercase() == accent {
                    return Err(format!("the accent is the {other} colour ({accent})"));
                }
            }
            Ok(())
        }),
        ("themes", "visible-accent") => each(&|theme| {
            let ratio = contrast(theme, "accent", "background")?;
            if ratio >= VISIBLE_CONTRAST {
                Ok(())
            } else {
                Err(format!(
                    "accent on background has a contrast ratio of {ratio:.2}, under {VISIBLE_CONTRAST}"
                ))
            }
        }),
        ("themes", "appearance-matches") => each(&|theme| {
            let background = color(theme, "background")?;
            let dark = luminance(background)
                .ok_or_else(|| format!("`background` is not a colour: {background}"))?
                < 0.5;
            match (theme.appearance, dark) {
                (Appearance::Dark, true) | (Appearance::Light, false) => Ok(()),
                (Appearance::Dark, false) => {
                    Err(format!("is dark but its background {background} is light"))
                }
                (Appearance::Light, true) => {
                    Err(format!("is light but its background {background} is dark"))
                }
            }
        }),
        ("themes", "opaque-background") => each(&|theme| {
            let background = color(theme, "background")?;
            let hex = background.trim_start_matches('#');
            match hex.get(6..8) {
                Some(alpha) if !alpha.eq_ignore_ascii_case("ff") => {
                    Err(format!("the background {background} is not opaque"))
                }
                _ => Ok(()),
            }
        }),
        ("themes", "named") => each(&|theme| {
            if theme.name.trim().is_empty() {
                Err("has a blank display name".into())
            } else {
                Ok(())
            }
        }),
        ("themes", "distinct-names") => {
            let mut seen = BTreeSet::new();
            for (name, theme) in list {
                if !seen.insert(theme.name.trim().to_lowercase()) {
                    return Err(fail(format!(
                        "theme `{name}` has the display name \"{}\" of another theme",
                        theme.name
                    )));
                }
            }
            Ok(())
        }
        ("themes", "distinct-colours") => {
            for (i, (name, theme)) in list.iter().enumerate() {
                if let Some((other, _)) = list[..i].iter().find(|(_, t)| t.colors == theme.colors) {
                    return Err(fail(format!(
                        "themes `{other}` and `{name}` have the same colours"
                    )));
                }
            }
            Ok(())
        }
        ("files", "compact") => {
            let Some(manifest) = plugin.manifest() else {
                return Err(fail("the plugin has no manifest"));
            };
            for decl in &manifest.provides.theme {
                let path = manifest.dir.join(&decl.file);
                let len = std::fs::metadata(&path)
                    .map_err(|e| fail(format!("{}: {e}", path.display())))?
                    .len();
                if len > COMPACT_BYTES {
                    return Err(fail(format!(
                        "theme `{}`: {} is {len} bytes, over {COMPACT_BYTES}",
                        decl.name,
                        decl.file.display()
                    )));
                }
            }
            Ok(())
        }
        ("reload", "same") => {
            let again = reload().map_err(fail)?;
            let again = again.kind::<Theme>().map_err(|e| fail(e.to_string()))?;
            if again.list() == list {
                Ok(())
            } else {
                Err(fail("loading the plugin again gave other themes"))
            }
        }
        (_, other) => Err(unknown(case, other)),
    }
}

/// The colour of `token`, or why there is none.
fn color<'t>(theme: &'t ThemeSpec, token: &str) -> Result<&'t str, String> {
    theme
        .colors
        .get(token)
        .map(String::as_str)
        .ok_or_else(|| format!("has no `{token}` colour"))
}
