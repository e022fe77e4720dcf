//! Plugin kinds (docs/design/0037): the typed extension points a plugin provides, bound
//! to its exports once at load, and a typed handle per kind.
//!
//! A kind is provided through its own WIT package (`plinth:tool/tool@0.1.0`), or, for a
//! component built against the frozen `plinth:plugin@0.1.0`, through the interface that
//! served it then (`plinth:plugin/tools@0.1.0`), adapted here so callers see one API
//! (the model is Zed's `since_vX` modules). Adding a kind means a WIT package, its
//! metadata in `plinth-manifest`, one module here and its conformance cases.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use plinth_host::Host;
//! use plinth_host::kinds::Tool;
//! use serde_json::json;
//!
//! let plugin = Host::new()?.load("plugins/word-count")?;
//! let tools = plugin.kind::<Tool>()?;
//! let output = tools.call("word_count", &json!({"text": "one two three"}))?;
//! assert_eq!(output, json!({"words": 3}));
//! # Ok(())
//! # }
//! ```

mod auth_provider;
mod command;
mod content_transform;
mod data_source;
mod error;
mod event_handler;
mod exporter;
mod file_loader;
mod file_viewer;
mod hook;
mod policy_hook;
mod preview;
mod reader;
mod search_analyzer;
mod service;
mod storage_provider;
mod table;
mod theme;
mod tool;
mod ui;

use plinth_manifest::{Kind, Manifest};
use wasmtime::component::{ComponentNamedList, InstancePre, Lift, Lower};

use crate::error::HostError;
use crate::exports::Exports;
use crate::plugin::Plugin;
use crate::state::StoreState;
pub use auth_provider::{AuthProviders, Authentication, Identity, MAX_TOKEN_BYTES, is_tenant_name};
pub use command::Commands;
pub use content_transform::{
    ContentTransforms, MAX_WHOLE_BYTES, TransformMeta, TransformRequest, WRITE_BUDGET,
};
pub use data_source::{DataSources, UiEvent, UiEventKind};
pub use error::KindError;
pub use event_handler::{EventHandlers, EventOutcome, MAX_RETRY_AFTER, ObjectEvent};
pub use exporter::Exporters;
pub use file_loader::FileLoaders;
pub use file_viewer::FileViewers;
pub use hook::{
    ChainDecision, Decision, HookChain, HookEvent, HookOutcome, HookStep, Hooks, OnHookError,
};
pub use policy_hook::{PolicyDecision, PolicyHooks, PolicyRequest};
pub use preview::{Preview, Previews, escape_html, png_size};
pub use reader::TableReader;
pub use search_analyzer::{SearchAnalyzers, Token, token_violation};
pub use service::{
    Command as ServiceCommand, Frame, Handled, IngressEvent, Outcome, Reply, Services,
};
pub(crate) use storage_provider::SharedSink;
pub use storage_provider::{
    ListPage, MAX_KEY_BYTES, MAX_LIST_LIMIT, ObjectMeta, StorageProviders, key_violation,
    page_violation,
};
#[cfg(test)]
pub(crate) use table::check_rows;
pub use table::{Cell, Column, ColumnType, Row, Source, Table, TableInfo};
pub use theme::{Appearance, THEME_MAX_BYTES, ThemeProviders, ThemeSpec, Themes, load_themes};
pub(crate) use tool::compare as tool_differences;
pub(crate) use tool::specs as tool_specs;
pub use tool::{ReportedTool, ToolSpec, Tools};
pub use ui::{THEME_SCHEMA, UI_NODE_SCHEMA, UiOutput, ui_node_violations};

/// Which WIT a kind is served through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// The kind's own package, e.g. `plinth:tool@0.1.0`.
    Current,
    /// The frozen `plinth:plugin@0.1.0` interface, through an adapter.
    Legacy,
}

/// One kind as a plugin's component exports it.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    /// The exported interface, as the component names it (`plinth:tool/tool@0.1.0`).
    pub(crate) interface: String,
    pub(crate) served: Served,
}

impl Binding {
    /// The export name of one of the interface's functions.
    fn func(&self, name: &str) -> String {
        format!("{}#{name}", self.interface)
    }

    /// Whether this is a `service` served by a `wasi:http` proxy component's
    /// `wasi:http/incoming-handler` alone (docs/design/0051).
    pub(crate) fn is_wasi_http(&self) -> bool {
        self.interface
            .strip_prefix(crate::incoming::INCOMING_HANDLER)
            .is_some_and(|rest| rest.starts_with("@0.2."))
    }
}

