//! [`Host`]: the shared engine, linker, compile cache, default limits and the runtime
//! behind the blocking API.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use plinth_manifest::digest::Digest;
use plinth_manifest::{Manifest, ManifestError};

use crate::cache::CompileCache;
use crate::engine::{EngineSettings, SharedEngine, shared_engine};
use crate::error::HostError;
use crate::function_cache::FunctionCacheStats;
use crate::inspect::{Checked, Inspection};
use crate::limits::Limits;
use crate::log::{LogSink, tracing_sink};
use crate::plugin::{Compiled, LoadOptions, Plugin, Source};
use crate::runtime::HostInner;

/// Builds a [`Host`].
#[derive(Clone)]
pub struct HostBuilder {
    limits: Limits,
    engine: EngineSettings,
    cache_dir: Option<PathBuf>,
    function_cache_dir: Option<PathBuf>,
    event_schemas: Vec<(String, serde_json::Value)>,
    log_sink: LogSink,
    caps: crate::caps::HostCapsConfig,
    interfaces: crate::caps::custom::HostInterfaces,
    observer: Option<Arc<dyn crate::telemetry::CallObserver>>,
}

impl std::fmt::Debug for HostBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostBuilder")
            .field("limits", &self.limits)
            .field("engine", &self.engine)
            .field("cache_dir", &self.cache_dir)
            .field("function_cache_dir", &self.function_cache_dir)
            .field("interfaces", &self.interfaces)
            .finish_non_exhaustive()
    }
}

impl Default for HostBuilder {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            engine: EngineSettings::default(),
            cache_dir: None,
            function_cache_dir: None,
            event_schemas: Vec::new(),
            log_sink: tracing_sink(),
            caps: Default::default(),
            interfaces: Default::default(),
            observer: None,
        }
    }
}

