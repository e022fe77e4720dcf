//! The `file-loader` kind: a file in, a typed table out, a page at a time.

use plinth_manifest::{FileFormatDecl, Kind};

use super::reader::{Pages, TableReader};
use super::table::{Source, TableInfo, table_conversions};
use super::{Binding, Checker, KindError, block};
use crate::bindings::file_loader_v0_1::exports::plinth::file_loader::file_loader as v1;
use crate::error::HostError;
use crate::plugin::Plugin;

table_conversions!(crate::bindings::file_loader_v0_1::exports::plinth::file_loader::file_loader);

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(String, v1::Source), (Result<v1::TableInfo, v1::LoadError>,)>(
        "open",
        "func(format: string, src: source) -> result<table-info, load-error>",
    )?;
    checker.func::<(String, v1::Source, u64, u32), (Result<v1::Page, v1::LoadError>,)>(
        "read-rows",
        "func(format: string, src: source, cursor: u64, max-rows: u32) -> result<page, load-error>",
    )
}

impl From<Source> for v1::Source {
    fn from(source: Source) -> Self {
        match source {
            Source::Bytes(bytes) => v1::Source::Bytes(bytes),
            Source::Path(path) => v1::Source::Path(path),
        }
    }
}

/// The guest's `load-error` as a [`KindError`].
pub(super) fn guest_error(plugin: &Plugin, format: &str, error: v1::LoadError) -> KindError {
    let failed = |code: &str, reason: String| KindError::PluginFailed {
        plugin: plugin.id().into(),
        what: format!("loader `{format}`"),
        code: code.into(),
        reason,
    };
    match error {
        v1::LoadError::UnknownFormat(_) => KindError::Mismatch {
            plugin: plugin.id().into(),
            kind: Kind::FileLoader,
            reason: format!(
                "the manifest declares the loader format `{format}` but the component does not know it"
            ),
        },
        v1::LoadError::InvalidData(reason) => failed("invalid-data", reason),
        v1::LoadError::Io(reason) => failed("io", reason),
        v1::LoadError::Failed(reason) => failed("failed", reason),
    }
}

/// The `file-loader` kind of one plugin: [`Plugin::kind`]`::<`[`FileLoader`](super::FileLoader)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct FileLoaders<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> FileLoaders<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// The formats the manifest declares; nothing runs.
    pub fn formats(&self) -> &'p [FileFormatDecl] {
        self.plugin
            .manifest()
            .map_or(&[], |m| m.provides.file_loader.as_slice())
    }

    /// Checks that `format` is declared (`unknown-format` otherwise); a plugin without
    /// declarations leaves every name to the guest.
    fn check_format(&self, format: &str) -> Result<(), KindError> {
        let formats = self.formats();
        if formats.is_empty() || formats.iter().any(|f| f.name == format) {
            return Ok(());
        }
        Err(KindError::UnknownFormat {
            plugin: self.plugin.id().into(),
            kind: Kind::FileLoader,
            format: format.into(),
            known: formats.iter().map(|f| f.name.clone()).collect(),
        })
    }

    /// Opens `source` as `format`: the guest reads the columns (in a fresh instance);
    /// the rows follow a page at a time from the returned reader.
    pub async fn open_async(
        &self,
        format: &str,
        source: Source,
    ) -> Result<TableReader<'p>, KindError> {
        self.check_format(format)?;
        self.open_guest_async(format, source).await
    }

    /// [`Self::open_async`] without the manifest's format check: what the guest does
    /// with any name (the conformance kits ask it about a format nobody declared).
    pub(crate) async fn open_guest_async(
        &self,
        format: &str,
        source: Source,
    ) -> Result<TableReader<'p>, KindError> {
        let source = v1::Source::from(source);
        let (info,): (Result<v1::TableInfo, v1::LoadError>,) = self
            .plugin
            .call_async(
                &self.binding.func("open"),
                (format.to_owned(), source.clone()),
            )
            .await?;
        let info = info.map_err(|e| guest_error(self.plugin, format, e))?;
        let info = TableInfo {
            columns: columns(info.columns),
            row_count: info.row_count,
        };
        let pages = Pages::Loader {
            export: self.binding.func("read-rows"),
            format: format.to_owned(),
            source,
        };
        Ok(TableReader::new(
            self.plugin,
            format!("loader `{format}`"),
            pages,
            info,
        ))
    }

    /// Blocking [`Self::open_async`].
    pub fn open(&self, format: &str, source: Source) -> Result<TableReader<'p>, KindError> {
        block(
            self.plugin,
            &self.binding.func("open"),
            self.open_async(format, source),
        )
    }

    /// Blocking [`Self::open_guest_async`].
    pub(crate) fn open_guest(
        &self,
        format: &str,
        source: Source,
    ) -> Result<TableReader<'p>, KindError> {
        block(
            self.plugin,
            &self.binding.func("open"),
            self.open_guest_async(format, source),
        )
    }
}
