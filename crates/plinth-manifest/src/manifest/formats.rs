//! The metadata of Thoth's kinds (docs/design/0040): file formats of loaders and viewers,
//! exporters' formats, data sources, themes and theme providers, and the lookup that lets
//! an application pick a loader or viewer for a file without running any plugin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::ManifestError;
use super::reader::{Ctx, Section};
use super::sections::{check_tool_name, relative_path};

/// One `[[provides.file-loader]]` or `[[provides.file-viewer]]` entry: a file format the
/// plugin reads, recognised by extension or media type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileFormatDecl {
    /// The format's name, passed to the guest (`csv`); unique among the kind's entries.
    pub name: String,
    /// What the format is, for people.
    pub description: Option<String>,
    /// File extensions without the dot, lowercase (`csv`, `tar.gz`).
    pub extensions: Vec<String>,
    /// Media types, lowercase, without parameters (`text/csv`).
    pub media_types: Vec<String>,
}

/// What an application knows about a file when it looks for a loader or viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileQuery<'a> {
    /// The file's path (or name): matched by its extension, case-insensitively; the
    /// longest declared extension wins ties, so `x.tar.gz` prefers `tar.gz` over `gz`.
    Path(&'a Path),
    /// The file's media type, e.g. `text/csv; charset=utf-8` (parameters and case ignored).
    MediaType(&'a str),
}

impl FileFormatDecl {
    /// How well the format matches `query`: `None` for no match, else a score where higher
    /// is more specific (the length of the matched extension; media types score 1).
    pub fn matches(&self, query: FileQuery<'_>) -> Option<usize> {
        match query {
            FileQuery::Path(path) => {
                let name = path.file_name()?.to_str()?.to_ascii_lowercase();
                self.extensions
                    .iter()
                    .filter(|ext| {
                        name.len() > ext.len() + 1
                            && name.ends_with(ext.as_str())
                            && name.as_bytes()[name.len() - ext.len() - 1] == b'.'
                    })
                    .map(String::len)
                    .max()
            }
            FileQuery::MediaType(media_type) => {
                let essence = media_type
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                self.media_types.contains(&essence).then_some(1)
            }
        }
    }
}

/// One `[[provides.exporter]]` entry: a format the plugin writes tables in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportFormatDecl {
    /// The format's name, passed to the guest (`csv`); unique among the entries.
    pub name: String,
    /// What the format is, for people.
    pub description: Option<String>,
    /// The extension of files in the format, without the dot, lowercase.
    pub extension: String,
    /// The media type of the format's bytes, lowercase.
    pub media_type: String,
}

/// The `[[provides.data-source]]` entry: a source of data with its own UI panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataSourceDecl {
    /// The source's name (`url`), unique in the plugin.
    pub name: String,
    /// The panel's title, for people (`URL source`).
    pub title: String,
    /// What the source reads, for people.
    pub description: Option<String>,
}

/// One `[[provides.theme]]` entry: a colour-token map in a JSON file, no code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThemeDecl {
    /// The theme's name, unique in the plugin.
    pub name: String,
    /// The `theme.json` file, relative to the manifest's directory; checked against
    /// `docs/schemas/theme.schema.json` when the plugin is checked or loaded.
    pub file: PathBuf,
}

/// One `[[provides.theme-provider]]` entry: a theme the plugin computes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThemeProviderDecl {
    /// The theme's name, passed to the guest; unique among the entries.
    pub name: String,
    /// What the theme is, for people.
    pub description: Option<String>,
}

/// An entry's `name`: like a tool's name, unique among the kind's entries.
fn unique_name<'t>(
    ctx: &Ctx<'_>,
    section: &mut Section<'t>,
    seen: &mut BTreeMap<String, String>,
    what: &str,
    path: &str,
) -> Result<&'t str, ManifestError> {
    let name = section.required_string(ctx, "name")?;
    let key = section.key("name");
    check_tool_name(ctx, &key, name)?;
    if let Some(first) = seen.insert(name.to_owned(), path.to_owned()) {
        return Err(ctx.invalid(
            &key,
            format!("duplicate {what} name {name:?} (also declared by {first})"),
        ));
    }
    Ok(name)
}

/// A file extension as written: without the leading dot, stored lowercase.
fn extension(ctx: &Ctx<'_>, key: &str, text: &str) -> Result<String, ManifestError> {
    let ok = !text.is_empty()
        && !text.starts_with('.')
        && !text.ends_with('.')
        && !text.contains("..")
        && text.len() <= 32
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'));
    if ok {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(ctx.invalid(
            key,
            format!(
                "{text:?} is not a file extension: write it without the leading dot, e.g. \"csv\" or \"tar.gz\""
            ),
        ))
    }
}

