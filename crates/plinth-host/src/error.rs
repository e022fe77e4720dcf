//! Errors of the host, each naming the stage that failed and mapping to one diagnostic
//! code (DESIGN §6).

use std::path::PathBuf;

use plinth_manifest::ManifestError;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};

/// Building a host or loading a plugin failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The Wasmtime engine could not be configured.
    #[error("could not set up the engine: {0}")]
    Engine(String),
    /// An interface could not be defined in the linker.
    #[error("could not link {interface}: {reason}")]
    Link {
        /// `WASI`, `wasi:http` or `plinth:host`.
        interface: &'static str,
        /// Wasmtime's explanation.
        reason: String,
    },
    /// The host's own tokio runtime could not start. No longer returned: the runtime
    /// starts at its first use (docs/design/0078).
    #[error("could not start the host runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The network settings are unusable (e.g. an unreadable `ca_certificates` file).
    #[error("network settings: {0}")]
    Network(String),
    /// The key-value database cannot be opened (unreadable, locked or corrupt).
    #[error("{}: cannot open the key-value store: {reason}", path.display())]
    KvStore {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The `[kv]` server backend's settings are unusable (no or a malformed `url`).
    #[error("[kv] backend `{backend}`: {reason}")]
    KvBackend {
        /// `postgres` or `redis`.
        backend: String,
        /// Why.
        reason: String,
    },
    /// The `[events]` settings are unusable (NATS without `url`, a bad subject prefix).
    #[error("[events]: {0}")]
    EventBackend(String),
    /// The consent file cannot be read.
    #[error(transparent)]
    ConsentStore(#[from] crate::ConsentError),
    /// The manifest is missing or invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The component file could not be read.
    #[error("{}: cannot read the component: {source}", path.display())]
    Io {
        /// The component file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A plugin file (component, settings schema) is not a regular file
    /// (`not-a-regular-file`) or is over its cap (`too-large`).
    #[error(transparent)]
    PluginFile(plinth_manifest::plugin_file::PluginFileError),
    /// The bytes are a core WebAssembly module.
    #[error("{plugin}: this is a core WebAssembly module, not a component")]
    NotAComponent {
        /// Plugin id.
        plugin: String,
    },
    /// The bytes are not WebAssembly at all.
    #[error("{plugin}: the file is not WebAssembly (no `\\0asm` header)")]
    NotWasm {
        /// Plugin id.
        plugin: String,
    },
    /// The component imports interfaces the host does not provide.
    #[error("{plugin}: imports {}, which this host does not provide", interfaces.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", "))]
    UnsupportedHostApi {
        /// Plugin id.
        plugin: String,
        /// The unknown import names.
        interfaces: Vec<String>,
    },
    /// An import's type differs from the host's interface of that name.
    #[error("{plugin}: an import does not match the host's interface: {reason}")]
    ImportMismatch {
        /// Plugin id.
        plugin: String,
        /// Wasmtime's explanation.
        reason: String,
    },
    /// Compilation failed (invalid component).
    #[error("the component failed to validate or compile: {0}")]
    Compile(String),
    /// A valid component whose memory starts larger than this host lets any memory be.
    #[error("the component's memory starts larger than this host allows: {0}")]
    MemoryMinimum(String),
    /// `runtime.api` names a Plinth API version this host does not serve.
    #[error("{plugin}: targets Plinth API {api}, this host serves {served}")]
    RuntimeMismatch {
        /// Plugin id.
        plugin: String,
        /// The version the manifest names.
        api: String,
        /// The versions the host serves.
        served: String,
    },
    /// The component does not export what its declared world requires, or exports a
    /// different version than `runtime.api`.
    #[error("{plugin}: {reason}")]
    WorldMismatch {
        /// Plugin id.
        plugin: String,
        /// What is missing or different.
        reason: String,
        /// `version-mismatch` when only the version differs.
        code: Code,
    },
    /// Instantiation (start functions included) trapped or hit a limit.
    #[error(transparent)]
    Instantiate(#[from] crate::CallError),
    /// A channel's event schema (`HostBuilder::event_schema`) does not compile.
    #[error("event schema for `{pattern}`: {reason}")]
    EventSchema {
        /// The channel pattern it was registered for.
        pattern: String,
        /// Why it does not compile.
        reason: String,
    },
    /// An app-defined interface cannot be registered: a malformed or clashing name.
    #[error("host interface `{interface}`: {reason}")]
    HostInterface {
        /// The interface name as registered.
        interface: String,
        /// Why.
        reason: String,
    },
    /// The settings break the manifest's JSON Schema; they were not applied.
    #[error("{plugin}: the settings break the schema: {summary}")]
    RejectedSettings {
        /// Plugin id.
        plugin: String,
        /// Every violation, in the validator's order.
        violations: Vec<SchemaViolation>,
        /// The first violations, as the message says them.
        summary: String,
    },
    /// The manifest's `[settings] schema` file is unreadable, not JSON or not a JSON Schema.
    #[error("{plugin}: settings schema {}: {reason}", file.display())]
    InvalidSchema {
        /// Plugin id.
        plugin: String,
        /// The schema file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// A tool's input or output schema file (`[[provides.tool]]`) is unreadable, not JSON
    /// or not a JSON Schema.
    #[error("{plugin}: tool `{tool}`: schema {}: {reason}", file.display())]
    ToolSchema {
        /// Plugin id.
        plugin: String,
        /// The tool.
        tool: String,
        /// The schema file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The component does not provide a kind its manifest declares, or provides it with
    /// other types (docs/design/0037).
    #[error("{plugin}: {reason}")]
    KindMismatch {
        /// Plugin id.
        plugin: String,
        /// The kind.
        kind: plinth_manifest::Kind,
        /// What is missing or mistyped, by name.
        reason: String,
    },
    /// A `[[provides.theme]]` file is missing, not JSON or breaks the theme schema
    /// (`invalid-theme`).
    #[error("{reason}")]
    Theme {
        /// Plugin id.
        plugin: String,
        /// What is wrong, with the theme's name and the JSON path.
        reason: String,
    },
    /// A granted directory is not mapped by the host or cannot be opened, or an
    /// invocation scope names a folder outside it (docs/design/0047).
    #[error("{plugin}: {reason}")]
    FsDenied {
        /// Plugin id.
        plugin: String,
        /// The directory name from the grant.
        dir: String,
        /// Why.
        reason: String,
    },
    /// An invocation scope the embedder built is not usable, e.g. its tenant is not a
    /// tenant name (docs/design/0047).
    #[error("{plugin}: invocation scope: {reason}")]
    BadScope {
        /// Plugin id.
        plugin: String,
        /// Why.
        reason: String,
    },
}

impl ToDiagnostic for HostError {
    fn to_diagnostic(&self) -> Diagnostic {
        let (code, plugin, hint): (Code, Option<&str>, Option<String>) = match self {
            HostError::Manifest(error) => return error.to_diagnostic(),
            HostError::Instantiate(error) => return error.to_diagnostic(),
            HostError::Engine(_) | HostError::Link { .. } | HostError::Runtime(_) => {
                (Code::HostSetup, None, None)
            }
            HostError::Network(_) => (
                Code::HostSetup,
                None,
                Some("fix `[network]` in the host config (`ca_certificates` must name readable PEM files)".into()),
            ),
            HostError::KvStore { .. } => (
                Code::StorageError,
                None,
                Some("another process may hold the database, or it is damaged: stop the other host, or move the file away to start empty".into()),
            ),
            HostError::KvBackend { .. } => (
                Code::StorageError,
                None,
                Some("fix `[kv]` in the host config: `url` names the server (docs/deployment.md)".into()),
            ),
            HostError::EventBackend(_) => (
                Code::HostSetup,
                None,
                Some("fix `[events]` in the host config (docs/deployment.md)".into()),
            ),
            HostError::ConsentStore(_) => (
                Code::StorageError,
                None,
                Some("fix or remove the consent file; `plinth consent list` shows what it held".into()),
            ),
            HostError::PluginFile(refused) => (
                refused.code(),
                None,
                Some("a plugin file must be a regular file within its size cap (manifest and schema 1 MiB, component 256 MiB); replace it".into()),
            ),
            HostError::Io { .. } => (
                Code::MissingPackage,
                None,
                Some("check `runtime.component` in plugin.toml, or run `plinth build`".into()),
            ),
            HostError::NotAComponent { plugin } => (
                Code::NotAComponent,
                Some(plugin),
                Some(
                    "Plinth runs WebAssembly components only: build for `wasm32-wasip2` \
                     (`plinth build`) or wrap the module with `wasm-tools component new`"
                        .into(),
                ),
            ),
            HostError::NotWasm { plugin } => (
                Code::NotAComponent,
                Some(plugin),
                Some("point `runtime.component` at a `.wasm` component".into()),
            ),
            HostError::UnsupportedHostApi { plugin, .. } => (
                Code::UnsupportedHostApi,
                Some(plugin),
                Some(
                    "build the plugin against interfaces this host serves (`plinth show` \
                     lists its imports); WASI p2 and plinth:host@0.1 are available, and an app's own \
                     interfaces only in the app that registers them"
                        .into(),
                ),
            ),
            HostError::ImportMismatch { plugin, .. } => (
                Code::UnsupportedHostApi,
                Some(plugin),
                Some("rebuild the plugin against this host's WIT".into()),
            ),
            HostError::MemoryMinimum(_) => (
                Code::MemoryLimit,
                None,
                Some(
                    "raise `[limits] mem_bytes` in the host config, or build the plugin with a smaller initial memory"
                        .into(),
                ),
            ),
            HostError::Compile(_) => (
                Code::NotAComponent,
                None,
                Some("the file is not a valid component; rebuild it".into()),
            ),
            HostError::RuntimeMismatch { plugin, served, .. } => (
                Code::RuntimeMismatch,
                Some(plugin),
                Some(format!("set `runtime.api` to one of: {served}")),
            ),
            HostError::EventSchema { .. } => (
                Code::BadArgument,
                None,
                Some("give each channel a valid JSON Schema (draft 2020-12 or the one `$schema` names)".into()),
            ),
            HostError::HostInterface { .. } => (
                Code::BadArgument,
                None,
                Some(
                    "register app interfaces under the app's own namespace and an unscoped \
                     capability name that is not Plinth's (`retrieval`, not `kv`)"
                        .into(),
                ),
            ),
            HostError::RejectedSettings { plugin, violations, .. } => (
                Code::RejectedSchema,
                Some(plugin),
                Some(format!(
                    "fix `{}` in the plugin's settings (`config` of its entry in plugins.toml); the schema is in its manifest's `[settings] schema`",
                    violations.first().map_or("/", |v| v.path.as_str())
                )),
            ),
            HostError::ToolSchema { plugin, .. } => (
                Code::InvalidManifest,
                Some(plugin),
                Some("make the tool's `input_schema` / `output_schema` in plugin.toml point at a valid JSON Schema file".into()),
            ),
            HostError::KindMismatch { plugin, kind, .. } => (
                Code::KindMismatch,
                Some(plugin),
                Some(format!(
                    "build the plugin against the `{kind}` kind's WIT (`{}`; `plinth new --kind {kind}` scaffolds one), or remove `[[provides.{kind}]]`",
                    kind.versioned_interface().unwrap_or_default(),
                )),
            ),
            HostError::BadScope { plugin, .. } => (
                Code::BadArgument,
                Some(plugin),
                Some("give `InvocationScope::tenant` a tenant name (docs/design/0024)".into()),
            ),
            HostError::Theme { plugin, .. } => (
                Code::InvalidTheme,
                Some(plugin),
                Some("fix the theme file at the path named; themes follow docs/schemas/theme.schema.json".into()),
            ),
            HostError::InvalidSchema { plugin, .. } => (
                Code::InvalidManifest,
                Some(plugin),
                Some("make `[settings] schema` in plugin.toml point at a valid JSON Schema file".into()),
            ),
            HostError::FsDenied { plugin, dir, .. } => (
                Code::FsDenied,
                Some(plugin),
                Some(format!(
                    "map `{dir}` to an existing directory under `[dirs]` in the host config, or revoke the grant"
                )),
            ),
            HostError::WorldMismatch { plugin, code, .. } => (
                *code,
                Some(plugin),
                Some("make `runtime.world` and `runtime.api` match what the component exports (`plinth show`)".into()),
            ),
        };
        let mut diagnostic = Diagnostic::new(code, self.to_string());
        if let Some(plugin) = plugin {
            diagnostic = diagnostic.with_plugin(plugin);
        }
        if let Some(hint) = hint {
            diagnostic = diagnostic.with_hint(hint);
        }
        diagnostic
    }
}

/// What went wrong in a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallFailure {
    /// No export of that name, or several.
    UnknownExport {
        /// Exports that could have been meant (all of them when none matched).
        candidates: Vec<String>,
    },
    /// An argument does not fit the export's parameter types.
    BadArgument {
        /// Why.
        reason: String,
    },
    /// The fuel budget ran out.
    FuelExhausted {
        /// The budget.
        fuel: u64,
    },
    /// Memory growth beyond the limit was refused.
    MemoryLimit {
        /// The limit in bytes.
        limit: u64,
    },
    /// The instance held as many host resources (handles) as one Store may.
    HostResources {
        /// The most one Store may hold.
        limit: usize,
    },
    /// A guest-made `wasi:http` header set went over its byte cap.
    HeadersTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The call's result, or one host call's arguments, would take more host memory than
    /// [`crate::Limits::result_bytes`].
    ResultTooLarge {
        /// The budget in bytes.
        limit: u64,
    },
    /// The wall clock ran out.
    Timeout {
        /// The limit in milliseconds.
        ms: u64,
    },
    /// The wasm stack limit was hit.
    StackOverflow,
    /// An app-defined host function was called without its grant.
    MissingGrant {
        /// The grant the call needed.
        grant: plinth_manifest::Grant,
    },
    /// A published event was refused by the host's checks (a channel's JSON Schema, or an
    /// embedder's validator); nothing was forwarded.
    RejectedEvent {
        /// The channel it was published on.
        channel: String,
        /// Why.
        reason: String,
    },
    /// The guest ended the call with `wasi:cli/exit` and a non-zero status, or with status
    /// 0 from an export that must return a value (docs/design/0030).
    ExitStatus {
        /// The exit status.
        status: i32,
        /// The last line the guest wrote to stderr.
        guest_message: Option<String>,
    },
    /// Any other trap, a guest panic included.
    Trap {
        /// Wasmtime's trap message.
        message: String,
        /// The last line the guest wrote to stderr (a panic message, usually).
        guest_message: Option<String>,
    },
}

/// A call (or an instantiation) failed. The host is unharmed; the instance is dropped and
/// the next call gets a fresh one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{plugin}: {export}: {}", describe(failure))]
pub struct CallError {
    /// Plugin id.
    pub plugin: String,
    /// The export called (`instantiate` for instantiation).
    pub export: String,
    /// What happened.
    pub failure: CallFailure,
}

fn describe(failure: &CallFailure) -> String {
    match failure {
        CallFailure::UnknownExport { candidates } if candidates.is_empty() => {
            "no such export (the component exports no functions)".into()
        }
        CallFailure::UnknownExport { candidates } => {
            format!(
                "no single export matches; candidates: {}",
                candidates.join(", ")
            )
        }
        CallFailure::BadArgument { reason } => reason.clone(),
        CallFailure::FuelExhausted { fuel } => format!("ran out of fuel ({fuel} units)"),
        CallFailure::MemoryLimit { limit } => {
            format!("memory limit of {} MiB reached", limit / (1024 * 1024))
        }
        CallFailure::HostResources { limit } => format!(
            "held {limit} host resources (header sets, streams, bodies, descriptors), the most one instance may"
        ),
        CallFailure::HeadersTooLarge { limit } => {
            format!("a wasi:http header set went over {} KiB", limit / 1024)
        }
        CallFailure::ResultTooLarge { limit } => format!(
            "moved more data out of the guest than the host takes in one call ({} MiB: the result, or a host call's arguments)",
            limit / (1024 * 1024)
        ),
        CallFailure::Timeout { ms } => format!("timed out after {ms} ms"),
        CallFailure::StackOverflow => "wasm stack overflow".into(),
        CallFailure::MissingGrant { grant } => {
            format!("called a host function of `{grant}` without the grant")
        }
        CallFailure::RejectedEvent { channel, reason } => {
            format!("published an event on `{channel}` the host refused: {reason}")
        }
        CallFailure::ExitStatus {
            status,
            guest_message,
        } => {
            let said = guest_message
                .as_ref()
                .map(|guest| format!(" (guest said: {guest})"))
                .unwrap_or_default();
            if *status == 0 {
                format!("exited with status 0 before returning a value{said}")
            } else {
                format!("exited with status {status}{said}")
            }
        }
        CallFailure::Trap {
            message,
            guest_message: Some(guest),
        } => format!("trapped: {message} (guest said: {guest})"),
        CallFailure::Trap { message, .. } => format!("trapped: {message}"),
    }
}

impl CallError {
    /// What happened, without the plugin and export ([`Self`]'s `Display` adds them):
    /// `trapped: unreachable`, `ran out of fuel (…)`.
    pub fn reason(&self) -> String {
        describe(&self.failure)
    }

    /// The diagnostic code of this failure.
    pub fn code(&self) -> Code {
        match self.failure {
            CallFailure::UnknownExport { .. } => Code::UnknownExport,
            CallFailure::BadArgument { .. } => Code::BadArgument,
            CallFailure::FuelExhausted { .. } => Code::FuelExhausted,
            CallFailure::MemoryLimit { .. } | CallFailure::HostResources { .. } => {
                Code::MemoryLimit
            }
            CallFailure::HeadersTooLarge { .. } | CallFailure::ResultTooLarge { .. } => {
                Code::TooLarge
            }
            CallFailure::Timeout { .. } => Code::Timeout,
            CallFailure::StackOverflow => Code::StackOverflow,
            CallFailure::MissingGrant { .. } => Code::MissingGrant,
            CallFailure::RejectedEvent { .. } => Code::RejectedSchema,
            CallFailure::ExitStatus { .. } => Code::ExitStatus,
            CallFailure::Trap { .. } => Code::Trap,
        }
    }

    /// Whether the guest trapped or hit a limit (exit code 3), as opposed to a usage error
    /// or an explicit exit ([`Self::exit_status`]).
    pub fn is_guest_failure(&self) -> bool {
        !matches!(
            self.failure,
            CallFailure::UnknownExport { .. }
                | CallFailure::BadArgument { .. }
                | CallFailure::ExitStatus { .. }
        )
    }

    /// The status of a call the guest ended with `wasi:cli/exit` (`exit-status`): the
    /// call ended normally but failed (exit code 1 in the CLI, not 3).
    pub fn exit_status(&self) -> Option<i32> {
        match self.failure {
            CallFailure::ExitStatus { status, .. } => Some(status),
            _ => None,
        }
    }

    fn hint(&self) -> String {
        match &self.failure {
            CallFailure::UnknownExport { .. } => {
                "name an export as `func`, `iface#func` or `ns:pkg/iface@version#func` (`plinth show` lists them)".into()
            }
            CallFailure::BadArgument { .. } => {
                "pass one JSON value per parameter; `plinth show` lists the parameter types".into()
            }
            CallFailure::FuelExhausted { .. } => {
                "the plugin ran too long; raise `[limits] fuel_units` in the host config or `--fuel`".into()
            }
            CallFailure::MemoryLimit { .. } => {
                "raise `[limits] mem_bytes` in the host config or `--memory-mib`".into()
            }
            CallFailure::HeadersTooLarge { .. } => {
                "send fewer or smaller headers; the cap per header set is fixed (docs/capabilities.md, host memory)".into()
            }
            CallFailure::ResultTooLarge { .. } => {
                "return less per call (page the data), use a typed call, or raise `[limits] result_bytes` in the host config".into()
            }
            CallFailure::HostResources { .. } => {
                "the plugin keeps handles it never drops; the per-instance cap is fixed (docs/capabilities.md, host memory)".into()
            }
            CallFailure::Timeout { .. } => {
                "raise `[limits] wall_timeout_ms` in the host config or `--timeout-ms`".into()
            }
            CallFailure::StackOverflow => {
                "the plugin recursed too deeply; the stack limit is host-wide (`[limits] max_stack_bytes`)".into()
            }
            CallFailure::MissingGrant { grant } => crate::caps::gate::grant_hint(&self.plugin, grant),
            CallFailure::RejectedEvent { channel, .. } => format!(
                "publish on `{channel}` what the application's schema for it allows (the application's documentation of the channel)"
            ),
            CallFailure::ExitStatus { status: 0, .. } => {
                "the plugin called `exit(0)` in an export that returns a value; return the value instead".into()
            }
            CallFailure::ExitStatus { status, .. } => format!(
                "the plugin ended the call with exit status {status}; its log (`-v`) has what it printed"
            ),
            CallFailure::Trap { .. } => {
                "the plugin failed; its log (`-v`) has what it printed".into()
            }
        }
    }
}

impl ToDiagnostic for CallError {
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(self.code(), self.to_string())
            .with_plugin(self.plugin.clone())
            .with_hint(self.hint())
    }
}

/// One way a JSON value breaks a JSON Schema (the settings, for now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON Pointer of the offending value in the settings (`""` is the whole object).
    pub path: String,
    /// The schema keyword that failed (`type`, `required`, `additionalProperties`, …).
    pub rule: String,
    /// The validator's explanation.
    pub message: String,
}

impl std::fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "at `{path}`: {} (rule `{}`)", self.message, self.rule)
    }
}
