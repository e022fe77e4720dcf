//! `wasi:sockets` behind `sockets:HOST:PORT` grants, end to end: the `pg-query` guest (a
//! `tool` speaking PostgreSQL's wire protocol over std's `TcpStream`) against a real
//! PostgreSQL on 127.0.0.1 (`common::postgres`).

use std::path::Path;
use std::sync::Arc;

use plinth_host::kinds::{KindError, Tool};
use plinth_host::log::{LogRecord, LogSink};
use plinth_host::{Host, LoadOptions, Plugin, SocketSettings};
use plinth_manifest::Code;
use plinth_manifest::grant::Grant;
use serde_json::{Value, json};

use crate::common;
use crate::common::postgres::{PASSWORD, Postgres, USER};

/// A plugin folder for `pg-query` with id `id`, requesting `sockets` (host:port each).
fn plugin_dir(id: &str, sockets: &[String]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(test_programs::PG_QUERY, dir.path().join("pg_query.wasm")).unwrap();
    std::fs::write(dir.path().join("any.json"), r#"{"type":"object"}"#).unwrap();
    let requested: Vec<String> = sockets.iter().map(|s| format!("{s:?}")).collect();
    let tools: String = ["query", "connect_many", "udp", "listen"]
        .iter()
        .map(|name| {
            format!(
                "[[provides.tool]]\nname = \"{name}\"\ndescription = \"{name}\"\ninput_schema = \"any.json\"\n\n"
            )
        })
        .collect();
    std::fs::write(
        dir.path().join("plugin.toml"),
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"pg_query.wasm\"\n\n[capabilities]\nsockets = [{}]\n\n{tools}",
            requested.join(", ")
        ),
    )
    .unwrap();
    dir
}

/// A host logging into `common::records`, with `settings`.
fn host(settings: SocketSettings) -> Host {
    let sink: LogSink = Arc::new(|record: &LogRecord| {
        common::records().lock().unwrap().push(record.clone());
    });
    Host::builder()
        .log_sink(sink)
        .sockets(settings)
        .build()
        .unwrap()
}

fn load(host: &Host, dir: &Path, grants: &[String]) -> Plugin {
    let grants = grants.iter().map(|g| g.parse::<Grant>().unwrap());
    host.load_with(dir, LoadOptions::default().with_grants(grants))
        .unwrap()
}

/// The plugin's host log lines with diagnostic `code`.
fn coded(id: &str, code: Code) -> Vec<String> {
    let prefix = format!("{}: ", code.as_str());
    common::records_of(id)
        .into_iter()
        .map(|r| r.message)
        .filter(|m| m.starts_with(&prefix))
        .collect()
}

fn query_input(port: u16, sql: &str) -> Value {
    json!({"host": "127.0.0.1", "port": port, "user": USER, "password": PASSWORD, "database": "postgres", "sql": sql})
}

fn with_table(pg: &Postgres) {
    pg.psql(
        "create table if not exists waves (id int primary key, name text, rate real); \
         insert into waves values (1, 'sine', 44.1), (2, 'square', null) on conflict do nothing",
    );
}

fn tool_failure(err: &KindError) -> &str {
    match err {
        KindError::Failed { reason, .. } => reason,
        other => panic!("expected the tool to fail, got {other:?}"),
    }
}

#[test]
fn a_granted_plugin_queries_postgres_and_gets_rows() {
    let pg = Postgres::start();
    with_table(&pg);
    let address = format!("127.0.0.1:{}", pg.port);
    let dir = plugin_dir("test.pg.granted", std::slice::from_ref(&address));
    let host = host(SocketSettings::default());
    let plugin = load(&host, dir.path(), &[format!("sockets:{address}")]);
    let tools = plugin.kind::<Tool>().unwrap();
    let got = tools
        .call(
            "query",
            &query_input(pg.port, "select id, name, rate from waves order by id"),
        )
        .unwrap();
    assert_eq!(
        got,
        json!({
            "columns": ["id", "name", "rate"],
            "rows": [["1", "sine", "44.1"], ["2", "square", null]],
            "command": "SELECT 2",
        })
    );
    // A server-side error comes back as the tool's failure, and the session still ends.
    let err = tools
        .call("query", &query_input(pg.port, "select * from nowhere"))
        .unwrap_err();
    assert!(
        tool_failure(&err).contains("\"nowhere\" does not exist"),
        "{err}"
    );
    assert!(coded("test.pg.granted", Code::SocketDenied).is_empty());
    assert_eq!(pg.tcp_connections(), 2, "one connection per query");
}

#[test]
fn without_the_grant_the_connect_is_socket_denied_and_the_server_sees_nothing() {
    let pg = Postgres::start();
    let address = format!("127.0.0.1:{}", pg.port);
    let dir = plugin_dir("test.pg.ungranted", std::slice::from_ref(&address));
    let host = host(SocketSettings::default());
    // Requested by the manifest, not granted by the operator.
    let plugin = load(&host, dir.path(), &[]);
    let tools = plugin.kind::<Tool>().unwrap();
    let err = tools
        .call("query", &query_input(pg.port, "select 1"))
        .unwrap_err();
    assert_eq!(err.code(), Code::ToolFailed);
    assert!(
        tool_failure(&err).contains(&format!("connect {address}")),
        "{err}"
    );
    let denied = coded("test.pg.ungranted", Code::SocketDenied);
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert!(
        denied[0].contains(&format!(
            "`plinth grant test.pg.ungranted sockets:{address}`"
        )),
        "{denied:?}"
    );
    assert_eq!(pg.tcp_connections(), 0, "no connection reached the server");
}

