//! The `plugin.toml` model (DESIGN §3.1): parse, validate, and the questions the host asks of
//! a manifest (where is the component, does it match its digest, what does it request).

mod capabilities;
mod error;
mod flat;
mod formats;
mod id;
mod provides;
mod reader;
mod sections;
mod service;
mod storage_kinds;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::digest::Digest;
use crate::grant::Grant;
use crate::kind::Kind;
use crate::plugin_file::{MANIFEST_MAX_BYTES, PluginFileError};
pub use capabilities::Capabilities;
pub use error::ManifestError;
pub use flat::{FLAT_DATA_DIR, component_beside, manifest_beside};
pub use formats::{
    DataSourceDecl, ExportFormatDecl, FileFormatDecl, FileQuery, ThemeDecl, ThemeProviderDecl,
};
pub use id::{PluginId, PluginIdError};
pub use provides::is_point_name;
use reader::{Ctx, Section};
pub use service::{
    DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, MAX_ATTEMPTS, MAX_CONCURRENCY, MAX_QUEUE, Overflow,
    ServiceDecl,
};
pub use storage_kinds::{
    EventHandlerDecl, MediaTypesDecl, NamedDecl, ObjectAction, TransformDecl, essence,
};

/// The manifest's file name inside a plugin directory.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// A validated `plugin.toml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    /// `[plugin]`: identity and metadata.
    pub plugin: PluginMeta,
    /// `[runtime]`: the component to run; `None` only for a plugin whose kinds need no
    /// component (themes alone, docs/design/0044).
    pub runtime: Option<Runtime>,
    /// `[capabilities]`: what the plugin asks for.
    pub capabilities: Capabilities,
    /// `[limits]`: per-plugin reductions of the host's limits.
    pub limits: LimitOverrides,
    /// `[settings]`, when present.
    pub settings: Option<SettingsDecl>,
    /// `[[provides.KIND]]`: the extension points the plugin provides, each kind with its
    /// own metadata (docs/design/0037).
    pub provides: Provides,
    /// The directory holding the manifest; the component and schema paths resolve against it.
    pub dir: PathBuf,
}

/// `[plugin]`: who the plugin is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginMeta {
    /// The plugin id (required).
    pub id: PluginId,
    /// The plugin's version (required, semver).
    pub version: semver::Version,
    /// A display name.
    pub name: Option<String>,
    /// A one-line description.
    pub description: Option<String>,
    /// An SPDX licence expression, as written.
    pub license: Option<String>,
    /// Authors, as written.
    pub authors: Vec<String>,
}

/// `[runtime]`: the component and how it is pinned. `kind` is not stored: it can only be
/// `"wasm-component"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Runtime {
    /// The component path relative to [`Manifest::dir`], in normal form (no `.` or `..`).
    pub component: PathBuf,
    /// The Plinth WIT version the plugin targets, if declared.
    pub api: Option<semver::Version>,
    /// The `plinth:plugin` world it implements, if declared.
    pub world: Option<String>,
    /// A pin of the component bytes, if declared.
    pub digest: Option<Digest>,
}

/// `[limits]`: values a manifest may use to lower the host's limits (never raise them; the
/// host enforces that, since only it knows its own limits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LimitOverrides {
    /// Fuel per call.
    pub fuel_units: Option<u64>,
    /// Memory per instance, in bytes.
    pub mem_bytes: Option<u64>,
    /// Wall clock per call, in milliseconds.
    pub wall_timeout_ms: Option<u64>,
}

/// `[settings]`: how the plugin's settings are described.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SettingsDecl {
    /// A JSON Schema file relative to [`Manifest::dir`].
    pub schema: Option<PathBuf>,
}

