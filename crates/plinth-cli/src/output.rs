//! Printing results and diagnostics, and the exit codes of DESIGN §7.

use std::process::ExitCode;

use plinth_manifest::diagnostic::{Diagnostic, Severity};
use serde_json::{Value, json};

/// How a command ended.
#[derive(Debug)]
pub enum Outcome {
    /// Success (0).
    Ok,
    /// The operation failed with diagnostics (1).
    Failed,
    /// Usage error (2).
    Usage,
    /// The plugin trapped or hit a limit (3).
    GuestFailed,
}

impl Outcome {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Outcome::Ok => 0,
            Outcome::Failed => 1,
            Outcome::Usage => 2,
            Outcome::GuestFailed => 3,
        })
    }
}

/// Where output goes: human text, or one JSON document on stdout.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub json: bool,
    pub quiet: bool,
}

impl Printer {
    /// Prints diagnostics: to stderr as text, or as `{"diagnostics": [...]}` on stdout.
    pub fn diagnostics(&self, diagnostics: &[Diagnostic]) {
        if self.json {
            println!("{}", json!({ "diagnostics": diagnostics }));
        } else {
            self.diagnostics_text(diagnostics);
        }
    }

    /// Prints diagnostics as text on stderr (warnings hidden with `-q`).
    pub fn diagnostics_text(&self, diagnostics: &[Diagnostic]) {
        for d in diagnostics {
            if self.quiet && d.severity != Severity::Error {
                continue;
            }
            eprintln!("{d}");
        }
    }

    /// Prints a JSON document on stdout.
    pub fn json_doc(&self, value: &Value) {
        println!("{value}");
    }

    /// Prints a line of human output on stdout (not in JSON mode).
    pub fn line(&self, text: impl std::fmt::Display) {
        if !self.json {
            println!("{text}");
        }
    }

    /// Prints progress or notes on stderr (not with `-q`).
    pub fn note(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }
}

/// Fails with one diagnostic and the given outcome.
pub fn fail(printer: &Printer, diagnostic: Diagnostic, outcome: Outcome) -> Outcome {
    printer.diagnostics(&[diagnostic]);
    outcome
}
