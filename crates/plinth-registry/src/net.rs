//! The rules every registry request follows, whatever it fetches (design record 0033):
//!
//! - **A deadline per operation.** A push, a pull, an index load or a package download
//!   finishes within [`NetworkOptions::deadline`] (default [`DEFAULT_DEADLINE`]) or fails
//!   with [`RegistryError::Deadline`]; a server that trickles bytes or never answers cannot
//!   hold a command forever (the connect and read timeouts alone cannot see a trickle).
//! - **No private addresses unless named.** A request may go to a loopback, private,
//!   link-local or otherwise non-public address only when the operator named that host (the
//!   index URL, the `oci://` reference, a lockfile source) or allowed it
//!   ([`PrivateAddresses::Allow`]). A host an index, a registry or a redirect steers us to is
//!   checked twice: a literal address before the request, a name on the addresses it
//!   resolves to, at connect time (our DNS resolver), so DNS rebinding cannot slip past.
//! - **Redirects** are followed at most [`MAX_REDIRECTS`] times, each hop checked as above;
//!   reqwest drops `Authorization` (and cookies) on a hop to another scheme, host or port.
//! - **Bodies are read under a cap**, the announced length checked before the first byte
//!   and the received length while it streams.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use plinth_manifest::address::{Forbidden, forbidden};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::error::{RegistryError, Result};
use crate::progress::Progress;

/// How long one registry operation (a push, a pull, an index load, a package download with
/// its signature) may take in all: 5 minutes.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(5 * 60);
/// How long connecting to a server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a response may be silent between two reads.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// How many redirects one request follows.
pub const MAX_REDIRECTS: usize = 10;

/// Whether requests an index, a registry or a redirect steers to another host may reach
/// loopback, private, link-local and other non-public addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrivateAddresses {
    /// Only hosts the operator named may be non-public (the default).
    #[default]
    Refuse,
    /// Any address (`--allow-private`): for indexes and registries on a private network
    /// that send downloads to other private hosts.
    Allow,
}

impl PrivateAddresses {
    /// [`PrivateAddresses::Allow`] when `allow` (an `--allow-private` flag), else
    /// [`PrivateAddresses::Refuse`].
    pub fn allow_if(allow: bool) -> PrivateAddresses {
        if allow {
            PrivateAddresses::Allow
        } else {
            PrivateAddresses::Refuse
        }
    }
}

/// The network limits of registry operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkOptions {
    /// How long one operation may take in all (default [`DEFAULT_DEADLINE`]).
    pub deadline: Duration,
    /// Whether steered requests may reach non-public addresses (default
    /// [`PrivateAddresses::Refuse`]).
    pub private_addresses: PrivateAddresses,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            deadline: DEFAULT_DEADLINE,
            private_addresses: PrivateAddresses::Refuse,
        }
    }
}

/// Runs one registry operation under `deadline`; `location` names it in the error.
pub(crate) async fn within<T>(
    deadline: Duration,
    location: &str,
    operation: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(deadline, operation).await {
        Ok(result) => result,
        Err(_) => Err(RegistryError::Deadline {
            location: location.to_owned(),
            limit: deadline,
        }),
    }
}

/// Why a host may not be connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    host: String,
    addr: IpAddr,
    why: Forbidden,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Refusal { host, addr, why } = self;
        if host.trim_start_matches('[').trim_end_matches(']') == addr.to_string() {
            write!(f, "{addr} is {why}")
        } else {
            write!(f, "{host} resolves to {addr}, {why}")
        }
    }
}

impl std::error::Error for Refusal {}

/// The private-address rule of one operation: the hosts the operator named, and the
/// refusal that stopped a request (read back to give it its own error).
#[derive(Debug)]
pub(crate) struct Guard {
    private: PrivateAddresses,
    /// Hosts as [`Url::host_str`] spells them: lower case, IPv6 in brackets.
    named: Vec<String>,
    refused: Mutex<Option<Refusal>>,
}

