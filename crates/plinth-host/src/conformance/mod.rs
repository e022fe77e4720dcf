//! Conformance kits (docs/design/0039): a kind's behavioural cases, kept as data in the
//! repository's `conformance/KIND.toml`, run against one plugin.
//!
//! A case names a step (call a tool, ask a hook, run a command, read `list-tools`) and an
//! expectation; examples specific to the plugin (an input and its output, an event and
//! its decision) come from the plugin's own `conformance.toml`. Cases that need an
//! example the plugin does not give are skipped, never passed.

mod auth_provider;
mod content_transform;
mod data_source;
mod event_handler;
mod exporter;
mod file_loader;
mod file_viewer;
mod fixtures;
mod inputs;
mod policy_hook;
mod preview;
mod run;
mod search_analyzer;
mod storage_provider;
mod suite;
mod tables;
mod theme;
mod theme_provider;

pub use fixtures::{Example, ExpectedDecision, FIXTURES_FILE, Fixtures, LoaderExample};
pub use run::{CaseOutcome, CaseResult, Report, run, run_suite};
pub use suite::{Case, KITS, Suite};

use std::path::PathBuf;

/// The kit cannot run at all (a case that fails is in the [`Report`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// A suite file is not in the case format.
    #[error("conformance suite {name}: {reason}")]
    Suite {
        /// The suite's name or file.
        name: String,
        /// Why.
        reason: String,
    },
    /// The plugin's `conformance.toml` is unreadable or not in the example format.
    #[error("{}: {reason}", file.display())]
    Fixtures {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The plugin does not load.
    #[error(transparent)]
    Load(#[from] crate::HostError),
    /// The plugin does not provide the kind the kit is for.
    #[error(transparent)]
    Kind(#[from] crate::kinds::KindError),
}

impl plinth_manifest::ToDiagnostic for ConformanceError {
    fn to_diagnostic(&self) -> plinth_manifest::Diagnostic {
        use plinth_manifest::{Code, Diagnostic};
        match self {
            ConformanceError::Load(e) => e.to_diagnostic(),
            ConformanceError::Kind(e) => e.to_diagnostic(),
            ConformanceError::Suite { .. } => Diagnostic::new(Code::InvalidManifest, self.to_string())
                .with_hint("a suite is `kind`, `wit` and [[case]] tables with id, description, step and expect (docs/design/0039)"),
            ConformanceError::Fixtures { .. } => Diagnostic::new(Code::InvalidManifest, self.to_string())
                .with_hint("conformance.toml holds [[example]] tables: kind = \"tool\" with tool, input, output; kind = \"hook\" with event and decision; kind = \"command\" with args and output; kind = \"file-loader\" or \"file-viewer\" with format and content or file; kind = \"exporter\" with format, columns, rows (docs/design/0041); kind = \"auth-provider\" with token, subject, tenant; kind = \"preview\" with media_type and content or file (docs/design/0045); kind = \"content-transform\" with media_type and content or file (docs/design/0046)"),
        }
    }
}
