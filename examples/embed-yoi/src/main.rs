//! Yoi's agent runtime on Plinth (seed 001), end to end:
//!
//! 1. load the plugins in `plugins/` with the grants and settings of `yoi.toml`;
//! 2. register every tool in the agent's tool registry and print the model-visible
//!    schemas;
//! 3. run the chat bridge as a **service**: the host keeps a WebSocket client connection
//!    to the gateway (`[app] gateway`), turns its frames into ingress events, and carries
//!    out the bridge's output commands (replies on the connection, a webhook through the
//!    `http` grant, an audit event, and the `run_tool` action) only where granted;
//! 4. the `run_tool` action runs the hooks on `before-tool-call` first, then the tool, and
//!    answers the bridge with a `tool-result` event;
//! 5. report the service's status changes, dead letters and refused commands as they
//!    happen (a bridge that traps is restarted with backoff);
//! 6. on `flood` (a line on standard input), push `[app] flood` events as fast as it can
//!    and report how every one of them ended; on `quit`, stop and print the counters.
//!
//! Output is one JSON object per line. Usage: `embed-yoi YOI_DIR`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use anyhow::{Context as _, bail};
use plinth_host::kinds::{ChainDecision, HookChain, IngressEvent, Tool};
use plinth_host::{Host, LoadOptions, NetworkSettings, Plugin};
use plinth_manifest::{Grant, Kind, ToDiagnostic};
use plinth_service::{
    ActionCall, Backoff, Commands, Delivery, Pushed, Service, ServiceConfig, ServiceError,
    ServiceEvent, WebSocketDriver,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

/// `yoi.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    app: App,
    #[serde(default)]
    plugins: BTreeMap<String, PluginConfig>,
}

/// `[app]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct App {
    /// The chat gateway's WebSocket URL.
    gateway: String,
    /// The bridge service's plugin id.
    bridge: String,
    /// Events pushed on `flood`.
    flood: u64,
    /// Local development only: loopback ports the network guard lets through over http.
    #[serde(default)]
    allow_loopback_ports: Vec<u16>,
}

/// `[plugins.ID]`: what the operator granted, and the settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginConfig {
    #[serde(default)]
    grants: Vec<String>,
    #[serde(default)]
    settings: Option<Value>,
}

fn say(line: Value) {
    println!("{line}");
}

fn main() -> anyhow::Result<()> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .context("usage: embed-yoi YOI_DIR")?
        .into();
    let text = std::fs::read_to_string(dir.join("yoi.toml"))
        .with_context(|| format!("read {}", dir.join("yoi.toml").display()))?;
    let config: Config = toml::from_str(&text).context("yoi.toml")?;
    let network = config
        .app
        .allow_loopback_ports
        .iter()
        .fold(NetworkSettings::default(), |settings, port| {
            settings.with_plain_http(true).allow_loopback_port(*port)
        });
    let host = Host::builder().network(network).build()?;
    let plugins = load_plugins(&host, &dir.join("plugins"), &config.plugins)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = runtime.block_on(run(&config.app, plugins));
    drop(runtime);
    drop(host);
    result
}

/// Every plugin folder under `dir`, loaded with its `[plugins.ID]` grants and settings.
fn load_plugins(
    host: &Host,
    dir: &Path,
    configs: &BTreeMap<String, PluginConfig>,
) -> anyhow::Result<Vec<Plugin>> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("read {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("plugin.toml").is_file())
        .collect();
    folders.sort();
    let mut plugins = Vec::new();
    for folder in folders {
        let id = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let config = configs.get(&id);
        let grants: Vec<Grant> = config
            .map(|c| c.grants.iter().map(|g| g.parse::<Grant>()).collect())
            .transpose()
            .with_context(|| format!("[plugins.{id}] grants"))?
            .unwrap_or_default();
        let mut options = LoadOptions::default().with_grants(grants);
        if let Some(settings) = config.and_then(|c| c.settings.clone()) {
            options = options.with_settings(settings);
        }
        let plugin = host
            .load_with(&folder, options)
            .map_err(|e| anyhow::anyhow!("{}", e.to_diagnostic()))?;
        plugins.push(plugin);
    }
    Ok(plugins)
}

/// The agent's tool registry: each tool by name, with the plugin providing it.
struct Registry {
    tools: BTreeMap<String, Plugin>,
    hooks: HookChain,
}

impl Registry {
    fn new(plugins: &[Plugin]) -> anyhow::Result<Self> {
        let mut tools = BTreeMap::new();
        let mut visible = Vec::new();
        for plugin in plugins.iter().filter(|p| p.provides(Kind::Tool)) {
            let handle = plugin.kind::<Tool>()?;
            for spec in handle.list() {
                visible.push(spec.model_visible());
                if tools.insert(spec.name.clone(), plugin.clone()).is_some() {
                    bail!("tool `{}` is provided twice", spec.name);
                }
            }
        }
        say(json!({ "tools": visible }));
        Ok(Self {
            tools,
            hooks: HookChain::new(plugins.iter().cloned()),
        })
    }

