//! Coded diagnostics (DESIGN §6): the one shape every user-facing failure takes.
//!
//! A [`Diagnostic`] carries a stable [`Code`], a [`Severity`], a message that names what went
//! wrong, the plugin id when known, and a hint that says how to fix it. The CLI prints them as
//! text ([`Display`](std::fmt::Display)) or, with `--json`, as
//! `{"code","severity","message","plugin","hint"}` objects (serde).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The operation failed.
    Error,
    /// The operation went ahead, but something deserves attention.
    Warning,
    /// Information only.
    Note,
}

impl Severity {
    /// The lowercase name used in text and JSON output (`"error"`, `"warning"`, `"note"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Generates [`Code`] from one table so the variant, its string and `Code::ALL` cannot drift
/// apart when a code is added.
macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, )*) => {
        /// A stable diagnostic code (DESIGN §6). Its kebab-case string is part of Plinth's
        /// public interface: scripts match on it, so a code is never renamed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in the order of DESIGN §6.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The kebab-case code, e.g. `"not-a-component"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Code::$variant => $text, )*
                }
            }
        }

        impl FromStr for Code {
            type Err = UnknownCode;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $text => Ok(Code::$variant), )*
                    _ => Err(UnknownCode(s.to_owned())),
                }
            }
        }
    };
}

codes! {
    /// A manifest, component or lockfile entry points at nothing.
    MissingPackage => "missing-package",
    /// `plugin.toml` is not valid TOML or a field has a bad value.
    InvalidManifest => "invalid-manifest",
    /// A key Plinth does not know; ignored for forward compatibility.
    UnknownKey => "unknown-key",
    /// The component's sha256 differs from the pinned digest.
    DigestMismatch => "digest-mismatch",
    /// `runtime.api` disagrees with the versions of the component's exports.
    VersionMismatch => "version-mismatch",
    /// A capability was used without both request and grant.
    MissingGrant => "missing-grant",
    /// A settings or input schema was refused.
    RejectedSchema => "rejected-schema",
    /// `runtime.api` names a WIT version this host does not serve.
    RuntimeMismatch => "runtime-mismatch",
    /// The manifest declares a runtime kind other than `wasm-component`.
    LegacyRuntime => "legacy-runtime",
    /// The binary is a core module or not WebAssembly at all.
    NotAComponent => "not-a-component",
    /// The component imports an interface the host does not know.
    UnsupportedHostApi => "unsupported-host-api",
    /// A signature does not verify.
    BadSignature => "bad-signature",
    /// A signature verifies with a key that is not in the trust store.
    UntrustedKey => "untrusted-key",
    /// A signature was required but the package has none.
    Unsigned => "unsigned",
    /// A call used up its fuel.
    FuelExhausted => "fuel-exhausted",
    /// An instance tried to grow past its memory limit.
    MemoryLimit => "memory-limit",
    /// A call ran past its wall-clock limit.
    Timeout => "timeout",
    /// The guest overflowed the wasm stack.
    StackOverflow => "stack-overflow",
    /// The guest trapped (including a panic).
    Trap => "trap",
    /// The guest ended the call with `wasi:cli/exit` and a non-zero status (or with status 0
    /// from an export that had to return a value).
    ExitStatus => "exit-status",
    /// The plugin waits for the operator to consent to its capabilities.
    ConsentPending => "consent-pending",
    /// An HTTP request was refused by policy.
    HttpDenied => "http-denied",
    /// An HTTP response body exceeded its cap.
    HttpTooLarge => "http-too-large",
    /// A file-system access fell outside a granted directory.
    FsDenied => "fs-denied",
    /// A `wasi:sockets` use was refused: no `sockets:` grant covers the address, the
    /// address is one the host never connects to, UDP or listening, or the plugin is at
    /// its open-socket limit.
    SocketDenied => "socket-denied",
    /// The state file has a newer `schema_version` than this host knows.
    StateTooNew => "state-too-new",
    /// The plugin is disabled.
    Disabled => "disabled",
    /// A user plugin hides a system plugin with the same id.
    Shadowed => "shadowed",
    /// A `call` argument is malformed or does not fit the parameter type.
    BadArgument => "bad-argument",
    /// A `call` export name matches nothing, or several exports.
    UnknownExport => "unknown-export",
    /// An archive with traversal, links, duplicates or over a size cap.
    PackageRejected => "package-rejected",
    /// Too many requests in a period.
    RateLimited => "rate-limited",
    /// A storage or usage quota is exhausted.
    QuotaExceeded => "quota-exceeded",
    /// A payload over its cap.
    TooLarge => "too-large",
    /// A registry index is not valid JSON of the index format.
    InvalidIndex => "invalid-index",
    /// A registry or index server could not be reached or refused the request.
    RegistryError => "registry-error",
    /// The host could not be set up: the engine, the linker, its runtime or its network
    /// settings (the stage is in the message).
    HostSetup => "host-setup",
    /// A host-wide store (the key-value database, the consent file) cannot be opened or
    /// is corrupt.
    StorageError => "storage-error",
    /// Building a plugin project failed: its toolchain is missing, failed, or produced no
    /// component.
    BuildFailed => "build-failed",
    /// Reading or writing a file or folder (the home, a project, an output) failed.
    IoError => "io-error",
    /// A plugin file (manifest, component, schema) is a FIFO, device, socket or directory.
    NotARegularFile => "not-a-regular-file",
    /// A package claims the id of an installed plugin from another origin or signer, or an
    /// installed plugin is signed by another key than the one its id is pinned to.
    IdentityChanged => "identity-changed",
    /// The component does not export what a declared kind needs, or exports it with other
    /// types, or reports other tools than its manifest declares.
    KindMismatch => "kind-mismatch",
    /// A tool's input breaks its JSON Schema (the guest did not run), or the tool refused
    /// it as invalid.
    InvalidInput => "invalid-input",
    /// A plugin answered with output its kind does not allow: not JSON, not an object where
    /// one is needed, or against the tool's output schema.
    InvalidOutput => "invalid-output",
    /// The plugin provides no tool of that name.
    UnknownTool => "unknown-tool",
    /// A tool ran and reported a failure.
    ToolFailed => "tool-failed",
    /// `plinth test --conformance`: at least one case failed.
    ConformanceFailed => "conformance-failed",
    /// A file-loader, file-viewer or exporter was asked for a format its manifest does not
    /// declare (or the guest said it does not know a declared one).
    UnknownFormat => "unknown-format",
    /// A plugin of a Thoth kind (loader, viewer, exporter, data source, theme provider) ran
    /// and reported a failure: bad data, an unreadable file, its own error code.
    PluginFailed => "plugin-failed",
    /// A theme (a `theme.json`, or what a theme provider computed) is not JSON or breaks
    /// the theme schema.
    InvalidTheme => "invalid-theme",
    /// A WIT package directory or `.wit` file does not parse or does not resolve.
    InvalidWit => "invalid-wit",
    /// `plinth wit diff --deny-breaking`: a change breaks plugins built on the old WIT
    /// when a host serves the new one.
    BreakingWitChange => "breaking-wit-change",
    /// `plinth serve`: a state-changing request without the home's token, or with another.
    Unauthorized => "unauthorized",
    /// `plinth serve`: a request from another origin (`Origin`), or for another host name
    /// than the server's (`Host`), refused before it is read.
    Forbidden => "forbidden",
    /// A service's ingress queue is full and its overflow policy is `reject`: the producer
    /// is refused (an HTTP route answers 503).
    QueueFull => "queue-full",
    /// An event for a service that is stopped (or stopping).
    ServiceStopped => "service-stopped",
}