impl HostBuilder {
    /// The limits every plugin runs under (a manifest may lower them).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.engine.max_stack_bytes = limits.max_stack_bytes;
        self.engine.pooled_memory_bytes = self.engine.pooled_memory_bytes.max(limits.mem_bytes);
        self.limits = limits;
        self
    }

    /// Engine-wide settings (pooling). The stack limit comes from [`Self::limits`].
    pub fn engine_settings(mut self, settings: EngineSettings) -> Self {
        let stack = self.engine.max_stack_bytes;
        self.engine = EngineSettings {
            max_stack_bytes: stack,
            pooled_memory_bytes: settings.pooled_memory_bytes.max(self.limits.mem_bytes),
            ..settings
        };
        self
    }

    /// Keeps compiled components in `dir` (created 0700), so later processes skip
    /// compilation. Safe to delete at any time.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        self.caps.protected.push(dir.clone());
        self.cache_dir = Some(dir);
        self
    }

    /// Keeps each compiled function in `dir` (created 0700), keyed by Cranelift's input,
    /// so that compiling a component that shares functions with one compiled before (a
    /// rebuilt Python or JavaScript plugin carries the same interpreter) generates code only
    /// for what is new (docs/design/0063). Several hosts and processes may share `dir`;
    /// safe to delete at any time. The cache belongs to the process-wide Engine: hosts with
    /// different directories use different Engines.
    pub fn function_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        self.caps.protected.push(dir.clone());
        self.function_cache_dir = Some(dir);
        self
    }

    /// Where plugin log records go. Defaults to `tracing` (target `plinth::plugin`).
    pub fn log_sink(mut self, sink: LogSink) -> Self {
        self.log_sink = sink;
        self
    }

    /// Maps the directory name `name` (used by `fs.read:`, `fs.write:`, `watch:` grants)
    /// to `path`, as host config `[dirs]` does.
    pub fn dir(mut self, name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.caps.dirs.insert(name.into(), path.into());
        self
    }

    /// Declares `dir` as Plinth's own (the home: `plinth` passes it): an `fs.write:`
    /// grant on a `[dirs]` entry that contains it or lies inside it fails at load with
    /// `fs-denied`. The data directory, the cache directory and the consent file's
    /// directory are protected without this call.
    pub fn protected_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.caps.protected.push(dir.into());
        self
    }

    /// Where host-wide data lives (`<home>/data`): the key-value database `kv.redb`.
    /// Without it (and without a `[kv]` server backend), `kv` calls fail with `io`.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.caps.data_dir = Some(dir.into());
        self
    }

    /// Key and value caps and the per-plugin quota of the key-value store.
    pub fn kv_limits(mut self, limits: crate::KvLimits) -> Self {
        self.caps.kv_limits = limits;
        self
    }

    /// Checks every payload published on a channel matching `pattern` (a channel name,
    /// `prefix.*`, or `*`) against the JSON Schema `schema` before it is forwarded
    /// (docs/design/0066): a payload that is not JSON or breaks the schema reaches no
    /// subscriber, and the publishing call fails with `rejected-schema`. A schema that does
    /// not compile fails [`HostBuilder::build`].
    pub fn event_schema(mut self, pattern: impl Into<String>, schema: serde_json::Value) -> Self {
        self.event_schemas.push((pattern.into(), schema));
        self
    }

    /// Checks every published event with `validator` before it is forwarded, after the
    /// schemas: `Err(reason)` refuses it as a schema does.
    pub fn event_validator(
        mut self,
        validator: impl Fn(&crate::PublishedEvent) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.caps.event_checks.validators.push(Arc::new(validator));
        self
    }

    /// Where the key-value store lives (`[kv]`): redb under the data directory (the
    /// default), or a PostgreSQL or Redis server shared by several hosts.
    pub fn kv_settings(mut self, settings: crate::KvSettings) -> Self {
        self.caps.kv_settings = settings;
        self
    }

    /// Where events travel (`[events]`): the host's own bus (the default), or a NATS
    /// server shared by several hosts.
    pub fn event_settings(mut self, settings: crate::EventSettings) -> Self {
        self.caps.event_settings = settings;
        self
    }

    /// Payload cap and per-plugin rate of `events.publish`.
    pub fn event_limits(mut self, limits: crate::EventLimits) -> Self {
        self.caps.event_limits = limits;
        self
    }

    /// Registers an app-defined interface: plugins that import it reach its functions only
    /// with its capability granted (see [`HostInterface`](crate::HostInterface)). Its
    /// name counts as provided in the import check. A name that clashes with Plinth's own
    /// interfaces or capabilities, or is registered twice, fails [`Self::build`].
    pub fn host_interface(mut self, interface: crate::HostInterface) -> Self {
        self.interfaces.push(interface);
        self
    }

    /// `[network]`: rate, concurrency, body and time limits of outgoing HTTP, plain-http
    /// and consent switches, and (for tests) loopback ports the SSRF guard lets through.
    pub fn network(mut self, settings: crate::NetworkSettings) -> Self {
        self.caps.network = settings;
        self
    }

    /// `[sockets]`: how many TCP sockets a plugin may hold open and how many bytes a call
    /// may move over them (`wasi:sockets` behind `sockets:HOST:PORT` grants).
    pub fn sockets(mut self, settings: crate::SocketSettings) -> Self {
        self.caps.sockets = settings;
        self
    }

    /// Resolves host names for outgoing HTTP (default: the system resolver). Every
    /// address it returns still passes the SSRF guard.
    pub fn resolver(mut self, resolver: Arc<dyn crate::Resolve>) -> Self {
        self.caps.resolver = resolver;
        self
    }

    /// Keeps per-domain consent decisions in `path` (`<home>/consent.toml`); without it
    /// they last as long as the host.
    pub fn consent_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.caps.consent_file = Some(path.into());
        self
    }

    /// Tells `observer` about every finished call of this host's plugins (telemetry,
    /// docs/design/0069). Without one, the process-wide observer of
    /// [`crate::telemetry::set_global_observer`] is used, if any.
    pub fn call_observer(mut self, observer: Arc<dyn crate::telemetry::CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Builds the host. The Engine is shared with every other host of this process that
    /// uses the same engine settings.
    pub fn build(mut self) -> Result<Host, HostError> {
        self.interfaces.check()?;
        for (pattern, schema) in std::mem::take(&mut self.event_schemas) {
            let validator =
                jsonschema::validator_for(&schema).map_err(|e| HostError::EventSchema {
                    pattern: pattern.clone(),
                    reason: e.to_string(),
                })?;
            self.caps
                .event_checks
                .schemas
                .push((pattern, Arc::new(validator)));
        }
        let SharedEngine {
            engine,
            functions,
            cache_key,
        } = shared_engine(&self.engine, self.function_cache_dir)?;
        // Linkers are built per import set at load; the embedder's interfaces are defined
        // once here so that a mistake in them is the build's error, not a load's.
        crate::linker::check_custom(&engine, &self.interfaces)?;
        let runtime = crate::runtime::HostRuntime::default();
        let caps = self.caps.build(&runtime)?;
        Ok(Host {
            inner: Arc::new(HostInner {
                caps,
                digests: crate::digest_index::DigestIndex::new(self.cache_dir.as_deref()),
                schemas: crate::schemas::CompiledSchemas::new(self.cache_dir.as_deref()),
                cache: CompileCache::new(cache_key, self.cache_dir),
                functions,
                engine,
                linkers: Default::default(),
                interfaces: self.interfaces,
                limits: self.limits,
                log_sink: self.log_sink,
                observer: self.observer.or_else(crate::telemetry::global_observer),
                runtime,
                sync_stack: usize::try_from(self.engine.max_stack_bytes)
                    .unwrap_or(usize::MAX)
                    .saturating_add(SYNC_HOST_STACK),
            }),
        })
    }
}