    /// Runs the hooks on `before-tool-call`, then the tool: its output, or why not.
    async fn call(&self, tool: &str, input: Value) -> Result<Value, String> {
        let outcome = self.hooks.run_async("before-tool-call", tool, input).await;
        let input = match outcome.decision {
            ChainDecision::Proceed { payload } => payload,
            ChainDecision::Denied { by, reason } => return Err(format!("{reason} ({by})")),
        };
        let plugin = self
            .tools
            .get(tool)
            .ok_or_else(|| format!("no tool `{tool}`"))?;
        let tools = plugin.kind::<Tool>().map_err(|e| e.to_string())?;
        tools
            .call_async(tool, &input)
            .await
            .map_err(|e| e.to_string())
    }
}

async fn run(app: &App, plugins: Vec<Plugin>) -> anyhow::Result<()> {
    let registry = Arc::new(Registry::new(&plugins)?);
    let bridge = plugins
        .iter()
        .find(|p| p.id() == app.bridge)
        .with_context(|| format!("no plugin `{}` in plugins/", app.bridge))?
        .clone();

    // The `run_tool` action: runs in the background and answers the bridge with an event.
    let service_cell: Arc<OnceLock<Weak<Service>>> = Arc::default();
    let driver = WebSocketDriver::new();
    let commands = Commands::default()
        .frames(Arc::new(driver.clone()))
        .action("run_tool", {
            let registry = registry.clone();
            let cell = service_cell.clone();
            move |call: ActionCall| {
                let registry = registry.clone();
                let cell = cell.clone();
                tokio::spawn(async move {
                    let tool = call.payload["tool"].as_str().unwrap_or_default().to_owned();
                    let mut meta = json!({
                        "connection": call.payload["connection"],
                        "tool": tool,
                    });
                    match registry.call(&tool, call.payload["input"].clone()).await {
                        Ok(output) => meta["output"] = output,
                        Err(reason) => meta["denied"] = json!(reason),
                    }
                    if let Some(service) = cell.get().and_then(Weak::upgrade) {
                        let event = IngressEvent {
                            meta: meta.to_string(),
                            ..IngressEvent::new("app", "tool-result", Vec::new())
                        };
                        let _ = service.push(event);
                    }
                });
                Ok(())
            }
        });
    let config = ServiceConfig::for_plugin(&bridge)?.with_restart(Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_secs(2),
    });
    // Subscribed before it starts: the first `ready` is reported too.
    let (service, mut events) = Service::spawn_with_events(bridge, config, commands)?;
    let service = Arc::new(service);
    let _ = service_cell.set(Arc::downgrade(&service));

    // What the service reports, as it happens.
    let reporter = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            match event {
                ServiceEvent::Status { status, .. } => {
                    say(json!({ "status": status.as_str() }));
                }
                ServiceEvent::DeadLettered {
                    sequence, reason, ..
                } => say(
                    json!({ "dead_letter": { "sequence": sequence, "reason": format!("{reason:?}") } }),
                ),
                ServiceEvent::CommandFailed {
                    command,
                    diagnostic,
                    ..
                } => say(
                    json!({ "command_failed": { "command": command, "code": diagnostic.code.as_str(), "message": diagnostic.message } }),
                ),
                ServiceEvent::Shed { .. } => {}
            }
        }
    });

    let gateway = driver.connect(
        "discord",
        &app.gateway,
        service.clone(),
        Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_secs(1),
        },
    );

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        match line.trim() {
            "flood" => flood(&service, app.flood).await?,
            "quit" => break,
            "" => {}
            other => say(json!({ "error": format!("unknown command {other:?}") })),
        }
    }
    gateway.abort();
    let stats = service.stop().await;
    reporter.abort();
    say(json!({ "stats": {
        "pushed": stats.pushed,
        "accepted": stats.accepted,
        "rejected": stats.rejected,
        "shed": stats.shed,
        "delivered": stats.delivered,
        "dead_lettered": stats.dead_lettered,
        "restarts": stats.restarts,
        "commands": stats.commands,
        "commands_failed": stats.commands_failed,
    }}));
    Ok(())
}

/// Pushes `n` `noise` events as fast as possible, waits until the queue drains, and
/// reports how each ended, with the bridge's own count of what it handled.
async fn flood(service: &Service, n: u64) -> anyhow::Result<()> {
    let before = service.stats();
    let (mut queued, mut rejected, mut shed) = (0u64, 0u64, 0u64);
    for _ in 0..n {
        match service.push(IngressEvent::new("app", "noise", Vec::new())) {
            Ok(Pushed::Queued { .. }) => queued += 1,
            Ok(Pushed::Shed) => shed += 1,
            Err(ServiceError::QueueFull { .. }) => rejected += 1,
            Err(other) => bail!("{other}"),
        }
    }
    if !service.idle(Duration::from_secs(60)).await {
        bail!("the flood did not drain within 60 s");
    }
    let after = service.stats();
    let (_, receiver) = service.request(IngressEvent::new("app", "noise-count", Vec::new()))?;
    let handled = match receiver.await? {
        Delivery::Handled { reply: Some(reply) } => String::from_utf8(reply.body)?,
        other => bail!("noise-count: {other:?}"),
    };
    say(json!({ "flood": {
        "sent": n,
        "queued": queued,
        "rejected": rejected,
        "shed": shed,
        "delivered": after.delivered - before.delivered,
        "dead_lettered": after.dead_lettered - before.dead_lettered,
        "handled_by_plugin": handled.parse::<u64>()?,
    }}));
    Ok(())
}
