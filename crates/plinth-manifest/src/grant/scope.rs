//! The grammar of grant scopes: host patterns, directory names, channels and app-defined
//! scopes. Kept apart from [`Grant`](super::Grant) so the manifest parser and the grant
//! parser refuse exactly the same strings.

use std::fmt;
use std::str::FromStr;

/// Longest host name DNS allows; a longer pattern can never match anything.
const MAX_HOST_LEN: usize = 253;
/// Longest DNS label.
const MAX_LABEL_LEN: usize = 63;
/// Cap for directory names, channels and custom names: long enough for any sensible name,
/// short enough that a grant list stays readable.
const MAX_NAME_LEN: usize = 64;
/// Custom scopes are app-defined and may be paths or URNs, so they get more room.
const MAX_CUSTOM_SCOPE_LEN: usize = 256;

/// Which hosts a [`HostPattern`] names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Hosts {
    /// `*`: every host.
    Any,
    /// `*.example.com`: every strict subdomain of `example.com` (not `example.com` itself,
    /// as with TLS wildcards).
    SubdomainsOf(String),
    /// `api.example.com`: exactly that host.
    Exact(String),
}

/// A parsed host pattern as used by `http:` and `sockets:` grants: `*`, `*.example.com` or
/// `api.example.com`, optionally followed by `:PORT`. An `http:` pattern may start with a
/// scheme: `https://` changes nothing (https is the default), `http://` also allows plain
/// http to those hosts, which the host otherwise refuses unless its `[network]` allows
/// plain http everywhere.
///
/// Host names are lower case: DNS is case-insensitive, so allowing one spelling keeps
/// comparisons exact. IPv6 literals are not supported.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPattern {
    hosts: Hosts,
    port: Option<u16>,
    /// `http://`: plain http allowed too.
    plain_http: bool,
}

impl HostPattern {
    /// Whether the pattern allows plain http (`http://…`), not only https.
    pub fn allows_plain_http(&self) -> bool {
        self.plain_http
    }

    /// The port the pattern names, if any. `None` means the scheme's default port for
    /// `http:`; `sockets:` patterns always carry one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Whether a request to `host` on `port` (`None` = the scheme's default port) is inside
    /// this pattern. The host is compared without regard to ASCII case.
    pub fn matches(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.to_ascii_lowercase();
        self.covers(&HostPattern {
            hosts: Hosts::Exact(host),
            port,
            plain_http: false,
        })
    }

    /// Whether every host:port `other` names is also named by `self`, for every scheme
    /// `other` allows (an `http://` pattern covers the same hosts over https too).
    pub fn covers(&self, other: &HostPattern) -> bool {
        if self.port != other.port || (other.plain_http && !self.plain_http) {
            return false;
        }
        match (&self.hosts, &other.hosts) {
            (Hosts::Any, _) => true,
            (Hosts::SubdomainsOf(parent), Hosts::Exact(host)) => is_subdomain(host, parent),
            (Hosts::SubdomainsOf(parent), Hosts::SubdomainsOf(child)) => {
                child == parent || is_subdomain(child, parent)
            }
            (Hosts::Exact(a), Hosts::Exact(b)) => a == b,
            _ => false,
        }
    }

    /// Parses a pattern whose port must be present (`sockets:`).
    pub fn parse_with_port(text: &str) -> Result<HostPattern, String> {
        if text.contains("://") {
            return Err(format!(
                "{text:?} has a scheme: a socket pattern is `host:port`"
            ));
        }
        let pattern: HostPattern = text.parse()?;
        if pattern.port.is_none() {
            return Err(format!("{text:?} needs a port: `host:port`"));
        }
        Ok(pattern)
    }
}

fn is_subdomain(host: &str, parent: &str) -> bool {
    host.strip_suffix(parent)
        .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
}

impl FromStr for HostPattern {
    type Err = String;

