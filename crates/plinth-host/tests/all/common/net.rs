//! Hosts and plugins for the network tests: a host with given `[network]` settings that
//! logs into [`super::records`], and the `http` guest's `run` verbs.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use plinth_host::log::{LogRecord, LogSink};
use plinth_host::manifest::grant::Grant;
use plinth_host::{
    Host, HostBuilder, LoadOptions, NetworkSettings, Plugin, Resolve, ResolveFuture,
};
use serde_json::{Value, json};

/// A builder logging into [`super::records`], with `settings`.
pub fn builder(settings: NetworkSettings) -> HostBuilder {
    let sink: LogSink = Arc::new(|record: &LogRecord| {
        super::records().lock().unwrap().push(record.clone());
    });
    Host::builder().log_sink(sink).network(settings)
}

/// Settings for tests against `ports` on 127.0.0.1 over plain http.
pub fn local(ports: &[u16]) -> NetworkSettings {
    ports
        .iter()
        .fold(NetworkSettings::default().with_plain_http(true), |s, p| {
            s.allow_loopback_port(*p)
        })
}

/// The `http` guest, granted `log` and `http:GRANT` for each of `grants`.
pub fn load(host: &Host, grants: &[String]) -> Plugin {
    let grants = grants
        .iter()
        .map(|g| Grant::Http(g.clone()))
        .chain([Grant::Log]);
    host.load_with(
        test_programs::HTTP,
        LoadOptions::default().with_grants(grants),
    )
    .unwrap()
}

/// `run(args)`: `Ok(text)` or `Err("CODE: message")`.
pub fn run(plugin: &Plugin, args: &[&str]) -> Result<String, String> {
    outcome(plugin.call_json("run", &[json!(args)]).unwrap())
}

/// The `result<string, string>` of a `run` as a Rust result.
pub fn outcome(value: Value) -> Result<String, String> {
    match value {
        Value::Object(map) if map.contains_key("ok") => Ok(map["ok"].as_str().unwrap().into()),
        Value::Object(map) => Err(map["err"].as_str().unwrap().into()),
        other => panic!("unexpected result {other}"),
    }
}

/// A resolver answering from a fixed table, as a DNS server under an attacker's control
/// would.
#[derive(Debug, Default)]
pub struct FixedResolver(pub HashMap<String, Vec<IpAddr>>);

impl FixedResolver {
    pub fn with(mut self, host: &str, addrs: &[&str]) -> Self {
        let addrs = addrs.iter().map(|a| a.parse().unwrap()).collect();
        self.0.insert(host.into(), addrs);
        self
    }
}

impl Resolve for FixedResolver {
    fn resolve<'a>(&'a self, host: &'a str, port: u16) -> ResolveFuture<'a> {
        let found: Option<Vec<SocketAddr>> = self
            .0
            .get(host)
            .map(|addrs| addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect());
        Box::pin(async move {
            found.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such host"))
        })
    }
}
