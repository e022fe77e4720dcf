//! `thoth-kinds`: one component providing Thoth's kinds through their own packages
//! (`plinth:file-loader`, `plinth:file-viewer`, `plinth:exporter`, `plinth:data-source`,
//! `plinth:theme-provider`, all `@0.1.0`), built with wit-bindgen alone.
//!
//! - file-loader `csv`: a header line, then rows; each column's type is read from the first
//!   data row (int, float, bool, else string; empty is null). The cursor is the byte offset
//!   of the next line, so a page reads only its own lines (a `path` source is read with
//!   `seek`, never whole).
//! - file-viewer `csv` (a `table` node of the first 50 rows) and `text` (a `text` node).
//! - exporter `csv` and `json` (an array of objects).
//! - data-source `numbers`: a panel (heading, input `count`, button `load`), events answered
//!   with a new panel (widget `break` answers a node that breaks the schema); `open({"count":
//!   N})` is a table `n, square` of N rows. Renders are counted in `plinth:host/kv`, so a
//!   denied twin has a capability to deny.
//! - theme-provider `adaptive`: a theme from `{"appearance", "accent"}`; `{"broken": true}`
//!   answers a theme without its `accent` token.
//!
//! Like the `kinds` guest, a plugin id ending in `.mutant-NAME` breaks exactly one rule;
//! each conformance kit names the mutants it must catch (`tests/all/thoth_kinds.rs`,
//! `tests/all/thoth_kits.rs`).

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use exports::plinth::data_source::data_source as ds;
use exports::plinth::exporter::exporter as ex;
use exports::plinth::file_loader::file_loader as fl;
use exports::plinth::file_viewer::file_viewer as fv;
use exports::plinth::plugin::lifecycle::{Event, Guest as LifecycleGuest};
use exports::plinth::theme_provider::theme_provider as tp;
use serde_json::{Value, json};

wit_bindgen::generate!({
    world: "thoth",
    path: "wit",
    generate_all,
});

struct Thoth;

/// The mutation this instance runs, from `argv[0]` (`…mutant-NAME`).
fn mutant() -> String {
    std::env::args()
        .next()
        .and_then(|id| id.rsplit_once("mutant-").map(|(_, m)| m.to_owned()))
        .unwrap_or_default()
}

fn is(name: &str) -> bool {
    mutant() == name
}

/// `denied-traps`: a call that needs `kv` and traps without it, as a careless plugin would.
fn needs_kv() {
    if is("denied-traps") && plinth::host::kv::increment("calls", 1).is_err() {
        panic!("kv denied");
    }
}

/// `*-heavy`: burns far more fuel than the kind's work needs.
fn burn_fuel(mutant: &str) {
    if is(mutant) {
        let mut n = 0u64;
        for i in 0..200_000_000u64 {
            n = std::hint::black_box(n.wrapping_add(i));
        }
        std::hint::black_box(n);
    }
}

/// A number that differs between instances (`*-nondeterministic`).
fn salt() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one("salt") % 1_000_000_000
}

// ---------------------------------------------------------------------------------------
// CSV, read a line at a time.

#[derive(Clone, Copy, PartialEq)]
enum Ty {
    Str,
    Int,
    Float,
    Bool,
}

#[derive(Clone)]
enum Val {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// Splits one CSV line: fields separated by commas, `"quoted, with "" escapes"`.
fn fields(line: &str) -> Vec<String> {
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

fn infer(text: &str) -> Ty {
    if text.parse::<i64>().is_ok() {
        Ty::Int
    } else if text.parse::<f64>().is_ok() {
        Ty::Float
    } else if text == "true" || text == "false" {
        Ty::Bool
    } else {
        Ty::Str
    }
}

fn parse(text: &str, ty: Ty) -> Option<Val> {
    if text.is_empty() {
        return Some(Val::Null);
    }
    Some(match ty {
        Ty::Str => Val::Str(text.into()),
        Ty::Int => Val::Int(text.parse().ok()?),
        Ty::Float => Val::Float(text.parse().ok()?),
        Ty::Bool => Val::Bool(text.parse().ok()?),
    })
}

fn ty_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Str => "string",
        Ty::Int => "int",
        Ty::Float => "float",
        Ty::Bool => "bool",
    }
}

