//! `[[provides.KIND]]`: the extension points a plugin provides (docs/design/0037), and the
//! 0.1.0 form they replace (`runtime.world` and a top-level `[[tools]]`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use toml::Value;

use super::error::ManifestError;
use super::formats;
use super::reader::{Ctx, Section};
use super::sections::{check_tool_name, relative_path};
use super::storage_kinds::{self, NamedDecl};
use super::{CommandDecl, HookDecl, Provides, ToolDecl};
use crate::kind::Kind;

/// Longest hook point name.
const MAX_POINT_LEN: usize = 64;

/// Reads `[provides]` and, for a manifest without it, the 0.1.0 form. `world` is
/// `runtime.world` as parsed.
pub(super) fn parse(
    ctx: &mut Ctx<'_>,
    root: &mut Section<'_>,
    world: Option<&str>,
) -> Result<Provides, ManifestError> {
    let legacy_tools = root.get("tools");
    let Some(mut section) = root.table(ctx, "provides")? else {
        return legacy(ctx, world, legacy_tools);
    };
    if legacy_tools.is_some() || matches!(world, Some("plugin" | "tool")) {
        return Err(ctx.invalid(
            "provides",
            "the manifest mixes [[provides.KIND]] with the 0.1.0 form (`runtime.world`, a top-level [[tools]]): keep [[provides.KIND]] and remove the others",
        ));
    }
    let mut provides = Provides::default();
    for &kind in Kind::ALL {
        let Some(value) = section.get(kind.as_str()) else {
            continue;
        };
        let key = section.key(kind.as_str());
        let entries = entries(ctx, &key, value)?;
        match kind {
            Kind::Command => {
                for (path, table) in entries {
                    let mut entry = Section::new(path, table);
                    let description = entry.string(ctx, "description")?.map(str::to_owned);
                    entry.finish(ctx);
                    provides.command.push(CommandDecl { description });
                }
            }
            Kind::Tool => provides.tool = tools(ctx, entries, false)?,
            Kind::Hook => provides.hook = hooks(ctx, entries)?,
            Kind::FileLoader => provides.file_loader = formats::file_formats(ctx, entries)?,
            Kind::FileViewer => provides.file_viewer = formats::file_formats(ctx, entries)?,
            Kind::Exporter => provides.exporter = formats::export_formats(ctx, entries)?,
            Kind::DataSource => provides.data_source = formats::data_sources(ctx, entries)?,
            Kind::Theme => provides.theme = formats::themes(ctx, entries)?,
            Kind::ThemeProvider => {
                provides.theme_provider = formats::theme_providers(ctx, entries)?;
            }
            Kind::Service => provides.service = super::service::services(ctx, entries)?,
            Kind::EventHandler => {
                provides.event_handler = storage_kinds::event_handlers(ctx, entries)?;
            }
            Kind::AuthProvider => {
                provides.auth_provider = one(ctx, &key, entries, "auth provider")?;
            }
            Kind::PolicyHook => provides.policy_hook = one(ctx, &key, entries, "policy hook")?,
            Kind::SearchAnalyzer => {
                provides.search_analyzer = storage_kinds::named(ctx, entries, "analyzer")?;
            }
            Kind::Preview => provides.preview = storage_kinds::media_types(ctx, entries)?,
            Kind::ContentTransform => {
                provides.content_transform = storage_kinds::transforms(ctx, entries)?;
            }
            Kind::StorageProvider => {
                provides.storage_provider = one(ctx, &key, entries, "storage provider")?;
            }
        }
    }
    for (name, _) in section.take_rest() {
        let message = format!(
            "unknown plugin kind `provides.{name}` in {} is ignored",
            ctx.file.display()
        );
        let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        ctx.warn(
            message,
            &format!(
                "this version of Plinth serves the kinds {}; a newer host may know this one",
                known.join(", ")
            ),
        );
    }
    Ok(provides)
}

/// The entries of a kind whose function takes no name: at most one per component.
fn one(
    ctx: &mut Ctx<'_>,
    key: &str,
    entries: Vec<(String, &toml::Table)>,
    what: &str,
) -> Result<Vec<NamedDecl>, ManifestError> {
    if entries.len() > 1 {
        return Err(ctx.invalid(
            key,
            format!(
                "{} entries: a component provides one {what} (its function takes no name); split the others into plugins of their own",
                entries.len()
            ),
        ));
    }
    storage_kinds::named(ctx, entries, what)
}