#[test]
fn a_grant_for_another_port_is_denied() {
    let pg = Postgres::start();
    let other = if pg.port == u16::MAX { 1 } else { pg.port + 1 };
    let requested = [
        format!("127.0.0.1:{}", pg.port),
        format!("127.0.0.1:{other}"),
    ];
    let dir = plugin_dir("test.pg.other-port", &requested);
    let host = host(SocketSettings::default());
    let plugin = load(&host, dir.path(), &[format!("sockets:127.0.0.1:{other}")]);
    let err = plugin
        .kind::<Tool>()
        .unwrap()
        .call("query", &query_input(pg.port, "select 1"))
        .unwrap_err();
    assert_eq!(err.code(), Code::ToolFailed);
    let denied = coded("test.pg.other-port", Code::SocketDenied);
    assert!(
        denied
            .iter()
            .any(|m| m.contains(&format!("needs `sockets:127.0.0.1:{}`", pg.port))),
        "{denied:?}"
    );
    assert_eq!(pg.tcp_connections(), 0);
}

/// Link-local (the cloud metadata address) is refused even when a grant names it; a name
/// the host resolves to loopback is refused because only a grant naming the address opens
/// loopback; a name no grant covers is not even looked up.
#[test]
fn metadata_link_local_and_names_resolving_to_loopback_are_refused() {
    let pg = Postgres::start();
    let requested = [
        "169.254.169.254:80".to_string(),
        format!("localhost:{}", pg.port),
    ];
    let dir = plugin_dir("test.pg.guard", &requested);
    let host = host(SocketSettings::default());
    let grants = [
        "sockets:169.254.169.254:80".to_string(),
        format!("sockets:localhost:{}", pg.port),
    ];
    let plugin = load(&host, dir.path(), &grants);
    let tools = plugin.kind::<Tool>().unwrap();
    let metadata = json!({"host": "169.254.169.254", "port": 80, "count": 1});
    let got = tools.call("connect_many", &metadata).unwrap();
    assert_eq!(got["opened"], 0, "{got}");
    let by_name = json!({"host": "localhost", "port": pg.port, "count": 1});
    let got = tools.call("connect_many", &by_name).unwrap();
    assert_eq!(got["opened"], 0, "{got}");
    let unnamed = json!({"host": "db.example.invalid", "port": pg.port, "count": 1});
    let got = tools.call("connect_many", &unnamed).unwrap();
    assert_eq!(got["opened"], 0, "{got}");

    let denied = coded("test.pg.guard", Code::SocketDenied);
    let said = |needle: &str| denied.iter().any(|m| m.contains(needle));
    assert!(
        said("169.254.169.254, a link-local address (incl. cloud metadata): no grant opens it"),
        "{denied:?}"
    );
    assert!(
        said(&format!(
            "localhost resolves to 127.0.0.1, a loopback address: refused unless a grant names the address itself (`sockets:127.0.0.1:{}`)",
            pg.port
        )),
        "{denied:?}"
    );
    assert!(
        said("looking up `db.example.invalid` needs a `sockets:db.example.invalid:PORT` grant"),
        "{denied:?}"
    );
    assert_eq!(pg.tcp_connections(), 0);
}

#[test]
fn the_open_socket_limit_holds_per_plugin_and_is_given_back() {
    let pg = Postgres::start();
    let address = format!("127.0.0.1:{}", pg.port);
    let dir = plugin_dir("test.pg.open-limit", std::slice::from_ref(&address));
    let host = host(SocketSettings::default().with_max_open(2));
    let plugin = load(&host, dir.path(), &[format!("sockets:{address}")]);
    let tools = plugin.kind::<Tool>().unwrap();
    let three = json!({"host": "127.0.0.1", "port": pg.port, "count": 3});
    for _ in 0..2 {
        // The sockets of one call are given back when it ends: the second call gets two
        // again.
        let got = tools.call("connect_many", &three).unwrap();
        assert_eq!(got["opened"], 2, "{got}");
        assert!(got["error"].is_string(), "{got}");
    }
    let denied = coded("test.pg.open-limit", Code::SocketDenied);
    assert!(
        denied
            .iter()
            .any(|m| m
                .contains("already holds 2 open sockets, the host's limit ([sockets] max_open)")),
        "{denied:?}"
    );
    assert_eq!(
        pg.tcp_connections(),
        4,
        "two connections per call, never a third"
    );
}

#[test]
fn the_byte_budget_stops_a_call_and_udp_and_listening_stay_denied() {
    let pg = Postgres::start();
    with_table(&pg);
    let address = format!("127.0.0.1:{}", pg.port);
    let dir = plugin_dir("test.pg.budget", std::slice::from_ref(&address));
    let host = host(SocketSettings::default().with_max_bytes_per_call(64));
    let plugin = load(&host, dir.path(), &[format!("sockets:{address}")]);
    let tools = plugin.kind::<Tool>().unwrap();
    let err = tools
        .call("query", &query_input(pg.port, "select * from waves"))
        .unwrap_err();
    assert_eq!(err.code(), Code::ToolFailed);
    let over = coded("test.pg.budget", Code::QuotaExceeded);
    assert!(
        over.iter().any(|m| m.contains("more than 64 bytes")),
        "{over:?}"
    );

    for tool in ["udp", "listen"] {
        let got = tools.call(tool, &json!({})).unwrap();
        assert!(got["error"].is_string(), "{tool}: {got}");
    }
    let denied = coded("test.pg.budget", Code::SocketDenied);
    assert!(
        denied
            .iter()
            .any(|m| m.starts_with("socket-denied: UDP is not allowed")),
        "{denied:?}"
    );
    assert!(
        denied
            .iter()
            .any(|m| m.contains("is not allowed: no grant opens it") && !m.contains("UDP")),
        "{denied:?}"
    );
}
