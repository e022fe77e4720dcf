//! Parsing of the fixed sections of `plugin.toml`: `[plugin]`, `[runtime]`, `[limits]`,
//! and `[settings]`. (`[capabilities]` and `[provides]` have modules of their own.)

use std::path::{Component, Path, PathBuf};

use super::error::ManifestError;
use super::reader::{Ctx, Section};
use super::{LimitOverrides, PluginId, PluginMeta, Runtime, SettingsDecl};
use crate::digest::Digest;

/// The one runtime kind Plinth runs.
pub(super) const COMPONENT_KIND: &str = "wasm-component";

/// Longest tool name: the limit LLM function-calling APIs put on tool names.
const MAX_TOOL_NAME_LEN: usize = 64;

pub(super) fn plugin_meta(
    ctx: &mut Ctx<'_>,
    root: &mut Section<'_>,
) -> Result<PluginMeta, ManifestError> {
    let Some(mut plugin) = root.table(ctx, "plugin")? else {
        return Err(ctx.invalid(
            "plugin",
            "required table is missing: every manifest starts with [plugin] giving id and version",
        ));
    };
    let id_text = plugin.required_string(ctx, "id")?;
    let id = PluginId::new(id_text).map_err(|e| ctx.invalid("plugin.id", e.to_string()))?;
    let version_text = plugin.required_string(ctx, "version")?;
    let version = semver::Version::parse(version_text).map_err(|e| {
        ctx.invalid(
            "plugin.version",
            format!("{version_text:?} is not a semver version (like \"0.1.0\"): {e}"),
        )
    })?;
    let meta = PluginMeta {
        id,
        version,
        name: plugin.string(ctx, "name")?.map(str::to_owned),
        description: plugin.string(ctx, "description")?.map(str::to_owned),
        license: plugin.string(ctx, "license")?.map(str::to_owned),
        authors: plugin.strings(ctx, "authors")?,
    };
    plugin.finish(ctx);
    Ok(meta)
}

/// Checks `runtime.kind` before anything else in the manifest, so a plugin written for an
/// older runtime gets the `legacy-runtime` advice rather than complaints about keys its
/// format never had.
pub(super) fn check_runtime_kind(
    ctx: &Ctx<'_>,
    runtime: &mut Section<'_>,
) -> Result<(), ManifestError> {
    match runtime.string(ctx, "kind")? {
        Some(COMPONENT_KIND) => Ok(()),
        Some(other) => Err(ManifestError::LegacyRuntime {
            file: ctx.file.to_path_buf(),
            kind: other.to_owned(),
        }),
        None => Err(ctx.invalid(
            "runtime.kind",
            "required key is missing: set kind = \"wasm-component\"",
        )),
    }
}

pub(super) fn runtime(
    ctx: &mut Ctx<'_>,
    mut runtime: Section<'_>,
) -> Result<Runtime, ManifestError> {
    let component_text = runtime.required_string(ctx, "component")?;
    let component = relative_path(ctx, "runtime.component", component_text)?;
    let api = match runtime.string(ctx, "api")? {
        None => None,
        Some(text) => Some(semver::Version::parse(text).map_err(|e| {
            ctx.invalid(
                "runtime.api",
                format!("{text:?} is not a semver version (like \"0.1.0\"): {e}"),
            )
        })?),
    };
    let world = match runtime.string(ctx, "world")? {
        None => None,
        Some(text) if is_wit_name(text) => Some(text.to_owned()),
        Some(text) => {
            return Err(ctx.invalid(
                "runtime.world",
                format!("{text:?} is not a WIT world name: use kebab-case, e.g. \"tool\""),
            ));
        }
    };
    let digest = match runtime.string(ctx, "digest")? {
        None => None,
        Some(text) => Some(
            text.parse::<Digest>()
                .map_err(|e| ctx.invalid("runtime.digest", e.to_string()))?,
        ),
    };
    runtime.finish(ctx);
    Ok(Runtime {
        component,
        api,
        world,
        digest,
    })
}

pub(super) fn limits(
    ctx: &mut Ctx<'_>,
    root: &mut Section<'_>,
) -> Result<LimitOverrides, ManifestError> {
    let Some(mut limits) = root.table(ctx, "limits")? else {
        return Ok(LimitOverrides::default());
    };
    let overrides = LimitOverrides {
        fuel_units: limits.positive(ctx, "fuel_units")?,
        mem_bytes: limits.positive(ctx, "mem_bytes")?,
        wall_timeout_ms: limits.positive(ctx, "wall_timeout_ms")?,
    };
    // The wasm stack size is an Engine setting shared by every plugin (DESIGN §5), so a
    // per-plugin value cannot be honoured; say so rather than calling the key unknown.
    if limits.get("max_stack_bytes").is_some() {
        let message = format!(
            "`limits.max_stack_bytes` in {} is ignored: the wasm stack limit is host-wide (an engine setting), not per plugin",
            ctx.file.display()
        );
        ctx.warn(
            message,
            "remove it from plugin.toml; operators set [limits] max_stack_bytes in the host's config.toml",
        );
    }
    limits.finish(ctx);
    Ok(overrides)
}

