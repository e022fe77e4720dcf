//! BitVault's plugin layer on Plinth (seed 003: a multi-tenant storage server), end to end.
//!
//! `embed-bitvault BITVAULT_DIR` reads `BITVAULT_DIR/bitvault.toml`, loads the operator's
//! plugins from `BITVAULT_DIR/plugins/` (the storage provider, the event handlers and any
//! transform for every tenant) and each tenant's own installs from its home
//! `BITVAULT_DIR/home/tenants/TENANT/`, then takes commands on standard input, one a line,
//! and answers each with one JSON object on standard output:
//!
//! - `install TENANT ID`: downloads `ID` from the registry index `[app] index` and installs
//!   it for that tenant only, if it is signed by a key the tenant trusts. Nothing is
//!   granted or run yet: the answer, `review`, lists the grants the plugin requests;
//! - `approve TENANT ID GRANT…`: gives the reviewed grants (each must be requested),
//!   enables the plugin in the tenant's `plugins.toml` and loads it;
//! - `upload TENANT KEY MEDIA_TYPE FILE`: stores `FILE` under `KEY` through the storage
//!   provider, routes the `created` event to the event handlers (`ok`, `reject`: the
//!   object is deleted again, `retry`: delivered again after the wait it asks, up to
//!   `[app] max_attempts` deliveries), then runs every transform taking `MEDIA_TYPE`
//!   (the operator's and the tenant's) and stores each output under
//!   `derived/ENTRY/KEY`. A transform that fails (one that panics, or runs out of fuel or
//!   time) is reported with its diagnostic code; the others still run;
//! - `get TENANT KEY FILE`, `list TENANT PREFIX`, `delete TENANT KEY`: through the storage
//!   provider (a deletion is an event too);
//! - `stats TENANT`: the tenant's counters: BitVault's own (`uploads`, `rejected`,
//!   `transform-failures`) and those the plugins keep in their key-value stores;
//! - `quit`.
//!
//! Every call runs on behalf of one tenant ([`InvocationScope`]): a plugin's key-value
//! store is that tenant's, and the storage provider's granted directory `objects` is the
//! tenant's own folder of it. A tenant never reaches another's objects or counters.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use plinth_host::kinds::{
    ContentTransform, EventHandler, EventOutcome, ObjectEvent, StorageProvider, TransformRequest,
};
use plinth_host::{Host, InvocationScope, KvNamespace, Limits, LoadOptions, Plugin};
use plinth_manager::state::StateFile;
use plinth_manifest::{Code, Diagnostic, Grant, Kind, Manifest, ObjectAction, ToDiagnostic};
use plinth_package::{Home, InstallOptions, SignaturePolicy};
use plinth_registry::{
    IndexLocation, PreReleases, RegistryClient, Silent, SizeCaps, Transport, install_from_index,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncWrite};

/// The namespace of BitVault's own counters in each tenant's key-value store: not a plugin
/// id (`:` is not allowed in one), so no plugin shares it.
const COUNTERS: &str = ":bitvault";
/// The most a transform may write: 16 MiB (the output is held in memory, then stored).
const MAX_DERIVED_BYTES: u64 = 16 << 20;
/// The longest wait between two deliveries of an event, whatever a handler asks.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);
/// The wait before an event is delivered again to a handler whose call failed.
const FAILED_HANDLER_WAIT: Duration = Duration::from_millis(100);

/// `bitvault.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    app: App,
    /// `[plugins.ID]`: what the operator gives each of its plugins.
    #[serde(default)]
    plugins: BTreeMap<String, PluginConfig>,
}

/// `[app]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct App {
    /// The plugin registry's index: an `http(s)` URL or a file.
    index: String,
    /// The plugin id of the storage provider (one of `plugins/`).
    storage: String,
    /// Deliveries of one event before it is given up.
    #[serde(default = "default_attempts")]
    max_attempts: u32,
}

fn default_attempts() -> u32 {
    3
}

/// `[plugins.ID]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginConfig {
    #[serde(default)]
    grants: Vec<String>,
    /// What the guest sees after `argv[0]`.
    #[serde(default)]
    args: Vec<String>,
    /// Limits lower than the host's (fuel, memory, wall clock).
    #[serde(default)]
    limits: Option<Limits>,
}

