//! Thoth's two sources end to end (docs/design/0042, 0043): `url-source` fetches a CSV
//! through per-domain consent (the request held, the application notified with its id, a
//! provisional `consent_pending` event, the response after approval) and serves it as a
//! table; `pg-source` reads a real PostgreSQL over `wasi:sockets`.

use std::path::Path;
use std::time::Duration;

use plinth_host::kinds::{Cell, DataSource, KindError, UiEvent, UiEventKind};
use plinth_host::{ConsentMode, ConsentState, Host, LoadOptions, Plugin, SocketSettings};
use plinth_manifest::grant::Grant;
use serde_json::json;

use crate::common::net;
use crate::common::postgres::{PASSWORD, Postgres, USER};
use crate::common::server::{CITIES_CSV, Server};

/// A plugin folder for the guest `wasm` (file name `file`) as a data source `name`.
fn source_dir(id: &str, wasm: &str, file: &str, capabilities: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(wasm, dir.path().join(file)).unwrap();
    std::fs::write(
        dir.path().join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"{file}\"\n\n[capabilities]\n{capabilities}\n\n[[provides.data-source]]\nname = \"source\"\ntitle = \"Source\"\n"
        ),
    )
    .unwrap();
    dir
}

fn load(host: &Host, dir: &Path, grants: &[&str], settings: serde_json::Value) -> Plugin {
    let grants = grants.iter().map(|g| g.parse::<Grant>().unwrap());
    host.load_with(
        dir,
        LoadOptions::default()
            .with_grants(grants)
            .with_settings(settings),
    )
    .unwrap()
}

fn click(widget: &str) -> UiEvent {
    UiEvent {
        widget_id: widget.into(),
        kind: UiEventKind::Click,
        value: String::new(),
    }
}

/// The panel's status line (its last child's text).
fn status(node: &serde_json::Value) -> String {
    node["children"][3]["text"].as_str().unwrap().to_owned()
}

/// Waits (at most 30 s) until `plugin`'s inbox holds `n` events.
fn wait_for_events(plugin: &Plugin, n: usize) {
    let inbox = plugin.inbox().clone();
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(30), async {
                while inbox.len() < n {
                    inbox.notified().await;
                }
            })
            .await
            .expect("an event arrives")
        });
}

/// A local server, a host asking consent for hosts nobody granted, and the `url-source`
/// plugin pointed at the server's CSV: granted config and kv, its URL's host requested
/// but left to a person's consent.
struct UrlSource {
    server: Server,
    grant: String,
    host: Host,
    plugin: Plugin,
    _home: tempfile::TempDir,
    _dir: tempfile::TempDir,
}

fn url_source() -> UrlSource {
    let server = Server::start();
    let grant = format!("127.0.0.1:{}", server.port);
    let home = tempfile::tempdir().unwrap();
    let host = net::builder(net::local(&[server.port]).with_consent(ConsentMode::Ask))
        .data_dir(home.path().join("data"))
        .build()
        .unwrap();
    let dir = source_dir(
        "thoth.url",
        test_programs::URL_SOURCE,
        "url_source.wasm",
        &format!("config = true\nkv = true\nhttp = {{ allow = [\"{grant}\"] }}"),
    );
    let plugin = load(
        &host,
        dir.path(),
        &["config", "kv"],
        json!({"url": server.url("/cities.csv")}),
    );
    UrlSource {
        server,
        grant,
        host,
        plugin,
        _home: home,
        _dir: dir,
    }
}

#[test]
fn a_url_source_fetches_through_consent_and_serves_a_table() {
    let UrlSource {
        server,
        grant,
        host,
        plugin,
        _home,
        _dir,
    } = url_source();
    let source = plugin.kind::<DataSource>().unwrap();
    let mut notices = host.consent().subscribe();
    assert_eq!(status(&source.render_ui().unwrap().node), "Ready.");

    let clicked = source.handle_event(&click("fetch")).unwrap();
    assert_eq!(status(&clicked.node), "Requested #1.");
    // The application is told at once, with the request's id: it shows its prompt.
    let notice = notices.try_recv().unwrap();
    assert_eq!(
        (notice.plugin.as_str(), notice.host.as_str(), notice.request),
        ("thoth.url", grant.as_str(), Some(1))
    );
    assert_eq!(notice.state, ConsentState::Pending);
    let waiting = source.deliver_pending().unwrap().unwrap();
    assert_eq!(status(&waiting.node), "Waiting for consent.");
    assert_eq!(server.hits(), 0);

    host.consent().approve("thoth.url", &grant).unwrap();
    wait_for_events(&plugin, 1);
    let fetched = source.deliver_pending().unwrap().unwrap();
    assert_eq!(status(&fetched.node), "Fetched 3 rows.");
    assert_eq!(server.hits(), 1);

    let table = source.open(&json!({})).unwrap().read_all(2).unwrap();
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["city", "population"]);
    let expected: Vec<Vec<Cell>> = CITIES_CSV
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| Cell::String(v.into())).collect())
        .collect();
    assert_eq!(table.rows, expected);

    // With no events waiting there is nothing to hand over.
    assert_eq!(source.deliver_pending().unwrap(), None);
}