    /// Parses a pattern; the error is a reason phrase naming the text.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (plain_http, rest) = if let Some(rest) = text.strip_prefix("http://") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("https://") {
            (false, rest)
        } else if text.contains("://") {
            return Err(format!(
                "{text:?} has a scheme other than http:// or https://"
            ));
        } else {
            (false, text)
        };
        if rest.contains('/') {
            return Err(format!(
                "{text:?} has a path: a host pattern names hosts only"
            ));
        }
        if let Some(bracketed) = rest.strip_prefix('[') {
            let (addr, port) = ipv6_literal(text, bracketed)?;
            return Ok(HostPattern {
                hosts: Hosts::Exact(addr),
                port,
                plain_http,
            });
        }
        let (host_part, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(parse_port(text, port)?)),
            None => (rest, None),
        };
        let hosts = if host_part == "*" {
            Hosts::Any
        } else if let Some(parent) = host_part.strip_prefix("*.") {
            check_host_name(text, parent)?;
            Hosts::SubdomainsOf(parent.to_owned())
        } else {
            check_host_name(text, host_part)?;
            Hosts::Exact(host_part.to_owned())
        };
        Ok(HostPattern {
            hosts,
            port,
            plain_http,
        })
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.plain_http {
            f.write_str("http://")?;
        }
        match &self.hosts {
            Hosts::Any => f.write_str("*")?,
            Hosts::SubdomainsOf(parent) => write!(f, "*.{parent}")?,
            Hosts::Exact(host) => f.write_str(host)?,
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// `[ADDR]` or `[ADDR]:PORT` (the text after `[`): the address in its canonical spelling,
/// in brackets as URLs write it, so `[0:0::1]` and `[::1]` are one host.
fn ipv6_literal(text: &str, bracketed: &str) -> Result<(String, Option<u16>), String> {
    let Some((addr, after)) = bracketed.split_once(']') else {
        return Err(format!("{text:?} has `[` without `]`"));
    };
    let addr: std::net::Ipv6Addr = addr
        .parse()
        .map_err(|_| format!("{text:?}: `{addr}` is not an IPv6 address"))?;
    let port = match after {
        "" => None,
        _ => match after.strip_prefix(':') {
            Some(port) => Some(parse_port(text, port)?),
            None => return Err(format!("{text:?} has text after `]` that is not `:PORT`")),
        },
    };
    Ok((format!("[{addr}]"), port))
}

fn parse_port(text: &str, port: &str) -> Result<u16, String> {
    let valid = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    match port.parse::<u16>() {
        Ok(n) if valid && n != 0 => Ok(n),
        _ => Err(format!(
            "{text:?} has a bad port {port:?}: expected a number from 1 to 65535"
        )),
    }
}

fn check_host_name(text: &str, host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err(format!("{text:?} has no host name"));
    }
    if host.len() > MAX_HOST_LEN {
        return Err(format!(
            "{text:?} is longer than a host name can be ({MAX_HOST_LEN} characters)"
        ));
    }
    if host.contains('*') {
        return Err(format!(
            "{text:?} has a `*` inside it: a wildcard may only be the whole first label (`*.example.com`) or the whole pattern (`*`)"
        ));
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!("{text:?} must be lower case"));
    }
    for label in host.split('.') {
        let good_chars = label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if label.is_empty() || label.len() > MAX_LABEL_LEN || !good_chars {
            return Err(format!(
                "{text:?} is not a host name: labels are 1 to {MAX_LABEL_LEN} of a-z, 0-9, '-', '_', separated by '.'"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "{text:?} is not a host name: a label cannot start or end with '-'"
            ));
        }
    }
    Ok(())
}

/// Checks a name from host config `[dirs]` (`fs.read`, `fs.write`, `watch`) or an event
/// channel: `[A-Za-z0-9_][A-Za-z0-9._-]*`. Slashes are refused because grants name
/// directories, never host paths.
pub(crate) fn check_name(text: &str, what: &str) -> Result<(), String> {
    if text.len() > MAX_NAME_LEN {
        return Err(format!(
            "{text:?} is too long for a {what} (at most {MAX_NAME_LEN} characters)"
        ));
    }
    if text.contains('/') || text.contains('\\') {
        return Err(format!(
            "{text:?} is a path; a {what} is a name (from the host's [dirs] table for directories), not a host path"
        ));
    }
    let mut bytes = text.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(format!(
            "{text:?} is not a {what}: use letters, digits, '.', '_' and '-', starting with a letter, digit or '_'"
        ))
    }
}

/// Checks an app-defined capability name: `[a-z][a-z0-9_-]*`. Dots are reserved for Plinth's
/// own capability families (`fs.read`, `events.publish`).
pub(crate) fn check_custom_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
    let rest_ok =
        bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if first_ok && rest_ok && name.len() <= MAX_NAME_LEN {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a capability name: use at most {MAX_NAME_LEN} of a-z, 0-9, '_' and '-', starting with a letter"
        ))
    }
}

