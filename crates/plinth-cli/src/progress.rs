//! What the registry commands share: an async runtime, an indicatif progress bar, and the
//! failure of a runtime that cannot start.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use plinth_manifest::diagnostic::{Code, Diagnostic};
use plinth_registry::Progress;

use crate::output::{Failure, Outcome, Printer, terminal_safe};

/// Runs a registry future on a small runtime of its own.
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, std::io::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(future))
}

/// The async runtime could not start: a failure of this machine, not of the registry.
pub fn runtime_failure(error: std::io::Error) -> Failure {
    Failure::with_outcome(
        Diagnostic::new(
            Code::RegistryError,
            format!("cannot start the runtime: {error}"),
        ),
        Outcome::Failed,
    )
}

/// A download bar on stderr; hidden with `--json`, `-q` or when stderr is not a terminal.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new(printer: &Printer) -> Bar {
        let bar = ProgressBar::hidden();
        if !(printer.json || printer.quiet) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        Bar { bar }
    }
}

impl Progress for Bar {
    fn start(&self, label: &str, total: Option<u64>) {
        self.bar.reset();
        self.bar.set_length(total.unwrap_or(0));
        let template = "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})";
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_message(terminal_safe(label).into_owned());
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A spinner with `label` on stderr while long work runs (a conformance kit); hidden like
/// [`Bar`], and cleared when dropped.
#[derive(Debug)]
pub struct Spinner {
    bar: ProgressBar,
}

pub fn spinner(printer: &Printer, label: String) -> Spinner {
    let bar = ProgressBar::hidden();
    if !(printer.json || printer.quiet) {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.set_message(terminal_safe(&label).into_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    Spinner { bar }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
