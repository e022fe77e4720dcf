//! `plinth test --conformance KIND PATH`: run a kind's conformance kit against a plugin
//! folder and report each case (docs/design/0039).

use std::path::Path;

use clap::Args;
use plinth_host::conformance::{self, CaseOutcome};
use plinth_manifest::Kind;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish, terminal_safe};

/// Run a kind's conformance kit against a plugin: each case passes, fails or is skipped
/// (a case needing an example the plugin's conformance.toml does not give).
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The kind whose kit to run: command, tool, hook, file-loader, file-viewer, exporter,
    /// data-source or theme-provider.
    #[arg(long = "conformance", value_name = "KIND")]
    kind: String,
    /// The plugin directory (built: its component must exist).
    path: String,
}

impl TestArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.test(ctx))
    }

    fn test(self, ctx: &Context) -> Result<Outcome, Failure> {
        let kind: Kind = self
            .kind
            .parse()
            .map_err(|e: plinth_manifest::kind::UnknownKind| {
                Failure::with_outcome(
                    Diagnostic::new(Code::BadArgument, e.to_string()),
                    Outcome::Usage,
                )
            })?;
        if !conformance::KITS.contains(&kind) {
            let kits: Vec<&str> = conformance::KITS.iter().map(|k| k.as_str()).collect();
            return Err(Failure::with_outcome(
                Diagnostic::new(
                    Code::BadArgument,
                    format!(
                        "no conformance kit is shipped for the `{kind}` kind; kits: {}",
                        kits.join(", ")
                    ),
                ),
                Outcome::Usage,
            ));
        }
        let dir = Path::new(&self.path);
        // The plugin's key-value data lives in a scratch store for the run.
        let scratch = tempfile::tempdir().map_err(|e| {
            Diagnostic::new(Code::IoError, format!("cannot make a scratch folder: {e}"))
        })?;
        let host = ctx.host_with_data_dir(None, scratch.path())?;
        let spinner = crate::progress::spinner(
            &ctx.printer,
            format!("running the {kind} kit against {}", dir.display()),
        );
        let report = conformance::run(&host, kind, dir);
        drop(spinner);
        let report =
            report.map_err(|e| Failure::with_outcome(e.to_diagnostic(), Outcome::Failed))?;
        let printer = &ctx.printer;
        let ok = report.all_passed();
        if printer.json {
            printer.json_doc(&json!({
                "ok": ok,
                "kind": report.kind,
                "wit": report.wit,
                "plugin": report.plugin,
                "passed": report.passed(),
                "failed": report.failed(),
                "skipped": report.skipped(),
                "cases": report.cases,
            }));
        } else {
            printer.line(format!(
                "{} kit ({}) against {}",
                report.kind, report.wit, report.plugin
            ));
            for case in &report.cases {
                let line = match &case.outcome {
                    CaseOutcome::Passed => format!("  pass  {}", case.id),
                    CaseOutcome::Failed(reason) => format!("  FAIL  {}: {reason}", case.id),
                    CaseOutcome::Skipped(reason) => format!("  skip  {}: {reason}", case.id),
                };
                printer.line(terminal_safe(&line).into_owned());
            }
            printer.line(format!(
                "{} passed, {} failed, {} skipped of {} cases",
                report.passed(),
                report.failed(),
                report.skipped(),
                report.cases.len()
            ));
        }
        if ok {
            return Ok(Outcome::Ok);
        }
        let diagnostic = Diagnostic::new(
            Code::ConformanceFailed,
            format!(
                "{}: {} of {} {} conformance cases did not pass ({})",
                report.plugin,
                report.failed() + report.skipped(),
                report.cases.len(),
                report.kind,
                report
                    .cases
                    .iter()
                    .filter(|c| c.outcome != CaseOutcome::Passed)
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_plugin(report.plugin.clone())
        .with_hint("fix the failing cases; a skipped case needs an [[example]] in the plugin's conformance.toml");
        if !printer.json {
            printer.diagnostics_text(&[diagnostic]);
        }
        Ok(Outcome::Failed)
    }
}