pub(super) fn settings(
    ctx: &mut Ctx<'_>,
    root: &mut Section<'_>,
) -> Result<Option<SettingsDecl>, ManifestError> {
    let Some(mut settings) = root.table(ctx, "settings")? else {
        return Ok(None);
    };
    let schema = match settings.string(ctx, "schema")? {
        None => None,
        Some(text) => Some(relative_path(ctx, "settings.schema", text)?),
    };
    settings.finish(ctx);
    Ok(Some(SettingsDecl { schema }))
}

pub(super) fn check_tool_name(ctx: &Ctx<'_>, key: &str, name: &str) -> Result<(), ManifestError> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if first_ok && rest_ok && name.len() <= MAX_TOOL_NAME_LEN {
        Ok(())
    } else {
        Err(ctx.invalid(
            key,
            format!(
                "{name:?} is not a tool name: use at most {MAX_TOOL_NAME_LEN} letters, digits, '_', '-' and '.', starting with a letter, digit or '_'"
            ),
        ))
    }
}

/// A kebab-case WIT identifier: words of `[a-z][a-z0-9]*` joined by single hyphens.
fn is_wit_name(text: &str) -> bool {
    !text.is_empty()
        && text.split('-').all(|word| {
            let mut bytes = word.bytes();
            bytes.next().is_some_and(|b| b.is_ascii_lowercase())
                && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Validates a path written in the manifest: relative, with `/` separators, and staying inside
/// the plugin directory once `.` and `..` are resolved. Returns it in normal form.
///
/// Checked lexically, on every platform alike, so a manifest accepted on one system is
/// accepted on all; symlinks are the package and file loaders' concern.
pub(super) fn relative_path(
    ctx: &Ctx<'_>,
    key: &str,
    text: &str,
) -> Result<PathBuf, ManifestError> {
    let refuse = |why: &str| Err(ctx.invalid(key, format!("{text:?} {why}")));
    if text.is_empty() {
        return refuse("is empty: name a file inside the plugin directory");
    }
    if text.contains('\\') {
        return refuse("uses '\\': write paths with '/' so the manifest works on every system");
    }
    if text.contains('\0') {
        return refuse("contains a NUL character");
    }
    let bytes = text.as_bytes();
    let drive_letter = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if text.starts_with('/') || drive_letter || Path::new(text).is_absolute() {
        return refuse("is absolute: give a path relative to plugin.toml");
    }
    let mut normal = PathBuf::new();
    for part in Path::new(text).components() {
        match part {
            Component::Normal(name) => normal.push(name),
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    return refuse("leaves the plugin directory through '..'");
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return refuse("is absolute: give a path relative to plugin.toml");
            }
        }
    }
    if normal.as_os_str().is_empty() {
        return refuse("names the plugin directory itself, not a file inside it");
    }
    Ok(normal)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wit_names() {
        for good in ["tool", "plugin", "file-loader", "v2-api"] {
            assert!(is_wit_name(good), "{good}");
        }
        for bad in [
            "",
            "Tool",
            "file_loader",
            "-tool",
            "tool-",
            "a--b",
            "2x",
            "plinth:plugin/tool",
        ] {
            assert!(!is_wit_name(bad), "{bad}");
        }
    }

    #[test]
    fn relative_paths() {
        let ctx = Ctx::new(Path::new("plugin.toml"));
        let good = [
            ("hello.wasm", "hello.wasm"),
            ("./hello.wasm", "hello.wasm"),
            ("target/out/x.wasm", "target/out/x.wasm"),
            ("a/../b.wasm", "b.wasm"),
            ("a/./b/../c.wasm", "a/c.wasm"),
        ];
        for (text, normal) in good {
            assert_eq!(
                relative_path(&ctx, "k", text).unwrap(),
                PathBuf::from(normal),
                "{text}"
            );
        }
        for bad in [
            "",
            "/abs/x.wasm",
            "../x.wasm",
            "a/../../x.wasm",
            "C:/x.wasm",
            "c:x.wasm",
            "a\\b.wasm",
            ".",
            "a/..",
            "x\0y",
        ] {
            assert!(relative_path(&ctx, "k", bad).is_err(), "{bad:?}");
        }
    }
}
