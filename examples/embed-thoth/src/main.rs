//! Thoth's plugin manager on Plinth (seed 000), end to end:
//!
//! 1. discover the plugin folders in `plugins/` (read-only: nothing runs) and enable what
//!    `thoth.toml`'s `[plugins]` table enables, with its grants and settings;
//! 2. list the themes (one is a plugin without a component) and apply the one `[app]
//!    theme` names;
//! 3. open `[app] open` (a file in `files/`) with the file loader whose manifest declares
//!    its extension, and export the table with the exporter of `[app] export`;
//! 4. render the URL data source's panel and click its Fetch button: the request needs a
//!    person's consent, so the app is **notified** (no polling) and shows its prompt; the
//!    answer "allow" resumes the request and the panel shows the data;
//! 5. read rows from the PostgreSQL data source (over `wasi:sockets`);
//! 6. call a plugin that loops forever: the host stops it, and the app keeps serving.
//!
//! Every call runs under Thoth's 5 000 000 000 fuel. Usage: `embed-thoth THOTH_DIR`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use plinth_host::kinds::{
    Column, DataSource, Exporter, FileLoader, Source, Table, Theme, UiEvent, UiEventKind, UiOutput,
};
use plinth_host::log::LogRecord;
use plinth_host::{
    ConsentMode, ConsentNotice, ConsentState, Host, Limits, NetworkSettings, Plugin, SocketSettings,
};
use plinth_manager::Manager;
use plinth_manager::discovery::{PluginDirs, discover};
use plinth_manager::state::StateFile;
use plinth_manifest::{FileQuery, Kind, ToDiagnostic};
use serde::Deserialize;
use serde_json::json;

/// Fuel per call, as Thoth allots it.
const FUEL_PER_CALL: u64 = 5_000_000_000;

/// How long the app waits for an event it expects (a consent notice, a response).
const PATIENCE: Duration = Duration::from_secs(30);

/// `[app]` of `thoth.toml`: what this run does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct App {
    /// A file in `files/` to open.
    open: PathBuf,
    /// The exporter format to save it in (e.g. `json`).
    export: String,
    /// The theme to apply.
    theme: String,
    /// The URL data source's plugin id.
    url_source: String,
    /// The PostgreSQL data source's plugin id, and the query it runs.
    pg_source: String,
    pg_query: String,
    /// A plugin whose `spin` export never returns, to show it is contained.
    runaway: Option<String>,
    /// Local development only: loopback ports the network guard lets through over http.
    #[serde(default)]
    dev_loopback_ports: Vec<u16>,
}

#[derive(Debug, Deserialize)]
struct Config {
    app: App,
}

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .context("usage: embed-thoth THOTH_DIR")?,
    );
    let config_path = dir.join("thoth.toml");
    let text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let app = toml::from_str::<Config>(&text)
        .with_context(|| format!("reading [app] of {}", config_path.display()))?
        .app;
    let section = StateFile::new(&config_path).load()?.section;

    let host = build_host(&dir, &app)?;
    println!("limits: {} fuel per call", host.limits().fuel_units);
    let inventory = discover(&PluginDirs::user_only(dir.join("plugins")));
    for (id, found) in &inventory.plugins {
        let kinds: Vec<&str> = found
            .manifest
            .provides
            .kinds()
            .iter()
            .map(|k| k.as_str())
            .collect();
        let component = if found.manifest.is_componentless() {
            " (no component)"
        } else {
            ""
        };
        println!("discovered {id} [{}]{component}", kinds.join(", "));
    }
    for diagnostic in &inventory.diagnostics {
        println!("discovery: {diagnostic}");
    }
    let manager = Manager::builder(host.clone())
        .base_dir(&dir)
        .inventory(inventory)
        .build();
    let mut statuses = manager.subscribe();
    manager.apply(&section);
    while let Ok(event) = statuses.try_recv() {
        println!("status {} {}", event.id, event.status.name());
    }

    apply_theme(&manager, &app.theme)?;
    let table = open_file(&manager, &dir, &app.open)?;
    export(&manager, &dir, &app, &table)?;
    url_source(&manager, &host, &app.url_source)?;
    pg_source(&manager, &app.pg_source, &app.pg_query)?;
    if let Some(id) = &app.runaway {
        runaway(&manager, id)?;
        // The app keeps running: the loader answers as before.
        let again = open_file(&manager, &dir, &app.open)?;
        println!("still serving: {} rows", again.rows.len());
    }
    Ok(())
}