/// A readable, seekable view of a source.
enum Input {
    Bytes(std::io::Cursor<Vec<u8>>),
    File(std::fs::File),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::Bytes(c) => c.read(buf),
            Input::File(f) => f.read(buf),
        }
    }
}

impl Seek for Input {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match self {
            Input::Bytes(c) => c.seek(pos),
            Input::File(f) => f.seek(pos),
        }
    }
}

enum CsvError {
    Data(String),
    Io(String),
}

struct Csv {
    reader: BufReader<Input>,
    names: Vec<String>,
    types: Vec<Ty>,
    /// Byte offset of the first data row.
    first_row: u64,
    /// Byte offset of the next unread line.
    pos: u64,
    line_no: u64,
}

impl Csv {
    fn open(source: Input) -> Result<Csv, CsvError> {
        let mut csv = Csv {
            reader: BufReader::new(source),
            names: Vec::new(),
            types: Vec::new(),
            first_row: 0,
            pos: 0,
            line_no: 0,
        };
        let header = csv.line()?.ok_or(CsvError::Data("the file is empty: no header line".into()))?;
        csv.names = fields(&header);
        csv.first_row = csv.pos;
        let types = match csv.line()? {
            Some(first) => {
                let cells = fields(&first);
                if cells.len() != csv.names.len() {
                    return Err(CsvError::Data(format!(
                        "line 2 has {} fields for {} columns",
                        cells.len(),
                        csv.names.len()
                    )));
                }
                cells.iter().map(|c| if c.is_empty() { Ty::Str } else { infer(c) }).collect()
            }
            None => vec![Ty::Str; csv.names.len()],
        };
        csv.types = types;
        Ok(csv)
    }

    /// The next line without its line break; `None` at the end.
    fn line(&mut self) -> Result<Option<String>, CsvError> {
        let mut buf = Vec::new();
        let n = self
            .reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| CsvError::Io(e.to_string()))?;
        if n == 0 {
            return Ok(None);
        }
        self.pos += n as u64;
        self.line_no += 1;
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        if is("loader-binary-traps") && std::str::from_utf8(&buf).is_err() {
            panic!("line {} is not UTF-8", self.line_no);
        }
        String::from_utf8(buf)
            .map(Some)
            .map_err(|_| CsvError::Data(format!("line {} is not UTF-8", self.line_no)))
    }

    fn seek(&mut self, cursor: u64) -> Result<(), CsvError> {
        let offset = if cursor == 0 { self.first_row } else { cursor };
        self.reader
            .seek(SeekFrom::Start(offset))
            .map_err(|e| CsvError::Io(e.to_string()))?;
        self.pos = offset;
        Ok(())
    }

    /// At most `max` rows from the current position, and the cursor after them.
    fn rows(&mut self, max: u32) -> Result<(Vec<Vec<Val>>, Option<u64>), CsvError> {
        let mut rows = Vec::new();
        while rows.len() < max as usize {
            let Some(line) = self.line()? else {
                return Ok((rows, None));
            };
            if line.is_empty() {
                continue;
            }
            let cells = fields(&line);
            if cells.len() != self.names.len() && !is("loader-ragged") {
                return Err(CsvError::Data(format!(
                    "a line at byte {} has {} fields for {} columns",
                    self.pos,
                    cells.len(),
                    self.names.len()
                )));
            }
            let mut row = Vec::with_capacity(cells.len());
            for (cell, ty) in cells.iter().zip(self.types.iter().copied().chain(std::iter::repeat(Ty::Str))) {
                if is("loader-mistyped") {
                    row.push(Val::Str(cell.clone()));
                    continue;
                }
                let value = parse(cell, ty).ok_or_else(|| {
                    CsvError::Data(format!("`{cell}` is not a value of an {} column", ty_name(ty)))
                })?;
                row.push(value);
            }
            rows.push(row);
        }
        // More may follow: peek, so the last page says it is the last.
        let more = !self.reader.fill_buf().map_err(|e| CsvError::Io(e.to_string()))?.is_empty();
        Ok((rows, more.then_some(self.pos)))
    }
}