fn say(line: Value) {
    println!("{line}");
}

/// A diagnostic for what is not one of Plinth's errors.
fn io(error: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(Code::IoError, error.to_string())
}

fn bad(message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::BadArgument, message)
}

fn diag(error: impl ToDiagnostic) -> Diagnostic {
    error.to_diagnostic()
}

fn failure(diagnostic: &Diagnostic) -> Value {
    json!({ "code": diagnostic.code.as_str(), "message": diagnostic.message })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn main() -> anyhow::Result<()> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .context("usage: embed-bitvault BITVAULT_DIR")?
        .into();
    let text = std::fs::read_to_string(dir.join("bitvault.toml"))
        .with_context(|| format!("read {}", dir.join("bitvault.toml").display()))?;
    let config: Config = toml::from_str(&text).context("bitvault.toml")?;
    let mut vault = Vault::open(&dir, config)?;
    say(json!({ "ready": {
        "storage": vault.storage.id(),
        "handlers": vault.handlers.iter().map(Plugin::id).collect::<Vec<_>>(),
        "transforms": vault.transforms.iter().map(Plugin::id).collect::<Vec<_>>(),
    }}));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = runtime.block_on(serve(&mut vault));
    // The host (inside the vault) owns a runtime of its own: dropped outside this one.
    drop(runtime);
    drop(vault);
    result
}

/// Answers the commands on standard input until `quit` or its end.
async fn serve(vault: &mut Vault) -> anyhow::Result<()> {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((&command, args)) = words.split_first() else {
            continue;
        };
        if command == "quit" {
            break;
        }
        match vault.run(command, args).await {
            Ok(answer) => say(answer),
            Err(diagnostic) => {
                let mut error = failure(&diagnostic);
                error["command"] = json!(command);
                say(json!({ "error": error }));
            }
        }
    }
    Ok(())
}

/// BitVault's plugin layer.
struct Vault {
    host: Host,
    app: App,
    /// The Plinth home; each tenant's is `tenants/TENANT` inside it.
    base: Home,
    /// The granted directory `objects`; each tenant's objects are in a folder of it.
    objects: PathBuf,
    storage: Plugin,
    handlers: Vec<Plugin>,
    /// The operator's transforms, for every tenant.
    transforms: Vec<Plugin>,
    /// Each tenant's own installs.
    tenants: BTreeMap<String, Vec<Plugin>>,
}

impl Vault {
    fn open(dir: &Path, config: Config) -> anyhow::Result<Vault> {
        let objects = dir.join("data/objects");
        std::fs::create_dir_all(&objects)?;
        let host = Host::builder()
            .data_dir(dir.join("data/kv"))
            .dir("objects", &objects)
            .build()
            .map_err(|e| anyhow::anyhow!("{}", e.to_diagnostic()))?;
        let mut storage = None;
        let (mut handlers, mut transforms) = (Vec::new(), Vec::new());
        for folder in plugin_folders(&dir.join("plugins"))? {
            let plugin = load_operator_plugin(&host, &folder, &config.plugins)?;
            if plugin.id() == config.app.storage {
                storage = Some(plugin);
            } else if plugin.provides(Kind::EventHandler) {
                handlers.push(plugin);
            } else if plugin.provides(Kind::ContentTransform) {
                transforms.push(plugin);
            }
        }
        let storage =
            storage.with_context(|| format!("no storage provider `{}`", config.app.storage))?;
        let mut vault = Vault {
            host,
            app: config.app,
            base: Home::new(dir.join("home")),
            objects,
            storage,
            handlers,
            transforms,
            tenants: BTreeMap::new(),
        };
        vault.load_tenants()?;
        Ok(vault)
    }

