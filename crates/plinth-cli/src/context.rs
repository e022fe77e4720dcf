//! What every command shares: global flags, the home directory, the host configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{ArgAction, Args};
use plinth_host::log::{LogLevel, LogRecord, LogSource};
use plinth_host::{Host, HostConfig, Limits};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};

use crate::output::{Outcome, Printer, fail, stderr_line, terminal_safe};

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Plinth's home directory [default: $XDG_DATA_HOME/plinth or ~/.local/share/plinth].
    #[arg(long, global = true, env = "PLINTH_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Work in the tenant's own home, `<home>/tenants/TENANT/`: its plugins, plugins.toml,
    /// lockfile and trust store (host config still comes from `<home>/config.toml`).
    #[arg(long, global = true, env = "PLINTH_TENANT", value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Where compiled functions are kept for reuse by later compiles of other plugins and
    /// rebuilds [default: <home>/cache/functions]; several homes may share one.
    #[arg(long, global = true, env = "PLINTH_FUNCTION_CACHE", value_name = "DIR")]
    pub function_cache: Option<PathBuf>,
    /// Machine-readable output: one JSON document on stdout, diagnostics included.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more: plugin debug logs, and host tracing with -vv.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug)]
pub struct Context {
    pub home: PathBuf,
    pub config: HostConfig,
    pub printer: Printer,
    pub verbose: u8,
    /// The tenant of `--tenant`, whose home `home` is.
    pub tenant: Option<String>,
    /// The main home (`home` itself without `--tenant`): config and compile cache live here.
    pub main_home: PathBuf,
    /// The per-function compile cache: `--function-cache`, else `<main home>/cache/functions`.
    pub function_cache: PathBuf,
    /// OpenTelemetry export, when `[telemetry]` turns it on: held for its drop, at the end
    /// of `main`, which flushes what the command recorded.
    _telemetry: Option<crate::telemetry::Telemetry>,
}

fn default_home() -> PathBuf {
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(data).join("plinth");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/plinth")
}

impl Context {
    pub fn new(args: GlobalArgs) -> Result<Context, Outcome> {
        let printer = Printer {
            json: args.json,
            quiet: args.quiet,
        };
        let base = args.home.unwrap_or_else(default_home);
        let config = HostConfig::load(&base.join("config.toml"));
        let telemetry = config
            .as_ref()
            .ok()
            .and_then(|config| crate::telemetry::start(&config.telemetry));
        init_tracing(args.verbose, telemetry.as_ref());
        let mut config = config.map_err(|e| {
            fail(
                &printer,
                Diagnostic::new(Code::InvalidManifest, e.to_string())
                    .with_hint("fix the host configuration file or remove it to use defaults"),
                Outcome::Failed,
            )
        })?;
        let home = match &args.tenant {
            None => base.clone(),
            Some(tenant) => {
                let home = plinth_package::Home::new(&base)
                    .tenant(tenant)
                    .map_err(|e| fail(&printer, e.to_diagnostic(), Outcome::Usage))?;
                // A shared user directory would let tenants see each other's plugins.
                config.paths.user_dir = None;
                home.root().to_path_buf()
            }
        };
        Ok(Context {
            home,
            config,
            printer,
            verbose: args.verbose,
            tenant: args.tenant,
            function_cache: args
                .function_cache
                .unwrap_or_else(|| base.join("cache").join("functions")),
            main_home: base,
            _telemetry: telemetry,
        })
    }

    /// A host with the configured limits (optionally replaced), compile cache under
    /// `<home>/cache` (shared by tenants: entries are keyed by component digest), and plugin
    /// logs on stderr.
    pub fn host(&self, limits: Option<Limits>) -> Result<Host, plinth_host::HostError> {
        self.host_builder(limits).build()
    }

    /// [`Self::host`] with the key-value store `<home>/data/kv.redb` open, for a call of a
    /// plugin granted `kv`. Only such calls open it: the database is locked by the one
    /// process that has it open, and read-only commands must not contend for it.
    pub fn host_with_data(&self, limits: Option<Limits>) -> Result<Host, plinth_host::HostError> {
        self.host_builder(limits)
            .data_dir(self.home.join("data"))
            .build()
    }