#[test]
fn a_denied_url_source_tells_its_panel_and_sends_nothing() {
    let UrlSource {
        server,
        grant,
        host,
        plugin,
        _home,
        _dir,
    } = url_source();
    let source = plugin.kind::<DataSource>().unwrap();
    source.handle_event(&click("fetch")).unwrap();
    host.consent().deny("thoth.url", &grant).unwrap();
    // The provisional event, then the denial: both handed over in order.
    wait_for_events(&plugin, 2);
    let panel = source.deliver_pending().unwrap().unwrap();
    assert!(
        status(&panel.node).starts_with("Failed: a person denied thoth.url"),
        "{}",
        panel.node
    );
    assert_eq!(server.hits(), 0);
    let err = source.open(&json!({})).unwrap_err();
    let KindError::PluginFailed { code, .. } = &err else {
        panic!("expected plugin-failed, got {err:?}");
    };
    assert_eq!(code, "no-data");
}

fn pg_source(pg: &Postgres, host: &Host, grants: &[&str]) -> (Plugin, tempfile::TempDir) {
    let address = format!("127.0.0.1:{}", pg.port);
    let dir = source_dir(
        "thoth.postgres",
        test_programs::PG_SOURCE,
        "pg_source.wasm",
        &format!("config = true\nkv = true\nsockets = [\"{address}\"]"),
    );
    let settings = json!({"host": "127.0.0.1", "port": pg.port, "user": USER,
                          "password": PASSWORD, "database": "postgres"});
    (load(host, dir.path(), grants, settings), dir)
}

#[test]
fn a_postgres_source_reads_rows_over_granted_sockets_only() {
    let pg = Postgres::start();
    pg.psql(
        "create table if not exists stations (id int primary key, name text, depth real); \
         insert into stations values (1, 'Troll', 303.5), (2, 'Heidrun', null), (3, 'Snorre', 350) \
         on conflict do nothing",
    );
    let home = tempfile::tempdir().unwrap();
    let host = Host::builder()
        .data_dir(home.path().join("data"))
        .sockets(SocketSettings::default())
        .build()
        .unwrap();
    let sockets = format!("sockets:127.0.0.1:{}", pg.port);
    let (plugin, _dir) = pg_source(&pg, &host, &["config", "kv", &sockets]);
    let source = plugin.kind::<DataSource>().unwrap();
    let query = json!({"sql": "select id, name, depth from stations order by id"});
    let reader = source.open(&query).unwrap();
    assert_eq!(reader.info().row_count, Some(3));
    let table = reader.read_all(2).unwrap();
    assert_eq!(
        table.rows[1],
        [
            Cell::String("2".into()),
            Cell::String("Heidrun".into()),
            Cell::Null
        ]
    );
    // The panel: a query typed, then run.
    let change = UiEvent {
        widget_id: "sql".into(),
        kind: UiEventKind::Change,
        value: "select name from stations where depth > 300".into(),
    };
    assert_eq!(
        status(&source.handle_event(&change).unwrap().node),
        "Query kept."
    );
    assert_eq!(
        status(&source.handle_event(&click("run")).unwrap().node),
        "2 rows."
    );

    // Without the sockets grant the plugin is refused, coded, and the server sees nothing.
    let before = pg.tcp_connections();
    let (denied, _dir) = pg_source(&pg, &host, &["config", "kv"]);
    let err = denied
        .kind::<DataSource>()
        .unwrap()
        .open(&query)
        .unwrap_err();
    let KindError::PluginFailed { code, reason, .. } = &err else {
        panic!("expected plugin-failed, got {err:?}");
    };
    assert_eq!(code, "query-failed");
    assert!(reason.contains("connect"), "{reason}");
    assert_eq!(pg.tcp_connections(), before);
}