    /// Every tenant's enabled installs, with the grants its `plugins.toml` gives.
    fn load_tenants(&mut self) -> anyhow::Result<()> {
        let dir = self.base.root().join("tenants");
        if !dir.is_dir() {
            return Ok(());
        }
        for entry in std::fs::read_dir(&dir)? {
            let tenant = entry?.file_name().to_string_lossy().into_owned();
            let home = self
                .base
                .tenant(&tenant)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let state = StateFile::in_home(home.root())
                .load()
                .map_err(|e| anyhow::anyhow!("{}", e.to_diagnostic()))?;
            for entry in state.section.entries.iter().filter(|e| e.enabled) {
                let grants = parse_grants(&entry.grants).map_err(|e| anyhow::anyhow!("{e:?}"))?;
                self.load_tenant_plugin(&tenant, &home, &entry.id, grants)
                    .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            }
        }
        Ok(())
    }

    fn load_tenant_plugin(
        &mut self,
        tenant: &str,
        home: &Home,
        id: &str,
        grants: Vec<Grant>,
    ) -> Result<&Plugin, Diagnostic> {
        let id = plinth_manifest::PluginId::new(id).map_err(|e| bad(e.to_string()))?;
        let options = LoadOptions::default()
            .with_grants(grants)
            .with_tenant(tenant);
        let plugin = self
            .host
            .load_with(home.plugin_dir(&id), options)
            .map_err(diag)?;
        let plugins = self.tenants.entry(tenant.to_owned()).or_default();
        plugins.retain(|p| p.id() != plugin.id());
        plugins.push(plugin);
        Ok(plugins.last().expect("just pushed"))
    }

    async fn run(&mut self, command: &str, args: &[&str]) -> Result<Value, Diagnostic> {
        match (command, args) {
            ("install", [tenant, id]) => self.install(tenant, id).await,
            ("approve", [tenant, id, grants @ ..]) => self.approve(tenant, id, grants),
            ("upload", [tenant, key, media_type, file]) => {
                self.upload(tenant, key, media_type, Path::new(file)).await
            }
            ("get", [tenant, key, file]) => self.get(tenant, key, Path::new(file)).await,
            ("list", [tenant]) => self.list(tenant, "").await,
            ("list", [tenant, prefix]) => self.list(tenant, prefix).await,
            ("delete", [tenant, key]) => self.delete(tenant, key).await,
            ("stats", [tenant]) => self.stats(tenant),
            _ => Err(bad(format!(
                "unknown command or wrong arguments: {command} {}",
                args.join(" ")
            ))),
        }
    }

    /// The tenant's home; a name that is not one plain path component is `bad-argument`.
    fn home(&self, tenant: &str) -> Result<Home, Diagnostic> {
        self.base.tenant(tenant).map_err(diag)
    }

    async fn install(&self, tenant: &str, id: &str) -> Result<Value, Diagnostic> {
        let home = self.home(tenant)?;
        let client = RegistryClient::new(SizeCaps::default(), Transport::Auto).map_err(diag)?;
        let location = IndexLocation::parse(&self.app.index).map_err(diag)?;
        let index = client.load_index(&location).await.map_err(diag)?;
        let options = InstallOptions::new(SignaturePolicy::Require);
        let installed = install_from_index(
            &client,
            &home,
            &index,
            id,
            &semver::VersionReq::STAR,
            PreReleases::Exclude,
            &options,
            &Silent,
        )
        .await
        .map_err(diag)?;
        Ok(json!({ "review": {
            "tenant": tenant,
            "plugin": installed.id.to_string(),
            "version": installed.version.to_string(),
            "digest": installed.digest.to_string(),
            "signer": installed.verification.signer(),
            "grants": installed.requested.iter().map(Grant::to_string).collect::<Vec<_>>(),
        }}))
    }

    fn approve(&mut self, tenant: &str, id: &str, grants: &[&str]) -> Result<Value, Diagnostic> {
        let home = self.home(tenant)?;
        let plugin_id = plinth_manifest::PluginId::new(id).map_err(|e| bad(e.to_string()))?;
        plinth_package::check_installed(&home, &plugin_id).map_err(diag)?;
        let manifest = Manifest::load(&home.plugin_dir(&plugin_id))
            .map_err(diag)?
            .manifest;
        let requested = manifest.requested_grants();
        let texts: Vec<String> = grants.iter().map(|g| (*g).to_owned()).collect();
        let given = parse_grants(&texts)?;
        if let Some(extra) = given.iter().find(|g| !requested.contains(g)) {
            return Err(bad(format!("`{id}` does not request `{extra}`")));
        }
        StateFile::in_home(home.root())
            .update(|doc| {
                doc.set_enabled(id, true)?;
                doc.add_grants(id, &texts)
            })
            .map_err(diag)?;
        let plugin = self.load_tenant_plugin(tenant, &home, id, given)?;
        Ok(json!({ "approved": {
            "tenant": tenant,
            "plugin": plugin.id(),
            "grants": texts,
            "transform": plugin.provides(Kind::ContentTransform),
        }}))
    }

