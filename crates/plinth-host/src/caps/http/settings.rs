//! `[network]` of the host configuration: the limits and switches of outgoing HTTP.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Deserialize;

/// The response-body cap by default: 16 MiB (DESIGN §5).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// Whether a request to a host the manifest asks for but the operator has not granted
/// waits for a person's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentMode {
    /// Such a request is `missing-grant` (the default).
    #[default]
    Off,
    /// Such a request is `consent-pending` and recorded for approval.
    Ask,
}

/// Whether outgoing HTTP leaves the host at all (`[network] mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// Requests go out, directly or through `[network] proxy` (the default).
    #[default]
    Online,
    /// Every request of every plugin is refused with `http-denied` before a name is
    /// resolved or a socket opened, whatever the plugin's grants (docs/design/0068).
    Offline,
}

/// `[network]`: limits of outgoing HTTP (`plinth:host/http`, `wasi:http`), per plugin.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSettings {
    /// Requests a plugin may start per second, on average (default 10).
    pub requests_per_second: f64,
    /// Requests a plugin may start at once after being idle (default 20).
    pub burst: u32,
    /// Requests of one plugin in flight at the same time (default 8).
    pub max_concurrent: u32,
    /// Response-body cap in bytes (default 16 MiB); over it is `too-large`.
    pub max_body_bytes: u64,
    /// The longest a request may take, redirects included (default 30 000 ms). A
    /// request's own `timeout-ms` and the call's remaining time can only shorten it.
    pub timeout_ms: u64,
    /// Allow `http://` URLs (default false: https only).
    pub allow_http: bool,
    /// Per-domain consent for hosts the manifest requests but the operator did not grant.
    pub consent: ConsentMode,
    /// How long a `submit` request to a host awaiting consent is held for a person's
    /// decision (default 300 000 ms); after it, the request's final event is
    /// `consent-pending` (docs/design/0042).
    pub consent_wait_ms: u64,
    /// PEM files of root certificates trusted for https beside the Mozilla roots (an
    /// organisation's own CA). Read when the host is built.
    pub ca_certificates: Vec<PathBuf>,
    /// `online` (the default) or `offline` (see [`NetworkMode`]).
    pub mode: NetworkMode,
    /// An HTTP proxy every request goes through, `http://HOST:PORT` (default: none, the
    /// host connects to each destination itself). Plain-http requests are sent to it in
    /// absolute form, https ones through a `CONNECT` tunnel (TLS stays end to end). The
    /// grants, the scheme rule and the SSRF guard still decide every request first.
    pub proxy: Option<String>,
    /// Loopback ports the SSRF guard lets through; never read from the config file.
    #[serde(skip)]
    loopback_ports: BTreeSet<u16>,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        Self {
            requests_per_second: 10.0,
            burst: 20,
            max_concurrent: 8,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            timeout_ms: 30_000,
            allow_http: false,
            consent: ConsentMode::Off,
            consent_wait_ms: 300_000,
            ca_certificates: Vec::new(),
            mode: NetworkMode::Online,
            proxy: None,
            loopback_ports: BTreeSet::new(),
        }
    }
}

impl NetworkSettings {
    /// Lets requests reach `127.0.0.1:port` and `[::1]:port` past the SSRF guard. For tests
    /// and local development only: every other loopback port, and every other private or
    /// link-local address, stays refused, redirects included.
    pub fn allow_loopback_port(mut self, port: u16) -> Self {
        self.loopback_ports.insert(port);
        self
    }

    /// Allows `http://` URLs (see [`NetworkSettings::allow_http`]).
    pub fn with_plain_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Sets how long a submitted request is held for a consent decision.
    pub fn with_consent_wait(mut self, wait: std::time::Duration) -> Self {
        self.consent_wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Sets the consent mode.
    pub fn with_consent(mut self, mode: ConsentMode) -> Self {
        self.consent = mode;
        self
    }

    /// Trusts the root certificates in the PEM file at `path` too (see
    /// [`NetworkSettings::ca_certificates`]).
    pub fn with_ca_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_certificates.push(path.into());
        self
    }

    /// Sets the network mode (see [`NetworkMode`]).
    pub fn with_mode(mut self, mode: NetworkMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sends every request through the HTTP proxy at `url` (`http://HOST:PORT`; see
    /// [`NetworkSettings::proxy`]).
    pub fn with_proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// The loopback ports opened with [`Self::allow_loopback_port`].
    pub fn loopback_ports(&self) -> &BTreeSet<u16> {
        &self.loopback_ports
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let s: NetworkSettings = toml::from_str("").unwrap();
        assert_eq!(s, NetworkSettings::default());
        assert_eq!(s.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        let s: NetworkSettings =
            toml::from_str("burst = 3\nmax_concurrent = 1\nconsent = \"ask\"").unwrap();
        assert_eq!((s.burst, s.max_concurrent), (3, 1));
        assert_eq!(s.consent, ConsentMode::Ask);
        let s: NetworkSettings =
            toml::from_str("ca_certificates = [\"/etc/corp-ca.pem\"]").unwrap();
        assert_eq!(s.ca_certificates, [PathBuf::from("/etc/corp-ca.pem")]);
        assert!(toml::from_str::<NetworkSettings>("loopback_ports = [80]").is_err());
        assert!(toml::from_str::<NetworkSettings>("consent = \"maybe\"").is_err());
        let s: NetworkSettings =
            toml::from_str("mode = \"offline\"\nproxy = \"http://127.0.0.1:3128\"").unwrap();
        assert_eq!(s.mode, NetworkMode::Offline);
        assert_eq!(s.proxy.as_deref(), Some("http://127.0.0.1:3128"));
        assert_eq!(NetworkSettings::default().mode, NetworkMode::Online);
        assert!(toml::from_str::<NetworkSettings>("mode = \"airplane\"").is_err());
    }
}
