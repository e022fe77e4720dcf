//! Runs `embed-thoth` on a Thoth folder holding five plugins built from source — a CSV
//! loader and exporters, a URL data source, a PostgreSQL data source, a theme without a
//! component, and a plugin that loops — against a real HTTP server and a real PostgreSQL
//! on 127.0.0.1, and checks every step of Thoth's scenario in its output and on disk.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use test_programs::postgres::{PASSWORD, Postgres, USER};

const PEOPLE: &str = "name,age,score,active\nAda,36,1.5,true\nGrace,,2.5,false\nLinus,28,3,true\n";
const CITIES: &str = "city,population\nOslo,709000\nBergen,291000\nTromsø,78000\n";
const NIGHT: &str = r##"{"name":"Night","appearance":"dark","colors":{"background":"#101418","foreground":"#e6e6e6","accent":"#4c8dff"}}"##;

/// A one-route HTTP server on 127.0.0.1 (`/cities.csv`), counting requests; it runs until
/// the test process ends.
fn serve_cities() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            // The request line and headers, up to the blank line.
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let body = CITIES.as_bytes();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
    });
    (port, hits)
}

/// A plugin folder `plugins/ID` holding `wasm` as `plugin.wasm` and a manifest.
fn plugin(root: &Path, id: &str, wasm: Option<&str>, rest: &str) {
    let dir = root.join("plugins").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = match wasm {
        Some(wasm) => {
            std::fs::copy(wasm, dir.join("plugin.wasm")).unwrap();
            "[runtime]\nkind = \"wasm-component\"\ncomponent = \"plugin.wasm\"\n\n"
        }
        None => "",
    };
    std::fs::write(
        dir.join("plugin.toml"),
        format!("[plugin]\nid = \"{id}\"\nversion = \"1.0.0\"\n\n{runtime}{rest}"),
    )
    .unwrap();
}

fn thoth_dir(root: &Path, http_port: u16, pg_port: u16) {
    std::fs::create_dir_all(root.join("files")).unwrap();
    std::fs::write(root.join("files/people.csv"), PEOPLE).unwrap();
    plugin(
        root,
        "thoth.csv",
        Some(test_programs::THOTH_KINDS),
        r#"[capabilities]
fs = { read = ["files"] }

[[provides.file-loader]]
name = "csv"
extensions = ["csv"]
media_types = ["text/csv"]

[[provides.exporter]]
name = "csv"
extension = "csv"
media_type = "text/csv"

[[provides.exporter]]
name = "json"
extension = "json"
media_type = "application/json"
"#,
    );
    plugin(
        root,
        "thoth.url",
        Some(test_programs::URL_SOURCE),
        &format!(
            "[capabilities]\nconfig = true\nkv = true\nhttp = {{ allow = [\"127.0.0.1:{http_port}\"] }}\n\n[[provides.data-source]]\nname = \"url\"\ntitle = \"URL\"\n"
        ),
    );
    plugin(
        root,
        "thoth.postgres",
        Some(test_programs::PG_SOURCE),
        &format!(
            "[capabilities]\nconfig = true\nkv = true\nsockets = [\"127.0.0.1:{pg_port}\"]\n\n[[provides.data-source]]\nname = \"postgres\"\ntitle = \"PostgreSQL\"\n"
        ),
    );
    plugin(
        root,
        "thoth.night",
        None,
        "[[provides.theme]]\nname = \"night\"\nfile = \"night.json\"\n",
    );
    std::fs::write(root.join("plugins/thoth.night/night.json"), NIGHT).unwrap();
    plugin(root, "thoth.runaway", Some(test_programs::HOSTILE), "");
    std::fs::write(
        root.join("thoth.toml"),
        format!(
            r#"[app]
open = "people.csv"
export = "json"
theme = "night"
url_source = "thoth.url"
pg_source = "thoth.postgres"
pg_query = "select id, name, depth from stations order by id"
runaway = "thoth.runaway"
dev_loopback_ports = [{http_port}]

[plugins]
schema_version = 1

[[plugins.entries]]
id = "thoth.csv"
enabled = true
grants = ["fs.read:files"]

[[plugins.entries]]
id = "thoth.url"
enabled = true
grants = ["config", "kv"]
[plugins.entries.config]
url = "http://127.0.0.1:{http_port}/cities.csv"

[[plugins.entries]]
id = "thoth.postgres"
enabled = true
grants = ["config", "kv", "sockets:127.0.0.1:{pg_port}"]
[plugins.entries.config]
host = "127.0.0.1"
port = {pg_port}
user = "{USER}"
password = "{PASSWORD}"
database = "postgres"

[[plugins.entries]]
id = "thoth.night"
enabled = true

[[plugins.entries]]
id = "thoth.runaway"
enabled = true
"#
        ),
    )
    .unwrap();
}

