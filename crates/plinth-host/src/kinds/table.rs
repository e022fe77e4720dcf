//! Typed tables (docs/design/0040): what file loaders and data sources produce and
//! exporters consume, one Rust model for every kind package that carries them.
//!
//! Each kind's WIT defines its own copy of the table types (so each package evolves on its
//! own); the conversions below map every copy onto this model, and [`check_rows`] holds
//! every page a plugin returns to its columns before the application sees it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The type of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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

impl ColumnType {
    /// The type's WIT name, e.g. `"timestamp"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Int => "int",
            ColumnType::Float => "float",
            ColumnType::Bool => "bool",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Bytes => "bytes",
        }
    }
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// The type of its non-null values.
    #[serde(rename = "type")]
    pub ty: ColumnType,
}

impl Column {
    /// A column called `name` of type `ty`.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Column {
            name: name.into(),
            ty,
        }
    }
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
    /// The column type this value belongs in; `None` for [`Cell::Null`], which fits any.
    pub fn column_type(&self) -> Option<ColumnType> {
        Some(match self {
            Cell::Null => return None,
            Cell::String(_) => ColumnType::String,
            Cell::Int(_) => ColumnType::Int,
            Cell::Float(_) => ColumnType::Float,
            Cell::Bool(_) => ColumnType::Bool,
            Cell::Timestamp(_) => ColumnType::Timestamp,
            Cell::Bytes(_) => ColumnType::Bytes,
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
}

/// One row: a cell per column, in column order.
pub type Row = Vec<Cell>;

/// What a table looks like before any row is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableInfo {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The number of rows, when the plugin knows it without reading them.
    pub row_count: Option<u64>,
}

/// A whole table, as an exporter takes it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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
                let object = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(c, cell)| (c.name.clone(), cell.to_json()))
                    .collect();
                Value::Object(object)
            })
            .collect()
    }
}

/// A file handed to a file-loader or file-viewer plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The content, which the application already holds. Meant for small files: the
    /// plugin gets a copy on every call.
    Bytes(Vec<u8>),
    /// A file in a directory granted to the plugin, as the plugin sees it
    /// (`/NAME/relative/path` for `fs.read:NAME`); the plugin reads it a page at a time.
    Path(String),
}

/// Why rows do not fit their columns: the JSON path of the first offence and what it is.
pub(crate) fn check_rows(columns: &[Column], rows: &[Row], first: u64) -> Result<(), String> {
    for (i, row) in rows.iter().enumerate() {
        let index = first + i as u64;
        if row.len() != columns.len() {
            return Err(format!(
                "at `/rows/{index}`: {} cells for {} columns",
                row.len(),
                columns.len()
            ));
        }
        for (j, (cell, column)) in row.iter().zip(columns).enumerate() {
            if let Some(ty) = cell.column_type()
                && ty != column.ty
            {
                return Err(format!(
                    "at `/rows/{index}/{j}`: a `{}` value in the `{}` column `{}`",
                    ty.as_str(),
                    column.ty.as_str(),
                    column.name
                ));
            }
        }
    }
    Ok(())
}

