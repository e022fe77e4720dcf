//! A loaded [`Plugin`]: compiled, import-checked and pre-instantiated, ready to call.

use std::sync::Arc;

use plinth_manifest::Manifest;
use plinth_manifest::digest::Digest;
use plinth_manifest::grant::{Grant, GrantSet};
use wasmtime::component::{Component, InstancePre};

use crate::cache::CacheOutcome;
use crate::caps::gate::GrantGate;
use crate::error::HostError;
use crate::exports::{ExportedFunc, Exports};
use crate::limits::Limits;
use crate::linker::Flavour;
use crate::runtime::{HostInner, check_header};
use crate::state::{PluginContext, StoreState};

/// A compiled component and where it came from.
pub(crate) struct Compiled {
    pub(crate) component: Component,
    pub(crate) cache: CacheOutcome,
    /// The sha256 of the component's bytes.
    pub(crate) digest: Digest,
    /// Whether the bytes were hashed for it (not when the digest index knew the file).
    pub(crate) hashed: bool,
}

impl Compiled {
    /// Compiles `bytes` (of digest `digest`), or takes them from the compile cache.
    pub(crate) fn from_bytes(
        host: &HostInner,
        id: &str,
        bytes: &[u8],
        digest: Digest,
    ) -> Result<Compiled, HostError> {
        check_header(bytes, id)?;
        let (component, cache) = host.cache.get_or_compile(&host.engine, bytes, &digest)?;
        Ok(Compiled {
            component,
            cache,
            digest,
            hashed: true,
        })
    }
}

/// Plinth WIT versions this host serves.
pub const SERVED_API_VERSIONS: &[&str] = &["0.1.0"];

/// What a plugin gets besides its component: grants, settings, limits.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Grants the host gives. For a plugin with a manifest only the ones its manifest
    /// requests take effect; a bare component gets them as given.
    pub grants: Vec<Grant>,
    /// Settings, a JSON object (`null` means none).
    pub settings: serde_json::Value,
    /// Limits for this plugin; capped by the host's, then lowered by the manifest.
    pub limits: Option<Limits>,
    /// The embedder's tenant: the plugin's key-value data is kept apart per tenant.
    pub tenant: Option<String>,
    /// `argv[0]` the guest sees through `wasi:cli/environment`: by default the plugin id,
    /// or the file name of a `.wasm` loaded by path.
    pub program: Option<String>,
    /// Arguments after `argv[0]` (`std::env::args().skip(1)`); none by default.
    pub args: Vec<String>,
    /// Directory names for this plugin only, beside the host's `[dirs]`: what its
    /// `fs.read:`, `fs.write:` and `watch:` grants may name. A name the host already maps
    /// to another directory is refused (`fs-denied`).
    pub dirs: std::collections::BTreeMap<String, std::path::PathBuf>,
}

impl LoadOptions {
    /// Options granting `grants`.
    pub fn with_grants(mut self, grants: impl IntoIterator<Item = Grant>) -> Self {
        self.grants.extend(grants);
        self
    }

    /// Options with `settings`.
    pub fn with_settings(mut self, settings: serde_json::Value) -> Self {
        self.settings = settings;
        self
    }

    /// Options for `tenant` (see [`LoadOptions::tenant`]).
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// Options whose guests see `args` after `argv[0]` (`plinth call … -- ARG…`).
    pub fn with_args(mut self, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Options whose guests see `program` as `argv[0]`.
    pub fn with_program(mut self, program: impl Into<String>) -> Self {
        self.program = Some(program.into());
        self
    }

    /// Options mapping the directory name `name` to `path` for this plugin only (see
    /// [`LoadOptions::dirs`]).
    pub fn with_dir(
        mut self,
        name: impl Into<String>,
        path: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.dirs.insert(name.into(), path.into());
        self
    }

    /// Options with per-plugin `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }
}

pub(crate) enum Source {
    Manifest(Box<Manifest>),
    Bare { id: String },
}

/// A loaded plugin. Cheap to clone; each call runs in a fresh instance.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) inner: Arc<PluginInner>,
}

