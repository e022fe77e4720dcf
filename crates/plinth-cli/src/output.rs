//! Printing results and diagnostics, and the exit codes of DESIGN §7.
//!
//! Every byte the CLI writes goes through here (docs/design/0035): human text is made
//! [`terminal_safe`], and a stdout whose reader went away (`plinth list | head -1`) ends
//! output quietly instead of panicking.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::Mutex;

use plinth_manifest::diagnostic::{Code, Diagnostic, ExitClass, Severity, ToDiagnostic};
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
    plinth_serve::ServeError,
    plinth_wit::WitError,
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
            self.json_doc(&json!({ "diagnostics": diagnostics }));
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
            stderr_line(diagnostic_text(d));
        }
    }

    /// Prints a JSON document on stdout.
    pub fn json_doc(&self, value: &Value) {
        stdout_line(json_text(value));
    }

    /// Prints a line of human output on stdout (not in JSON mode), [`terminal_safe`].
    pub fn line(&self, text: impl fmt::Display) {
        if !self.json {
            stdout_line(terminal_safe(&text.to_string()));
        }
    }

    /// Prints progress or notes on stderr (not with `-q`), [`terminal_safe`].
    pub fn note(&self, text: impl fmt::Display) {
        if !self.quiet {
            stderr_line(terminal_safe(&text.to_string()));
        }
    }
}

/// Fails with one diagnostic and the given outcome.
pub fn fail(printer: &Printer, diagnostic: Diagnostic, outcome: Outcome) -> Outcome {
    printer.diagnostics(&[diagnostic]);
    outcome
}

/// Text from outside Plinth (a plugin's log and output, a trap message, a manifest's name or
/// description, an index's description, a path) made safe to show on a terminal: control
/// characters (C0 but tab, DEL, C1), the line and paragraph separators and the bidi controls
/// (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069) are written as Rust escapes
/// (`\n`, `\r`, `\u{1b}`), so the text can neither drive the terminal, nor forge a line,
/// nor reorder what is shown. Everything else, tabs and backslashes included, is unchanged.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => safe.push_str("\\n"),
            '\r' => safe.push_str("\\r"),
            c if needs_escape(c) => {
                let _ = write!(safe, "\\u{{{:x}}}", u32::from(c));
            }
            c => safe.push(c),
        }
    }
    Cow::Owned(safe)
}

/// Whether [`terminal_safe`] escapes `c`.
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Multi-line text from outside (a cargo error, a TOML error with its excerpt): each line
/// [`terminal_safe`], the lines after the first indented by four spaces. A line at the
/// left margin or with the two-space `  hint:` indent is then always Plinth's own.
fn terminal_safe_lines(text: &str) -> Cow<'_, str> {
    let text = text.trim_end_matches('\n');
    if !text.contains('\n') {
        return terminal_safe(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(terminal_safe).collect();
    Cow::Owned(lines.join("\n    "))
}

/// A diagnostic as text, as its `Display` (`error[code]: MESSAGE (plugin ID)`, then
/// `  hint: HINT`), with its message, plugin and hint [`terminal_safe`]: a trap message or a
/// manifest's text reaches the terminal through them.
fn diagnostic_text(d: &Diagnostic) -> String {
    let mut text = format!(
        "{}[{}]: {}",
        d.severity,
        d.code,
        terminal_safe_lines(&d.message)
    );
    if let Some(plugin) = &d.plugin {
        let _ = write!(text, " (plugin {})", terminal_safe(plugin));
    }
    if let Some(hint) = &d.hint {
        let _ = write!(text, "\n  hint: {}", terminal_safe_lines(hint));
    }
    text
}

/// A JSON document as one line: serde_json's text, with the characters it leaves as they are
/// and [`terminal_safe`] would escape (DEL, C1, the separators and bidi controls; C0 it
/// escapes itself) written as JSON `\uXXXX` escapes. They can only occur inside strings,
/// where the escape stands for the same character: the document means the same.
pub fn json_text(value: &Value) -> String {
    let text = value.to_string();
    if !text.chars().any(needs_escape) {
        return text;
    }
    let mut safe = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs_escape(c) {
            // All of them are in the Basic Multilingual Plane: one `\uXXXX` each.
            let _ = write!(safe, "\\u{:04x}", u32::from(c));
        } else {
            safe.push(c);
        }
    }
    safe
}

