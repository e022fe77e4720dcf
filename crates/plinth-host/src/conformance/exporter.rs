//! The `exporter` kit's steps (docs/design/0041): the plugin's example tables and generic
//! ones (every type, empty, nulls, awkward text, many rows), each written in every
//! declared format.
//!
//! "Answers" means bytes, or the plugin's own `export-error` (`unsupported`, `failed`);
//! a trap or a limit is not an answer.

use super::file_viewer::cover;
use super::fixtures::Fixtures;
use super::inputs::UNKNOWN_FORMAT;
use super::run::{Check, Verdict, clean, fail, unknown};
use super::suite::Case;
use super::tables::generic;
use crate::kinds::{Exporter, KindError, Table};
use crate::plugin::Plugin;

/// One export a step makes: the format, the table and the exact output expected, if any.
struct Job<'a> {
    format: String,
    table: std::borrow::Cow<'a, Table>,
    output: Option<&'a [u8]>,
}

pub(super) fn step(case: &Case, plugin: &Plugin, fixtures: &Fixtures) -> Check {
    let exporters = plugin.kind::<Exporter>().map_err(|e| fail(e.to_string()))?;
    let examples = fixtures.exporters();
    let declared: Vec<&str> = exporters
        .formats()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    if (case.step.as_str(), case.expect.as_str()) == ("manifest", "examples-cover-formats") {
        return cover(&declared, examples.iter().map(|(format, _, _)| *format));
    }
    let jobs = jobs(case, &examples, &declared)?;
    let export = |job: &Job<'_>| exporters.export(&job.format, &job.table);
    let each = |check: &dyn Fn(&Job<'_>) -> Result<(), String>| -> Check {
        for job in &jobs {
            check(job).map_err(|reason| {
                fail(format!(
                    "`{}` with {} columns and {} rows: {reason}",
                    job.format,
                    job.table.columns.len(),
                    job.table.rows.len()
                ))
            })?;
        }
        Ok(())
    };
    match (case.step.as_str(), case.expect.as_str()) {
        ("export", "example-output") => each(&|job| {
            let got = export(job).map_err(|e| e.to_string())?;
            match job.output {
                Some(want) if want != got.as_slice() => Err(format!(
                    "expected {:?}, got {:?}",
                    String::from_utf8_lossy(want),
                    String::from_utf8_lossy(&got)
                )),
                _ => Ok(()),
            }
        }),
        ("export", "same-twice") => each(&|job| {
            let first = export(job).map_err(|e| e.to_string())?;
            let second = export(job).map_err(|e| e.to_string())?;
            if first == second {
                Ok(())
            } else {
                Err(format!(
                    "wrote {} bytes, then {} different ones",
                    first.len(),
                    second.len()
                ))
            }
        }),
        ("export", "non-empty") => each(&|job| match export(job) {
            Ok(bytes) if bytes.is_empty() && !job.table.rows.is_empty() => {
                Err("wrote no bytes for a table with rows".into())
            }
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }),
        ("export", "answers") => each(&|job| match export(job) {
            Ok(_) => Ok(()),
            Err(e) if clean(&e) => Ok(()),
            Err(e) => Err(e.to_string()),
        }),
        ("export-guest", "error:unknown-format") => each(&|job| match exporters
            .export_guest(&job.format, &job.table)
        {
            Err(KindError::Mismatch { .. }) => Ok(()),
            Ok(_) => Err("exported a format nobody declared".into()),
            Err(e) => Err(format!("expected the guest's `unknown-format`, got {e}")),
        }),
        (_, other) => Err(unknown(case, other)),
    }
}

/// The exports `case.table` names: each example, or a generic table in every declared
/// format (`format = "unknown"`: once, in a format nobody declared).
fn jobs<'a>(
    case: &Case,
    examples: &[(&'a str, &'a Table, Option<&'a [u8]>)],
    declared: &[&str],
) -> Result<Vec<Job<'a>>, Verdict> {
    let name = case.table.as_deref().unwrap_or("example");
    let mut jobs: Vec<Job<'a>> = if name == "example" {
        if examples.is_empty() {
            return Err(Verdict::Skip(
                "conformance.toml has no exporter example".into(),
            ));
        }
        examples
            .iter()
            .map(|(format, table, output)| Job {
                format: (*format).to_string(),
                table: std::borrow::Cow::Borrowed(*table),
                output: *output,
            })
            .collect()
    } else {
        let table = generic(name)
            .ok_or_else(|| fail(format!("unknown `table = {name:?}` in the suite")))?;
        declared
            .iter()
            .map(|format| Job {
                format: (*format).to_string(),
                table: std::borrow::Cow::Owned(table.clone()),
                output: None,
            })
            .collect()
    };
    if jobs.is_empty() {
        return Err(Verdict::Skip("the manifest declares no format".into()));
    }
    if case.format.as_deref() == Some("unknown") {
        jobs.truncate(1);
        for job in &mut jobs {
            job.format = UNKNOWN_FORMAT.into();
            job.output = None;
        }
    }
    Ok(jobs)
}
