//! Thoth's file kinds: `file-loader` (a file in, a typed table out, a page at a time),
//! `file-viewer` (a file in, a UI node out) and `exporter` (a table in, bytes out).

use std::io::{BufRead, BufReader, Seek, SeekFrom};

use crate::Plugin;
use crate::table::{Page, Source, Table, TableInfo, UiOutput};

/// The `file-loader` kind (world `plinth:file-loader/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: file_loader)`.
///
/// The host opens a file once ([`open`](FileLoader::open): the columns), then asks for
/// its rows a page at a time ([`read_rows`](FileLoader::read_rows)), each call in a fresh
/// instance: keep no state between calls; the `cursor` says where a page starts (0 is the
/// first row; then the `next` of the previous page, e.g. a byte offset). The PDK answers
/// a format not in [`FORMATS`](FileLoader::FORMATS) with
/// [`LoadError::UnknownFormat`] without calling either method. [`read_lines`] reads a
/// page of a line-based file from a byte offset, never the whole file, and
/// [`read_records`] the same without blank lines.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Lines;
///
/// impl Plugin for Lines {}
///
/// impl FileLoader for Lines {
///     const FORMATS: &'static [&'static str] = &["lines"];
///
///     fn open(_format: &str, _source: Source) -> Result<TableInfo, LoadError> {
///         Ok(TableInfo {
///             columns: vec![Column::new("line", ColumnType::String)],
///             row_count: None,
///         })
///     }
///
///     fn read_rows(
///         _format: &str,
///         source: Source,
///         cursor: u64,
///         max_rows: u32,
///     ) -> Result<Page, LoadError> {
///         let page = read_lines(source, cursor, max_rows)?;
///         Ok(Page {
///             rows: page.lines.into_iter().map(|l| vec![Cell::String(l)]).collect(),
///             next: page.next,
///         })
///     }
/// }
///
/// plinth_pdk::export!(Lines: file_loader);
/// # fn main() {}
/// ```
pub trait FileLoader: Plugin {
    /// The formats this loader reads: the `name`s of the manifest's
    /// `[[provides.file-loader]]` entries.
    const FORMATS: &'static [&'static str];

    /// Reads the columns of `source` as `format` (and the row count, when it is known
    /// without reading the rows).
    fn open(format: &str, source: Source) -> Result<TableInfo, LoadError>;

    /// Reads at most `max_rows` rows from `cursor`. Every row has a cell per column, each
    /// of its column's type or null; a failure is a [`LoadError`], never a panic (a panic
    /// is a trap, which the application sees as a crash).
    fn read_rows(
        format: &str,
        source: Source,
        cursor: u64,
        max_rows: u32,
    ) -> Result<Page, LoadError>;
}

/// Why a loader could not read a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// A format this loader does not read (the PDK answers it for you).
    UnknownFormat(String),
    /// The content is not valid for the format; say where.
    InvalidData(String),
    /// The file could not be read (e.g. its directory is not granted).
    Io(String),
    /// Anything else.
    Failed(String),
}

impl From<std::io::Error> for LoadError {
    fn from(error: std::io::Error) -> Self {
        LoadError::Io(error.to_string())
    }
}

/// The `file-viewer` kind (world `plinth:file-viewer/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: file_viewer)`. The PDK answers a format not in
/// [`FORMATS`](FileViewer::FORMATS) with [`ViewError::UnknownFormat`] without calling
/// [`view`](FileViewer::view).
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Plain;
///
/// impl Plugin for Plain {}
///
/// impl FileViewer for Plain {
///     const FORMATS: &'static [&'static str] = &["text"];
///
///     fn view(_format: &str, source: Source) -> Result<UiOutput, ViewError> {
///         let bytes = source.read_all()?;
///         let text = String::from_utf8(bytes)
///             .map_err(|_| ViewError::InvalidData("not UTF-8 text".into()))?;
///         Ok(UiOutput::text(&text))
///     }
/// }
///
/// plinth_pdk::export!(Plain: file_viewer);
/// # fn main() {}
/// ```
pub trait FileViewer: Plugin {
    /// The formats this viewer shows: the `name`s of the manifest's
    /// `[[provides.file-viewer]]` entries.
    const FORMATS: &'static [&'static str];

    /// Shows `source` as `format`: a node that passes the UI-node schema (the host
    /// refuses any other).
    fn view(format: &str, source: Source) -> Result<UiOutput, ViewError>;
}