/// `[[provides.KIND]]`: the kinds a plugin provides, one list of entries per kind. A kind
/// with no entry is not provided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provides {
    /// `[[provides.command]]`.
    pub command: Vec<CommandDecl>,
    /// `[[provides.tool]]`: one entry per tool, names unique.
    pub tool: Vec<ToolDecl>,
    /// `[[provides.hook]]`: one entry per hook point, points unique.
    pub hook: Vec<HookDecl>,
    /// `[[provides.file-loader]]`: one entry per file format read, names unique.
    pub file_loader: Vec<FileFormatDecl>,
    /// `[[provides.file-viewer]]`: one entry per file format shown, names unique.
    pub file_viewer: Vec<FileFormatDecl>,
    /// `[[provides.exporter]]`: one entry per format written, names unique.
    pub exporter: Vec<ExportFormatDecl>,
    /// `[[provides.data-source]]`: at most one entry.
    pub data_source: Vec<DataSourceDecl>,
    /// `[[provides.theme]]`: one entry per `theme.json`, names unique.
    pub theme: Vec<ThemeDecl>,
    /// `[[provides.theme-provider]]`: one entry per computed theme, names unique.
    pub theme_provider: Vec<ThemeProviderDecl>,
    /// `[[provides.service]]`: at most one entry.
    pub service: Vec<ServiceDecl>,
    /// `[[provides.event-handler]]`: handlers of object events, names unique.
    pub event_handler: Vec<EventHandlerDecl>,
    /// `[[provides.auth-provider]]`: at most one entry.
    pub auth_provider: Vec<NamedDecl>,
    /// `[[provides.policy-hook]]`: at most one entry.
    pub policy_hook: Vec<NamedDecl>,
    /// `[[provides.search-analyzer]]`: one entry per analyzer, names unique.
    pub search_analyzer: Vec<NamedDecl>,
    /// `[[provides.preview]]`: entries with the media types previewed.
    pub preview: Vec<MediaTypesDecl>,
    /// `[[provides.content-transform]]`: entries with the media types taken and the one
    /// produced.
    pub content_transform: Vec<TransformDecl>,
    /// `[[provides.storage-provider]]`: at most one entry.
    pub storage_provider: Vec<NamedDecl>,
    /// The declarations come from the 0.1.0 form (`runtime.world`, a top-level `[[tools]]`),
    /// which components built against `plinth:plugin@0.1.0` use.
    pub legacy: bool,
}

impl Provides {
    /// The kinds with at least one entry, in [`Kind::ALL`] order.
    pub fn kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .iter()
            .copied()
            .filter(|&kind| self.provides(kind))
            .collect()
    }

    /// Whether `kind` has at least one entry.
    pub fn provides(&self, kind: Kind) -> bool {
        match kind {
            Kind::Command => !self.command.is_empty(),
            Kind::Tool => !self.tool.is_empty(),
            Kind::Hook => !self.hook.is_empty(),
            Kind::FileLoader => !self.file_loader.is_empty(),
            Kind::FileViewer => !self.file_viewer.is_empty(),
            Kind::Exporter => !self.exporter.is_empty(),
            Kind::DataSource => !self.data_source.is_empty(),
            Kind::Theme => !self.theme.is_empty(),
            Kind::ThemeProvider => !self.theme_provider.is_empty(),
            Kind::Service => !self.service.is_empty(),
            Kind::EventHandler => !self.event_handler.is_empty(),
            Kind::AuthProvider => !self.auth_provider.is_empty(),
            Kind::PolicyHook => !self.policy_hook.is_empty(),
            Kind::SearchAnalyzer => !self.search_analyzer.is_empty(),
            Kind::Preview => !self.preview.is_empty(),
            Kind::ContentTransform => !self.content_transform.is_empty(),
            Kind::StorageProvider => !self.storage_provider.is_empty(),
        }
    }

    /// Whether the declared kinds need a component: `false` only for a plugin that
    /// declares kinds and none of them needs one (a theme alone).
    pub fn needs_component(&self) -> bool {
        let kinds = self.kinds();
        kinds.is_empty() || kinds.iter().any(|k| k.needs_component())
    }

    /// The file-loader formats matching `query`, best match first; nothing runs.
    pub fn loaders_for(&self, query: FileQuery<'_>) -> Vec<&FileFormatDecl> {
        best_first(&self.file_loader, query)
    }

    /// The file-viewer formats matching `query`, best match first; nothing runs.
    pub fn viewers_for(&self, query: FileQuery<'_>) -> Vec<&FileFormatDecl> {
        best_first(&self.file_viewer, query)
    }

    /// The exporter format called `name`.
    pub fn export_format(&self, name: &str) -> Option<&ExportFormatDecl> {
        self.exporter.iter().find(|f| f.name == name)
    }

    /// The `[[provides.content-transform]]` entry accepting `media_type` (parameters and
    /// case ignored), if any; nothing runs.
    pub fn transform_for(&self, media_type: &str) -> Option<&TransformDecl> {
        self.content_transform
            .iter()
            .find(|d| d.accepts(media_type))
    }

    /// The `[[provides.preview]]` entry accepting `media_type` (parameters and case
    /// ignored); nothing runs.
    pub fn preview_for(&self, media_type: &str) -> Option<&MediaTypesDecl> {
        self.preview.iter().find(|d| d.accepts(media_type))
    }

    /// Whether no kind is declared.
    pub fn is_empty(&self) -> bool {
        self.kinds().is_empty()
    }

    /// The tool called `name`.
    pub fn tool(&self, name: &str) -> Option<&ToolDecl> {
        self.tool.iter().find(|t| t.name == name)
    }
}

