//! Tables for the `exporter` kit: an example's table from its TOML, and the generic tables
//! the cases name (`every-type`, `empty`, `no-rows`, `nulls`, `awkward-text`, `rows:N`).

use serde_json::Value;

use crate::kinds::{Cell, Column, ColumnType, Table};

/// The rows of `large` tables are capped here, whatever the case asks.
const MAX_ROWS: usize = 1_000_000;

/// A table from its columns and rows of JSON values, each value read as its column's
/// type (`null` is a null of any type; a timestamp is milliseconds; bytes are an array
/// of numbers or text).
pub(super) fn from_json(columns: Vec<Column>, rows: Vec<Value>) -> Result<Table, String> {
    let mut table = Table {
        columns,
        rows: Vec::with_capacity(rows.len()),
    };
    for (r, row) in rows.into_iter().enumerate() {
        let Value::Array(values) = row else {
            return Err(format!("rows[{r}] is not an array"));
        };
        if values.len() != table.columns.len() {
            return Err(format!(
                "rows[{r}] has {} values for {} columns",
                values.len(),
                table.columns.len()
            ));
        }
        let row = values
            .into_iter()
            .zip(&table.columns)
            .enumerate()
            .map(|(c, (value, column))| {
                cell(value, column.ty).ok_or_else(|| {
                    format!(
                        "rows[{r}][{c}] is not a value of the {} column `{}`",
                        column.ty.as_str(),
                        column.name
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        table.rows.push(row);
    }
    Ok(table)
}

fn cell(value: Value, ty: ColumnType) -> Option<Cell> {
    Some(match (value, ty) {
        (Value::Null, _) => Cell::Null,
        (Value::String(s), ColumnType::String) => Cell::String(s),
        (Value::Number(n), ColumnType::Int) => Cell::Int(n.as_i64()?),
        (Value::Number(n), ColumnType::Float) => Cell::Float(n.as_f64()?),
        (Value::Number(n), ColumnType::Timestamp) => Cell::Timestamp(n.as_i64()?),
        (Value::Bool(b), ColumnType::Bool) => Cell::Bool(b),
        (Value::String(s), ColumnType::Bytes) => Cell::Bytes(s.into_bytes()),
        (Value::Array(items), ColumnType::Bytes) => Cell::Bytes(
            items
                .iter()
                .map(|i| i.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// A column of every type, in [`ColumnType`] order.
fn every_type_columns() -> Vec<Column> {
    [
        ("text", ColumnType::String),
        ("count", ColumnType::Int),
        ("ratio", ColumnType::Float),
        ("flag", ColumnType::Bool),
        ("at", ColumnType::Timestamp),
        ("blob", ColumnType::Bytes),
    ]
    .into_iter()
    .map(|(name, ty)| Column::new(name, ty))
    .collect()
}

fn every_type_row(n: i64) -> Vec<Cell> {
    vec![
        Cell::String(format!("row {n}")),
        Cell::Int(n),
        Cell::Float(n as f64 / 4.0),
        Cell::Bool(n % 2 == 0),
        Cell::Timestamp(1_700_000_000_000 + n),
        Cell::Bytes(vec![0, 1, 254, 255]),
    ]
}

/// The generic table a case names; `None` for a name this host does not know.
pub(super) fn generic(name: &str) -> Option<Table> {
    let text = |rows: Vec<&str>| Table {
        columns: vec![
            Column::new("name", ColumnType::String),
            Column::new("note", ColumnType::String),
        ],
        rows: rows
            .chunks(2)
            .map(|pair| pair.iter().map(|s| Cell::String((*s).into())).collect())
            .collect(),
    };
    Some(match name {
        "every-type" => Table {
            columns: every_type_columns(),
            rows: (0..3).map(every_type_row).collect(),
        },
        "empty" => Table::default(),
        "no-rows" => Table {
            columns: every_type_columns(),
            rows: Vec::new(),
        },
        "nulls" => Table {
            columns: every_type_columns(),
            rows: vec![every_type_row(1), vec![Cell::Null; 6]],
        },
        "awkward-text" => text(vec![
            "a, b",
            "say \"hi\"",
            "two\nlines",
            "tab\there\r\n",
            "Zoë, naïve café",
            "日本語 🎉",
            "",
            " leading and trailing ",
            "=1+1",
            "\\ backslash",
        ]),
        other => {
            let n: usize = other.strip_prefix("rows:")?.parse().ok()?;
            Table {
                columns: every_type_columns()[..5].to_vec(),
                rows: (0..n.min(MAX_ROWS) as i64)
                    .map(|n| {
                        let mut row = every_type_row(n);
                        row.pop();
                        row
                    })
                    .collect(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generic_tables_fit_their_columns() {
        for name in [
            "every-type",
            "empty",
            "no-rows",
            "nulls",
            "awkward-text",
            "rows:10000",
        ] {
            let table = generic(name).unwrap();
            crate::kinds::check_rows(&table.columns, &table.rows, 0)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(generic("rows:10000").unwrap().rows.len(), 10_000);
        assert!(generic("rows:many").is_none());
        assert!(generic("bogus").is_none());
    }

    #[test]
    fn example_tables_read_each_value_as_its_column_type() {
        let columns = vec![
            Column::new("name", ColumnType::String),
            Column::new("age", ColumnType::Int),
            Column::new("blob", ColumnType::Bytes),
        ];
        let table = from_json(
            columns.clone(),
            vec![json!(["Ada", 36, "hi"]), json!([null, null, [1, 2]])],
        )
        .unwrap();
        assert_eq!(table.rows[0][1], Cell::Int(36));
        assert_eq!(table.rows[1][2], Cell::Bytes(vec![1, 2]));
        let err = from_json(columns.clone(), vec![json!(["Ada", "old", "x"])]).unwrap_err();
        assert!(err.contains("rows[0][1]") && err.contains("`age`"), "{err}");
        let err = from_json(columns, vec![json!(["Ada"])]).unwrap_err();
        assert!(err.contains("1 values for 3 columns"), "{err}");
    }
}
