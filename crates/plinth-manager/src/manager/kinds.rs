//! The registry of kinds: which enabled plugins provide which kind right now, with their
//! metadata, read from the versions serving calls (so enable, disable and hot reload
//! change it at once, and each change is a [`StatusEvent`](crate::StatusEvent) carrying
//! the plugin's kinds).

use plinth_host::Plugin;
use plinth_host::kinds::HookChain;
use plinth_manifest::{FileFormatDecl, FileQuery, Kind};

use super::{Manager, lock};

/// One serving plugin that provides a kind.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The plugin id.
    pub id: String,
    /// The serving version.
    pub version: String,
    /// The loaded plugin: `provider.plugin.kind::<Tool>()` calls it. Holding it keeps
    /// this version alive past a swap, as a call in flight does.
    pub plugin: Plugin,
}

impl Manager {
    /// The enabled plugins serving `kind` now, by id.
    pub fn providers(&self, kind: Kind) -> Vec<Provider> {
        let slots = self
            .shared
            .slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        slots
            .values()
            .filter(|slot| lock(&slot.entry).enabled)
            .filter_map(|slot| slot.current())
            .filter(|active| active.plugin.provides(kind))
            .map(|active| Provider {
                id: active.plugin.id().to_string(),
                version: active.version.clone(),
                plugin: active.plugin.clone(),
            })
            .collect()
    }

    /// The serving version of enabled plugin `id`, for calls through a kind's typed API.
    pub fn plugin(&self, id: &str) -> Option<Plugin> {
        let slot = self.slot(id).filter(|s| lock(&s.entry).enabled)?;
        slot.current().map(|active| active.plugin.clone())
    }

    /// The file-loader formats of the serving plugins that match `query` (a path's
    /// extension or a media type), the most specific first, then by plugin id: what an
    /// application opens a file with. Read from the manifests; no plugin runs.
    pub fn loaders_for(&self, query: FileQuery<'_>) -> Vec<(Provider, FileFormatDecl)> {
        self.formats_for(Kind::FileLoader, query)
    }

    /// The file-viewer formats of the serving plugins that match `query`, like
    /// [`Manager::loaders_for`].
    pub fn viewers_for(&self, query: FileQuery<'_>) -> Vec<(Provider, FileFormatDecl)> {
        self.formats_for(Kind::FileViewer, query)
    }

    fn formats_for(&self, kind: Kind, query: FileQuery<'_>) -> Vec<(Provider, FileFormatDecl)> {
        let mut found: Vec<(usize, Provider, FileFormatDecl)> = Vec::new();
        for provider in self.providers(kind) {
            let Some(manifest) = provider.plugin.manifest() else {
                continue;
            };
            let formats = match kind {
                Kind::FileViewer => &manifest.provides.file_viewer,
                _ => &manifest.provides.file_loader,
            };
            for format in formats {
                if let Some(score) = format.matches(query) {
                    found.push((score, provider.clone(), format.clone()));
                }
            }
        }
        // Stable: a plugin's own entries keep their order on ties.
        found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        found.into_iter().map(|(_, p, f)| (p, f)).collect()
    }

    /// A hook chain over every serving hook provider, for
    /// [`HookChain::run`](plinth_host::kinds::HookChain::run) on the application's points.
    pub fn hook_chain(&self) -> HookChain {
        HookChain::new(self.providers(Kind::Hook).into_iter().map(|p| p.plugin))
    }
}
