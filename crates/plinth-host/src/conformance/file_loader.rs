//! The `file-loader` kit's steps (docs/design/0041): the plugin's example files and
//! generic ones (empty, binary, truncated), read a page at a time through the host's
//! checks.
//!
//! "Answers" means a table whose pages all fit their columns, or the plugin's own
//! `load-error`; a trap, a limit or a page the host refuses is not an answer.

use serde_json::Value;

use super::fixtures::{Fixtures, LoaderExample};
use super::inputs::{Input, files};
use super::run::{Check, fail, unknown};
use super::suite::Case;
use crate::kinds::{FileLoader, FileLoaders, KindError, Source, Table, TableInfo};
use crate::plugin::Plugin;

/// Rows per page unless the case says otherwise.
const PAGE_ROWS: u32 = 1000;
/// Rows a step reads at most from one file, so a table that never ends stops; also the
/// page size of "one page".
const MAX_ROWS: u64 = 1_000_000;
const ONE_PAGE: u32 = MAX_ROWS as u32;

pub(super) fn step(case: &Case, plugin: &Plugin, fixtures: &Fixtures) -> Check {
    let loaders = plugin
        .kind::<FileLoader>()
        .map_err(|e| fail(e.to_string()))?;
    let examples = fixtures.loaders();
    let pairs: Vec<(&str, &[u8])> = examples
        .iter()
        .map(|e| (e.format.as_str(), e.content.as_slice()))
        .collect();
    let declared: Vec<&str> = loaders.formats().iter().map(|f| f.name.as_str()).collect();
    let inputs = files(case, &pairs, &declared)?;
    let page_rows = case.page_rows.unwrap_or(PAGE_ROWS);
    let id = plugin.id();
    let read_paged = |input: &Input| read(&loaders, id, input, page_rows);
    match (case.step.as_str(), case.expect.as_str()) {
        ("open", "example-columns") => {
            for example in &examples {
                let label = label(&example.format);
                let reader = loaders
                    .open(&example.format, Source::Bytes(example.content.clone()))
                    .map_err(|e| fail(format!("{label}: {e}")))?;
                expect_columns(&label, example, reader.info())?;
            }
            Ok(())
        }
        ("read", "example-rows") => {
            for example in &examples {
                let label = label(&example.format);
                let (_, table) = read_paged(&Input {
                    format: example.format.clone(),
                    content: example.content.clone(),
                })
                .map_err(|e| fail(format!("{label}: {e}")))?;
                expect_rows(&label, example, &table)?;
            }
            Ok(())
        }
        ("read", "same-as-one-page") => each(&inputs, |input| {
            let (_, paged) = read_paged(input).map_err(|e| e.to_string())?;
            let (_, whole) = read(&loaders, id, input, ONE_PAGE).map_err(|e| e.to_string())?;
            if paged == whole {
                Ok(())
            } else {
                Err(format!(
                    "{page_rows}-row pages read {} rows, one page {}",
                    paged.rows.len(),
                    whole.rows.len()
                ))
            }
        }),
        ("read", "row-count-matches") => each(&inputs, |input| {
            let (info, table) = read_paged(input).map_err(|e| e.to_string())?;
            match info.row_count {
                Some(count) if count != table.rows.len() as u64 => Err(format!(
                    "open reported {count} rows, {} were read",
                    table.rows.len()
                )),
                _ => Ok(()),
            }
        }),
        ("read", "same-twice") => each(&inputs, |input| {
            let first = read_paged(input).map_err(|e| e.to_string())?;
            let second = read_paged(input).map_err(|e| e.to_string())?;
            if first == second {
                Ok(())
            } else {
                Err(format!(
                    "read different tables: first rows {:?}, then {:?}",
                    first.1.rows.first(),
                    second.1.rows.first()
                ))
            }
        }),
        ("read", "answers") => each(&inputs, |input| match read_paged(input) {
            Ok(_) => Ok(()),
            Err(e) if super::run::clean(&e) => Ok(()),
            Err(e) => Err(e.to_string()),
        }),
        ("open-guest", "error:unknown-format") => each(&inputs, |input| {
            match loaders.open_guest(&input.format, Source::Bytes(input.content.clone())) {
                Err(KindError::Mismatch { .. }) => Ok(()),
                Ok(_) => Err("opened a format nobody declared".into()),
                Err(e) => Err(format!("expected the guest's `unknown-format`, got {e}")),
            }
        }),
        (_, other) => Err(unknown(case, other)),
    }
}

fn label(format: &str) -> String {
    format!("the `{format}` example")
}

/// Runs `check` on every input, naming the input in a failure.
pub(super) fn each(inputs: &[Input], check: impl Fn(&Input) -> Result<(), String>) -> Check {
    for input in inputs {
        check(input).map_err(|reason| {
            fail(format!(
                "`{}` with {} bytes: {reason}",
                input.format,
                input.content.len()
            ))
        })?;
    }
    Ok(())
}

/// Opens `input` and reads every page of at most `page_rows` rows.
fn read(
    loaders: &FileLoaders<'_>,
    plugin: &str,
    input: &Input,
    page_rows: u32,
) -> Result<(TableInfo, Table), KindError> {
    let mut reader = loaders.open(&input.format, Source::Bytes(input.content.clone()))?;
    let info = reader.info().clone();
    let mut rows = Vec::new();
    while let Some(page) = reader.next_page(page_rows)? {
        rows.extend(page);
        if rows.len() as u64 > MAX_ROWS {
            return Err(KindError::InvalidOutput {
                plugin: plugin.into(),
                what: format!("loader `{}`", input.format),
                reason: format!("more than {MAX_ROWS} rows from a conformance example"),
            });
        }
    }
    Ok((
        info.clone(),
        Table {
            columns: info.columns,
            rows,
        },
    ))
}

fn expect_columns(label: &str, example: &LoaderExample, info: &TableInfo) -> Check {
    match &example.columns {
        Some(want) if want != &info.columns => Err(fail(format!(
            "{label}: expected the columns {}, got {}",
            describe(want),
            describe(&info.columns)
        ))),
        _ => Ok(()),
    }
}

fn expect_rows(label: &str, example: &LoaderExample, table: &Table) -> Check {
    if let Some(want) = example.rows
        && want != table.rows.len() as u64
    {
        return Err(fail(format!(
            "{label}: expected {want} rows, read {}",
            table.rows.len()
        )));
    }
    if let Some(want) = &example.first_row {
        let got: Option<Vec<Value>> = table
            .rows
            .first()
            .map(|row| row.iter().map(|c| c.to_json()).collect());
        if got.as_ref() != Some(want) {
            return Err(fail(format!(
                "{label}: expected the first row {}, got {}",
                Value::from(want.clone()),
                got.map_or("no row".into(), |g| Value::from(g).to_string())
            )));
        }
    }
    Ok(())
}

fn describe(columns: &[crate::kinds::Column]) -> String {
    columns
        .iter()
        .map(|c| format!("{}:{}", c.name, c.ty.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}