/// The kinds a plugin provides, bound at load.
#[derive(Debug, Default, Clone)]
pub(crate) struct KindSet {
    command: Option<Binding>,
    tool: Option<(Binding, Vec<ToolSpec>)>,
    hook: Option<Binding>,
    file_loader: Option<Binding>,
    file_viewer: Option<Binding>,
    exporter: Option<Binding>,
    data_source: Option<Binding>,
    theme_provider: Option<Binding>,
    service: Option<Binding>,
    event_handler: Option<Binding>,
    auth_provider: Option<Binding>,
    policy_hook: Option<Binding>,
    search_analyzer: Option<Binding>,
    preview: Option<Binding>,
    content_transform: Option<Binding>,
    storage_provider: Option<Binding>,
    /// The `[[provides.theme]]` themes, read and checked at load; `None` when the
    /// manifest declares none.
    themes: Option<Vec<(String, ThemeSpec)>>,
}

impl KindSet {
    /// Binds each kind the manifest declares (or, without declarations, each kind the
    /// component exports) to the component's exports, checking every function's type now,
    /// so a mismatch fails the load naming the function instead of failing a later call.
    pub(crate) fn bind(
        manifest: Option<&Manifest>,
        exports: &Exports,
        pre: &InstancePre<StoreState>,
        id: &str,
        schemas: &crate::schemas::CompiledSchemas,
    ) -> Result<KindSet, HostError> {
        let selection = select(manifest, &exports.interfaces(), id)?;
        let mut set = KindSet {
            themes: selection.themes,
            ..KindSet::default()
        };
        for (kind, binding) in selection.bindings {
            let checker = Checker {
                exports,
                pre,
                id,
                kind,
                binding: &binding,
            };
            match kind {
                Kind::Command => {
                    command::typecheck(&checker)?;
                    set.command = Some(binding);
                }
                Kind::Tool => {
                    tool::typecheck(&checker)?;
                    let specs = tool::specs(manifest, id, schemas)?;
                    set.tool = Some((binding, specs));
                }
                Kind::Hook => {
                    hook::typecheck(&checker)?;
                    set.hook = Some(binding);
                }
                Kind::FileLoader => {
                    file_loader::typecheck(&checker)?;
                    set.file_loader = Some(binding);
                }
                Kind::FileViewer => {
                    file_viewer::typecheck(&checker)?;
                    set.file_viewer = Some(binding);
                }
                Kind::Exporter => {
                    exporter::typecheck(&checker)?;
                    set.exporter = Some(binding);
                }
                Kind::DataSource => {
                    data_source::typecheck(&checker)?;
                    set.data_source = Some(binding);
                }
                Kind::ThemeProvider => {
                    theme::typecheck(&checker)?;
                    set.theme_provider = Some(binding);
                }
                Kind::Service => {
                    if binding.is_wasi_http() {
                        service::typecheck_http(&checker)?;
                    } else {
                        service::typecheck(&checker)?;
                    }
                    set.service = Some(binding);
                }
                Kind::EventHandler => {
                    event_handler::typecheck(&checker)?;
                    set.event_handler = Some(binding);
                }
                Kind::AuthProvider => {
                    auth_provider::typecheck(&checker)?;
                    set.auth_provider = Some(binding);
                }
                Kind::PolicyHook => {
                    policy_hook::typecheck(&checker)?;
                    set.policy_hook = Some(binding);
                }
                Kind::SearchAnalyzer => {
                    search_analyzer::typecheck(&checker)?;
                    set.search_analyzer = Some(binding);
                }
                Kind::Preview => {
                    preview::typecheck(&checker)?;
                    set.preview = Some(binding);
                }
                Kind::ContentTransform => {
                    content_transform::typecheck(&checker)?;
                    set.content_transform = Some(binding);
                }
                Kind::StorageProvider => {
                    storage_provider::typecheck(&checker)?;
                    set.storage_provider = Some(binding);
                }
                // Needs no component: `select` read it.
                Kind::Theme => {}
            }
        }
        Ok(set)
    }

