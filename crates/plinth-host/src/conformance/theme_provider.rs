//! The `theme-provider` kit's steps (docs/design/0041): every declared theme asked with
//! the case's context, each answer checked against the theme schema by the host.
//!
//! "Answers" means a theme that passed the schema, or the plugin's own err; a trap, a
//! limit or a theme the host refuses is not an answer.

use serde_json::Value;

use super::run::{Check, Verdict, clean, fail, large_payload, unknown};
use super::suite::Case;
use crate::kinds::{KindError, ThemeProvider, ThemeSpec};
use crate::plugin::Plugin;

/// WCAG 2's contrast ratio for normal text at level AA.
const READABLE_CONTRAST: f64 = 4.5;

/// A theme name no plugin declares.
const UNKNOWN_THEME: &str = "conformance-unknown-theme";

pub(super) fn step(case: &Case, plugin: &Plugin) -> Check {
    let providers = plugin
        .kind::<ThemeProvider>()
        .map_err(|e| fail(e.to_string()))?;
    let context = context(case)?;
    let names: Vec<&str> = providers.themes().iter().map(|t| t.name.as_str()).collect();
    if names.is_empty() {
        return Err(Verdict::Skip(
            "the manifest declares no [[provides.theme-provider]] theme".into(),
        ));
    }
    let each = |check: &dyn Fn(&str) -> Result<(), String>| -> Check {
        for name in &names {
            check(name).map_err(|reason| fail(format!("theme `{name}`: {reason}")))?;
        }
        Ok(())
    };
    let provide = |name: &str| providers.provide(name, &context);
    match (case.step.as_str(), case.expect.as_str()) {
        ("provide", "valid-theme") => {
            each(&|name| provide(name).map(drop).map_err(|e| e.to_string()))
        }
        ("provide", "same-twice") => each(&|name| {
            let first = provide(name).map_err(|e| e.to_string())?;
            let second = provide(name).map_err(|e| e.to_string())?;
            if first == second {
                Ok(())
            } else {
                Err(format!("gave {first:?}, then {second:?}"))
            }
        }),
        ("provide", "readable") => each(&|name| {
            let theme = provide(name).map_err(|e| e.to_string())?;
            readable(&theme)
        }),
        ("provide", "answers") => each(&|name| match provide(name) {
            Ok(_) => Ok(()),
            Err(e) if clean(&e) => Ok(()),
            Err(e) => Err(e.to_string()),
        }),
        ("provide-guest", "error") => match providers.provide_guest(UNKNOWN_THEME, &context) {
            Err(KindError::PluginFailed { .. }) => Ok(()),
            Ok(theme) => Err(fail(format!(
                "gave a theme ({}) for a name nobody declared",
                theme.name
            ))),
            Err(e) => Err(fail(format!(
                "expected the plugin's err for a name nobody declared, got {e}"
            ))),
        },
        (_, other) => Err(unknown(case, other)),
    }
}

/// The case's `context`: a JSON value, or `"large:N"` (a JSON object of N bytes).
fn context(case: &Case) -> Result<Value, Verdict> {
    match &case.context {
        None => Ok(Value::Object(Default::default())),
        Some(Value::String(s)) => {
            let n = s
                .strip_prefix("large:")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| fail(format!("unknown `context = {s:?}` in the suite")))?;
            serde_json::from_str(&large_payload(n))
                .map_err(|e| fail(format!("a large context is not JSON: {e}")))
        }
        Some(value) => Ok(value.clone()),
    }
}

/// The WCAG 2 contrast ratio of the colours of tokens `a` and `b`.
pub(super) fn contrast(theme: &ThemeSpec, a: &str, b: &str) -> Result<f64, String> {
    let color = |token: &str| {
        let text = theme
            .colors
            .get(token)
            .ok_or_else(|| format!("has no `{token}` colour"))?;
        luminance(text).ok_or_else(|| format!("`{token}` is not a colour: {text}"))
    };
    let (la, lb) = (color(a)?, color(b)?);
    Ok((la.max(lb) + 0.05) / (la.min(lb) + 0.05))
}

/// Foreground on background reaches [`READABLE_CONTRAST`].
pub(super) fn readable(theme: &ThemeSpec) -> Result<(), String> {
    let ratio = contrast(theme, "foreground", "background")?;
    if ratio >= READABLE_CONTRAST {
        Ok(())
    } else {
        Err(format!(
            "foreground {} on background {} has a contrast ratio of {ratio:.2}, under {READABLE_CONTRAST}",
            theme.colors["foreground"], theme.colors["background"]
        ))
    }
}

/// The relative luminance (WCAG 2) of `#rgb`, `#rrggbb` or `#rrggbbaa` (alpha ignored).
pub(super) fn luminance(color: &str) -> Option<f64> {
    let hex = color.strip_prefix('#').filter(|h| h.is_ascii())?;
    let channel = |text: &str| u8::from_str_radix(text, 16).ok();
    let (r, g, b) = match hex.len() {
        3 => {
            let digit = |i: usize| channel(&hex[i..=i].repeat(2));
            (digit(0)?, digit(1)?, digit(2)?)
        }
        6 | 8 => (
            channel(&hex[0..2])?,
            channel(&hex[2..4])?,
            channel(&hex[4..6])?,
        ),
        _ => return None,
    };
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    Some(0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luminance_follows_wcag() {
        assert_eq!(luminance("#000"), Some(0.0));
        assert!((luminance("#ffffff").unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(luminance("#fff"), luminance("#ffffffcc"));
        assert_eq!(luminance("blue"), None);
        assert_eq!(luminance("#12345"), None);
        assert_eq!(luminance("#é12"), None);
        assert_eq!(luminance("#é1"), None);
    }

    #[test]
    fn contrast_under_aa_is_unreadable() {
        let theme = |fg: &str, bg: &str| ThemeSpec {
            name: "t".into(),
            appearance: crate::kinds::Appearance::Dark,
            colors: [("foreground", fg), ("background", bg)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        assert!(readable(&theme("#e0e0e0", "#1e1e1e")).is_ok());
        // #777 on white is 4.48:1, just under AA.
        assert!(readable(&theme("#777777", "#ffffff")).is_err());
        assert!(readable(&theme("#767676", "#ffffff")).is_ok());
    }
}
