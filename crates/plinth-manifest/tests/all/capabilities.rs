//! `[capabilities]`: every form of DESIGN §3.1, app-defined capabilities, and the grants a
//! manifest requests.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failed test.

use std::collections::BTreeMap;

use crate::common::{assert_invalid, parse_ok, with};
use plinth_manifest::{Capabilities, Grant};

fn caps(body: &str) -> Capabilities {
    let parsed = parse_ok(&with(&format!("[capabilities]\n{body}\n")));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    parsed.manifest.capabilities
}

fn grants(body: &str) -> Vec<String> {
    let parsed = parse_ok(&with(&format!("[capabilities]\n{body}\n")));
    parsed
        .manifest
        .requested_grants()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn every_builtin_form() {
    let c = caps(
        r#"log = true
config = true
http = { allow = ["api.example.com", "*.github.io"] }
fs = { read = ["data"], write = ["out"] }
watch = ["waves"]
kv = true
events = { publish = ["discovery"] }
sockets = ["db.internal:5432"]
websocket = ["chat"]"#,
    );
    let expected = Capabilities {
        log: true,
        config: true,
        http: vec!["api.example.com".into(), "*.github.io".into()],
        fs_read: vec!["data".into()],
        fs_write: vec!["out".into()],
        watch: vec!["waves".into()],
        kv: true,
        events_publish: vec!["discovery".into()],
        sockets: vec!["db.internal:5432".into()],
        websocket: vec!["chat".into()],
        custom: BTreeMap::new(),
    };
    assert_eq!(c, expected);
}

#[test]
fn absent_and_false_request_nothing() {
    assert_eq!(caps(""), Capabilities::default());
    let c = caps("log = false\nkv = false\nhttp = { allow = [] }\nfs = {}\n");
    assert_eq!(c, Capabilities::default());
    assert!(grants("log = false\nretrieval = false").is_empty());
}

#[test]
fn http_list_shorthand() {
    assert_eq!(
        caps("http = [\"api.example.com\"]").http,
        ["api.example.com"]
    );
}

#[test]
fn requested_grants_one_per_item() {
    let got = grants(
        r#"log = true
http = { allow = ["api.example.com", "*.github.io", "api.example.com"] }
fs = { read = ["data"], write = ["out"] }
watch = ["waves"]
kv = true
events = { publish = ["discovery"] }
sockets = ["db.internal:5432"]
websocket = ["chat"]
retrieval = true
search = ["docs", "web"]
ranker = "fast"
tuner = { level = 3 }"#,
    );
    let expected = [
        "log",
        "http:api.example.com",
        "http:*.github.io",
        "fs.read:data",
        "fs.write:out",
        "watch:waves",
        "kv",
        "events.publish:discovery",
        "sockets:db.internal:5432",
        "websocket:chat",
        "ranker:fast",
        "retrieval",
        "search:docs",
        "search:web",
        "tuner",
    ];
    assert_eq!(got, expected);
}

#[test]
fn app_defined_capabilities_are_kept_not_warned() {
    let c = caps("retrieval = true\nsearch = [\"docs\"]\ntuner = { level = 3 }");
    assert_eq!(c.custom.len(), 3);
    assert_eq!(c.custom["retrieval"], toml::Value::Boolean(true));
    assert_eq!(
        c.custom["tuner"]
            .get("level")
            .and_then(toml::Value::as_integer),
        Some(3)
    );
    let parsed = parse_ok(&with("[capabilities]\nretrieval = true"));
    assert_eq!(
        parsed.manifest.requested_grants(),
        [Grant::Custom {
            name: "retrieval".into(),
            scope: None
        }]
    );
}

#[test]
fn bad_values_name_the_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "log = \"yes\"",
            "capabilities.log",
            "expected true or false, found a string",
        ),
        (
            "config = 1",
            "capabilities.config",
            "expected true or false",
        ),
        (
            "kv = {}",
            "capabilities.kv",
            "expected true or false, found a table",
        ),
        (
            "http = \"api.example.com\"",
            "capabilities.http",
            "expected a table like { allow",
        ),
        (
            "http = { allow = \"x.com\" }",
            "capabilities.http.allow",
            "expected an array of strings",
        ),
        (
            "http = { allow = [1] }",
            "capabilities.http.allow[0]",
            "expected a string",
        ),
        (
            "http = { allow = [\"ok.com\", \"API.example.com\"] }",
            "capabilities.http.allow[1]",
            "must be lower case",
        ),
        (
            "http = { allow = [\"ftp://x.com\"] }",
            "capabilities.http.allow[0]",
            "scheme other than",
        ),
        (
            "http = { allow = [\"a.*.com\"] }",
            "capabilities.http.allow[0]",
            "wildcard",
        ),
        (
            "http = { allow = [\"\"] }",
            "capabilities.http.allow[0]",
            "empty",
        ),
        ("http = [\"x y\"]", "capabilities.http[0]", "whitespace"),
        ("fs = [\"data\"]", "capabilities.fs", "expected a table"),
        (
            "fs = { read = [\"/home/me\"] }",
            "capabilities.fs.read[0]",
            "is a path",
        ),
        (
            "fs = { write = [\"../up\"] }",
            "capabilities.fs.write[0]",
            "is a path",
        ),
        (
            "fs = { read = [\".hidden\"] }",
            "capabilities.fs.read[0]",
            "not a directory name",
        ),
        (
            "watch = \"waves\"",
            "capabilities.watch",
            "expected an array of strings",
        ),
        ("watch = [\"a/b\"]", "capabilities.watch[0]", "is a path"),
        (
            "events = { publish = [\"bad channel\"] }",
            "capabilities.events.publish[0]",
            "whitespace",
        ),
        (
            "events = [\"x\"]",
            "capabilities.events",
            "expected a table",
        ),
        (
            "sockets = [\"db.internal\"]",
            "capabilities.sockets[0]",
            "needs a port",
        ),
        (
            "sockets = [\"db:99999\"]",
            "capabilities.sockets[0]",
            "bad port",
        ),
        (
            "Retrieval = true",
            "capabilities.Retrieval",
            "not a capability name",
        ),
        (
            "\"fs.exec\" = true",
            "capabilities.\"fs.exec\"",
            "unknown capability `fs.exec`",
        ),
        (
            "\"http:x\" = true",
            "capabilities.\"http:x\"",
            "':' is not allowed",
        ),
        (
            "search = [\"docs\", 2]",
            "capabilities.search[1]",
            "expected a string",
        ),
        (
            "search = [\"bad scope\"]",
            "capabilities.search[0]",
            "whitespace",
        ),
        (
            "search = \"a\\\"b\"",
            "capabilities.search",
            "is not a scope",
        ),
    ];
    for (body, key, reason) in cases {
        assert_invalid(&with(&format!("[capabilities]\n{body}\n")), key, reason);
    }
}
