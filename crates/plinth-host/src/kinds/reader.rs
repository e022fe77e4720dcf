//! [`TableReader`]: a table read a page at a time from a file loader or a data source,
//! each page in a fresh instance with the full budget, each checked against the columns.

use super::table::{Column, Row, Table, TableInfo, check_rows};
use super::{KindError, block};
use crate::bindings::data_source_v0_1::exports::plinth::data_source::data_source as ds;
use crate::bindings::file_loader_v0_1::exports::plinth::file_loader::file_loader as fl;
use crate::plugin::Plugin;

/// Where the pages come from.
#[derive(Debug, Clone)]
pub(super) enum Pages {
    /// A file loader's `read-rows(format, source, cursor, max)`.
    Loader {
        export: String,
        format: String,
        source: fl::Source,
    },
    /// A data source's `read-rows(query, cursor, max)`.
    DataSource { export: String, query: String },
}

impl Pages {
    fn export(&self) -> &str {
        match self {
            Pages::Loader { export, .. } | Pages::DataSource { export, .. } => export,
        }
    }
}

/// A table being read: its columns, and its rows a page at a time. Only the page asked
/// for is in memory; nothing stays in the plugin between pages (each runs in a fresh
/// instance, from the cursor the previous page returned).
#[derive(Debug)]
pub struct TableReader<'p> {
    plugin: &'p Plugin,
    what: String,
    pages: Pages,
    info: TableInfo,
    /// The next page's cursor; `None` once the last page was read.
    cursor: Option<u64>,
    /// Rows read so far, for the JSON paths of errors.
    rows_read: u64,
}

impl<'p> TableReader<'p> {
    pub(super) fn new(plugin: &'p Plugin, what: String, pages: Pages, info: TableInfo) -> Self {
        TableReader {
            plugin,
            what,
            pages,
            info,
            cursor: Some(0),
            rows_read: 0,
        }
    }

    /// The table's columns and, when known, its row count.
    pub fn info(&self) -> &TableInfo {
        &self.info
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.info.columns
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.rows_read
    }

    /// Whether the last page was read.
    pub fn is_done(&self) -> bool {
        self.cursor.is_none()
    }

    /// The next page of at most `max_rows` rows (at least one is asked for), or `None`
    /// after the last. A page with more rows than asked, rows that do not fit the
    /// columns, or a cursor that does not move is `invalid-output`.
    pub async fn next_page_async(&mut self, max_rows: u32) -> Result<Option<Vec<Row>>, KindError> {
        let Some(cursor) = self.cursor else {
            return Ok(None);
        };
        let max_rows = max_rows.max(1);
        let (rows, next) = match &self.pages {
            Pages::Loader {
                export,
                format,
                source,
            } => {
                let params = (format.clone(), source.clone(), cursor, max_rows);
                let (page,): (Result<fl::Page, fl::LoadError>,) =
                    self.plugin.call_async(export, params).await?;
                let page =
                    page.map_err(|e| super::file_loader::guest_error(self.plugin, format, e))?;
                (super::file_loader::rows(page.rows), page.next)
            }
            Pages::DataSource { export, query } => {
                let params = (query.clone(), cursor, max_rows);
                let (page,): (Result<ds::Page, ds::PluginError>,) =
                    self.plugin.call_async(export, params).await?;
                let page =
                    page.map_err(|e| super::data_source::guest_error(self.plugin, "read-rows", e))?;
                (super::data_source::rows(page.rows), page.next)
            }
        };
        let invalid = |reason: String| KindError::InvalidOutput {
            plugin: self.plugin.id().into(),
            what: self.what.clone(),
            reason,
        };
        if rows.len() > max_rows as usize {
            return Err(invalid(format!(
                "a page of {} rows where at most {max_rows} were asked for",
                rows.len()
            )));
        }
        check_rows(&self.info.columns, &rows, self.rows_read).map_err(invalid)?;
        match next {
            Some(next) if next == cursor => {
                return Err(invalid(format!(
                    "the cursor did not move ({cursor}): the table would never end"
                )));
            }
            Some(_) if rows.is_empty() => {
                return Err(invalid(
                    "an empty page that is not the last: the table would never end".into(),
                ));
            }
            _ => {}
        }
        self.cursor = next;
        self.rows_read += rows.len() as u64;
        Ok(Some(rows))
    }

    /// Blocking [`Self::next_page_async`].
    pub fn next_page(&mut self, max_rows: u32) -> Result<Option<Vec<Row>>, KindError> {
        let plugin = self.plugin;
        let export = self.pages.export().to_owned();
        block(plugin, &export, self.next_page_async(max_rows))
    }

    /// Reads every remaining page of at most `page_rows` rows into one table.
    pub async fn read_all_async(mut self, page_rows: u32) -> Result<Table, KindError> {
        let mut rows = Vec::new();
        while let Some(page) = self.next_page_async(page_rows).await? {
            rows.extend(page);
        }
        Ok(Table {
            columns: self.info.columns,
            rows,
        })
    }

    /// Blocking [`Self::read_all_async`].
    pub fn read_all(self, page_rows: u32) -> Result<Table, KindError> {
        let plugin = self.plugin;
        let export = self.pages.export().to_owned();
        block(plugin, &export, self.read_all_async(page_rows))
    }
}
