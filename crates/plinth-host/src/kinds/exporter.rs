//! The `exporter` kind: a table in, bytes in a declared format out.

use plinth_manifest::{ExportFormatDecl, Kind};

use super::table::{Table, check_rows, table_conversions};
use super::{Binding, Checker, KindError, block};
use crate::bindings::exporter_v0_1::exports::plinth::exporter::exporter as v1;
use crate::error::HostError;
use crate::plugin::Plugin;

table_conversions!(crate::bindings::exporter_v0_1::exports::plinth::exporter::exporter);

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(String, v1::Table), (Result<Vec<u8>, v1::ExportError>,)>(
        "export",
        "func(format: string, data: table) -> result<list<u8>, export-error>",
    )
}

/// The `exporter` kind of one plugin: [`Plugin::kind`]`::<`[`Exporter`](super::Exporter)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct Exporters<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> Exporters<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// The formats the manifest declares (name, extension, media type); nothing runs.
    pub fn formats(&self) -> &'p [ExportFormatDecl] {
        self.plugin
            .manifest()
            .map_or(&[], |m| m.provides.exporter.as_slice())
    }

    /// Writes `table` as `format` in a fresh instance. The format must be declared
    /// (`unknown-format`) and the table must fit its columns (`invalid-input`); neither
    /// runs the plugin.
    pub async fn export_async(&self, format: &str, table: &Table) -> Result<Vec<u8>, KindError> {
        let formats = self.formats();
        if !formats.is_empty() && !formats.iter().any(|f| f.name == format) {
            return Err(KindError::UnknownFormat {
                plugin: self.plugin.id().into(),
                kind: Kind::Exporter,
                format: format.into(),
                known: formats.iter().map(|f| f.name.clone()).collect(),
            });
        }
        self.export_guest_async(format, table).await
    }

    /// [`Self::export_async`] without the manifest's format check (the table is still
    /// checked): what the guest does with any name (the conformance kits ask it about a
    /// format nobody declared).
    pub(crate) async fn export_guest_async(
        &self,
        format: &str,
        table: &Table,
    ) -> Result<Vec<u8>, KindError> {
        let what = format!("exporter `{format}`");
        check_rows(&table.columns, &table.rows, 0).map_err(|reason| KindError::InvalidTable {
            plugin: self.plugin.id().into(),
            what: what.clone(),
            reason,
        })?;
        let data = v1::Table {
            columns: table.columns.iter().map(Into::into).collect(),
            rows: table
                .rows
                .iter()
                .map(|row| row.iter().map(Into::into).collect())
                .collect(),
        };
        let (bytes,): (Result<Vec<u8>, v1::ExportError>,) = self
            .plugin
            .call_async(&self.binding.func("export"), (format.to_owned(), data))
            .await?;
        let failed = |code: &str, reason: String| KindError::PluginFailed {
            plugin: self.plugin.id().into(),
            what: what.clone(),
            code: code.into(),
            reason,
        };
        bytes.map_err(|e| match e {
            v1::ExportError::UnknownFormat(_) => KindError::Mismatch {
                plugin: self.plugin.id().into(),
                kind: Kind::Exporter,
                reason: format!(
                    "the manifest declares the export format `{format}` but the component does not know it"
                ),
            },
            v1::ExportError::Unsupported(reason) => failed("unsupported", reason),
            v1::ExportError::Failed(reason) => failed("failed", reason),
        })
    }

    /// Blocking [`Self::export_async`].
    pub fn export(&self, format: &str, table: &Table) -> Result<Vec<u8>, KindError> {
        block(
            self.plugin,
            &self.binding.func("export"),
            self.export_async(format, table),
        )
    }

    /// Blocking [`Self::export_guest_async`].
    pub(crate) fn export_guest(&self, format: &str, table: &Table) -> Result<Vec<u8>, KindError> {
        block(
            self.plugin,
            &self.binding.func("export"),
            self.export_guest_async(format, table),
        )
    }
}