/// The 0.1.0 form: `runtime.world = "plugin"` is a command, `"tool"` (or a `[[tools]]`
/// table without a world) is a tool provider.
fn legacy(
    ctx: &mut Ctx<'_>,
    world: Option<&str>,
    tools_value: Option<&Value>,
) -> Result<Provides, ManifestError> {
    let mut provides = Provides {
        legacy: true,
        ..Provides::default()
    };
    if let Some(value) = tools_value {
        let items = entries(ctx, "tools", value)?;
        provides.tool = tools(ctx, items, true)?;
    }
    if world == Some("plugin") {
        provides.command.push(CommandDecl { description: None });
    }
    if provides.is_empty() {
        provides.legacy = false;
    }
    Ok(provides)
}

/// The tables of an array of tables at `key`, each with its path (`provides.tool[0]`).
fn entries<'t>(
    ctx: &Ctx<'_>,
    key: &str,
    value: &'t Value,
) -> Result<Vec<(String, &'t toml::Table)>, ManifestError> {
    let Value::Array(items) = value else {
        return Err(ctx.wrong_type(key, &format!("an array of tables ([[{key}]])"), value));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("{key}[{i}]");
            match item {
                Value::Table(table) => Ok((path, table)),
                other => Err(ctx.wrong_type(&path, "a table", other)),
            }
        })
        .collect()
}

fn tools(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
    legacy: bool,
) -> Result<Vec<ToolDecl>, ManifestError> {
    let mut tools = Vec::with_capacity(entries.len());
    // Name → path of its first declaration, to point at both places on a duplicate.
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (path, table) in entries {
        let mut section = Section::new(path.clone(), table);
        let name = section.required_string(ctx, "name")?;
        let name_key = section.key("name");
        check_tool_name(ctx, &name_key, name)?;
        if let Some(first) = seen.insert(name.to_owned(), path.clone()) {
            return Err(ctx.invalid(
                &name_key,
                format!("duplicate tool name {name:?} (also declared by {first})"),
            ));
        }
        // The 0.1.0 form let both be left out; a `[[provides.tool]]` entry is what a model
        // sees, so it says what the tool does and what it takes.
        let description = if legacy {
            section.string(ctx, "description")?
        } else {
            Some(section.required_string(ctx, "description")?)
        };
        let input_schema = if legacy {
            section.string(ctx, "input_schema")?
        } else {
            Some(section.required_string(ctx, "input_schema")?)
        };
        let input_schema = optional_path(ctx, &section.key("input_schema"), input_schema)?;
        let output_schema = match legacy {
            true => None,
            false => {
                let text = section.string(ctx, "output_schema")?;
                optional_path(ctx, &section.key("output_schema"), text)?
            }
        };
        section.finish(ctx);
        tools.push(ToolDecl {
            name: name.to_owned(),
            description: description.map(str::to_owned),
            input_schema,
            output_schema,
        });
    }
    Ok(tools)
}

fn optional_path(
    ctx: &Ctx<'_>,
    key: &str,
    text: Option<&str>,
) -> Result<Option<PathBuf>, ManifestError> {
    text.map(|text| relative_path(ctx, key, text)).transpose()
}

fn hooks(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
) -> Result<Vec<HookDecl>, ManifestError> {
    let mut hooks = Vec::with_capacity(entries.len());
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (path, table) in entries {
        let mut section = Section::new(path.clone(), table);
        let point = section.required_string(ctx, "point")?;
        let point_key = section.key("point");
        if !is_point_name(point) {
            return Err(ctx.invalid(
                &point_key,
                format!(
                    "{point:?} is not a hook point name: use at most {MAX_POINT_LEN} lowercase letters, digits, '-', '_', '.' and ':', starting with a letter"
                ),
            ));
        }
        if let Some(first) = seen.insert(point.to_owned(), path.clone()) {
            return Err(ctx.invalid(
                &point_key,
                format!("hook point {point:?} is declared twice (also by {first})"),
            ));
        }
        let priority = match section.get("priority") {
            None => 0,
            Some(Value::Integer(n)) => i32::try_from(*n).map_err(|_| {
                ctx.invalid(
                    &section.key("priority"),
                    format!(
                        "{n} is out of range: use an integer between {} and {}",
                        i32::MIN,
                        i32::MAX
                    ),
                )
            })?,
            Some(other) => {
                return Err(ctx.wrong_type(&section.key("priority"), "an integer", other));
            }
        };
        let deadline_ms = section.positive(ctx, "deadline_ms")?;
        section.finish(ctx);
        hooks.push(HookDecl {
            point: point.to_owned(),
            priority,
            deadline_ms,
        });
    }
    Ok(hooks)
}

/// A hook point name: what an application would write, e.g. `before-tool-call` or
/// `bitvault:object.created`.
pub fn is_point_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.' | b':')
        })
        && name.len() <= MAX_POINT_LEN
}