/// Stack kept free under a synchronous call's wasm stack, for the host functions and
/// Wasmtime's frames below the guest's (docs/design/0075).
const SYNC_HOST_STACK: usize = 256 * 1024;

/// A plugin host: load plugins, then call them.
///
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Host {
    pub(crate) inner: Arc<HostInner>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl Host {
    /// A builder with default limits, no disk cache and logs into `tracing`.
    pub fn builder() -> HostBuilder {
        HostBuilder::default()
    }

    /// The host path the directory name `name` maps to (`[dirs]`, [`HostBuilder::dir`]).
    pub fn dir(&self, name: &str) -> Option<&Path> {
        self.inner.caps.dirs.get(name).map(PathBuf::as_path)
    }

    /// What the per-function compile cache ([`HostBuilder::function_cache_dir`]) served
    /// and stored since its Engine was made; `None` without one. Hosts sharing the Engine
    /// share the counts.
    pub fn function_cache_stats(&self) -> Option<FunctionCacheStats> {
        self.inner.functions.as_ref().map(|f| f.stats())
    }

    /// A host with default settings.
    pub fn new() -> Result<Host, HostError> {
        Self::builder().build()
    }

    /// The host's limits.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Subscribes to events plugins publish, of every tenant: each event names the tenant
    /// its plugin was loaded for ([`crate::PublishedEvent::tenant`]). `channels` are
    /// channel names or `prefix*` patterns; empty means every channel.
    pub fn subscribe_events(&self, channels: Vec<String>) -> crate::EventSubscription {
        self.inner
            .caps
            .events
            .subscribe(channels, crate::caps::events::TenantScope::All)
    }

    /// Subscribes to the events of plugins loaded for `tenant` only (`None`: plugins
    /// loaded without a tenant). Hand a tenant's code this subscription, never
    /// [`Host::subscribe_events`], so it cannot see other tenants' events.
    pub fn subscribe_tenant_events(
        &self,
        tenant: Option<&str>,
        channels: Vec<String>,
    ) -> crate::EventSubscription {
        let scope = crate::caps::events::TenantScope::Only(tenant.map(str::to_owned));
        self.inner.caps.events.subscribe(channels, scope)
    }

    /// Per-domain consent decisions: what plugins asked for, and a person's approvals and
    /// denials (`plinth consent`).
    pub fn consent(&self) -> &crate::ConsentStore {
        &self.inner.caps.net.consent
    }

    /// Whether events reach this host: always on the local bus; over NATS once the
    /// host's subscription is in place (a readiness check for a load balancer).
    pub fn events_connected(&self) -> bool {
        self.inner.caps.events.connected()
    }

    /// Events this host's plugins published that it could not hand to NATS (its queue of
    /// 4 096 was full while the server was away); 0 on the local bus.
    pub fn events_dropped(&self) -> u64 {
        self.inner.caps.events.dropped()
    }

    /// Events this host's plugins published over NATS that did not come back to this host
    /// through the server (NATS echoes a client's own messages): lost on the way there or
    /// back, or dropped before they left. Counted once a later event or heartbeat of this
    /// host's comes back; 0 on the local bus. Every other host counts the ones it did not
    /// get in [`crate::EventSubscription::missed`].
    pub fn events_unconfirmed(&self) -> u64 {
        self.inner.caps.events.unconfirmed()
    }

    /// NATS connections this host gave up and made anew because its client called them
    /// connected while nothing the host published came back for
    /// [`crate::NATS_CONFIRM`]; 0 on the local bus.
    pub fn events_connections_replaced(&self) -> u64 {
        self.inner.caps.events.connections_replaced()
    }

    /// The redb key-value database, when it is the backend and the host has a data
    /// directory.
    pub fn kv_store(&self) -> Option<&crate::KvStore> {
        self.inner.caps.redb.as_deref()
    }

    /// The key-value store plugins use, whichever the backend.
    pub fn kv(&self) -> Option<&crate::Kv> {
        self.inner.caps.kv.as_ref()
    }

    /// Loads a plugin with no grants and no settings from a plugin directory, a
    /// `plugin.toml`, or a bare `.wasm` component.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Plugin, HostError> {
        self.load_with(path, LoadOptions::default())
    }

    /// Loads a plugin from a path with grants, settings and limits.
    pub fn load_with(
        &self,
        path: impl AsRef<Path>,
        options: LoadOptions,
    ) -> Result<Plugin, HostError> {
        let path = path.as_ref();
        let is_wasm = path.extension().is_some_and(|e| e == "wasm") && path.is_file();
        if is_wasm {
            let id = id_from_file_name(path);
            let mut options = options;
            if options.program.is_none() {
                options.program = path.file_name().map(|n| n.to_string_lossy().into_owned());
            }
            return Plugin::load(
                &self.inner,
                Source::Bare { id },
                |id| self.compile_file(id, path, |_| Ok(())),
                options,
            );
        }
        let parsed = Manifest::load(path)?;
        for warning in &parsed.warnings {
            tracing::warn!(target: "plinth::manifest", "{warning}");
        }
        let manifest = parsed.manifest;
        let Some(component) = manifest.component_path() else {
            return self.load_componentless(manifest, options);
        };
        let pin = manifest.runtime.as_ref().and_then(|r| r.digest);
        Plugin::load(
            &self.inner,
            Source::Manifest(Box::new(manifest)),
            |id| self.compile_file(id, &component, |digest| check_pin(pin, digest)),
            options,
        )
    }

    /// The compiled component of the file at `path`. The digest (what `pin` checks, the
    /// compile cache's key and `Plugin::digest`) is hashed once from the bytes read, or
    /// taken from the digest index when the file is unchanged since it was last hashed
    /// (docs/design/0071): a cached plugin then loads without its file being read.
    fn compile_file(
        &self,
        id: &str,
        path: &Path,
        pin: impl Fn(&Digest) -> Result<(), HostError>,
    ) -> Result<Compiled, HostError> {
        let inner = &self.inner;
        let before = crate::digest_index::Identity::of(path);
        if let Some(identity) = before
            && let Some(digest) = inner.digests.lookup(path, identity)
            && let Some((component, cache)) = inner.cache.get(&inner.engine, &digest)
        {
            pin(&digest)?;
            return Ok(Compiled {
                component,
                cache,
                digest,
                hashed: false,
            });
        }
        let bytes = read(path)?;
        let digest = Digest::of(&bytes);
        pin(&digest)?;
        let compiled = Compiled::from_bytes(inner, id, &bytes, digest)?;
        if let (Some(before), Some(after)) = (before, crate::digest_index::Identity::of(path)) {
            inner.digests.record(path, before, after, digest);
        }
        Ok(compiled)
    }

    /// A plugin without a component (themes alone, docs/design/0044): its files are read
    /// and checked as a theme's, and it stands on an empty component, which imports and
    /// exports nothing, so nothing of it can run. Its digest is its files'
    /// ([`componentless_digest`]), so a changed theme is a changed plugin.
    fn load_componentless(
        &self,
        manifest: Manifest,
        options: LoadOptions,
    ) -> Result<Plugin, HostError> {
        let digest = componentless_digest(&manifest)?;
        Plugin::load(
            &self.inner,
            Source::Manifest(Box::new(manifest)),
            |id| Compiled::from_bytes(&self.inner, id, &EMPTY_COMPONENT, digest),
            options,
        )
    }

    /// Loads a component from bytes under the id `id`, with no manifest.
    pub fn load_bytes(
        &self,
        id: &str,
        bytes: &[u8],
        options: LoadOptions,
    ) -> Result<Plugin, HostError> {
        let digest = Digest::of(bytes);
        Plugin::load(
            &self.inner,
            Source::Bare { id: id.to_string() },
            |id| Compiled::from_bytes(&self.inner, id, bytes, digest),
            options,
        )
    }

    /// Loads a plugin from a manifest and its component's bytes, both already read (and
    /// verified) by the caller: the component file is not read again, so what was checked
    /// is what runs (`plinth_package::verify_dir`). The manifest's `runtime.digest` pin is
    /// checked; its `dir` is where the settings schema it names is read from. A manifest
    /// without a component ignores `bytes` and reads its themes from `dir`.
    pub fn load_manifest_bytes(
        &self,
        manifest: Manifest,
        bytes: &[u8],
        options: LoadOptions,
    ) -> Result<Plugin, HostError> {
        if manifest.is_componentless() {
            return self.load_componentless(manifest, options);
        }
        let digest = Digest::of(bytes);
        manifest.check_digest(&digest)?;
        Plugin::load(
            &self.inner,
            Source::Manifest(Box::new(manifest)),
            |id| Compiled::from_bytes(&self.inner, id, bytes, digest),
            options,
        )
    }

    /// Reads a component's imports and exports from its type, without compiling, linking
    /// or running it (what `plinth show` prints): the header is checked and every function
    /// body validated.
    pub fn inspect(&self, bytes: &[u8]) -> Result<Inspection, HostError> {
        crate::inspect::inspect(bytes, "component", &self.inner.interfaces).map(|(i, _)| i)
    }

    /// Checks, without compiling or running anything, that the plugin at `path` (a plugin
    /// directory, a `plugin.toml` or a bare `.wasm` component) would load: what
    /// [`Host::load`] checks, from the component's type (docs/design/0054). Compiling
    /// remains the load's.
    pub fn check(&self, path: impl AsRef<Path>) -> Result<Checked, HostError> {
        let path = path.as_ref();
        if path.extension().is_some_and(|e| e == "wasm") && path.is_file() {
            let bytes = read(path)?;
            let id = id_from_file_name(path);
            return crate::inspect::check(id, None, &bytes, &self.inner.interfaces);
        }
        let manifest = Manifest::load(path)?.manifest;
        let bytes = match manifest.component_path() {
            Some(component) => read(&component)?,
            None => EMPTY_COMPONENT.to_vec(),
        };
        self.check_manifest_bytes(&manifest, &bytes)
    }

    /// [`Host::check`] of a manifest and its component's bytes, both already read.
    pub fn check_manifest_bytes(
        &self,
        manifest: &Manifest,
        bytes: &[u8],
    ) -> Result<Checked, HostError> {
        let id = manifest.plugin.id.to_string();
        crate::inspect::check(id, Some(manifest), bytes, &self.inner.interfaces)
    }
}