/// The formats matching `query`, the most specific first (declaration order on ties).
fn best_first<'d>(formats: &'d [FileFormatDecl], query: FileQuery<'_>) -> Vec<&'d FileFormatDecl> {
    let mut scored: Vec<(usize, usize, &FileFormatDecl)> = formats
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.matches(query).map(|score| (score, i, f)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, f)| f).collect()
}

/// One `[[provides.command]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommandDecl {
    /// What the command does.
    pub description: Option<String>,
}

/// One `[[provides.tool]]` entry (or a 0.1.0 `[[tools]]` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolDecl {
    /// The tool's name, unique in the manifest.
    pub name: String,
    /// What the tool does (required in `[[provides.tool]]`).
    pub description: Option<String>,
    /// A JSON Schema file for its input, relative to [`Manifest::dir`] (required in
    /// `[[provides.tool]]`).
    pub input_schema: Option<PathBuf>,
    /// A JSON Schema file for its output, relative to [`Manifest::dir`].
    pub output_schema: Option<PathBuf>,
}

/// One `[[provides.hook]]` entry: the plugin hooks `point`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookDecl {
    /// The application's hook point, e.g. `before-tool-call`.
    pub point: String,
    /// Order among the hooks on one point: lower runs first, ties by plugin id.
    pub priority: i32,
    /// A deadline for one decision, in milliseconds; never more than the plugin's wall
    /// clock limit.
    pub deadline_ms: Option<u64>,
}

/// A parsed manifest and the warnings (e.g. `unknown-key`) found on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The manifest.
    pub manifest: Manifest,
    /// Non-fatal findings, each naming the plugin.
    pub warnings: Vec<Diagnostic>,
}

impl Manifest {
    /// Parses and validates manifest text. `file` is used only in messages and to set
    /// [`Manifest::dir`] (its parent directory); nothing is read from disk.
    pub fn parse(text: &str, file: &Path) -> Result<Parsed, ManifestError> {
        let table: toml::Table = text.parse().map_err(|e| syntax_error(text, file, &e))?;
        let mut ctx = Ctx::new(file);
        let mut root = Section::new(String::new(), &table);

        let mut runtime_section = root.table(&ctx, "runtime")?;
        if let Some(runtime) = runtime_section.as_mut() {
            sections::check_runtime_kind(&ctx, runtime)?;
        }
        let plugin = sections::plugin_meta(&mut ctx, &mut root)?;
        let runtime = match runtime_section {
            Some(section) => Some(sections::runtime(&mut ctx, section)?),
            None => None,
        };
        let capabilities = capabilities::parse(&mut ctx, &mut root)?;
        let limits = sections::limits(&mut ctx, &mut root)?;
        let settings = sections::settings(&mut ctx, &mut root)?;
        let world = runtime.as_ref().and_then(|r| r.world.as_deref());
        let provides = provides::parse(&mut ctx, &mut root, world)?;
        if runtime.is_none() {
            componentless(&ctx, &provides, &capabilities, settings.as_ref())?;
        }
        root.finish(&mut ctx);

        let id = plugin.id.as_str().to_owned();
        let warnings = ctx
            .warnings
            .into_iter()
            .map(|w| w.with_plugin(id.clone()))
            .collect();
        let dir = match file.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let manifest = Manifest {
            plugin,
            runtime,
            capabilities,
            limits,
            settings,
            provides,
            dir,
        };
        Ok(Parsed { manifest, warnings })
    }

    /// Reads and parses a manifest. `path` is a `plugin.toml` file or a directory holding
    /// one. Reads nothing but the manifest (DESIGN §1.2: discovery is a read-only inventory),
    /// and only a regular file of at most [`MANIFEST_MAX_BYTES`] (docs/design/0032).
    pub fn load(path: &Path) -> Result<Parsed, ManifestError> {
        let file = if path.is_dir() {
            path.join(MANIFEST_FILE)
        } else {
            path.to_path_buf()
        };
        let text = match crate::plugin_file::read_to_string(&file, MANIFEST_MAX_BYTES) {
            Ok(text) => text,
            Err(PluginFileError::Missing { .. }) => {
                return Err(ManifestError::Missing { path: file });
            }
            Err(PluginFileError::Io { source, .. }) => {
                return Err(ManifestError::Io { path: file, source });
            }
            Err(refused) => return Err(ManifestError::Refused(refused)),
        };
        Manifest::parse(&text, &file)
    }

    /// The plugin id.
    pub fn id(&self) -> &PluginId {
        &self.plugin.id
    }