    /// The storage provider, on behalf of `tenant`: its key-value store and its folder of
    /// `objects`.
    fn storage(&self, tenant: &str) -> Result<Plugin, Diagnostic> {
        self.home(tenant)?;
        std::fs::create_dir_all(self.objects.join(tenant)).map_err(io)?;
        self.storage
            .scoped(&InvocationScope::tenant(tenant).with_path("objects", tenant))
            .map_err(diag)
    }

    /// Adds one to BitVault's counter `key` for `tenant`.
    fn count(&self, tenant: &str, key: &str) -> Result<i64, Diagnostic> {
        let store = self
            .host
            .kv_store()
            .ok_or_else(|| io("the host has no key-value store"))?;
        let namespace = KvNamespace {
            tenant: Some(tenant.to_owned()),
            plugin: COUNTERS.to_owned(),
        };
        store.increment(&namespace, key, 1).map_err(io)
    }

    async fn upload(
        &self,
        tenant: &str,
        key: &str,
        media_type: &str,
        file: &Path,
    ) -> Result<Value, Diagnostic> {
        let storage = self.storage(tenant)?;
        let (size, digest) = digest(file).map_err(io)?;
        let input = tokio::fs::File::open(file).await.map_err(io)?;
        let stored = storage
            .kind::<StorageProvider>()
            .map_err(diag)?
            .put_async(key, Some(size), input)
            .await
            .map_err(diag)?;
        self.count(tenant, "uploads")?;

        let mut event = self.event(tenant, ObjectAction::Created, key)?;
        event.size = stored.size;
        event.media_type = media_type.to_owned();
        event.digest = digest;
        let deliveries = self.deliver(tenant, &event).await?;
        if deliveries.iter().any(|d| d["outcome"] == "reject") {
            storage
                .kind::<StorageProvider>()
                .map_err(diag)?
                .delete_async(key)
                .await
                .map_err(diag)?;
            self.count(tenant, "rejected")?;
            return Ok(json!({ "upload": {
                "tenant": tenant, "key": key, "stored": false, "events": deliveries,
            }}));
        }

        let (mut derived, mut failed) = (Vec::new(), Vec::new());
        let own = self.tenants.get(tenant).map_or(&[][..], Vec::as_slice);
        for plugin in self.transforms.iter().chain(own) {
            let Some(entry) = plugin.manifest().and_then(|m| {
                m.provides
                    .content_transform
                    .iter()
                    .find(|e| e.accepts(media_type))
            }) else {
                continue;
            };
            match self
                .transform(&storage, plugin, tenant, key, media_type, file, size)
                .await
            {
                Ok(mut made) => {
                    made["entry"] = json!(entry.name);
                    derived.push(made);
                }
                Err(diagnostic) => {
                    self.count(tenant, "transform-failures")?;
                    let mut report = failure(&diagnostic);
                    report["plugin"] = json!(plugin.id());
                    failed.push(report);
                }
            }
        }
        Ok(json!({ "upload": {
            "tenant": tenant,
            "key": key,
            "stored": true,
            "size": stored.size,
            "events": deliveries,
            "derived": derived,
            "failed": failed,
        }}))
    }