    /// [`Self::host_with_data`] for a path target (`plinth call ./dir … --grant kv`): its
    /// key-value store is its own, `<home>/data/paths/<key>/kv.redb` with `<key>` the first
    /// 16 hex digits of the sha256 of the target's absolute path. The key-value namespace is
    /// the plugin id (and tenant) inside a store, so a folder whose manifest claims an
    /// installed plugin's id must not share that plugin's store (docs/design/0034); the
    /// same path finds its own keys again on the next call.
    pub fn host_with_path_data(
        &self,
        limits: Option<Limits>,
        target: &Path,
    ) -> Result<Host, plinth_host::HostError> {
        self.host_builder(limits)
            .data_dir(path_data_dir(&self.home, target))
            .build()
    }

    /// [`Self::host`] with its key-value store in `dir` (a scratch folder).
    pub fn host_with_data_dir(
        &self,
        limits: Option<Limits>,
        dir: &Path,
    ) -> Result<Host, plinth_host::HostError> {
        self.host_builder(limits).data_dir(dir).build()
    }

    fn host_builder(&self, limits: Option<Limits>) -> plinth_host::HostBuilder {
        let min_level = match (self.printer.quiet, self.verbose) {
            (true, _) => LogLevel::Error,
            (false, 0) => LogLevel::Info,
            (false, _) => LogLevel::Trace,
        };
        let sink = Arc::new(move |record: &LogRecord| {
            if record.level < min_level {
                return;
            }
            let level = match record.source {
                LogSource::Stdout | LogSource::Stderr => "",
                _ => match record.level {
                    LogLevel::Trace => "trace: ",
                    LogLevel::Debug => "debug: ",
                    LogLevel::Info => "",
                    LogLevel::Warn => "warning: ",
                    LogLevel::Error => "error: ",
                },
            };
            // The record is the plugin's text: escaped, so it is one line that cannot drive
            // the terminal (docs/design/0035).
            stderr_line(format_args!(
                "[{}] {level}{}",
                terminal_safe(&record.plugin),
                terminal_safe(&record.message)
            ));
        });
        let mut builder = self
            .config
            .host_builder()
            .cache_dir(self.main_home.join("cache"))
            .function_cache_dir(&self.function_cache)
            .consent_file(self.home.join("consent.toml"))
            // `[dirs]` may not hand plugins write access to the home (docs/design/0032).
            .protected_dir(&self.main_home)
            .log_sink(sink);
        if let Some(limits) = limits {
            builder = builder.limits(limits);
        }
        builder
    }
}

/// Where a path target keeps its key-value data: `<home>/data/paths/<16 hex digits of the
/// sha256 of its absolute (canonical when it exists) path>`.
pub fn path_data_dir(home: &Path, target: &Path) -> PathBuf {
    let absolute = std::fs::canonicalize(target)
        .or_else(|_| std::path::absolute(target))
        .unwrap_or_else(|_| target.to_path_buf());
    let digest = plinth_manifest::Digest::of(absolute.as_os_str().as_encoded_bytes());
    let key: String = digest.to_hex().chars().take(16).collect();
    home.join("data").join("paths").join(key)
}

/// Host tracing on stderr as `-v`/`PLINTH_LOG` say, and Plinth's spans to the OpenTelemetry
/// collector when `telemetry` runs (its own filter: what the terminal shows does not
/// change what is exported).
fn init_tracing(verbose: u8, telemetry: Option<&crate::telemetry::Telemetry>) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = match verbose {
        0 | 1 => "error",
        2 => "plinth=debug,plinth_host=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PLINTH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let terminal = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);
    #[cfg(feature = "otel")]
    let exported = telemetry.map(|telemetry| telemetry.layer());
    #[cfg(not(feature = "otel"))]
    let exported = telemetry.map(|_| tracing_subscriber::layer::Identity::new());
    let _ = tracing_subscriber::registry()
        .with(terminal)
        .with(exported)
        .try_init();
}
