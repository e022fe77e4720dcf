//! Printing results and diagnostics, and the exit codes of DESIGN §7.

use std::process::ExitCode;

use plinth_manifest::diagnostic::{Diagnostic, ExitClass, Severity, ToDiagnostic};
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

impl From<ExitClass> for Outcome {
    fn from(class: ExitClass) -> Outcome {
        match class {
            ExitClass::Failed => Outcome::Failed,
            ExitClass::Usage => Outcome::Usage,
            ExitClass::GuestFailed => Outcome::GuestFailed,
        }
    }
}

/// A command that failed: the diagnostic to print and how the process ends. Commands return
/// `Result<Outcome, Failure>` and use `?`; every library error converts into one, with the
/// exit code its diagnostic code implies ([`Code::exit_class`]), and [`finish`] prints it.
///
/// [`Code::exit_class`]: plinth_manifest::Code::exit_class
#[derive(Debug)]
pub struct Failure {
    pub diagnostic: Diagnostic,
    pub outcome: Outcome,
}

impl Failure {
    /// A failure ending with `outcome` whatever the code says (a command that knows better).
    pub fn with_outcome(diagnostic: impl ToDiagnostic, outcome: Outcome) -> Failure {
        Failure {
            diagnostic: diagnostic.to_diagnostic(),
            outcome,
        }
    }

    /// Adds the plugin id to the diagnostic.
    #[must_use]
    pub fn with_plugin(mut self, id: impl Into<String>) -> Failure {
        self.diagnostic = self.diagnostic.with_plugin(id);
        self
    }
}

/// Every error the commands see converts into a [`Failure`] through its diagnostic.
macro_rules! failure_from {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for Failure {
            fn from(error: $error) -> Failure {
                let diagnostic = error.to_diagnostic();
                let outcome = diagnostic.code.exit_class().into();
                Failure { diagnostic, outcome }
            }
        }
    )*};
}

failure_from!(
    Diagnostic,
    plinth_build::BuildError,
    plinth_host::HostError,
    plinth_manager::state::StateError,
    plinth_manifest::ManifestError,
    plinth_manifest::WriteError,
    plinth_package::PackageError,
    plinth_registry::RegistryError,
);

/// Prints a failed command's diagnostic and ends with its outcome.
pub fn finish(printer: &Printer, result: Result<Outcome, Failure>) -> Outcome {
    match result {
        Ok(outcome) => outcome,
        Err(failure) => fail(printer, failure.diagnostic, failure.outcome),
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