    /// Runs one transform on `file` for `tenant` and stores its output.
    #[allow(clippy::too_many_arguments)]
    async fn transform(
        &self,
        storage: &Plugin,
        plugin: &Plugin,
        tenant: &str,
        key: &str,
        media_type: &str,
        file: &Path,
        size: u64,
    ) -> Result<Value, Diagnostic> {
        let scoped = plugin
            .scoped(&InvocationScope::tenant(tenant))
            .map_err(diag)?;
        let transforms = scoped
            .kind::<ContentTransform>()
            .map_err(diag)?
            .with_output_limit(MAX_DERIVED_BYTES);
        let entry = transforms
            .entries()
            .iter()
            .find(|e| e.accepts(media_type))
            .map_or_else(|| plugin.id().to_owned(), |e| e.name.clone());
        let input = tokio::fs::File::open(file).await.map_err(io)?;
        let output = Memory::default();
        let request = TransformRequest::new(media_type).with_size(size);
        let meta = transforms
            .transform_async(&request, input, output.clone())
            .await
            .map_err(diag)?;
        let bytes = output.take();
        let derived_key = format!("derived/{entry}/{key}");
        let stored = storage
            .kind::<StorageProvider>()
            .map_err(diag)?
            .put_async(
                &derived_key,
                Some(bytes.len() as u64),
                std::io::Cursor::new(bytes),
            )
            .await
            .map_err(diag)?;
        let entries: serde_json::Map<String, Value> = meta
            .entries
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Ok(json!({
            "plugin": plugin.id(),
            "key": derived_key,
            "media_type": meta.media_type,
            "size": stored.size,
            "entries": entries,
        }))
    }

    /// A new event about `key` of `tenant`, its id unique within the tenant.
    fn event(
        &self,
        tenant: &str,
        action: ObjectAction,
        key: &str,
    ) -> Result<ObjectEvent, Diagnostic> {
        let sequence = self.count(tenant, "events")?;
        let mut event = ObjectEvent::new(format!("{tenant}-{sequence}"), action, tenant, key);
        event.at_ms = now_ms();
        Ok(event)
    }

    /// Delivers `event` to every handler taking its action, each on behalf of the tenant,
    /// honouring `retry` up to `max_attempts` deliveries.
    async fn deliver(&self, tenant: &str, event: &ObjectEvent) -> Result<Vec<Value>, Diagnostic> {
        let mut reports = Vec::new();
        for handler in &self.handlers {
            let scoped = handler
                .scoped(&InvocationScope::tenant(tenant))
                .map_err(diag)?;
            let handlers = scoped.kind::<EventHandler>().map_err(diag)?;
            if !handlers.accepts(event.action) {
                continue;
            }
            let mut attempts = 0;
            let report = loop {
                attempts += 1;
                match handlers.handle_async(event).await {
                    Ok(EventOutcome::Ok) => break json!({ "outcome": "ok" }),
                    Ok(EventOutcome::Reject(reason)) => {
                        break json!({ "outcome": "reject", "reason": reason });
                    }
                    Ok(EventOutcome::Retry(after)) if attempts < self.app.max_attempts => {
                        tokio::time::sleep(after.min(MAX_RETRY_WAIT)).await;
                    }
                    Ok(EventOutcome::Retry(_)) => break json!({ "outcome": "gave-up" }),
                    // A handler that failed (trapped, ran out of fuel) gets the event again.
                    Err(_) if attempts < self.app.max_attempts => {
                        tokio::time::sleep(FAILED_HANDLER_WAIT).await;
                    }
                    Err(error) => {
                        let mut report = failure(&error.to_diagnostic());
                        report["outcome"] = json!("failed");
                        break report;
                    }
                }
            };
            let mut report = report;
            report["plugin"] = json!(handler.id());
            report["attempts"] = json!(attempts);
            reports.push(report);
        }
        Ok(reports)
    }

    async fn get(&self, tenant: &str, key: &str, file: &Path) -> Result<Value, Diagnostic> {
        let output = Memory::default();
        let meta = self
            .storage(tenant)?
            .kind::<StorageProvider>()
            .map_err(diag)?
            .get_async(key, output.clone())
            .await
            .map_err(diag)?;
        std::fs::write(file, output.take()).map_err(io)?;
        Ok(json!({ "get": { "tenant": tenant, "key": meta.key, "size": meta.size } }))
    }