fn input(source: fl::Source) -> Result<Input, CsvError> {
    needs_kv();
    burn_fuel("loader-heavy");
    match source {
        fl::Source::Bytes(bytes) if is("loader-empty-traps") && bytes.is_empty() => {
            panic!("an empty file")
        }
        fl::Source::Bytes(bytes)
            if is("loader-truncated-traps") && !bytes.is_empty() && !bytes.ends_with(b"\n") =>
        {
            panic!("a file that ends mid-line")
        }
        fl::Source::Bytes(bytes) => Ok(Input::Bytes(std::io::Cursor::new(bytes))),
        fl::Source::Path(path) => std::fs::File::open(&path)
            .map(Input::File)
            .map_err(|e| CsvError::Io(format!("cannot open {path}: {e}"))),
    }
}

fn load_error(e: CsvError) -> fl::LoadError {
    match e {
        CsvError::Data(m) => fl::LoadError::InvalidData(m),
        CsvError::Io(m) => fl::LoadError::Io(m),
    }
}

fn fl_type(ty: Ty) -> fl::ColumnType {
    match ty {
        Ty::Str => fl::ColumnType::String,
        Ty::Int => fl::ColumnType::Int,
        Ty::Float => fl::ColumnType::Float,
        Ty::Bool => fl::ColumnType::Bool,
    }
}

fn fl_cell(v: Val) -> fl::Cell {
    match v {
        Val::Null => fl::Cell::Null,
        Val::Str(s) => fl::Cell::String(s),
        Val::Int(n) => fl::Cell::Int(n),
        Val::Float(x) => fl::Cell::Float(x),
        Val::Bool(b) => fl::Cell::Bool(b),
    }
}

impl fl::Guest for Thoth {
    fn open(format: String, src: fl::Source) -> Result<fl::TableInfo, fl::LoadError> {
        if format != "csv" {
            if is("loader-unknown-traps") {
                panic!("no format {format}");
            }
            return Err(fl::LoadError::UnknownFormat(format!("no format `{format}`")));
        }
        let csv = Csv::open(input(src).map_err(load_error)?).map_err(load_error)?;
        Ok(fl::TableInfo {
            columns: csv
                .names
                .iter()
                .zip(&csv.types)
                .map(|(name, ty)| fl::Column {
                    name: if is("loader-wrong-columns") { name.to_uppercase() } else { name.clone() },
                    type_: fl_type(*ty),
                })
                .collect(),
            row_count: is("loader-wrong-count").then_some(999),
        })
    }

    fn read_rows(
        format: String,
        src: fl::Source,
        cursor: u64,
        max_rows: u32,
    ) -> Result<fl::Page, fl::LoadError> {
        if format != "csv" {
            return Err(fl::LoadError::UnknownFormat(format!("no format `{format}`")));
        }
        let mut csv = Csv::open(input(src).map_err(load_error)?).map_err(load_error)?;
        csv.seek(cursor).map_err(load_error)?;
        let max = if is("loader-overfull") { max_rows + 1 } else { max_rows };
        let (rows, next) = csv.rows(max).map_err(load_error)?;
        let next = if is("loader-stuck") { Some(cursor) } else { next };
        let salt = is("loader-nondeterministic").then(salt);
        Ok(fl::Page {
            rows: rows
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|cell| match (cell, salt) {
                            (Val::Str(s), Some(salt)) => fl::Cell::String(format!("{s}{salt}")),
                            (cell, _) => fl_cell(cell),
                        })
                        .collect()
                })
                .collect(),
            next,
        })
    }
}

// ---------------------------------------------------------------------------------------
// The viewer.

fn view_source(src: fv::Source) -> Result<Vec<u8>, fv::ViewError> {
    needs_kv();
    burn_fuel("viewer-heavy");
    match src {
        fv::Source::Bytes(bytes) if is("viewer-empty-traps") && bytes.is_empty() => {
            panic!("an empty file")
        }
        fv::Source::Bytes(bytes)
            if is("viewer-truncated-traps") && !bytes.is_empty() && !bytes.ends_with(b"\n") =>
        {
            panic!("a file that ends mid-line")
        }
        fv::Source::Bytes(bytes) if is("viewer-large-traps") && bytes.len() > 100_000 => {
            panic!("a large file")
        }
        fv::Source::Bytes(bytes) => Ok(bytes),
        fv::Source::Path(path) => std::fs::read(&path).map_err(|e| fv::ViewError::Io(format!("cannot read {path}: {e}"))),
    }
}