/// What became of stdout.
#[derive(Debug)]
enum StdoutState {
    Open,
    /// The reader went away (`EPIPE`): further output is dropped, and that is no failure.
    ReaderGone,
    /// Another write error (a full disk): further output is dropped, and the command fails.
    Failed(io::Error),
}

static STDOUT: Mutex<StdoutState> = Mutex::new(StdoutState::Open);

/// Writes one line to stdout. A closed pipe (`plinth list | head -1`) is not an error: the
/// command goes on and ends with its own exit code, never a panic or a signal (Rust ignores
/// `SIGPIPE`); the rest of its output is dropped. Any other write error is kept for
/// [`stdout_failure`].
pub fn stdout_line(text: impl fmt::Display) {
    let mut state = STDOUT.lock().unwrap_or_else(|p| p.into_inner());
    if !matches!(*state, StdoutState::Open) {
        return;
    }
    let mut out = io::stdout().lock();
    let written = writeln!(out, "{text}").and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => *state = StdoutState::ReaderGone,
        Err(e) => *state = StdoutState::Failed(e),
    }
}

/// Writes one line to stderr. Its errors are ignored: there is nowhere left to report them.
pub fn stderr_line(text: impl fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// The outcome of a command whose stdout could not be written (other than a closed pipe):
/// an `io-error` on stderr, and exit 1 unless the command failed already.
pub fn stdout_failure(outcome: Outcome) -> Outcome {
    let state = STDOUT.lock().unwrap_or_else(|p| p.into_inner());
    let StdoutState::Failed(error) = &*state else {
        return outcome;
    };
    let diagnostic = Diagnostic::new(Code::IoError, format!("cannot write to stdout: {error}"))
        .with_hint("check the file or device stdout was redirected to");
    stderr_line(diagnostic_text(&diagnostic));
    match outcome {
        Outcome::Ok => Outcome::Failed,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_safe_escapes_controls_separators_and_bidi() {
        let cases = [
            (
                "plain text, tab\tand \\ kept",
                "plain text, tab\tand \\ kept",
            ),
            ("\u{1b}[2Jcleared", "\\u{1b}[2Jcleared"),
            ("one\ntwo\r\n", "one\\ntwo\\r\\n"),
            (
                "nul\0 bel\u{7} del\u{7f} csi\u{9b}",
                "nul\\u{0} bel\\u{7} del\\u{7f} csi\\u{9b}",
            ),
            (
                "a\u{202e}b\u{2066}c\u{2069}",
                "a\\u{202e}b\\u{2066}c\\u{2069}",
            ),
            ("ls\u{2028}ps\u{2029}", "ls\\u{2028}ps\\u{2029}"),
            ("é ü 漢字 🙂", "é ü 漢字 🙂"),
        ];
        for (raw, shown) in cases {
            assert_eq!(terminal_safe(raw), shown, "{raw:?}");
        }
        assert!(matches!(terminal_safe("nothing to do"), Cow::Borrowed(_)));
    }

    #[test]
    fn diagnostic_text_is_display_for_plain_text_and_escapes_the_rest() {
        let plain = Diagnostic::new(Code::Trap, "trapped (guest said: boom)")
            .with_plugin("example.hello")
            .with_hint("read the log");
        assert_eq!(diagnostic_text(&plain), plain.to_string());

        let forged = Diagnostic::new(
            Code::Trap,
            "guest said: \u{1b}[31mred\nerror[fuel-exhausted]: forged",
        )
        .with_hint("line\n  hint: forged");
        assert_eq!(
            diagnostic_text(&forged),
            "error[trap]: guest said: \\u{1b}[31mred\n    error[fuel-exhausted]: forged\n  \
             hint: line\n      hint: forged"
        );
    }

    #[test]
    fn json_text_escapes_what_serde_json_leaves_and_means_the_same() {
        let value = json!({"s": "a\u{1b}b\u{7f}c\u{202e}d\u{85}é"});
        let text = json_text(&value);
        assert_eq!(text, r#"{"s":"a\u001bb\u007fc\u202ed\u0085é"}"#);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
    }
}