impl Code {
    /// The severity a diagnostic with this code has unless told otherwise: `unknown-key` and
    /// `shadowed` are warnings (the operation goes ahead), every other code is an error.
    pub fn default_severity(self) -> Severity {
        match self {
            Code::UnknownKey | Code::Shadowed => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// Which exit code of DESIGN §7 a failure with a code ends the CLI with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitClass {
    /// The operation failed with diagnostics (exit 1).
    Failed,
    /// A usage error (exit 2).
    Usage,
    /// The plugin trapped or hit a limit (exit 3).
    GuestFailed,
}

impl ExitClass {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            ExitClass::Failed => 1,
            ExitClass::Usage => 2,
            ExitClass::GuestFailed => 3,
        }
    }
}

impl Code {
    /// The exit class a failure with this code has unless its command knows better:
    /// `bad-argument`, `unknown-export`, `invalid-input`, `unknown-tool` and `unknown-format`
    /// are usage errors,
    /// the limits and `trap` are guest failures, every other code (`build-failed` and
    /// `io-error` too) a failure.
    pub fn exit_class(self) -> ExitClass {
        match self {
            Code::BadArgument
            | Code::UnknownExport
            | Code::InvalidInput
            | Code::UnknownTool
            | Code::UnknownFormat => ExitClass::Usage,
            Code::FuelExhausted
            | Code::MemoryLimit
            | Code::Timeout
            | Code::StackOverflow
            | Code::Trap => ExitClass::GuestFailed,
            _ => ExitClass::Failed,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A string that is not one of the [`Code`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown diagnostic code `{0}`")]
pub struct UnknownCode(pub String);

/// One coded finding: what went wrong, for which plugin, and how to fix it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// Error, warning or note.
    pub severity: Severity,
    /// What happened, naming the file, key or interface involved.
    pub message: String,
    /// The plugin id, when known.
    pub plugin: Option<String>,
    /// How to fix it, when there is something to say.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's [default severity](Code::default_severity), no plugin and
    /// no hint.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            plugin: None,
            hint: None,
        }
    }

    /// Names the plugin the diagnostic is about.
    #[must_use]
    pub fn with_plugin(mut self, id: impl Into<String>) -> Self {
        self.plugin = Some(id.into());
        self
    }

    /// Adds a hint that says how to fix the problem.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Overrides the code's default severity.
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Whether the severity is [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `error[not-a-component]: MESSAGE (plugin ID)`, then `  hint: HINT` on its own line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.severity, self.code, self.message)?;
        if let Some(plugin) = &self.plugin {
            write!(f, " (plugin {plugin})")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Conversion of a typed error into the coded diagnostic users see.
pub trait ToDiagnostic {
    /// The diagnostic for this value, with a hint where one helps.
    fn to_diagnostic(&self) -> Diagnostic;
}

impl ToDiagnostic for Diagnostic {
    fn to_diagnostic(&self) -> Diagnostic {
        self.clone()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_string() {
        for &code in Code::ALL {
            assert_eq!(code.as_str().parse::<Code>(), Ok(code));
            assert_eq!(code.to_string(), code.as_str());
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<Code>(&json).unwrap(), code);
        }
        assert_eq!(Code::ALL.len(), 57);
    }

    /// Every code a user can see is explained in the user guide's table.
    #[test]
    fn every_code_is_in_the_user_guide() {
        let guide = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/user-guide.md");
        let guide = std::fs::read_to_string(guide).unwrap();
        let missing: Vec<&str> = Code::ALL
            .iter()
            .map(|code| code.as_str())
            .filter(|code| !guide.contains(&format!("`{code}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "codes missing from docs/user-guide.md: {missing:?}"
        );
    }

    #[test]
    fn exit_classes() {
        assert_eq!(Code::BuildFailed.exit_class(), ExitClass::Failed);
        assert_eq!(Code::IoError.exit_class(), ExitClass::Failed);
        assert_eq!(Code::BadArgument.exit_class().exit_code(), 2);
        assert_eq!(Code::Trap.exit_class().exit_code(), 3);
        assert_eq!("build-failed".parse::<Code>(), Ok(Code::BuildFailed));
        assert_eq!("io-error".parse::<Code>(), Ok(Code::IoError));
    }

    #[test]
    fn unknown_code_is_refused() {
        assert_eq!(
            "no-such-code".parse::<Code>(),
            Err(UnknownCode("no-such-code".into()))
        );
        assert!(serde_json::from_str::<Code>("\"NotAComponent\"").is_err());
    }

    #[test]
    fn only_unknown_key_and_shadowed_are_warnings() {
        for &code in Code::ALL {
            let expected = match code {
                Code::UnknownKey | Code::Shadowed => Severity::Warning,
                _ => Severity::Error,
            };
            assert_eq!(code.default_severity(), expected, "{code}");
        }
    }

    #[test]
    fn display_with_and_without_plugin_and_hint() {
        let bare = Diagnostic::new(Code::NotAComponent, "x.wasm is a core module");
        assert_eq!(
            bare.to_string(),
            "error[not-a-component]: x.wasm is a core module"
        );
        let full = bare
            .with_plugin("example.hello")
            .with_hint("rebuild it as a component");
        assert_eq!(
            full.to_string(),
            "error[not-a-component]: x.wasm is a core module (plugin example.hello)\n  hint: rebuild it as a component"
        );
        let note = Diagnostic::new(Code::Shadowed, "m").with_severity(Severity::Note);
        assert_eq!(note.to_string(), "note[shadowed]: m");
    }

    #[test]
    fn json_has_exactly_the_five_fields() {
        let d = Diagnostic::new(Code::UnknownKey, "unknown key `x`");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(
            json,
            r#"{"code":"unknown-key","severity":"warning","message":"unknown key `x`","plugin":null,"hint":null}"#
        );
        let back: Diagnostic = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        let full = d.with_plugin("p").with_hint("h");
        let back: Diagnostic =
            serde_json::from_str(&serde_json::to_string(&full).unwrap()).unwrap();
        assert_eq!(back, full);
    }
}