/// The index of the first line containing `needle`, or a failure showing all of them.
fn line(lines: &[&str], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with `{needle}` in:\n{}", lines.join("\n")))
}

#[test]
fn thoths_scenario_runs_end_to_end() {
    let pg = Postgres::start();
    pg.psql(
        "create table stations (id int primary key, name text, depth real); \
         insert into stations values (1, 'Troll', 303.5), (2, 'Heidrun', null), (3, 'Snorre', 350)",
    );
    let (http_port, hits) = serve_cities();
    let root = tempfile::tempdir().unwrap();
    thoth_dir(root.path(), http_port, pg.port);

    let output = Command::new(env!("CARGO_BIN_EXE_embed-thoth"))
        .arg(root.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();

    // Every call under Thoth's fuel; everything discovered, the theme without a component.
    line(&lines, "limits: 5000000000 fuel per call");
    line(&lines, "discovered thoth.night [theme] (no component)");
    line(&lines, "discovered thoth.csv [file-loader, exporter]");
    for id in ["thoth.csv", "thoth.url", "thoth.postgres", "thoth.night"] {
        line(&lines, &format!("status {id} ready"));
    }
    // The theme, listed and applied.
    line(
        &lines,
        "theme night \"Night\" from thoth.night, no component",
    );
    line(
        &lines,
        "applied theme night: background #101418 foreground #e6e6e6 accent #4c8dff",
    );
    // The CSV, opened by the loader its extension picks, and exported as JSON.
    line(
        &lines,
        "opened people.csv with thoth.csv (csv): 3 rows [name:string, age:int, score:float, active:bool]",
    );
    line(
        &lines,
        "exported 3 rows as json (application/json) with thoth.csv",
    );
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.path().join("out/people.json")).unwrap())
            .unwrap();
    assert_eq!(exported[1]["name"], "Grace");
    assert_eq!(exported[1]["age"], serde_json::Value::Null);

    // The URL source: click, the app notified with the request id, the prompt answered,
    // the data shown; nothing was fetched before the answer.
    let clicked = line(&lines, "clicked fetch:");
    assert!(
        lines[clicked].contains("Requested #1."),
        "{}",
        lines[clicked]
    );
    let pending = line(
        &lines,
        "consent pending: thoth.url asks to reach 127.0.0.1:",
    );
    assert!(
        lines[pending].ends_with("(request 1)"),
        "{}",
        lines[pending]
    );
    let waiting = line(&lines, "Waiting for consent.");
    let allowed = line(&lines, "consent prompt answered: allow");
    let fetched = line(&lines, "Fetched 3 rows.");
    assert!(clicked < pending && pending < waiting && waiting < allowed && allowed < fetched);
    line(&lines, "url table: 3 rows [city:string, population:string]");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // PostgreSQL over granted sockets.
    let rows = line(
        &lines,
        "postgres: 3 rows [id:string, name:string, depth:string], first ",
    );
    for cell in [r#""name":"Troll""#, r#""depth":"303.5""#] {
        assert!(lines[rows].contains(cell), "{}", lines[rows]);
    }

    // The runaway plugin is stopped, and the app goes on serving.
    let stopped = line(&lines, "stopped thoth.runaway: ");
    assert!(
        lines[stopped].contains("fuel-exhausted") || lines[stopped].contains("timeout"),
        "{}",
        lines[stopped]
    );
    assert!(line(&lines, "still serving: 3 rows") > stopped);
}