/// Checks the scope of an app-defined capability. The app gives it meaning, so the grammar is
/// broad, but it excludes whitespace, quotes and separators that would make a grant list
/// ambiguous to read or to split.
pub(crate) fn check_custom_scope(scope: &str) -> Result<(), String> {
    let ok = scope.len() <= MAX_CUSTOM_SCOPE_LEN
        && scope.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'.' | b'_' | b'-' | b'*' | b'/' | b'@' | b'+' | b'=' | b':'
                )
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{scope:?} is not a scope: use at most {MAX_CUSTOM_SCOPE_LEN} of letters, digits and . _ - * / @ + = :"
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(text: &str) -> HostPattern {
        text.parse().unwrap()
    }

    #[test]
    fn host_pattern_parse_table() {
        let good = [
            "api.example.com",
            "*.github.io",
            "*",
            "*:8080",
            "localhost:8080",
            "127.0.0.1",
            "a_b.example",
            "http://api.local:8080",
            "http://*.lan",
            "[::1]:8080",
            "[fd00::2]:443",
            "http://[::1]",
        ];
        for text in good {
            assert_eq!(p(text).to_string(), text);
        }
        // https is the default: the scheme is accepted and dropped.
        assert_eq!(p("https://a.com:8443"), p("a.com:8443"));
        assert!(p("http://a.com").allows_plain_http());
        assert!(!p("a.com").allows_plain_http());
        let bad = [
            "",
            "API.example.com",
            "api.*.com",
            "**.com",
            "*.",
            "a..b",
            "-a.com",
            "a-.com",
            "a.com:",
            "a.com:0",
            "a.com:65536",
            "a.com:+80",
            "ftp://a.com",
            "http://",
            "http://a.com/path",
            "a.com/path",
            "a com",
            "[::1",
            "[::1]80",
            "[zz::1]",
            "[127.0.0.1]",
            "*.[::1]",
        ];
        for text in bad {
            assert!(text.parse::<HostPattern>().is_err(), "{text}");
        }
        // One host however the address is spelled.
        assert_eq!(p("[0:0::1]:80"), p("[::1]:80"));
        assert_eq!(p("[FD00::2]").to_string(), "[fd00::2]");
        assert!(HostPattern::parse_with_port("a.com").is_err());
        assert!(HostPattern::parse_with_port("http://a.com:22").is_err());
        assert_eq!(
            HostPattern::parse_with_port("a.com:22").unwrap().port(),
            Some(22)
        );
    }

    #[test]
    fn host_pattern_matching_table() {
        let cases = [
            ("api.example.com", "api.example.com", None, true),
            ("api.example.com", "API.example.com", None, true),
            ("api.example.com", "api.example.com", Some(8080), false),
            ("api.example.com:8080", "api.example.com", Some(8080), true),
            ("*.example.com", "api.example.com", None, true),
            ("*.example.com", "a.b.example.com", None, true),
            ("*.example.com", "example.com", None, false),
            ("*.example.com", "badexample.com", None, false),
            ("*", "anything.at.all", None, true),
            ("*", "anything", Some(1), false),
        ];
        for (pattern, host, port, expected) in cases {
            assert_eq!(
                p(pattern).matches(host, port),
                expected,
                "{pattern} vs {host}"
            );
        }
    }

    #[test]
    fn host_pattern_cover_table() {
        let cases = [
            ("*.example.com", "api.example.com", true),
            ("*.example.com", "*.api.example.com", true),
            ("*.example.com", "*.example.com", true),
            ("*.example.com", "*", false),
            ("api.example.com", "*.example.com", false),
            ("*", "*.example.com", true),
            ("*.example.com:443", "api.example.com", false),
            // An http:// pattern also allows plain http; a bare one only https.
            ("http://a.com", "a.com", true),
            ("http://a.com", "http://a.com", true),
            ("a.com", "http://a.com", false),
            ("http://*.lan", "http://x.lan", true),
            ("*", "http://a.com", false),
        ];
        for (a, b, expected) in cases {
            assert_eq!(p(a).covers(&p(b)), expected, "{a} covers {b}");
        }
    }

    #[test]
    fn names_and_scopes() {
        assert!(check_name("data", "directory name").is_ok());
        assert!(check_name("_cache-2.x", "directory name").is_ok());
        for bad in ["", ".hidden", "..", "a/b", "/abs", "a b", &"x".repeat(65)] {
            assert!(check_name(bad, "directory name").is_err(), "{bad}");
        }
        assert!(check_custom_name("retrieval").is_ok());
        for bad in ["", "Retrieval", "1x", "a.b", "a:b"] {
            assert!(check_custom_name(bad).is_err(), "{bad}");
        }
        assert!(check_custom_scope("docs/*").is_ok());
        assert!(check_custom_scope("a\"b").is_err());
    }
}
