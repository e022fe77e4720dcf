//! The network policy shared by `plinth:host/http` and `wasi:http/outgoing-handler`: what a
//! plugin may ask for before any byte leaves the host.
//!
//! [`Target::parse`] turns a URL into the host, port and scheme the policy reasons about,
//! using the WHATWG parser of the `url` crate: numeric host spellings (`2130706433`,
//! `0x7f.1`, `017700000001`) come out as the one IPv4 address they denote, so the
//! allowlist and the SSRF guard never see a second spelling. [`Policy::check`] then applies
//! the scheme rule, the allowlist (the plugin's `http:` grants) and, for literal addresses,
//! the SSRF guard; names are checked by the guard again on the addresses they resolve to.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use plinth_manifest::{Grant, GrantSet};

use crate::caps::guard::{self, Forbidden};

/// Which network rules apply; the host's `[network]` configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Policy {
    /// Allow `http://` URLs (default: https only).
    pub allow_plain_http: bool,
    /// Loopback ports the SSRF guard lets through, for tests against a server on
    /// 127.0.0.1 (`NetworkSettings::allow_loopback_port`). Empty in production.
    pub loopback_ports: BTreeSet<u16>,
}

/// A request's destination, as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// `https` or `http`.
    pub scheme: String,
    /// The host, lower case; an IPv4 literal in dotted-decimal form, an IPv6 literal
    /// without brackets.
    pub host: String,
    /// The literal address if the host is one.
    pub addr: Option<IpAddr>,
    /// The port written in the URL, `None` for the scheme's default.
    pub explicit_port: Option<u16>,
    /// The port to connect to.
    pub port: u16,
}

/// Why the policy refused a request. `Display` is the reason shown to the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The URL does not parse or is not a usable absolute URL.
    Invalid(String),
    /// The scheme is not allowed.
    Scheme(String),
    /// No `http:` grant covers the host; carries the grant that would.
    NotGranted(Grant),
    /// The SSRF guard refused the address.
    Address {
        /// The host as the URL named it.
        host: String,
        /// The address it is or resolved to.
        addr: IpAddr,
        /// Which range it is in.
        why: Forbidden,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Invalid(why) => write!(f, "invalid URL: {why}"),
            Refusal::Scheme(scheme) => write!(
                f,
                "scheme `{scheme}` is not allowed: plugins may use https (and http only where a grant names `http://HOST` or the host's [network] allows it)"
            ),
            Refusal::NotGranted(grant) => write!(f, "no grant covers this host: needs `{grant}`"),
            Refusal::Address { host, addr, why } => {
                if host == &addr.to_string() {
                    write!(f, "{addr} is {why}; the host's SSRF guard refuses it")
                } else {
                    write!(
                        f,
                        "{host} resolves to {addr}, {why}; the host's SSRF guard refuses it"
                    )
                }
            }
        }
    }
}

impl Target {
    /// Parses an absolute URL.
    pub(crate) fn parse(text: &str) -> Result<Target, Refusal> {
        let url = url::Url::parse(text).map_err(|e| Refusal::Invalid(format!("{text:?}: {e}")))?;
        let scheme = url.scheme().to_owned();
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Invalid(
                "credentials in the URL are not allowed; send an Authorization header".into(),
            ));
        }
        let (host, addr) = match url.host() {
            Some(url::Host::Domain(d)) => (d.trim_end_matches('.').to_owned(), None),
            Some(url::Host::Ipv4(a)) => (a.to_string(), Some(IpAddr::V4(a))),
            Some(url::Host::Ipv6(a)) => (a.to_string(), Some(IpAddr::V6(a))),
            None => return Err(Refusal::Invalid(format!("{text:?} has no host"))),
        };
        if host.is_empty() {
            return Err(Refusal::Invalid(format!("{text:?} has no host")));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| Refusal::Scheme(scheme.clone()))?;
        Ok(Target {
            scheme,
            host,
            addr,
            explicit_port: url.port(),
            port,
        })
    }

    /// The grant that covers exactly this destination: `http:HOST[:PORT]`.
    pub(crate) fn grant(&self) -> Grant {
        self.grant_over("")
    }

    /// The grant that allows this destination over plain http: `http:http://HOST[:PORT]`.
    fn plain_grant(&self) -> Grant {
        self.grant_over("http://")
    }

    /// `http:{scheme}HOST[:PORT]`, an IPv6 address in brackets (`http:[::1]:8080`).
    fn grant_over(&self, scheme: &str) -> Grant {
        let host = match self.addr {
            Some(IpAddr::V6(addr)) => format!("[{addr}]"),
            _ => self.host.clone(),
        };
        match self.explicit_port {
            Some(port) => Grant::Http(format!("{scheme}{host}:{port}")),
            None => Grant::Http(format!("{scheme}{host}")),
        }
    }
}

