//! Typed tables, files and UI nodes: what Thoth's kinds exchange with the host
//! (`file-loader`, `file-viewer`, `exporter`; docs/design/0040).

use std::io::{Cursor, Read, Seek};

use serde_json::Value;

/// The type of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// UTF-8 text.
    String,
    /// A signed 64-bit integer.
    Int,
    /// A 64-bit float.
    Float,
    /// True or false.
    Bool,
    /// Milliseconds since 1970-01-01T00:00:00Z.
    Timestamp,
    /// Raw bytes.
    Bytes,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// The type of its non-null values.
    pub ty: ColumnType,
}

impl Column {
    /// A column called `name` of type `ty`.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Self {
            name: name.into(),
            ty,
        }
    }
}

/// One value of a row; [`Cell::Null`] fits a column of any type.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Null,
    /// A `string` value.
    String(String),
    /// An `int` value.
    Int(i64),
    /// A `float` value.
    Float(f64),
    /// A `bool` value.
    Bool(bool),
    /// A `timestamp` value (milliseconds since the Unix epoch, UTC).
    Timestamp(i64),
    /// A `bytes` value.
    Bytes(Vec<u8>),
}

impl Cell {
    /// Reads `text` as a value of a `ty` column: empty text is [`Cell::Null`]; `None` when
    /// the text is not such a value (`bytes` columns take the text's UTF-8 bytes).
    pub fn parse(text: &str, ty: ColumnType) -> Option<Cell> {
        if text.is_empty() {
            return Some(Cell::Null);
        }
        Some(match ty {
            ColumnType::String => Cell::String(text.to_string()),
            ColumnType::Int => Cell::Int(text.trim().parse().ok()?),
            ColumnType::Float => Cell::Float(text.trim().parse().ok()?),
            ColumnType::Bool => Cell::Bool(text.trim().parse().ok()?),
            ColumnType::Timestamp => Cell::Timestamp(text.trim().parse().ok()?),
            ColumnType::Bytes => Cell::Bytes(text.as_bytes().to_vec()),
        })
    }

    /// The value as plain JSON: text, numbers, booleans, `null`; bytes as an array of
    /// numbers; a non-finite float as `null`.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::String(s) => Value::from(s.as_str()),
            Cell::Int(n) | Cell::Timestamp(n) => Value::from(*n),
            Cell::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
            Cell::Bool(b) => Value::from(*b),
            Cell::Bytes(b) => Value::from(b.clone()),
        }
    }

    /// The value as text, as a CSV field would hold it before quoting: empty for null,
    /// bytes as lossy UTF-8.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::String(s) => s.clone(),
            Cell::Int(n) | Cell::Timestamp(n) => n.to_string(),
            Cell::Float(x) => x.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }
}

/// One row: a cell per column, in column order.
pub type Row = Vec<Cell>;

/// A whole table, as an exporter gets it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows, each with a cell per column.
    pub rows: Vec<Row>,
}

impl Table {
    /// The rows as JSON objects keyed by column name (see [`Cell::to_json`]).
    pub fn rows_as_json(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|row| {
                Value::Object(
                    self.columns
                        .iter()
                        .zip(row)
                        .map(|(c, cell)| (c.name.clone(), cell.to_json()))
                        .collect(),
                )
            })
            .collect()
    }
}

/// What a loader says about a table before any row is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The number of rows, when known without reading them; when given, it must be the
    /// number of rows the pages hold.
    pub row_count: Option<u64>,
}

/// One page of rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    /// At most the rows asked for; every row fits the columns.
    pub rows: Vec<Row>,
    /// Where the next page starts (a cursor the host hands back as is, e.g. a byte
    /// offset), or `None` after the last page. It must move: a page ending where it began
    /// is refused.
    pub next: Option<u64>,
}

/// A file handed to a loader or a viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The content, which the application already holds.
    Bytes(Vec<u8>),
    /// A file in a granted directory, as the plugin sees it (`/NAME/...` for
    /// `fs.read:NAME`); without the grant it is not there.
    Path(String),
}

/// A readable, seekable view of a [`Source`] ([`Source::open`]).
pub trait ReadSeek: Read + Seek {}

impl<T: Read + Seek> ReadSeek for T {}

impl Source {
    /// Opens the file for reading: a path is opened, never read whole; bytes are read
    /// in place.
    pub fn open(self) -> std::io::Result<Box<dyn ReadSeek>> {
        match self {
            Source::Bytes(bytes) => Ok(Box::new(Cursor::new(bytes))),
            Source::Path(path) => Ok(Box::new(std::fs::File::open(path)?)),
        }
    }

    /// The whole content: for small files, or formats that cannot be read in parts.
    pub fn read_all(self) -> std::io::Result<Vec<u8>> {
        match self {
            Source::Bytes(bytes) => Ok(bytes),
            Source::Path(path) => std::fs::read(path),
        }
    }
}

/// A UI node and the height it would like: what a viewer shows. The host checks the node
/// against the published UI-node schema (`docs/schemas/ui-node.schema.json`) before the
/// application sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct UiOutput {
    /// The node, e.g. `{"type": "text", "text": "…"}`.
    pub node: Value,
    /// The height it would like, in logical pixels (0: no preference).
    pub height_hint: u32,
}

impl UiOutput {
    /// The most characters a `text` node holds (the schema's `maxLength`).
    pub const TEXT_MAX_CHARS: usize = 65_536;

    /// `node` with no height preference.
    pub fn new(node: Value) -> Self {
        Self {
            node,
            height_hint: 0,
        }
    }

    /// A `text` node of `text`, cut to [`Self::TEXT_MAX_CHARS`] characters.
    pub fn text(text: &str) -> Self {
        let text: String = text.chars().take(Self::TEXT_MAX_CHARS).collect();
        Self::new(serde_json::json!({ "type": "text", "text": text }))
    }

    /// A `table` node of text cells: at most 10 000 rows (the schema's `maxItems`).
    pub fn table(columns: Vec<String>, rows: Vec<Vec<String>>) -> Self {
        let rows: Vec<Vec<String>> = rows.into_iter().take(10_000).collect();
        Self::new(serde_json::json!({ "type": "table", "columns": columns, "rows": rows }))
    }

    /// The same node with a height hint.
    pub fn with_height(mut self, height_hint: u32) -> Self {
        self.height_hint = height_hint;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_parse_as_their_column_type() {
        assert_eq!(Cell::parse("", ColumnType::Int), Some(Cell::Null));
        assert_eq!(Cell::parse("36", ColumnType::Int), Some(Cell::Int(36)));
        assert_eq!(Cell::parse("x", ColumnType::Int), None);
        assert_eq!(
            Cell::parse("true", ColumnType::Bool),
            Some(Cell::Bool(true))
        );
        assert_eq!(Cell::Float(f64::NAN).to_json(), Value::Null);
        assert_eq!(Cell::Null.to_text(), "");
    }

    #[test]
    fn text_nodes_are_cut_to_the_schema_limit() {
        let long = "é".repeat(UiOutput::TEXT_MAX_CHARS + 10);
        let node = UiOutput::text(&long).node;
        assert_eq!(
            node["text"].as_str().unwrap().chars().count(),
            UiOutput::TEXT_MAX_CHARS
        );
    }

    #[test]
    fn sources_open_without_reading_a_path_whole() {
        let mut reader = Source::Bytes(b"abc".to_vec()).open().unwrap();
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "abc");
        assert!(Source::Path("/no/such/file".into()).open().is_err());
    }
}
