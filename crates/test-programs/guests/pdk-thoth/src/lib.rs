//! `pdk-thoth`: Thoth's kinds written with `plinth-pdk`, one component, `export!(Thoth:
//! file_loader, file_viewer, exporter, theme_provider)`.
//!
//! - file-loader `csv`: a header line, then rows; each column's type is read from the
//!   first data row (int, float, bool, else string); a page is read from its byte offset
//!   with `read_records`, never the whole file.
//! - file-viewer `csv` (a table of the first 100 rows) and `text`.
//! - exporter `csv` and `json` (an array of objects).
//! - data-source `numbers`: a panel (input `count`, button `load`) and the table `n,
//!   square` of `{"count": N}` rows.
//! - theme-provider `plain`: light or dark from `{"appearance"}`, any `accent`.

use plinth_pdk::prelude::*;

struct Thoth;

impl Plugin for Thoth {}

/// The type a CSV field suggests.
fn infer(text: &str) -> ColumnType {
    if text.parse::<i64>().is_ok() {
        ColumnType::Int
    } else if text.parse::<f64>().is_ok() {
        ColumnType::Float
    } else if text == "true" || text == "false" {
        ColumnType::Bool
    } else {
        ColumnType::String
    }
}

/// The header's columns, typed by the first data row.
fn header(source: Source) -> Result<Vec<Column>, LoadError> {
    let head = read_records(source, 0, 2)?;
    let mut lines = head.lines.iter();
    let Some(names) = lines.next() else {
        return Err(LoadError::InvalidData("the file is empty: no header line".into()));
    };
    let names = csv_fields(names);
    let types: Vec<ColumnType> = match lines.next() {
        Some(first) => {
            let cells = csv_fields(first);
            if cells.len() != names.len() {
                return Err(LoadError::InvalidData(format!(
                    "line 2 has {} fields for {} columns",
                    cells.len(),
                    names.len()
                )));
            }
            cells.iter().map(|c| if c.is_empty() { ColumnType::String } else { infer(c) }).collect()
        }
        None => vec![ColumnType::String; names.len()],
    };
    Ok(names.into_iter().zip(types).map(|(n, t)| Column::new(n, t)).collect())
}

/// `#rgb`, `#rrggbb` or `#rrggbbaa`.
fn is_color(text: &str) -> bool {
    text.strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

impl FileLoader for Thoth {
    const FORMATS: &'static [&'static str] = &["csv"];

    fn open(_format: &str, source: Source) -> Result<TableInfo, LoadError> {
        Ok(TableInfo { columns: header(source)?, row_count: None })
    }

    fn read_rows(_format: &str, source: Source, cursor: u64, max_rows: u32) -> Result<Page, LoadError> {
        let columns = header(source.clone())?;
        let start = match cursor {
            0 => match read_records(source.clone(), 0, 1)?.next {
                Some(offset) => offset,
                None => return Ok(Page::default()),
            },
            offset => offset,
        };
        let page = read_records(source, start, max_rows)?;
        let mut rows = Vec::with_capacity(page.lines.len());
        for line in &page.lines {
            let fields = csv_fields(line);
            if fields.len() != columns.len() {
                return Err(LoadError::InvalidData(format!(
                    "a line has {} fields for {} columns: {line:.40}",
                    fields.len(),
                    columns.len()
                )));
            }
            let row = fields
                .iter()
                .zip(&columns)
                .map(|(text, column)| {
                    Cell::parse(text, column.ty).ok_or_else(|| {
                        LoadError::InvalidData(format!("`{text}` is not a value of the column `{}`", column.name))
                    })
                })
                .collect::<Result<Row, _>>()?;
            rows.push(row);
        }
        Ok(Page { rows, next: page.next })
    }
}

impl FileViewer for Thoth {
    const FORMATS: &'static [&'static str] = &["csv", "text"];

    fn view(format: &str, source: Source) -> Result<UiOutput, ViewError> {
        let text = String::from_utf8(source.read_all()?)
            .map_err(|_| ViewError::InvalidData("not UTF-8 text".into()))?;
        Ok(match format {
            "csv" => {
                let mut lines = text.lines().filter(|l| !l.is_empty());
                let columns = csv_fields(lines.next().unwrap_or_default());
                let rows = lines.take(100).map(csv_fields).collect();
                UiOutput::table(columns, rows).with_height(240)
            }
            _ => UiOutput::text(&text).with_height(240),
        })
    }
}

impl Exporter for Thoth {
    const FORMATS: &'static [&'static str] = &["csv", "json"];

    fn export(format: &str, table: Table) -> Result<Vec<u8>, ExportError> {
        if format == "json" {
            return Ok(Value::from(table.rows_as_json()).to_string().into_bytes());
        }
        let mut out = String::new();
        let header: Vec<String> = table.columns.iter().map(|c| csv_field(&c.name)).collect();
        out.push_str(&header.join(","));
        out.push('\n');
        for row in &table.rows {
            let mut fields = Vec::with_capacity(row.len());
            for cell in row {
                if let Cell::Bytes(_) = cell {
                    return Err(ExportError::Unsupported("CSV cannot hold a bytes cell".into()));
                }
                fields.push(csv_field(&cell.to_text()));
            }
            out.push_str(&fields.join(","));
            out.push('\n');
        }
        Ok(out.into_bytes())
    }
}

impl ThemeProvider for Thoth {
    const THEMES: &'static [&'static str] = &["plain"];

    fn provide(_name: &str, context: Value) -> Result<Theme, String> {
        let accent = context["accent"].as_str().filter(|a| is_color(a)).unwrap_or("#3366ff");
        Ok(if context["appearance"] == "light" {
            Theme::new("Plain", Appearance::Light, "#ffffff", "#202020", accent)
        } else {
            Theme::new("Plain", Appearance::Dark, "#1e1e1e", "#e0e0e0", accent)
        })
    }
}

fn panel(message: &str) -> UiOutput {
    UiOutput::new(json!({
        "type": "column",
        "children": [
            {"type": "input", "id": "count", "placeholder": "How many rows?"},
            {"type": "button", "id": "load", "label": "Load"},
            {"type": "text", "text": message.chars().take(200).collect::<String>()},
        ]
    }))
    .with_height(120)
}

fn count(query: &Value) -> Result<u64, PluginError> {
    query["count"]
        .as_u64()
        .ok_or_else(|| PluginError::new("invalid-query", "expected {\"count\": N}"))
}

impl DataSource for Thoth {
    fn render_ui() -> Result<UiOutput, PluginError> {
        Ok(panel("Ready."))
    }

    fn handle_event(event: UiEvent) -> Result<UiOutput, PluginError> {
        Ok(panel(&format!("{:?} on `{}`", event.kind, event.widget_id)))
    }

    fn open(query: Value) -> Result<TableInfo, PluginError> {
        Ok(TableInfo {
            columns: vec![Column::new("n", ColumnType::Int), Column::new("square", ColumnType::Int)],
            row_count: Some(count(&query)?),
        })
    }

    fn read_rows(query: Value, cursor: u64, max_rows: u32) -> Result<Page, PluginError> {
        let count = count(&query)?;
        let end = count.min(cursor + u64::from(max_rows));
        let rows = (cursor..end).map(|n| vec![Cell::Int(n as i64), Cell::Int((n * n) as i64)]).collect();
        Ok(Page { rows, next: (end < count).then_some(end) })
    }
}

plinth_pdk::export!(Thoth: file_loader, file_viewer, exporter, data_source, theme_provider);