/// The host Thoth runs plugins in: its fuel per call, its KV data, `files/` as the
/// directory `files` that `fs.read:files` grants, per-domain consent, and sockets.
fn build_host(dir: &Path, app: &App) -> anyhow::Result<Host> {
    let mut network = NetworkSettings::default().with_consent(ConsentMode::Ask);
    for port in &app.dev_loopback_ports {
        network = network.allow_loopback_port(*port).with_plain_http(true);
    }
    let host = Host::builder()
        .limits(Limits::default().with_fuel(FUEL_PER_CALL))
        .data_dir(dir.join("data"))
        .dir("files", dir.join("files"))
        .network(network)
        .sockets(SocketSettings::default())
        .log_sink(Arc::new(|r: &LogRecord| {
            println!("log [{}] {}", r.plugin, r.message)
        }))
        .build()?;
    Ok(host)
}

/// Lists every theme of every enabled plugin, then applies `name`.
fn apply_theme(manager: &Manager, name: &str) -> anyhow::Result<()> {
    let mut chosen = None;
    for provider in manager.providers(Kind::Theme) {
        let componentless = provider
            .plugin
            .manifest()
            .is_some_and(|m| m.is_componentless());
        for (theme, spec) in provider.plugin.kind::<Theme>()?.list() {
            let without = if componentless { ", no component" } else { "" };
            println!(
                "theme {theme} \"{}\" from {}{without}",
                spec.name, provider.id
            );
            if theme == name {
                chosen = Some(spec.clone());
            }
        }
    }
    let spec = chosen.with_context(|| format!("no enabled plugin provides the theme {name}"))?;
    println!(
        "applied theme {name}: background {} foreground {} accent {}",
        spec.colors["background"], spec.colors["foreground"], spec.colors["accent"]
    );
    Ok(())
}

fn columns(columns: &[Column]) -> String {
    let list: Vec<String> = columns
        .iter()
        .map(|c| format!("{}:{}", c.name, c.ty.as_str()))
        .collect();
    list.join(", ")
}

/// Opens `file` (in `files/`) with the best loader for its extension, chosen from the
/// manifests without running anything, and reads it a page at a time.
fn open_file(manager: &Manager, dir: &Path, file: &Path) -> anyhow::Result<Table> {
    let path = dir.join("files").join(file);
    let Some((provider, format)) = manager
        .loaders_for(FileQuery::Path(&path))
        .into_iter()
        .next()
    else {
        bail!("no enabled plugin loads {}", file.display());
    };
    let loader = provider.plugin.kind::<FileLoader>()?;
    // The file as the plugin sees it through `fs.read:files`.
    let source = Source::Path(format!("/files/{}", file.display()));
    let table = loader.open(&format.name, source)?.read_all(500)?;
    println!(
        "opened {} with {} ({}): {} rows [{}]",
        file.display(),
        provider.id,
        format.name,
        table.rows.len(),
        columns(&table.columns)
    );
    Ok(table)
}

/// Saves `table` with the exporter that declares `[app] export` into `out/`.
fn export(manager: &Manager, dir: &Path, app: &App, table: &Table) -> anyhow::Result<()> {
    let format = app.export.as_str();
    let found = manager.providers(Kind::Exporter).into_iter().find_map(|p| {
        let decl = p.plugin.manifest()?.provides.export_format(format)?.clone();
        Some((p, decl))
    });
    let Some((provider, decl)) = found else {
        bail!("no enabled plugin exports {format}");
    };
    let bytes = provider.plugin.kind::<Exporter>()?.export(format, table)?;
    let stem = app.open.file_stem().unwrap_or_default().to_string_lossy();
    let out = dir.join("out").join(format!("{stem}.{}", decl.extension));
    std::fs::create_dir_all(dir.join("out"))?;
    std::fs::write(&out, &bytes)?;
    println!(
        "exported {} rows as {} ({}) with {} to {} ({} bytes)",
        table.rows.len(),
        format,
        decl.media_type,
        provider.id,
        out.display(),
        bytes.len()
    );
    Ok(())
}