/// The most characters a `text` node may hold, as the UI-node schema says.
const TEXT_NODE_CHARS: usize = 65_536;

impl fv::Guest for Thoth {
    fn view(format: String, src: fv::Source) -> Result<fv::UiOutput, fv::ViewError> {
        if !matches!(format.as_str(), "csv" | "text") && is("viewer-unknown-traps") {
            panic!("no format {format}");
        }
        let bytes = view_source(src)?;
        if is("viewer-binary-traps") && std::str::from_utf8(&bytes).is_err() {
            panic!("not UTF-8");
        }
        let text = String::from_utf8(bytes).map_err(|_| fv::ViewError::InvalidData("not UTF-8".into()))?;
        let node = match format.as_str() {
            "csv" => {
                let mut lines = text.lines().filter(|l| !l.is_empty());
                let columns = fields(lines.next().unwrap_or_default());
                let rows: Vec<Vec<String>> = lines.take(50).map(fields).collect();
                json!({"type": "table", "columns": columns, "rows": rows})
            }
            "text" if is("viewer-bad-node") => json!({"type": "text"}),
            "text" if is("viewer-nondeterministic") => json!({"type": "text", "text": format!("{}", salt())}),
            // A text node holds at most 65 536 characters (the UI-node schema): a long
            // file shows its beginning.
            "text" => json!({"type": "text", "text": text.chars().take(TEXT_NODE_CHARS).collect::<String>()}),
            other => return Err(fv::ViewError::UnknownFormat(format!("no format `{other}`"))),
        };
        Ok(fv::UiOutput {
            node_json: node.to_string(),
            height_hint: 200,
        })
    }
}

// ---------------------------------------------------------------------------------------
// The exporter.

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn ex_json(cell: &ex::Cell) -> Value {
    match cell {
        ex::Cell::Null => Value::Null,
        ex::Cell::String(s) => json!(s),
        ex::Cell::Int(n) | ex::Cell::Timestamp(n) => json!(n),
        ex::Cell::Float(x) => json!(x),
        ex::Cell::Bool(b) => json!(b),
        ex::Cell::Bytes(b) => json!(b),
    }
}

impl ex::Guest for Thoth {
    fn export(format: String, data: ex::Table) -> Result<Vec<u8>, ex::ExportError> {
        needs_kv();
        let row_cells = || data.rows.iter().flatten();
        match () {
            _ if is("exporter-empty-table-traps") && data.columns.is_empty() => panic!("no columns"),
            _ if is("exporter-no-rows-traps") && data.rows.is_empty() => panic!("no rows"),
            _ if is("exporter-null-traps") && row_cells().any(|c| matches!(c, ex::Cell::Null)) => panic!("a null"),
            _ if is("exporter-awkward-traps")
                && row_cells().any(|c| matches!(c, ex::Cell::String(s) if s.contains('"'))) =>
            {
                panic!("a quote")
            }
            _ if is("exporter-large-traps") && data.rows.len() > 5_000 => panic!("many rows"),
            _ if is("exporter-empty-output") => return Ok(Vec::new()),
            _ => {}
        }
        let bytes = export_table(&format, &data)?;
        Ok(match () {
            _ if is("exporter-wrong-output") => bytes[..bytes.len().saturating_sub(1)].to_vec(),
            _ if is("exporter-nondeterministic") => [bytes, salt().to_string().into_bytes()].concat(),
            _ => bytes,
        })
    }
}