/// Checks a component's digest against the manifest's `runtime.digest` pin, if any.
fn check_pin(pin: Option<Digest>, actual: &Digest) -> Result<(), HostError> {
    match pin {
        Some(expected) if expected != *actual => Err(ManifestError::DigestMismatch {
            expected,
            actual: *actual,
        }
        .into()),
        _ => Ok(()),
    }
}

/// What a plugin without a component stands on: the header of an empty component (magic,
/// version 0x0d, layer 1), with no imports, exports or code.
pub(crate) const EMPTY_COMPONENT: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// The digest of a plugin without a component ([`Manifest::files_digest`] over the files
/// its manifest names, read from its folder).
pub fn componentless_digest(manifest: &Manifest) -> Result<Digest, HostError> {
    manifest.files_digest(|path| read(&manifest.dir.join(path)))
}

/// Reads a component: only a regular file of at most 256 MiB, opened without blocking
/// (docs/design/0032).
fn read(path: &Path) -> Result<Vec<u8>, HostError> {
    use plinth_manifest::plugin_file::{self, COMPONENT_MAX_BYTES, PluginFileError};
    plugin_file::read(path, COMPONENT_MAX_BYTES).map_err(|error| match error {
        PluginFileError::Missing { path } => HostError::Io {
            path,
            source: std::io::ErrorKind::NotFound.into(),
        },
        PluginFileError::Io { path, source } => HostError::Io { path, source },
        refused => HostError::PluginFile(refused),
    })
}

/// A plugin id for a bare component: its file stem, lowercased, other characters → `-`.
fn id_from_file_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let id: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if id.is_empty() {
        "component".into()
    } else {
        id
    }
}