impl Guard {
    /// A guard for an operation whose named hosts are those of `named` (plus the proxies
    /// the environment configures, which the operator named too).
    pub(crate) fn new<'a>(
        private: PrivateAddresses,
        named: impl IntoIterator<Item = &'a Url>,
    ) -> Guard {
        let mut hosts: Vec<String> = named
            .into_iter()
            .filter_map(|url| url.host_str().map(str::to_owned))
            .collect();
        hosts.extend(proxy_hosts());
        Guard {
            private,
            named: hosts,
            refused: Mutex::new(None),
        }
    }

    fn is_named(&self, host: &str) -> bool {
        self.private == PrivateAddresses::Allow || self.named.iter().any(|n| n == host)
    }

    /// Checks a URL before a request or a redirect: a literal address unless its host is
    /// named. Names are checked when they resolve ([`GuardedResolver`]).
    pub(crate) fn check_url(&self, url: &Url) -> Result<(), Refusal> {
        let Some(host) = url.host_str() else {
            return Ok(());
        };
        if self.is_named(host) {
            return Ok(());
        }
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        match literal.parse::<IpAddr>() {
            Ok(addr) => self.check_addr(host, addr),
            Err(_) => Ok(()),
        }
    }

    fn check_addr(&self, host: &str, addr: IpAddr) -> Result<(), Refusal> {
        match forbidden(addr) {
            None => Ok(()),
            Some(why) => Err(Refusal {
                host: host.to_owned(),
                addr,
                why,
            }),
        }
    }

    /// The addresses `name` resolved to that may be connected to; a refusal when none may.
    fn check_resolved(&self, name: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>> {
        if self.is_named(name) {
            return Ok(addrs);
        }
        let mut first_refusal = None;
        let mut allowed = Vec::new();
        for addr in addrs {
            match forbidden(addr.ip()) {
                None => allowed.push(addr),
                Some(why) => {
                    first_refusal.get_or_insert(Refusal {
                        host: name.to_owned(),
                        addr: addr.ip(),
                        why,
                    });
                }
            }
        }
        match (allowed.is_empty(), first_refusal) {
            (true, Some(refusal)) => Err(self.record(refusal).into()),
            _ => Ok(allowed),
        }
    }

    /// Keeps `refusal` for [`Http::error`]: a refusal inside reqwest (a redirect, a
    /// resolved name) reaches us only as a reqwest error.
    fn record(&self, refusal: Refusal) -> Refusal {
        if let Ok(mut slot) = self.refused.lock() {
            *slot = Some(refusal.clone());
        }
        refusal
    }

    fn take_refusal(&self) -> Option<Refusal> {
        self.refused.lock().ok().and_then(|mut slot| slot.take())
    }
}

impl From<Refusal> for RegistryError {
    fn from(refusal: Refusal) -> RegistryError {
        RegistryError::PrivateAddress {
            location: refusal.host.clone(),
            reason: refusal.to_string(),
        }
    }
}

/// The hosts of the proxies reqwest takes from the environment: the operator configured
/// them, so a proxy on a private address is not refused.
fn proxy_hosts() -> Vec<String> {
    [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .filter_map(|var| std::env::var(var).ok())
    .filter_map(|value| Url::parse(&value).ok())
    .filter_map(|url| url.host_str().map(str::to_owned))
    .collect()
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The system resolver, followed by the guard's check of every address a name resolved to.
struct GuardedResolver(Arc<Guard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = guard.check_resolved(&host, addrs)?;
            Ok::<Addrs, BoxError>(Box::new(allowed.into_iter()))
        })
    }
}

/// An HTTP client bound to one operation's [`Guard`].
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    guard: Arc<Guard>,
}