/// Why a viewer could not show a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewError {
    /// A format this viewer does not show (the PDK answers it for you).
    UnknownFormat(String),
    /// The content is not valid for the format.
    InvalidData(String),
    /// The file could not be read.
    Io(String),
    /// Anything else.
    Failed(String),
}

impl From<std::io::Error> for ViewError {
    fn from(error: std::io::Error) -> Self {
        ViewError::Io(error.to_string())
    }
}

/// The `exporter` kind (world `plinth:exporter/plugin@0.1.0`), exported with
/// [`export!`](crate::export)`(T: exporter)`. The host checks the table against its
/// columns before the call; the PDK answers a format not in
/// [`FORMATS`](Exporter::FORMATS) with [`ExportError::UnknownFormat`].
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Json;
///
/// impl Plugin for Json {}
///
/// impl Exporter for Json {
///     const FORMATS: &'static [&'static str] = &["json"];
///
///     fn export(_format: &str, table: Table) -> Result<Vec<u8>, ExportError> {
///         Ok(Value::from(table.rows_as_json()).to_string().into_bytes())
///     }
/// }
///
/// plinth_pdk::export!(Json: exporter);
/// # fn main() {}
/// ```
pub trait Exporter: Plugin {
    /// The formats this exporter writes: the `name`s of the manifest's
    /// `[[provides.exporter]]` entries.
    const FORMATS: &'static [&'static str];

    /// Writes `table` as `format`. A table the format cannot hold (a `bytes` column in
    /// CSV) is [`ExportError::Unsupported`], never a panic.
    fn export(format: &str, table: Table) -> Result<Vec<u8>, ExportError>;
}

/// Why an exporter could not write a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// A format this exporter does not write (the PDK answers it for you).
    UnknownFormat(String),
    /// The format cannot hold this table.
    Unsupported(String),
    /// Anything else.
    Failed(String),
}

/// A page of lines ([`read_lines`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinePage {
    /// The lines, without their line breaks.
    pub lines: Vec<String>,
    /// The byte offset of the next line, or `None` when the file ends after these.
    pub next: Option<u64>,
}

/// Reads at most `max_lines` lines of `source` from byte `offset`, reading only those
/// lines (a path is opened and read from `offset`, never whole). Line breaks (`\n` or
/// `\r\n`) are dropped; a line that is not UTF-8 is [`LoadError::InvalidData`].
pub fn read_lines(source: Source, offset: u64, max_lines: u32) -> Result<LinePage, LoadError> {
    read_page(source, offset, max_lines, |_| true)
}

/// [`read_lines`] for formats of one record a line (CSV, TSV, JSON Lines): blank lines are
/// skipped and not counted, so a page holds `max_records` records unless the file ends.
pub fn read_records(source: Source, offset: u64, max_records: u32) -> Result<LinePage, LoadError> {
    read_page(source, offset, max_records, |line| !line.trim().is_empty())
}

fn read_page(
    source: Source,
    offset: u64,
    max_lines: u32,
    keep: impl Fn(&str) -> bool,
) -> Result<LinePage, LoadError> {
    let mut reader = BufReader::new(source.open()?);
    reader.seek(SeekFrom::Start(offset))?;
    let mut page = LinePage::default();
    let mut pos = offset;
    while page.lines.len() < max_lines as usize {
        let mut buf = Vec::new();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(page);
        }
        pos += n as u64;
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        let line = String::from_utf8(buf).map_err(|_| {
            LoadError::InvalidData(format!("the line ending at byte {pos} is not UTF-8"))
        })?;
        if keep(&line) {
            page.lines.push(line);
        }
    }
    let more = !reader.fill_buf()?.is_empty();
    page.next = more.then_some(pos);
    Ok(page)
}