    /// The binding of a kind served by the component.
    fn binding(&self, kind: Kind) -> Option<&Binding> {
        match kind {
            Kind::Command => self.command.as_ref(),
            Kind::Tool => self.tool.as_ref().map(|(b, _)| b),
            Kind::Hook => self.hook.as_ref(),
            Kind::FileLoader => self.file_loader.as_ref(),
            Kind::FileViewer => self.file_viewer.as_ref(),
            Kind::Exporter => self.exporter.as_ref(),
            Kind::DataSource => self.data_source.as_ref(),
            Kind::ThemeProvider => self.theme_provider.as_ref(),
            Kind::Service => self.service.as_ref(),
            Kind::EventHandler => self.event_handler.as_ref(),
            Kind::AuthProvider => self.auth_provider.as_ref(),
            Kind::PolicyHook => self.policy_hook.as_ref(),
            Kind::SearchAnalyzer => self.search_analyzer.as_ref(),
            Kind::Preview => self.preview.as_ref(),
            Kind::ContentTransform => self.content_transform.as_ref(),
            Kind::StorageProvider => self.storage_provider.as_ref(),
            Kind::Theme => None,
        }
    }

    /// The kinds bound, in [`Kind::ALL`] order.
    pub(crate) fn kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .iter()
            .copied()
            .filter(|&kind| match kind {
                Kind::Theme => self.themes.is_some(),
                other => self.binding(other).is_some(),
            })
            .collect()
    }
}

/// The kinds a plugin provides, as [`select`] chose them.
pub(crate) struct Selection {
    /// Each kind served by the component, with its export, in [`Kind::ALL`] order.
    pub(crate) bindings: Vec<(Kind, Binding)>,
    /// The declared `[[provides.theme]]` themes, read and checked; `None` without any.
    pub(crate) themes: Option<Vec<(String, ThemeSpec)>>,
}

impl Selection {
    /// The kinds selected, in [`Kind::ALL`] order.
    pub(crate) fn kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .iter()
            .copied()
            .filter(|&kind| match kind {
                Kind::Theme => self.themes.is_some(),
                other => self.bindings.iter().any(|(k, _)| *k == other),
            })
            .collect()
    }
}

/// Chooses the kinds a plugin provides from the component's exported `interfaces` (names
/// with versions): the ones its manifest declares, each of which must be exported, or
/// without declarations (a bare component, an old manifest) those it exports. A kind
/// that needs no component (a theme) is read from the manifest's files. Types are the
/// caller's to check: the load through the linker, the static check through the WIT.
pub(crate) fn select(
    manifest: Option<&Manifest>,
    interfaces: &[&str],
    id: &str,
) -> Result<Selection, HostError> {
    let declared = manifest.map(|m| m.provides.kinds()).unwrap_or_default();
    let mut selection = Selection {
        bindings: Vec::new(),
        themes: None,
    };
    for &kind in Kind::ALL {
        let wanted = declared.contains(&kind);
        if !kind.needs_component() {
            if let (true, Some(manifest)) = (wanted, manifest) {
                selection.themes = Some(load_themes(manifest).map_err(|e| HostError::Theme {
                    plugin: id.into(),
                    reason: e.to_string(),
                })?);
            }
            continue;
        }
        let Some(binding) = find(kind, interfaces) else {
            if wanted {
                return Err(missing_export(id, kind));
            }
            continue;
        };
        if declared.is_empty() || wanted {
            selection.bindings.push((kind, binding));
        }
    }
    Ok(selection)
}

/// The export serving `kind` among the component's exported `interfaces`: its own package
/// on the current track, else the legacy one.
pub(crate) fn find(kind: Kind, interfaces: &[&str]) -> Option<Binding> {
    let latest = kind.latest();
    let interface = kind.interface()?;
    let current = interfaces.iter().find(|name| {
        let Some((base, version)) = name.split_once('@') else {
            return false;
        };
        base == interface && semver::Version::parse(version).is_ok_and(|v| same_track(&v, &latest))
    });
    if let Some(interface) = current {
        return Some(Binding {
            interface: (*interface).to_owned(),
            served: Served::Current,
        });
    }
    // A `wasi:http` proxy component serves a service's HTTP requests on its own.
    if kind == Kind::Service {
        let http = interfaces.iter().map(|name| Binding {
            interface: (*name).to_owned(),
            served: Served::Current,
        });
        if let Some(binding) = http.into_iter().find(Binding::is_wasi_http) {
            return Some(binding);
        }
    }
    let legacy = kind.legacy_interface()?;
    interfaces
        .iter()
        .find(|name| **name == legacy)
        .map(|interface| Binding {
            interface: (*interface).to_owned(),
            served: Served::Legacy,
        })
}