fn show(what: &str, panel: &UiOutput) {
    println!("{what}: {}", panel.node);
}

/// The text of the panel's status line (its last child).
fn status_of(panel: &UiOutput) -> String {
    panel.node["children"]
        .as_array()
        .and_then(|c| c.last())
        .and_then(|n| n["text"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Thoth's URL data source: its panel, a click on Fetch, the consent prompt when the
/// host announces it, the response handed to the panel, and the fetched table.
fn url_source(manager: &Manager, host: &Host, id: &str) -> anyhow::Result<()> {
    let plugin = manager
        .plugin(id)
        .with_context(|| format!("{id} is not enabled"))?;
    let source = plugin.kind::<DataSource>()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let mut notices = host.consent().subscribe();
    show("panel", &source.render_ui()?);
    if let Some(sidebar) = source.render_sidebar()? {
        show("sidebar", &sidebar);
    }
    let click = UiEvent {
        widget_id: "fetch".into(),
        kind: UiEventKind::Click,
        value: String::new(),
    };
    show("clicked fetch", &source.handle_event(&click)?);

    // The consent prompt: the host tells the app when a request waits for a person.
    let notice: ConsentNotice = runtime.block_on(async {
        tokio::time::timeout(PATIENCE, async {
            loop {
                match notices.recv().await {
                    Ok(n) if n.plugin == id && n.state == ConsentState::Pending => return Ok(n),
                    Ok(_) => {}
                    Err(e) => return Err(anyhow::anyhow!("consent notices: {e}")),
                }
            }
        })
        .await
        .context("no consent notice")?
    })?;
    println!(
        "consent pending: {} asks to reach {} (request {})",
        notice.plugin,
        notice.host,
        notice.request.map_or("-".into(), |r| r.to_string())
    );
    // The provisional event tells the panel to wait.
    if let Some(panel) = source.deliver_pending()? {
        show("panel", &panel);
    }
    println!("consent prompt answered: allow {}", notice.host);
    host.consent().decide(
        notice.tenant.as_deref(),
        &notice.plugin,
        &notice.host,
        ConsentState::Approved,
    )?;

    let panel = deliver_until_settled(&runtime, &plugin, &source)?;
    show("panel", &panel);
    let table = source.open(&json!({}))?.read_all(100)?;
    println!(
        "url table: {} rows [{}]",
        table.rows.len(),
        columns(&table.columns)
    );
    Ok(())
}

/// Hands the plugin's events to its panel as they arrive, until its status is no longer
/// a wait.
fn deliver_until_settled(
    runtime: &tokio::runtime::Runtime,
    plugin: &Plugin,
    source: &plinth_host::kinds::DataSources<'_>,
) -> anyhow::Result<UiOutput> {
    let inbox = plugin.inbox().clone();
    let deadline = Instant::now() + PATIENCE;
    loop {
        runtime.block_on(async {
            let left = deadline.saturating_duration_since(Instant::now());
            tokio::time::timeout(left, async {
                while inbox.is_empty() {
                    inbox.notified().await;
                }
            })
            .await
            .context("no response arrived")
        })?;
        if let Some(panel) = source.deliver_pending()? {
            let status = status_of(&panel);
            if !status.starts_with("Waiting") && !status.starts_with("Requested") {
                return Ok(panel);
            }
        }
    }
}

/// The PostgreSQL source: rows of `query`.
fn pg_source(manager: &Manager, id: &str, query: &str) -> anyhow::Result<()> {
    let plugin = manager
        .plugin(id)
        .with_context(|| format!("{id} is not enabled"))?;
    let source = plugin.kind::<DataSource>()?;
    let table = source.open(&json!({"sql": query}))?.read_all(100)?;
    let first = table.rows_as_json().into_iter().next().unwrap_or_default();
    println!(
        "postgres: {} rows [{}], first {first}",
        table.rows.len(),
        columns(&table.columns)
    );
    Ok(())
}

/// Calls a plugin that never returns: the host stops it at its fuel or wall clock.
fn runaway(manager: &Manager, id: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    match manager.call_json(id, "spin", &[]) {
        Ok(value) => bail!("{id} returned {value}"),
        Err(e) => {
            let diagnostic = e.to_diagnostic();
            println!(
                "stopped {id}: {} after {:.1} s",
                diagnostic.code,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}