/// Conversions between one kind package's table types and the model above.
macro_rules! table_conversions {
    ($wit:path) => {
        use $wit as wit;

        impl From<wit::ColumnType> for $crate::kinds::table::ColumnType {
            fn from(ty: wit::ColumnType) -> Self {
                use $crate::kinds::table::ColumnType as T;
                match ty {
                    wit::ColumnType::String => T::String,
                    wit::ColumnType::Int => T::Int,
                    wit::ColumnType::Float => T::Float,
                    wit::ColumnType::Bool => T::Bool,
                    wit::ColumnType::Timestamp => T::Timestamp,
                    wit::ColumnType::Bytes => T::Bytes,
                }
            }
        }

        impl From<$crate::kinds::table::ColumnType> for wit::ColumnType {
            fn from(ty: $crate::kinds::table::ColumnType) -> Self {
                use $crate::kinds::table::ColumnType as T;
                match ty {
                    T::String => wit::ColumnType::String,
                    T::Int => wit::ColumnType::Int,
                    T::Float => wit::ColumnType::Float,
                    T::Bool => wit::ColumnType::Bool,
                    T::Timestamp => wit::ColumnType::Timestamp,
                    T::Bytes => wit::ColumnType::Bytes,
                }
            }
        }

        impl From<wit::Column> for $crate::kinds::table::Column {
            fn from(c: wit::Column) -> Self {
                $crate::kinds::table::Column {
                    name: c.name,
                    ty: c.type_.into(),
                }
            }
        }

        impl From<&$crate::kinds::table::Column> for wit::Column {
            fn from(c: &$crate::kinds::table::Column) -> Self {
                wit::Column {
                    name: c.name.clone(),
                    type_: c.ty.into(),
                }
            }
        }

        impl From<wit::Cell> for $crate::kinds::table::Cell {
            fn from(cell: wit::Cell) -> Self {
                use $crate::kinds::table::Cell as C;
                match cell {
                    wit::Cell::Null => C::Null,
                    wit::Cell::String(s) => C::String(s),
                    wit::Cell::Int(n) => C::Int(n),
                    wit::Cell::Float(x) => C::Float(x),
                    wit::Cell::Bool(b) => C::Bool(b),
                    wit::Cell::Timestamp(t) => C::Timestamp(t),
                    wit::Cell::Bytes(b) => C::Bytes(b),
                }
            }
        }

        impl From<&$crate::kinds::table::Cell> for wit::Cell {
            fn from(cell: &$crate::kinds::table::Cell) -> Self {
                use $crate::kinds::table::Cell as C;
                match cell {
                    C::Null => wit::Cell::Null,
                    C::String(s) => wit::Cell::String(s.clone()),
                    C::Int(n) => wit::Cell::Int(*n),
                    C::Float(x) => wit::Cell::Float(*x),
                    C::Bool(b) => wit::Cell::Bool(*b),
                    C::Timestamp(t) => wit::Cell::Timestamp(*t),
                    C::Bytes(b) => wit::Cell::Bytes(b.clone()),
                }
            }
        }

        /// A page of the guest's rows in the model's types.
        #[allow(dead_code)]
        pub(crate) fn rows(rows: Vec<Vec<wit::Cell>>) -> Vec<$crate::kinds::table::Row> {
            rows.into_iter()
                .map(|row| row.into_iter().map(Into::into).collect())
                .collect()
        }

        /// Columns in the model's types.
        #[allow(dead_code)]
        pub(crate) fn columns(columns: Vec<wit::Column>) -> Vec<$crate::kinds::table::Column> {
            columns.into_iter().map(Into::into).collect()
        }
    };
}

pub(crate) use table_conversions;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_must_fit_their_columns() {
        let columns = [
            Column::new("name", ColumnType::String),
            Column::new("age", ColumnType::Int),
        ];
        let ok = vec![
            vec![Cell::String("Ada".into()), Cell::Int(36)],
            vec![Cell::Null, Cell::Null],
        ];
        assert_eq!(check_rows(&columns, &ok, 0), Ok(()));
        let short = vec![vec![Cell::String("Ada".into())]];
        assert_eq!(
            check_rows(&columns, &short, 5),
            Err("at `/rows/5`: 1 cells for 2 columns".into())
        );
        let mistyped = vec![ok[0].clone(), vec![Cell::Null, Cell::String("x".into())]];
        assert_eq!(
            check_rows(&columns, &mistyped, 0),
            Err("at `/rows/1/1`: a `string` value in the `int` column `age`".into())
        );
    }

    #[test]
    fn cells_as_json() {
        assert_eq!(Cell::Float(f64::NAN).to_json(), Value::Null);
        assert_eq!(Cell::Timestamp(5).to_json(), Value::from(5));
        assert_eq!(
            serde_json::to_value(Column::new("a", ColumnType::Bool)).unwrap(),
            serde_json::json!({"name": "a", "type": "bool"})
        );
    }
}