/// The declared kind `kind` is not exported at all.
pub(crate) fn missing_export(id: &str, kind: Kind) -> HostError {
    mismatch(
        id,
        kind,
        format!(
            "declares the `{kind}` kind but does not export `{}`",
            kind.versioned_interface().unwrap_or_default()
        ),
    )
}

/// Semver compatibility as the component model applies it: same major, and for 0.x the
/// same minor.
fn same_track(have: &semver::Version, want: &semver::Version) -> bool {
    have.major == want.major && (have.major != 0 || have.minor == want.minor)
}

pub(crate) fn mismatch(id: &str, kind: Kind, reason: String) -> HostError {
    HostError::KindMismatch {
        plugin: id.into(),
        kind,
        reason,
    }
}

/// Checks the functions of one bound kind.
struct Checker<'a> {
    exports: &'a Exports,
    pre: &'a InstancePre<StoreState>,
    id: &'a str,
    kind: Kind,
    binding: &'a Binding,
}

impl Checker<'_> {
    /// Checks that function `name` exists with parameters `P` and results `R`.
    fn func<P, R>(&self, name: &str, wit: &str) -> Result<(), HostError>
    where
        P: ComponentNamedList + Lower,
        R: ComponentNamedList + Lift,
    {
        let export = self.binding.func(name);
        let func = self.exports.resolve(&export).map_err(|_| {
            mismatch(
                self.id,
                self.kind,
                format!(
                    "provides the `{}` kind through `{}` but has no function `{name}` (`{name}: {wit}`)",
                    self.kind, self.binding.interface
                ),
            )
        })?;
        func.ty
            .typecheck::<P, R>(&self.pre.instance_type())
            .map_err(|e| {
                mismatch(
                    self.id,
                    self.kind,
                    format!(
                        "`{export}` has another type than the `{}` kind needs (`{name}: {wit}`): {e:#}",
                        self.kind
                    ),
                )
            })
    }
}

/// A kind an embedder can ask a plugin for with [`Plugin::kind`].
pub trait ProvidedKind {
    /// The kind.
    const KIND: Kind;
    /// The typed handle.
    type Handle<'p>;
    /// The handle, when `plugin` provides the kind.
    fn handle(plugin: &Plugin) -> Option<Self::Handle<'_>>;
}

/// The `command` kind: [`Commands`].
#[derive(Debug, Clone, Copy)]
pub struct Command;

/// The `tool` kind: [`Tools`].
#[derive(Debug, Clone, Copy)]
pub struct Tool;

/// The `hook` kind: [`Hooks`].
#[derive(Debug, Clone, Copy)]
pub struct Hook;

impl ProvidedKind for Command {
    const KIND: Kind = Kind::Command;
    type Handle<'p> = Commands<'p>;
    fn handle(plugin: &Plugin) -> Option<Commands<'_>> {
        let binding = plugin.inner.kinds.command.as_ref()?;
        Some(Commands::new(plugin, binding))
    }
}

impl ProvidedKind for Tool {
    const KIND: Kind = Kind::Tool;
    type Handle<'p> = Tools<'p>;
    fn handle(plugin: &Plugin) -> Option<Tools<'_>> {
        let (binding, specs) = plugin.inner.kinds.tool.as_ref()?;
        Some(Tools::new(plugin, binding, specs))
    }
}

impl ProvidedKind for Hook {
    const KIND: Kind = Kind::Hook;
    type Handle<'p> = Hooks<'p>;
    fn handle(plugin: &Plugin) -> Option<Hooks<'_>> {
        let binding = plugin.inner.kinds.hook.as_ref()?;
        Some(Hooks::new(plugin, binding))
    }
}

/// The `file-loader` kind: [`FileLoaders`].
#[derive(Debug, Clone, Copy)]
pub struct FileLoader;

/// The `file-viewer` kind: [`FileViewers`].
#[derive(Debug, Clone, Copy)]
pub struct FileViewer;

/// The `exporter` kind: [`Exporters`].
#[derive(Debug, Clone, Copy)]
pub struct Exporter;

/// The `data-source` kind: [`DataSources`].
#[derive(Debug, Clone, Copy)]
pub struct DataSource;

/// The `theme` kind: [`Themes`].
#[derive(Debug, Clone, Copy)]
pub struct Theme;

/// The `theme-provider` kind: [`ThemeProviders`].
#[derive(Debug, Clone, Copy)]
pub struct ThemeProvider;