/// A media type as written: `type/subtype`, no parameters, stored lowercase.
pub(super) fn media_type(ctx: &Ctx<'_>, key: &str, text: &str) -> Result<String, ManifestError> {
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'!' | b'#' | b'$' | b'&' | b'-' | b'^' | b'_' | b'.' | b'+'
                    )
            })
    };
    match text.split_once('/') {
        Some((kind, sub)) if token(kind) && token(sub) => Ok(text.to_ascii_lowercase()),
        _ => Err(ctx.invalid(
            key,
            format!("{text:?} is not a media type: write `type/subtype`, e.g. \"text/csv\", without parameters"),
        )),
    }
}

/// Parses `[[provides.X]]` entries that each have a `name` unique among them (`what` names
/// them in the duplicate error): `parse` reads the rest of one entry's section, given its
/// name; the section's unknown keys are reported after it.
pub(super) fn named_entries<'c, 't, T>(
    ctx: &mut Ctx<'c>,
    entries: Vec<(String, &'t toml::Table)>,
    what: &str,
    mut parse: impl FnMut(&mut Ctx<'c>, &mut Section<'t>, String) -> Result<T, ManifestError>,
) -> Result<Vec<T>, ManifestError> {
    let mut seen = BTreeMap::new();
    let mut parsed = Vec::with_capacity(entries.len());
    for (path, table) in entries {
        let mut section = Section::new(path.clone(), table);
        let name = unique_name(ctx, &mut section, &mut seen, what, &path)?.to_owned();
        parsed.push(parse(ctx, &mut section, name)?);
        section.finish(ctx);
    }
    Ok(parsed)
}

/// `[[provides.file-loader]]` or `[[provides.file-viewer]]` entries.
pub(super) fn file_formats(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
) -> Result<Vec<FileFormatDecl>, ManifestError> {
    named_entries(ctx, entries, "format", |ctx, section, name| {
        let description = section.string(ctx, "description")?.map(str::to_owned);
        let extensions_key = section.key("extensions");
        let extensions = section
            .strings(ctx, "extensions")?
            .iter()
            .enumerate()
            .map(|(i, e)| extension(ctx, &format!("{extensions_key}[{i}]"), e))
            .collect::<Result<Vec<_>, _>>()?;
        let media_key = section.key("media_types");
        let media_types = section
            .strings(ctx, "media_types")?
            .iter()
            .enumerate()
            .map(|(i, m)| media_type(ctx, &format!("{media_key}[{i}]"), m))
            .collect::<Result<Vec<_>, _>>()?;
        if extensions.is_empty() && media_types.is_empty() {
            return Err(ctx.invalid(
                section.path(),
                format!(
                    "format {name:?} declares neither `extensions` nor `media_types`: an application could never pick it"
                ),
            ));
        }
        Ok(FileFormatDecl {
            name,
            description,
            extensions,
            media_types,
        })
    })
}

/// `[[provides.exporter]]` entries.
pub(super) fn export_formats(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
) -> Result<Vec<ExportFormatDecl>, ManifestError> {
    named_entries(ctx, entries, "format", |ctx, section, name| {
        let description = section.string(ctx, "description")?.map(str::to_owned);
        let text = section.required_string(ctx, "extension")?;
        let extension = extension(ctx, &section.key("extension"), text)?;
        let text = section.required_string(ctx, "media_type")?;
        let media_type = media_type(ctx, &section.key("media_type"), text)?;
        Ok(ExportFormatDecl {
            name,
            description,
            extension,
            media_type,
        })
    })
}

/// The `[[provides.data-source]]` entry: one per component, since its panel functions
/// take no name.
pub(super) fn data_sources(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
) -> Result<Vec<DataSourceDecl>, ManifestError> {
    if entries.len() > 1 {
        return Err(ctx.invalid(
            "provides.data-source",
            format!(
                "{} entries: a component provides one data source (its panel is `render-ui`); split the others into plugins of their own",
                entries.len()
            ),
        ));
    }
    named_entries(ctx, entries, "data source", |ctx, section, name| {
        Ok(DataSourceDecl {
            name,
            title: section.required_string(ctx, "title")?.to_owned(),
            description: section.string(ctx, "description")?.map(str::to_owned),
        })
    })
}

/// `[[provides.theme]]` entries.
pub(super) fn themes(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
) -> Result<Vec<ThemeDecl>, ManifestError> {
    named_entries(ctx, entries, "theme", |ctx, section, name| {
        let text = section.required_string(ctx, "file")?;
        let file = relative_path(ctx, &section.key("file"), text)?;
        Ok(ThemeDecl { name, file })
    })
}

/// `[[provides.theme-provider]]` entries.
pub(super) fn theme_providers(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
) -> Result<Vec<ThemeProviderDecl>, ManifestError> {
    named_entries(ctx, entries, "theme", |ctx, section, name| {
        let description = section.string(ctx, "description")?.map(str::to_owned);
        Ok(ThemeProviderDecl { name, description })
    })
}
