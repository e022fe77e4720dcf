//! The `file-viewer` kind: a file in, a UI node out.

use plinth_manifest::{FileFormatDecl, Kind};

use super::table::Source;
use super::ui::{UiOutput, check_node};
use super::{Binding, Checker, KindError, block};
use crate::bindings::file_viewer_v0_1::exports::plinth::file_viewer::file_viewer as v1;
use crate::error::HostError;
use crate::plugin::Plugin;

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(String, v1::Source), (Result<v1::UiOutput, v1::ViewError>,)>(
        "view",
        "func(format: string, src: source) -> result<ui-output, view-error>",
    )
}

/// The `file-viewer` kind of one plugin: [`Plugin::kind`]`::<`[`FileViewer`](super::FileViewer)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct FileViewers<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> FileViewers<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// The formats the manifest declares; nothing runs.
    pub fn formats(&self) -> &'p [FileFormatDecl] {
        self.plugin
            .manifest()
            .map_or(&[], |m| m.provides.file_viewer.as_slice())
    }

    /// Renders `source` as `format` in a fresh instance; the node is checked against the
    /// UI-node schema (`invalid-output` with the JSON path otherwise).
    pub async fn view_async(&self, format: &str, source: Source) -> Result<UiOutput, KindError> {
        let formats = self.formats();
        if !formats.is_empty() && !formats.iter().any(|f| f.name == format) {
            return Err(KindError::UnknownFormat {
                plugin: self.plugin.id().into(),
                kind: Kind::FileViewer,
                format: format.into(),
                known: formats.iter().map(|f| f.name.clone()).collect(),
            });
        }
        self.view_guest_async(format, source).await
    }

    /// [`Self::view_async`] without the manifest's format check: what the guest does
    /// with any name (the conformance kits ask it about a format nobody declared).
    pub(crate) async fn view_guest_async(
        &self,
        format: &str,
        source: Source,
    ) -> Result<UiOutput, KindError> {
        let source = match source {
            Source::Bytes(bytes) => v1::Source::Bytes(bytes),
            Source::Path(path) => v1::Source::Path(path),
        };
        let (output,): (Result<v1::UiOutput, v1::ViewError>,) = self
            .plugin
            .call_async(&self.binding.func("view"), (format.to_owned(), source))
            .await?;
        let what = format!("viewer `{format}`");
        let failed = |code: &str, reason: String| KindError::PluginFailed {
            plugin: self.plugin.id().into(),
            what: what.clone(),
            code: code.into(),
            reason,
        };
        let output = output.map_err(|e| match e {
            v1::ViewError::UnknownFormat(_) => KindError::Mismatch {
                plugin: self.plugin.id().into(),
                kind: Kind::FileViewer,
                reason: format!(
                    "the manifest declares the viewer format `{format}` but the component does not know it"
                ),
            },
            v1::ViewError::InvalidData(reason) => failed("invalid-data", reason),
            v1::ViewError::Io(reason) => failed("io", reason),
            v1::ViewError::Failed(reason) => failed("failed", reason),
        })?;
        check_node(
            self.plugin.id(),
            &what,
            &output.node_json,
            output.height_hint,
        )
    }

    /// Blocking [`Self::view_async`].
    pub fn view(&self, format: &str, source: Source) -> Result<UiOutput, KindError> {
        block(
            self.plugin,
            &self.binding.func("view"),
            self.view_async(format, source),
        )
    }

    /// Blocking [`Self::view_guest_async`].
    pub(crate) fn view_guest(&self, format: &str, source: Source) -> Result<UiOutput, KindError> {
        block(
            self.plugin,
            &self.binding.func("view"),
            self.view_guest_async(format, source),
        )
    }
}