/// The `service` kind: [`Services`].
#[derive(Debug, Clone, Copy)]
pub struct Service;

/// A [`ProvidedKind`] whose handle is `$handle::new(plugin, binding)`.
macro_rules! component_kind {
    ($marker:ident, $kind:ident, $field:ident, $handle:ident) => {
        impl ProvidedKind for $marker {
            const KIND: Kind = Kind::$kind;
            type Handle<'p> = $handle<'p>;
            fn handle(plugin: &Plugin) -> Option<$handle<'_>> {
                let binding = plugin.inner.kinds.$field.as_ref()?;
                Some($handle::new(plugin, binding))
            }
        }
    };
}

component_kind!(FileLoader, FileLoader, file_loader, FileLoaders);
component_kind!(FileViewer, FileViewer, file_viewer, FileViewers);
component_kind!(Exporter, Exporter, exporter, Exporters);
component_kind!(DataSource, DataSource, data_source, DataSources);
component_kind!(ThemeProvider, ThemeProvider, theme_provider, ThemeProviders);
component_kind!(Service, Service, service, Services);
component_kind!(EventHandler, EventHandler, event_handler, EventHandlers);
component_kind!(AuthProvider, AuthProvider, auth_provider, AuthProviders);
component_kind!(PolicyHook, PolicyHook, policy_hook, PolicyHooks);
component_kind!(
    SearchAnalyzer,
    SearchAnalyzer,
    search_analyzer,
    SearchAnalyzers
);
component_kind!(PreviewKind, Preview, preview, Previews);
component_kind!(
    ContentTransform,
    ContentTransform,
    content_transform,
    ContentTransforms
);
component_kind!(
    StorageProvider,
    StorageProvider,
    storage_provider,
    StorageProviders
);

/// The `content-transform` kind: [`ContentTransforms`].
#[derive(Debug, Clone, Copy)]
pub struct ContentTransform;

/// The `storage-provider` kind: [`StorageProviders`].
#[derive(Debug, Clone, Copy)]
pub struct StorageProvider;

/// The `event-handler` kind: [`EventHandlers`].
#[derive(Debug, Clone, Copy)]
pub struct EventHandler;

/// The `auth-provider` kind: [`AuthProviders`].
#[derive(Debug, Clone, Copy)]
pub struct AuthProvider;

/// The `policy-hook` kind: [`PolicyHooks`].
#[derive(Debug, Clone, Copy)]
pub struct PolicyHook;

/// The `search-analyzer` kind: [`SearchAnalyzers`].
#[derive(Debug, Clone, Copy)]
pub struct SearchAnalyzer;

/// The `preview` kind: [`Previews`] (named apart from the [`Preview`] it returns).
#[derive(Debug, Clone, Copy)]
pub struct PreviewKind;

impl ProvidedKind for Theme {
    const KIND: Kind = Kind::Theme;
    type Handle<'p> = Themes<'p>;
    fn handle(plugin: &Plugin) -> Option<Themes<'_>> {
        plugin.inner.kinds.themes.as_deref().map(Themes::new)
    }
}

impl Plugin {
    /// The kinds this plugin provides: those its manifest declares, or for a component
    /// without declarations those it exports.
    pub fn kinds(&self) -> Vec<Kind> {
        self.inner.kinds.kinds()
    }

    /// Whether the plugin provides `kind`.
    pub fn provides(&self, kind: Kind) -> bool {
        self.kinds().contains(&kind)
    }

    /// The typed handle of kind `K` (`plugin.kind::<Tool>()?.call(..)`); `kind-mismatch`
    /// when the plugin does not provide it.
    pub fn kind<K: ProvidedKind>(&self) -> Result<K::Handle<'_>, KindError> {
        K::handle(self).ok_or_else(|| KindError::NotProvided {
            plugin: self.id().into(),
            kind: K::KIND,
            provided: self.kinds(),
        })
    }

    /// Which WIT `kind` is served through, when provided.
    pub fn served(&self, kind: Kind) -> Option<Served> {
        self.inner.kinds.binding(kind).map(|b| b.served)
    }
}

/// Runs a kind future on the plugin's host runtime (the blocking API).
pub(crate) fn block<T>(
    plugin: &Plugin,
    export: &str,
    future: impl Future<Output = Result<T, KindError>>,
) -> Result<T, KindError> {
    plugin
        .block_on(export, std::pin::pin!(async { Ok(future.await) }))
        .unwrap_or_else(|call| Err(KindError::Call(call)))
}