impl Http {
    /// A client whose every connection and redirect goes through `guard`.
    pub(crate) fn new(guard: Guard) -> Result<Http> {
        let guard = Arc::new(guard);
        let redirect_guard = guard.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            match redirect_guard.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(refusal) => attempt.error(redirect_guard.record(refusal)),
            }
        });
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .redirect(redirects)
            .referer(false)
            .dns_resolver(GuardedResolver(guard.clone()))
            .user_agent(concat!("plinth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RegistryError::transport("the HTTP client", e))?;
        Ok(Http { client, guard })
    }

    /// The underlying client, to build requests with.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `request` after checking its URL; `location` names it in errors.
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
        location: &str,
    ) -> Result<reqwest::Response> {
        let request = request
            .build()
            .map_err(|e| RegistryError::transport_error(location, &e))?;
        self.guard.check_url(request.url())?;
        self.client
            .execute(request)
            .await
            .map_err(|e| self.error(location, &e))
    }

    /// A transport error, or the guard's refusal when that is what stopped the request.
    pub(crate) fn error(&self, location: &str, error: &reqwest::Error) -> RegistryError {
        match self.guard.take_refusal() {
            Some(refusal) => RegistryError::PrivateAddress {
                location: location.to_owned(),
                reason: refusal.to_string(),
            },
            None => RegistryError::transport_error(location, error),
        }
    }
}

/// Calls [`Progress::finish`] when dropped, so a download cut off by the deadline still
/// ends its progress report.
pub(crate) struct Reporting<'a>(&'a dyn Progress);

impl<'a> Reporting<'a> {
    pub(crate) fn start(progress: &'a dyn Progress, label: &str, total: Option<u64>) -> Self {
        progress.start(label, total);
        Reporting(progress)
    }
}

impl Drop for Reporting<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// Reads a response body of at most `cap` bytes: refused on an announced length over the
/// cap before a byte is read, and as soon as the received bytes pass it.
pub(crate) async fn read_body(
    http: &Http,
    response: reqwest::Response,
    location: &str,
    label: &str,
    cap: u64,
    progress: &dyn Progress,
) -> Result<Bytes> {
    let too_large = |size| RegistryError::TooLarge {
        what: format!("{label} at {location}"),
        size,
        cap,
    };
    let total = response.content_length();
    if let Some(length) = total
        && length > cap
    {
        return Err(too_large(length));
    }
    let _reporting = Reporting::start(progress, label, total);
    let mut data = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| http.error(location, &e))?;
        let size = data.len() as u64 + chunk.len() as u64;
        if size > cap {
            return Err(too_large(size));
        }
        data.extend_from_slice(&chunk);
        progress.advance(chunk.len() as u64);
    }
    Ok(Bytes::from(data))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn literal_addresses_are_refused_unless_named_or_allowed() {
        let named = url("http://127.0.0.1:5000/index.json");
        let guard = Guard::new(PrivateAddresses::Refuse, [&named]);
        for ok in [
            "http://127.0.0.1:9999/other-port.plinth",
            "https://8.8.8.8/public.plinth",
            "https://cdn.example.org/by-name.plinth",
        ] {
            assert_eq!(guard.check_url(&url(ok)), Ok(()), "{ok}");
        }
        for refused in [
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/x.plinth",
            "http://127.0.0.2/x.plinth",
            "http://[::1]:5000/x.plinth",
            "http://[fe80::1]/x.plinth",
            "http://[::ffff:169.254.169.254]/x.plinth",
            "http://2852039166/decimal-metadata.plinth",
        ] {
            assert!(guard.check_url(&url(refused)).is_err(), "{refused}");
        }
        let open = Guard::new(PrivateAddresses::Allow, []);
        assert_eq!(open.check_url(&url("http://10.0.0.1/x")), Ok(()));
    }

    #[test]
    fn resolved_names_keep_only_public_addresses() {
        let guard = Guard::new(PrivateAddresses::Refuse, [&url("http://localhost:1/")]);
        let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let public: SocketAddr = "93.184.216.34:0".parse().unwrap();
        assert_eq!(
            guard.check_resolved("localhost", vec![loopback]).unwrap(),
            vec![loopback],
            "named"
        );
        assert_eq!(
            guard
                .check_resolved("rebind.example", vec![loopback, public])
                .unwrap(),
            vec![public]
        );
        let error = guard
            .check_resolved("rebind.example", vec![loopback])
            .unwrap_err();
        assert!(
            matches!(&error, RegistryError::PrivateAddress { reason, .. }
                if reason == "rebind.example resolves to 127.0.0.1, a loopback address"),
            "{error}"
        );
        assert!(guard.take_refusal().is_some(), "recorded for the error");
    }
}