/// Splits one CSV line into its fields: separated by commas, `"quoted, with "" escapes"`.
pub fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    out.push(field);
    out
}

/// One CSV field: quoted when it holds a comma, a quote or a line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn known(formats: &[&str], format: &str) -> bool {
    formats.contains(&format)
}

/// `file-loader.open`.
pub(crate) fn open<L: FileLoader>(format: &str, source: Source) -> Result<TableInfo, LoadError> {
    if !known(L::FORMATS, format) {
        return Err(LoadError::UnknownFormat(format!("no format `{format}`")));
    }
    L::open(format, source)
}

/// `file-loader.read-rows`.
pub(crate) fn read_rows<L: FileLoader>(
    format: &str,
    source: Source,
    cursor: u64,
    max_rows: u32,
) -> Result<Page, LoadError> {
    if !known(L::FORMATS, format) {
        return Err(LoadError::UnknownFormat(format!("no format `{format}`")));
    }
    L::read_rows(format, source, cursor, max_rows)
}

/// `file-viewer.view`: the node as JSON text.
pub(crate) fn view<V: FileViewer>(
    format: &str,
    source: Source,
) -> Result<(String, u32), ViewError> {
    if !known(V::FORMATS, format) {
        return Err(ViewError::UnknownFormat(format!("no format `{format}`")));
    }
    V::view(format, source).map(|output| (output.node.to_string(), output.height_hint))
}

/// `exporter.export`.
pub(crate) fn export<E: Exporter>(format: &str, table: Table) -> Result<Vec<u8>, ExportError> {
    if !known(E::FORMATS, format) {
        return Err(ExportError::UnknownFormat(format!("no format `{format}`")));
    }
    E::export(format, table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Cell, Column, ColumnType};

    #[test]
    fn lines_are_read_a_page_at_a_time_from_an_offset() {
        let source = Source::Bytes(b"a\r\nbb\n\ncc\n".to_vec());
        let first = read_lines(source.clone(), 0, 2).unwrap();
        assert_eq!(first.lines, ["a", "bb"]);
        assert_eq!(first.next, Some(6));
        let rest = read_lines(source.clone(), 6, 10).unwrap();
        assert_eq!(rest.lines, ["", "cc"]);
        assert_eq!(rest.next, None);
        let records = read_records(source, 0, 3).unwrap();
        assert_eq!(records.lines, ["a", "bb", "cc"]);
        assert_eq!(records.next, None);
        let bad = read_lines(Source::Bytes(vec![b'a', 0xff, b'\n']), 0, 1).unwrap_err();
        assert!(matches!(bad, LoadError::InvalidData(_)), "{bad:?}");
    }

    #[test]
    fn csv_fields_round_trip() {
        let fields = csv_fields(r#""Torvalds, Linus",28,"say ""hi""""#);
        assert_eq!(fields, ["Torvalds, Linus", "28", "say \"hi\""]);
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        assert_eq!(csv_fields(&line.join(",")), fields);
    }

    struct Csv;

    impl Plugin for Csv {}

    impl Exporter for Csv {
        const FORMATS: &'static [&'static str] = &["csv"];

        fn export(_format: &str, table: Table) -> Result<Vec<u8>, ExportError> {
            Ok(format!("{} rows", table.rows.len()).into_bytes())
        }
    }

    #[test]
    fn undeclared_formats_are_answered_without_running_the_plugin() {
        let table = Table {
            columns: vec![Column::new("n", ColumnType::Int)],
            rows: vec![vec![Cell::Int(1)]],
        };
        assert_eq!(export::<Csv>("csv", table.clone()).unwrap(), b"1 rows");
        assert!(matches!(
            export::<Csv>("xlsx", table),
            Err(ExportError::UnknownFormat(_))
        ));
    }
}