fn export_table(format: &str, data: &ex::Table) -> Result<Vec<u8>, ex::ExportError> {
    {
        match format {
            "csv" => {
                let mut out = String::new();
                let header: Vec<String> = data.columns.iter().map(|c| csv_field(&c.name)).collect();
                out.push_str(&header.join(","));
                out.push('\n');
                for row in &data.rows {
                    let mut cells = Vec::with_capacity(row.len());
                    for cell in row {
                        cells.push(match cell {
                            ex::Cell::Null => String::new(),
                            ex::Cell::String(s) => csv_field(s),
                            ex::Cell::Int(n) | ex::Cell::Timestamp(n) => n.to_string(),
                            ex::Cell::Float(x) => x.to_string(),
                            ex::Cell::Bool(b) => b.to_string(),
                            ex::Cell::Bytes(_) if is("exporter-bytes-trap") => panic!("bytes in csv"),
                            ex::Cell::Bytes(_) => {
                                return Err(ex::ExportError::Unsupported("CSV cannot hold a bytes cell".into()));
                            }
                        });
                    }
                    out.push_str(&cells.join(","));
                    out.push('\n');
                }
                Ok(out.into_bytes())
            }
            "json" => {
                let rows: Vec<Value> = data
                    .rows
                    .iter()
                    .map(|row| {
                        Value::Object(
                            data.columns
                                .iter()
                                .zip(row)
                                .map(|(c, cell)| (c.name.clone(), ex_json(cell)))
                                .collect(),
                        )
                    })
                    .collect();
                Ok(Value::Array(rows).to_string().into_bytes())
            }
            other if is("exporter-unknown-trap") => panic!("no format {other}"),
            other => Err(ex::ExportError::UnknownFormat(format!("no format `{other}`"))),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The data source.

fn panel(message: &str) -> ds::UiOutput {
    let node = json!({
        "type": "column",
        "children": [
            {"type": "heading", "text": "Numbers", "level": 2},
            {"type": "input", "id": "count", "placeholder": "How many rows?"},
            {"type": "button", "id": "load", "label": "Load"},
            {"type": "text", "text": message},
        ]
    });
    ds::UiOutput {
        node_json: node.to_string(),
        height_hint: 160,
    }
}

fn count_render() {
    // Without the `kv` grant the panel renders all the same.
    if plinth::host::kv::increment("renders", 1).is_err() && is("denied-traps") {
        panic!("kv denied");
    }
}

fn query_count(query: &str) -> Result<u64, ds::PluginError> {
    let parsed = serde_json::from_str::<Value>(query);
    if parsed.is_err() && is("source-query-traps") {
        panic!("query not JSON");
    }
    if query == "{}" && is("source-empty-query-traps") {
        panic!("empty query");
    }
    let value: Value = parsed.map_err(|e| ds::PluginError {
        code: "invalid-query".into(),
        message: format!("the query is not JSON: {e}"),
    })?;
    value.get("count").and_then(Value::as_u64).ok_or_else(|| ds::PluginError {
        code: "invalid-query".into(),
        message: "expected {\"count\": N}".into(),
    })
}

impl ds::Guest for Thoth {
    fn render_ui() -> Result<ds::UiOutput, ds::PluginError> {
        count_render();
        if is("source-bad-node") {
            return Ok(ds::UiOutput {
                node_json: r#"{"type":"column"}"#.into(),
                height_hint: 0,
            });
        }
        if is("source-nondeterministic") {
            return Ok(panel(&format!("Ready ({}).", salt())));
        }
        Ok(panel("Ready."))
    }

    fn handle_event(event: ds::UiEvent) -> Result<ds::UiOutput, ds::PluginError> {
        count_render();
        let bad = || {
            Ok(ds::UiOutput {
                node_json: r#"{"type":"column","children":[{"type":"text","text":"ok"},{"type":"blink"}]}"#.into(),
                height_hint: 0,
            })
        };
        match event.kind {
            _ if is("source-large-traps") && event.value.len() > 10_000 => panic!("too long"),
            ds::EventKind::Change if is("source-empty-traps") && event.value.is_empty() => {
                panic!("empty value")
            }
            ds::EventKind::HttpResponse
                if is("source-http-traps") && serde_json::from_str::<Value>(&event.value).is_err() =>
            {
                panic!("not a response")
            }
            ds::EventKind::Notify if is("source-notify-bad-node") => return bad(),
            ds::EventKind::Click if is("source-load-bad-node") && event.widget_id == "load" => {
                return bad();
            }
            _ => {}
        }
        let message = match (event.kind, event.widget_id.as_str()) {
            (_, "break") => {
                return Ok(ds::UiOutput {
                    node_json: r#"{"type":"column","children":[{"type":"text","text":"ok"},{"type":"blink"}]}"#.into(),
                    height_hint: 0,
                });
            }
            (ds::EventKind::Click, "load") => "Loading.".to_string(),
            (ds::EventKind::Change, "count") => format!("Count: {}", event.value),
            (ds::EventKind::HttpResponse, _) => format!("Response: {} bytes", event.value.len()),
            (ds::EventKind::Notify, _) => format!("Notified: {}", event.value),
            (_, other) if is("source-unknown-widget-traps") => panic!("no widget {other}"),
            (_, other) => format!("Nothing to do for `{other}`."),
        };
        Ok(panel(&message))
    }

    fn render_sidebar() -> Result<Option<ds::UiOutput>, ds::PluginError> {
        if is("sidebar-bad-node") {
            return Ok(Some(ds::UiOutput {
                node_json: json!({"type": "text"}).to_string(),
                height_hint: 24,
            }));
        }
        Ok(Some(ds::UiOutput {
            node_json: json!({"type": "text", "text": "Numbers"}).to_string(),
            height_hint: 24,
        }))
    }

    fn open(query: String) -> Result<ds::TableInfo, ds::PluginError> {
        let count = query_count(&query)?;
        Ok(ds::TableInfo {
            columns: vec![
                ds::Column {
                    name: "n".into(),
                    type_: ds::ColumnType::Int,
                },
                ds::Column {
                    name: "square".into(),
                    type_: ds::ColumnType::Int,
                },
            ],
            row_count: Some(count),
        })
    }

    fn read_rows(query: String, cursor: u64, max_rows: u32) -> Result<ds::Page, ds::PluginError> {
        let count = query_count(&query)?;
        let end = count.min(cursor + u64::from(max_rows));
        let rows = (cursor..end)
            .map(|n| {
                let n = n as i64;
                vec![ds::Cell::Int(n), ds::Cell::Int(n * n)]
            })
            .collect();
        Ok(ds::Page {
            rows,
            next: (end < count).then_some(end),
        })
    }
}

// ---------------------------------------------------------------------------------------
// The theme provider.

impl tp::Guest for Thoth {
    fn provide(name: String, context: String) -> Result<String, String> {
        needs_kv();
        burn_fuel("theme-heavy");
        if name != "adaptive" {
            if is("theme-unknown-traps") {
                panic!("no theme {name}");
            }
            return Err(format!("no theme `{name}`"));
        }
        if is("theme-large-traps") && context.len() > 10_000 {
            panic!("a large context");
        }
        let context: Value = serde_json::from_str(&context).map_err(|e| format!("the context is not JSON: {e}"))?;
        if is("theme-array-traps") && !context.is_object() {
            panic!("a context that is not an object");
        }
        let known = ["appearance", "accent", "broken"];
        if is("theme-unknown-key-traps")
            && context.as_object().is_some_and(|c| c.keys().any(|k| !known.contains(&k.as_str())))
        {
            panic!("an unknown context key");
        }
        let appearance = context.get("appearance").and_then(Value::as_str);
        let dark = appearance != Some("light");
        let accent = context.get("accent").and_then(Value::as_str).unwrap_or("#3366ff");
        let (background, foreground) = match (dark, mutant().as_str()) {
            (true, "theme-low-contrast") => ("#1e1e1e", "#3a3a3a"),
            (false, "theme-light-low-contrast") => ("#ffffff", "#e8e8e8"),
            (true, _) => ("#1e1e1e", "#e0e0e0"),
            (false, _) => ("#ffffff", "#202020"),
        };
        let accent = match (appearance, mutant().as_str()) {
            (None, "theme-default-invalid") | (Some("light"), "theme-light-invalid") | (Some("dark"), "theme-dark-invalid") => "blue".to_string(),
            (_, "theme-nondeterministic") => format!("#3366{:02x}", salt() % 256),
            _ => accent.to_string(),
        };
        let mut colors = json!({"background": background, "foreground": foreground, "accent": accent});
        if context.get("broken").and_then(Value::as_bool) == Some(true) {
            colors.as_object_mut().map(|c| c.remove("accent"));
        }
        Ok(json!({
            "name": "Adaptive",
            "appearance": if dark { "dark" } else { "light" },
            "colors": colors,
        })
        .to_string())
    }
}

impl LifecycleGuest for Thoth {
    fn on_load(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn on_setting_change(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn on_close() {}

    fn handle_event(_event: Event) -> Result<(), String> {
        Ok(())
    }
}

export!(Thoth);