    async fn list(&self, tenant: &str, prefix: &str) -> Result<Value, Diagnostic> {
        let keys = self
            .storage(tenant)?
            .kind::<StorageProvider>()
            .map_err(diag)?
            .list_all_async(prefix, 1_000)
            .await
            .map_err(diag)?;
        Ok(json!({ "list": { "tenant": tenant, "prefix": prefix, "keys": keys } }))
    }

    async fn delete(&self, tenant: &str, key: &str) -> Result<Value, Diagnostic> {
        self.storage(tenant)?
            .kind::<StorageProvider>()
            .map_err(diag)?
            .delete_async(key)
            .await
            .map_err(diag)?;
        let event = self.event(tenant, ObjectAction::Deleted, key)?;
        let deliveries = self.deliver(tenant, &event).await?;
        Ok(json!({ "deleted": { "tenant": tenant, "key": key, "events": deliveries } }))
    }

    /// The tenant's counters: BitVault's and each plugin's integer values.
    fn stats(&self, tenant: &str) -> Result<Value, Diagnostic> {
        self.home(tenant)?;
        let store = self
            .host
            .kv_store()
            .ok_or_else(|| io("the host has no key-value store"))?;
        let own = self.tenants.get(tenant).map_or(&[][..], Vec::as_slice);
        // BitVault's own counters are reported as `bitvault`.
        let mut owners = vec![COUNTERS.to_owned(), self.storage.id().to_owned()];
        owners.extend(
            self.handlers
                .iter()
                .chain(&self.transforms)
                .chain(own)
                .map(|p| p.id().to_owned()),
        );
        let mut counters = serde_json::Map::new();
        for owner in owners {
            let namespace = KvNamespace {
                tenant: Some(tenant.to_owned()),
                plugin: owner.clone(),
            };
            let mut values = serde_json::Map::new();
            for key in store.list_keys(&namespace, "", 1_000).map_err(io)? {
                let value = store.get(&namespace, &key).map_err(io)?.unwrap_or_default();
                let number = std::str::from_utf8(&value)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok());
                if let Some(number) = number {
                    values.insert(key, json!(number));
                }
            }
            if !values.is_empty() {
                let label = if owner == COUNTERS {
                    "bitvault".to_owned()
                } else {
                    owner
                };
                counters.insert(label, Value::Object(values));
            }
        }
        Ok(json!({ "stats": { "tenant": tenant, "counters": counters } }))
    }
}

/// Folders under `dir` holding a `plugin.toml`, sorted.
fn plugin_folders(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("read {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("plugin.toml").is_file())
        .collect();
    folders.sort();
    Ok(folders)
}

/// One of the operator's plugins, with its `[plugins.ID]` grants, arguments and limits.
fn load_operator_plugin(
    host: &Host,
    folder: &Path,
    configs: &BTreeMap<String, PluginConfig>,
) -> anyhow::Result<Plugin> {
    let id = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let config = configs.get(&id);
    let mut options = LoadOptions::default();
    if let Some(config) = config {
        let grants = parse_grants(&config.grants)
            .map_err(|e| anyhow::anyhow!("[plugins.{id}] grants: {}", e.message))?;
        options = options.with_grants(grants).with_args(config.args.clone());
        if let Some(limits) = config.limits {
            options = options.with_limits(limits);
        }
    }
    host.load_with(folder, options)
        .map_err(|e| anyhow::anyhow!("{}", e.to_diagnostic()))
}

fn parse_grants(texts: &[String]) -> Result<Vec<Grant>, Diagnostic> {
    texts
        .iter()
        .map(|g| g.parse::<Grant>().map_err(|e| bad(e.to_string())))
        .collect()
}

/// The size and `sha256:` digest of `file`, read a chunk at a time.
fn digest(file: &Path) -> std::io::Result<(u64, String)> {
    let mut reader = std::fs::File::open(file)?;
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            return Ok((size, format!("sha256:{}", hex::encode(hasher.finalize()))));
        }
        size += n as u64;
        hasher.update(&chunk[..n]);
    }
}

/// A writer into memory, shared with the caller that reads it afterwards.
#[derive(Debug, Clone, Default)]
struct Memory(Arc<Mutex<Vec<u8>>>);

impl Memory {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl AsyncWrite for Memory {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