pub(crate) struct PluginInner {
    pub(crate) host: Arc<HostInner>,
    pub(crate) ctx: Arc<PluginContext>,
    pub(crate) manifest: Option<Manifest>,
    pub(crate) component: Component,
    pub(crate) pre: InstancePre<StoreState>,
    pub(crate) exports: Exports,
    /// The kinds the plugin provides, bound to its exports (docs/design/0037).
    pub(crate) kinds: crate::kinds::KindSet,
    pub(crate) digest: Digest,
    pub(crate) cache: CacheOutcome,
    /// Whether the load hashed the component's bytes.
    pub(crate) hashed: bool,
    /// The epoch deadline each call is armed with: the wall clock in epoch ticks.
    pub(crate) deadline_ticks: u64,
    /// Whether no import can wait, so blocking calls may run synchronously
    /// (docs/design/0075).
    pub(crate) sync: bool,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.id())
            .field("digest", &self.inner.digest)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Loads a plugin whose component `compile` gives (from bytes or the caches), once
    /// the manifest's API version is known to be served.
    pub(crate) fn load(
        host: &Arc<HostInner>,
        source: Source,
        compile: impl FnOnce(&str) -> Result<Compiled, HostError>,
        options: LoadOptions,
    ) -> Result<Plugin, HostError> {
        let (id, manifest) = match source {
            Source::Manifest(manifest) => (manifest.plugin.id.to_string(), Some(*manifest)),
            Source::Bare { id } => (id, None),
        };
        let _span = tracing::info_span!("plugin.load", plugin = %id).entered();
        if let Some(manifest) = &manifest {
            check_api(manifest, &id)?;
        }
        let Compiled {
            component,
            cache,
            digest,
            hashed,
        } = compile(&id)?;
        let imports = crate::linker::check_imports(&component, &host.engine, &host.interfaces);
        let unsupported = imports.unsupported();
        if !unsupported.is_empty() {
            return Err(HostError::UnsupportedHostApi {
                plugin: id,
                interfaces: unsupported,
            });
        }

        let granted = GrantSet::from_iter(options.grants);
        let (grants, requested) = match &manifest {
            Some(manifest) => {
                let requested = manifest.requested_grants();
                let grants = GrantSet::effective(&requested, &granted);
                (grants, GrantSet::from_iter(requested))
            }
            None => (granted.clone(), granted),
        };
        let mut limits = options
            .limits
            .map_or(host.limits, |l| l.capped_by(&host.limits));
        if let Some(manifest) = &manifest {
            limits = limits.lowered_by(&manifest.limits);
        }
        let settings = Arc::new(crate::settings::SettingsCell::load(
            manifest.as_ref(),
            &id,
            options.settings,
        )?);
        let argv = std::iter::once(options.program.unwrap_or_else(|| id.clone()))
            .chain(options.args)
            .collect();
        let gate = Arc::new(GrantGate::new(id.clone(), options.tenant, grants));
        let inbox = crate::inbox::Inbox::default();
        let caps = crate::caps::PluginCaps::for_plugin(
            &host.caps,
            &gate,
            requested,
            &inbox,
            options.dirs,
        )?;
        let exports = Exports::of(&component, &host.engine);
        // The sync path (docs/design/0075): imports no call can wait in, and no resource
        // handed over through an export (a host-made stream may be pending).
        let flavour = if imports.set.cannot_block(!caps.fs.is_empty())
            && !exports.iter().any(ExportedFunc::passes_resources)
        {
            Flavour::Sync
        } else {
            Flavour::Async
        };
        let pre = host
            .linker(imports.set, flavour)?
            .instantiate_pre(&component)
            .map_err(|e| HostError::ImportMismatch {
                plugin: id.clone(),
                reason: format!("{e:#}"),
            })?;
        if let Some(manifest) = &manifest {
            crate::world::check(manifest, &pre, &exports, &id)?;
        }
        let kinds =
            crate::kinds::KindSet::bind(manifest.as_ref(), &exports, &pre, &id, &host.schemas)?;
        let ctx = Arc::new(PluginContext {
            gate,
            caps,
            settings,
            limits,
            log_sink: host.log_sink.clone(),
            inbox,
            usage: Default::default(),
            argv,
        });
        tracing::debug!(plugin = %ctx.id(), ?cache, %digest, "plugin loaded");
        Ok(Plugin {
            inner: Arc::new(PluginInner {
                host: host.clone(),
                deadline_ticks: crate::engine::ticks_for(limits.wall_timeout()),
                sync: flavour == Flavour::Sync,
                ctx,
                manifest,
                component,
                pre,
                exports,
                kinds,
                digest,
                cache,
                hashed,
            }),
        })
    }

    /// The plugin's event inbox: background capabilities queue events here for
    /// [`PluginInstance::deliver_pending`](crate::PluginInstance::deliver_pending).
    pub fn inbox(&self) -> &crate::inbox::Inbox {
        &self.inner.ctx.inbox
    }

    /// Live `plinth:host/watch` subscriptions.
    pub fn watch_subscriptions(&self) -> usize {
        self.inner.ctx.caps.watch.watches.len()
    }

    /// The settings in force (an object; `{}` when none were given).
    pub fn settings(&self) -> serde_json::Value {
        self.inner.ctx.settings.current().value.clone()
    }

    /// Checks `settings` against the manifest's JSON Schema without applying them:
    /// [`HostError::RejectedSettings`] (`rejected-schema`) names each failing path and rule.
    pub fn validate_settings(&self, settings: &serde_json::Value) -> Result<(), HostError> {
        self.inner.ctx.settings.validate(self.id(), settings)
    }

    /// Replaces the settings of every instance of this plugin, live ones included: the
    /// next `config.get` anywhere sees them. Settings that break the schema are refused
    /// and the old ones stay. Delivering `on-setting-change` is the caller's part.
    pub fn update_settings(&self, settings: serde_json::Value) -> Result<(), HostError> {
        self.inner.ctx.settings.replace(self.id(), settings)?;
        tracing::info!(plugin = %self.id(), "settings changed");
        Ok(())
    }

    /// The host's tokio runtime, where the plugin's background work runs: for an
    /// embedder without a runtime of its own to run async calls or a service on.
    pub fn runtime(&self) -> tokio::runtime::Handle {
        self.inner.host.runtime.handle().clone()
    }

    /// The plugin id.
    pub fn id(&self) -> &str {
        self.inner.ctx.id()
    }

    /// The manifest, for a plugin loaded from one.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.inner.manifest.as_ref()
    }

    /// The exported functions.
    pub fn exports(&self) -> &Exports {
        &self.inner.exports
    }

    /// The sha256 of the component bytes.
    pub fn digest(&self) -> &Digest {
        &self.inner.digest
    }

    /// Where the compiled code came from: compiled now, the disk cache, or memory.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.inner.cache
    }

    /// Whether this load read and hashed the component's bytes: false when the digest
    /// index knew the file unchanged since it was last hashed and the compiled code was
    /// cached, so the file was not read at all (docs/design/0071).
    pub fn hashed(&self) -> bool {
        self.inner.hashed
    }

    /// Whether blocking calls of this plugin run synchronously on the caller's thread:
    /// none of its imports can wait (its standard streams, clocks, random numbers, log and
    /// configuration, and `wasi:filesystem` without a preopened directory), and no export
    /// passes a resource. Its deadline then holds through the epoch interruption alone.
    /// A caller's thread with too little stack left for the wasm stack limit still gets the
    /// async path (docs/design/0075).
    pub fn sync_calls(&self) -> bool {
        self.inner.sync
    }

    /// The limits each call runs under.
    pub fn limits(&self) -> &Limits {
        &self.inner.ctx.limits
    }

    /// The effective grants (host grants the manifest requested).
    pub fn grants(&self) -> &GrantSet {
        self.inner.ctx.gate.grants()
    }

    /// The compiled component, for embedders that need its type.
    pub fn component(&self) -> &Component {
        &self.inner.component
    }

    /// What this plugin's calls have consumed so far (calls, fuel, peak memory).
    pub fn usage(&self) -> crate::Usage {
        self.inner.ctx.usage.snapshot()
    }

    /// Names of the component's imports.
    pub fn imports(&self) -> Vec<String> {
        self.inner
            .component
            .component_type()
            .imports(&self.inner.host.engine)
            .map(|(name, _)| name.to_string())
            .collect()
    }
}

/// `runtime.api` must be a version this host serves.
pub(crate) fn check_api(manifest: &Manifest, id: &str) -> Result<(), HostError> {
    let Some(api) = manifest.api() else {
        return Ok(());
    };
    let served = SERVED_API_VERSIONS
        .iter()
        .filter_map(|v| semver::Version::parse(v).ok())
        .any(|v| v.major == api.major && v.minor == api.minor && v.major == 0);
    if served {
        Ok(())
    } else {
        Err(HostError::RuntimeMismatch {
            plugin: id.into(),
            api: api.to_string(),
            served: SERVED_API_VERSIONS.join(", "),
        })
    }
}