    /// Where the component file is: [`Runtime::component`] joined to [`Manifest::dir`];
    /// `None` for a plugin without a component (themes alone).
    pub fn component_path(&self) -> Option<PathBuf> {
        self.runtime
            .as_ref()
            .map(|runtime| self.dir.join(&runtime.component))
    }

    /// Whether the plugin has no component: its kinds are data alone (docs/design/0044).
    pub fn is_componentless(&self) -> bool {
        self.runtime.is_none()
    }

    /// `runtime.world`, when declared.
    pub fn world(&self) -> Option<&str> {
        self.runtime.as_ref().and_then(|r| r.world.as_deref())
    }

    /// `runtime.api`, when declared.
    pub fn api(&self) -> Option<&semver::Version> {
        self.runtime.as_ref().and_then(|r| r.api.as_ref())
    }

    /// The files the manifest names, relative to [`Manifest::dir`], each with what it is:
    /// the component, the settings schema, tool schemas and theme files, in that order.
    pub fn named_files(&self) -> Vec<(&Path, &'static str)> {
        let mut files: Vec<(&Path, &'static str)> = Vec::new();
        if let Some(runtime) = &self.runtime {
            files.push((&runtime.component, "component"));
        }
        if let Some(schema) = self.settings.as_ref().and_then(|s| s.schema.as_deref()) {
            files.push((schema, "settings schema"));
        }
        for tool in &self.provides.tool {
            if let Some(schema) = &tool.input_schema {
                files.push((schema, "tool input schema"));
            }
            if let Some(schema) = &tool.output_schema {
                files.push((schema, "tool output schema"));
            }
        }
        for theme in &self.provides.theme {
            files.push((&theme.file, "theme"));
        }
        files
    }

    /// The digest of a plugin without a component ([`Digest::of_files`] over
    /// [`Manifest::named_files`], each named by its `/`-joined relative path), with each
    /// file's bytes from `read`: the folder, a package's members. What such a plugin's
    /// signature covers and its identity at load (docs/design/0044).
    pub fn files_digest<E>(
        &self,
        mut read: impl FnMut(&Path) -> Result<Vec<u8>, E>,
    ) -> Result<Digest, E> {
        let mut files = Vec::new();
        for (path, _) in self.named_files() {
            let name: Vec<String> = path
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push((name.join("/"), read(path)?));
        }
        Ok(Digest::of_files(
            files.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
        ))
    }

    /// Checks component bytes against the pinned `runtime.digest`; always succeeds when no
    /// digest is pinned.
    pub fn verify_digest(&self, bytes: &[u8]) -> Result<(), ManifestError> {
        if self.runtime.as_ref().is_none_or(|r| r.digest.is_none()) {
            return Ok(());
        }
        self.check_digest(&Digest::of(bytes))
    }

    /// Like [`Manifest::verify_digest`], for a caller that already hashed the bytes.
    pub fn check_digest(&self, actual: &Digest) -> Result<(), ManifestError> {
        let Some(expected) = self.runtime.as_ref().and_then(|r| r.digest) else {
            return Ok(());
        };
        let actual = *actual;
        if actual == expected {
            Ok(())
        } else {
            Err(ManifestError::DigestMismatch { expected, actual })
        }
    }

    /// One [`Grant`] per requested capability item, in manifest order, without duplicates.
    pub fn requested_grants(&self) -> Vec<Grant> {
        self.capabilities.requested_grants()
    }
}

/// A manifest without `[runtime]` is valid only when its kinds need no component (themes
/// alone) and it asks for nothing a component would use: no capabilities, no settings.
fn componentless(
    ctx: &Ctx<'_>,
    provides: &Provides,
    capabilities: &Capabilities,
    settings: Option<&SettingsDecl>,
) -> Result<(), ManifestError> {
    if provides.needs_component() {
        return Err(ctx.invalid(
            "runtime",
            "required table is missing: add [runtime] with kind = \"wasm-component\" and component = \"<file>.wasm\" (only a plugin that provides themes alone has no component)",
        ));
    }
    if !capabilities.requested_grants().is_empty() {
        return Err(ctx.invalid(
            "capabilities",
            "a plugin without a component runs nothing and can use no capability: remove [capabilities]",
        ));
    }
    if settings.is_some() {
        return Err(ctx.invalid(
            "settings",
            "a plugin without a component has no settings: remove [settings]",
        ));
    }
    Ok(())
}

/// Maps a TOML parse error to a 1-based line and column (in characters) of the file.
fn syntax_error(text: &str, file: &Path, error: &toml::de::Error) -> ManifestError {
    let offset = error.span().map_or(0, |span| span.start);
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    ManifestError::Syntax {
        file: file.to_path_buf(),
        line,
        column,
        message: error.message().trim().to_owned(),
    }
}