impl Policy {
    /// Checks a URL against the scheme rule, the plugin's grants and (for literal
    /// addresses) the SSRF guard. Names still need [`Policy::check_addr`] on each resolved
    /// address.
    pub(crate) fn check(&self, grants: &GrantSet, url: &str) -> Result<Target, Refusal> {
        let target = Target::parse(url)?;
        let plain = match target.scheme.as_str() {
            "https" => false,
            "http" => true,
            other => return Err(Refusal::Scheme(other.to_owned())),
        };
        let grant = target.grant();
        if !grants.allows(&grant) {
            return Err(Refusal::NotGranted(grant));
        }
        // Plain http: where the host allows it everywhere, or a grant names `http://`.
        if plain && !self.allow_plain_http && !grants.allows(&target.plain_grant()) {
            return Err(Refusal::Scheme(target.scheme));
        }
        if let Some(addr) = target.addr {
            self.check_addr(&target.host, addr, target.port)?;
        }
        Ok(target)
    }

    /// The SSRF guard for one address `host` resolved to, to be connected to on `port`.
    pub(crate) fn check_addr(&self, host: &str, addr: IpAddr, port: u16) -> Result<(), Refusal> {
        match guard::forbidden(addr) {
            None => Ok(()),
            Some(Forbidden::Loopback) if self.loopback_ports.contains(&port) => Ok(()),
            Some(why) => Err(Refusal::Address {
                host: host.to_owned(),
                addr,
                why,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(list: &[&str]) -> GrantSet {
        let mut set = GrantSet::default();
        for g in list {
            set.insert(g.parse().unwrap());
        }
        set
    }

    #[test]
    fn numeric_host_spellings_normalise_to_one_address() {
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://017700000001/",
            "http://0x7f000001/",
            "http://127.1/",
            "http://0177.0.0.1/",
            "http://127.0.0.1./",
        ] {
            let target = Target::parse(url).unwrap();
            assert_eq!(target.addr, Some("127.0.0.1".parse().unwrap()), "{url}");
            assert_eq!(target.host, "127.0.0.1", "{url}");
        }
        let v6 = Target::parse("https://[::ffff:7f00:1]/").unwrap();
        assert_eq!(v6.addr, Some("::ffff:127.0.0.1".parse().unwrap()));
    }

    /// IPv6 literals are granted as URLs write them: `http:[fd00::2]:443` covers
    /// `https://[fd00::2]:443/`, and the SSRF guard still has its say on the address.
    #[test]
    fn ipv6_literals_are_granted_in_brackets() {
        let t = Target::parse("https://[FD00:0::2]:8443/x").unwrap();
        assert_eq!(t.grant().to_string(), "http:[fd00::2]:8443");
        let policy = Policy {
            allow_plain_http: false,
            loopback_ports: Default::default(),
        };
        let url = "https://[fd00::2]:8443/";
        assert!(matches!(
            policy.check(&grants(&[]), url),
            Err(Refusal::NotGranted(_))
        ));
        // Granted, so the refusal is the guard's (a private address), not a missing grant.
        assert!(matches!(
            policy.check(&grants(&["http:[fd00::2]:8443"]), url),
            Err(Refusal::Address { .. })
        ));
    }

    #[test]
    fn ports_and_hosts() {
        let t = Target::parse("https://API.Example.com:443/x").unwrap();
        assert_eq!(t.host, "api.example.com");
        assert_eq!((t.explicit_port, t.port), (None, 443));
        let t = Target::parse("https://api.example.com:8443/").unwrap();
        assert_eq!((t.explicit_port, t.port), (Some(8443), 8443));
        assert_eq!(t.grant().to_string(), "http:api.example.com:8443");
        assert!(matches!(
            Target::parse("https://user:pw@example.com/"),
            Err(Refusal::Invalid(_))
        ));
        assert!(matches!(
            Target::parse("not a url"),
            Err(Refusal::Invalid(_))
        ));
        assert!(matches!(
            Target::parse("/relative"),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn policy_table() {
        let set = grants(&[
            "http:api.example.com",
            "http:*.cdn.example.org",
            "http:localhost",
            "http:127.0.0.1",
            "http:0.0.0.0",
            "http:169.254.169.254",
            "http:svc.example.net:8443",
            "http:http://intranet.lan:8080",
        ]);
        let strict = Policy::default();
        let lax = Policy {
            allow_plain_http: true,
            ..Policy::default()
        };
        let tests = Policy {
            allow_plain_http: true,
            loopback_ports: [80].into(),
        };
        enum Want {
            Ok,
            Scheme,
            NotGranted,
            Address,
            Invalid,
        }
        use Want::*;
        let cases: &[(&Policy, &str, Want)] = &[
            (&strict, "https://api.example.com/v1", Ok),
            (&strict, "https://API.EXAMPLE.COM/v1", Ok),
            (&strict, "http://api.example.com/v1", Scheme),
            (&lax, "http://api.example.com/v1", Ok),
            (&strict, "ftp://api.example.com/", Scheme),
            (&strict, "file:///etc/passwd", Invalid),
            (&strict, "https://evil.example.com/", NotGranted),
            (&strict, "https://api.example.com:8443/", NotGranted),
            (&strict, "https://svc.example.net:8443/", Ok),
            (&strict, "https://svc.example.net/", NotGranted),
            (&strict, "https://a.cdn.example.org/", Ok),
            (&strict, "https://cdn.example.org/", NotGranted),
            (&strict, "https://api.example.com.evil.com/", NotGranted),
            (&strict, "https://localhost/", Ok), // a name: the guard runs on what it resolves to
            (&strict, "https://127.0.0.1/", Address),
            (&strict, "https://2130706433/", Address),
            (&strict, "https://0x7f.1/", Address),
            (&strict, "https://017700000001/", Address),
            (&strict, "https://0.0.0.0/", Address),
            (&strict, "https://169.254.169.254/", Address),
            (&strict, "https://[::1]/", NotGranted),
            (&tests, "http://127.0.0.1/", Ok),
            (&tests, "http://0x7f.1/", Ok),
            (&tests, "http://127.0.0.1:81/", NotGranted),
            (&tests, "http://0.0.0.0/", Address),
            (&tests, "http://169.254.169.254/", Address),
            // A grant naming http:// allows plain http to its hosts only (https too).
            (&strict, "http://intranet.lan:8080/x", Ok),
            (&strict, "https://intranet.lan:8080/x", Ok),
            (&strict, "http://intranet.lan/", NotGranted),
        ];
        for (policy, url, want) in cases {
            let got = policy.check(&set, url);
            let ok = matches!(
                (&got, want),
                (Result::Ok(_), Ok)
                    | (Err(Refusal::Scheme(_)), Scheme)
                    | (Err(Refusal::NotGranted(_)), NotGranted)
                    | (Err(Refusal::Address { .. }), Address)
                    | (Err(Refusal::Invalid(_)), Invalid)
            );
            assert!(ok, "{url}: got {got:?}");
        }
    }

    #[test]
    fn resolved_addresses_are_guarded() {
        let strict = Policy::default();
        let err = strict
            .check_addr("localhost", "127.0.0.1".parse().unwrap(), 443)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "localhost resolves to 127.0.0.1, a loopback address; the host's SSRF guard refuses it"
        );
        assert!(
            strict
                .check_addr("example.com", "93.184.216.34".parse().unwrap(), 443)
                .is_ok()
        );
        let tests = Policy {
            allow_plain_http: false,
            loopback_ports: [8080].into(),
        };
        let local = |addr: &str, port| tests.check_addr("localhost", addr.parse().unwrap(), port);
        assert!(local("127.0.0.1", 8080).is_ok());
        assert!(local("::1", 8080).is_ok());
        // Only the opened port, and only loopback: metadata and private ranges stay shut.
        assert!(local("127.0.0.1", 8081).is_err());
        assert!(local("169.254.169.254", 8080).is_err());
        assert!(local("10.0.0.1", 8080).is_err());
        assert!(local("::ffff:127.0.0.1", 8080).is_err());
    }

    #[test]
    fn refusals_explain_themselves() {
        let set = grants(&["http:api.example.com"]);
        let err = Policy::default()
            .check(&set, "https://other.example.com/")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no grant covers this host: needs `http:other.example.com`"
        );
        let err = Policy::default()
            .check(&set, "https://0x7f.1/")
            .unwrap_err();
        // Not granted comes first: the allowlist is checked before the guard.
        assert!(matches!(err, Refusal::NotGranted(_)));
    }
}
