//! Which TCP destinations a plugin may reach: the `sockets:` grants, and the address
//! classification the HTTP capability's SSRF guard uses ([`crate::caps::guard`]).
//!
//! A destination is an address and a port. It is granted when a `sockets:` grant covers
//! the address itself (`sockets:10.0.0.5:5432`) or a name the host resolved to that address
//! for this plugin (`sockets:db.internal:5432`). A granted address that is not public
//! unicast is still refused, unless the grant names that very address (not a pattern, not a
//! name) and it is a loopback, private, carrier-grade NAT or unique-local one: an operator
//! who writes `sockets:127.0.0.1:5432` means it. Link-local addresses (the cloud metadata
//! service among them), multicast, broadcast, unspecified, reserved and IPv4-embedding IPv6
//! addresses are refused whatever the grants say.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use plinth_manifest::Grant;
use plinth_manifest::grant::{GrantSet, HostPattern};

use crate::caps::guard::{Forbidden, forbidden};

/// Why a connection or a name lookup was refused. `Display` is the operator's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `sockets:` grant covers the destination; carries the grant that would.
    NotGranted(Grant),
    /// No `sockets:` grant names this host, so the host does not look it up.
    LookupNotGranted(String),
    /// The address is one the guard refuses (for this grant).
    Address {
        /// The destination.
        addr: SocketAddr,
        /// The name it was reached by, if any.
        name: Option<String>,
        /// Its range.
        why: Forbidden,
    },
    /// UDP, binding or listening: no grant allows them.
    Unsupported(&'static str),
    /// The plugin holds as many sockets as `[sockets] max_open` allows.
    TooManyOpen(u32),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotGranted(grant) => {
                write!(f, "no grant covers this destination: needs `{grant}`")
            }
            Refusal::LookupNotGranted(name) => write!(
                f,
                "looking up `{name}` needs a `sockets:{name}:PORT` grant; the host resolves only granted names"
            ),
            Refusal::Address { addr, name, why } => {
                let reached = match name {
                    Some(name) => format!("{name} resolves to {}", addr.ip()),
                    None => addr.ip().to_string(),
                };
                if opened_by_exact_grant(*why) {
                    write!(
                        f,
                        "{reached}, {why}: refused unless a grant names the address itself (`{}`)",
                        address_grant(*addr)
                    )
                } else {
                    write!(f, "{reached}, {why}: no grant opens it")
                }
            }
            Refusal::Unsupported(what) => write!(f, "{what} is not allowed: no grant opens it"),
            Refusal::TooManyOpen(max) => write!(
                f,
                "the plugin already holds {max} open sockets, the host's limit ([sockets] max_open)"
            ),
        }
    }
}

impl Refusal {
    /// The grant that would allow what was refused, when one would.
    pub(crate) fn grant(&self) -> Option<Grant> {
        match self {
            Refusal::NotGranted(grant) => Some(grant.clone()),
            Refusal::Address { addr, why, .. } if opened_by_exact_grant(*why) => {
                Some(address_grant(*addr))
            }
            _ => None,
        }
    }
}

/// The ranges a grant naming the address itself opens: where databases live.
fn opened_by_exact_grant(why: Forbidden) -> bool {
    matches!(
        why,
        Forbidden::Loopback | Forbidden::Private | Forbidden::SharedNat | Forbidden::UniqueLocal
    )
}

/// `sockets:ADDR:PORT`, an IPv6 address in brackets (`sockets:[fd00::5]:5432`).
pub(crate) fn address_grant(addr: SocketAddr) -> Grant {
    match addr.ip() {
        IpAddr::V4(ip) => Grant::Sockets(format!("{ip}:{}", addr.port())),
        IpAddr::V6(ip) => Grant::Sockets(format!("[{ip}]:{}", addr.port())),
    }
}

/// `sockets:NAME:PORT`.
fn name_grant(name: &str, port: u16) -> Grant {
    Grant::Sockets(format!("{name}:{port}"))
}

/// A host name as grants spell it: lower case, without a trailing dot.
pub(crate) fn normal_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Decides a connection to `addr`, which the plugin reached by `names` (the names the host
/// resolved to this address for it; empty for an address the plugin wrote itself). `Ok` is
/// the grant that allows it.
pub(crate) fn decide(
    grants: &GrantSet,
    addr: SocketAddr,
    names: &[String],
) -> Result<Grant, Refusal> {
    let exact = address_grant(addr);
    let candidates = std::iter::once(exact.clone())
        .chain(names.iter().map(|name| name_grant(name, addr.port())));
    let Some(grant) = candidates.clone().find(|g| grants.allows(g)) else {
        let wanted = names
            .first()
            .map_or(exact, |name| name_grant(name, addr.port()));
        return Err(Refusal::NotGranted(wanted));
    };
    match forbidden(addr.ip()) {
        None => Ok(grant),
        Some(why) if opened_by_exact_grant(why) && grants.contains(&exact) => Ok(exact),
        Some(why) => Err(Refusal::Address {
            addr,
            // The name by which the plugin got here, if the grant was for a name.
            name: (grant != exact).then(|| names.first().cloned()).flatten(),
            why,
        }),
    }
}

/// Whether the host looks `name` up for a plugin with `grants`: some `sockets:` grant's
/// host pattern matches it (whatever the port).
pub(crate) fn may_resolve(grants: &GrantSet, name: &str) -> bool {
    grants.iter().any(|grant| match grant {
        Grant::Sockets(scope) => scope
            .parse::<HostPattern>()
            .is_ok_and(|pattern| pattern.matches(name, pattern.port())),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(list: &[&str]) -> GrantSet {
        GrantSet::parse_all(list).unwrap()
    }

    fn at(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn decision_table() {
        let set = grants(&[
            "sockets:db.example.com:5432",
            "sockets:*.pool.example.com:6432",
            "sockets:127.0.0.1:5432",
            "sockets:[fd00::5]:5432",
            "sockets:169.254.169.254:80",
            "sockets:*:7000",
            "sockets:db.internal:5432",
        ]);
        enum Want {
            Ok,
            NotGranted,
            Address,
        }
        use Want::*;
        let db = ["db.example.com".to_string()];
        let pool = ["a.pool.example.com".to_string()];
        let internal = ["db.internal".to_string()];
        let cases: &[(&str, &[String], Want)] = &[
            // A public address, reached by a granted name or pattern.
            ("93.184.216.34:5432", &db, Ok),
            ("93.184.216.34:6432", &pool, Ok),
            ("93.184.216.34:5433", &db, NotGranted),
            ("93.184.216.34:5432", &[], NotGranted),
            ("93.184.216.34:7000", &[], Ok),
            // Loopback and private: only where the grant names the address itself.
            ("127.0.0.1:5432", &[], Ok),
            ("127.0.0.1:5433", &[], NotGranted),
            ("127.0.0.2:5432", &[], NotGranted),
            ("127.0.0.1:7000", &[], Address),
            ("10.0.0.5:5432", &internal, Address),
            ("[fd00::5]:5432", &[], Ok),
            ("[::ffff:127.0.0.1]:5432", &[], NotGranted),
            // Link-local (metadata) is refused even when named.
            ("169.254.169.254:80", &[], Address),
            ("[fe80::1]:7000", &[], Address),
            ("0.0.0.0:7000", &[], Address),
        ];
        for (addr, names, want) in cases {
            let got = decide(&set, at(addr), names);
            let ok = matches!(
                (&got, want),
                (Result::Ok(_), Ok)
                    | (Err(Refusal::NotGranted(_)), NotGranted)
                    | (Err(Refusal::Address { .. }), Address)
            );
            assert!(ok, "{addr} via {names:?}: got {got:?}");
        }
    }

    #[test]
    fn refusals_name_the_grant_to_give() {
        let none = GrantSet::new();
        let err = decide(&none, at("127.0.0.1:5432"), &[]).unwrap_err();
        assert_eq!(err.grant(), Some("sockets:127.0.0.1:5432".parse().unwrap()));
        assert_eq!(
            err.to_string(),
            "no grant covers this destination: needs `sockets:127.0.0.1:5432`"
        );
        let err = decide(&none, at("[::1]:5432"), &[]).unwrap_err();
        assert_eq!(err.grant(), Some("sockets:[::1]:5432".parse().unwrap()));
        let err = decide(&none, at("10.1.2.3:5432"), &["db.lan".into()]).unwrap_err();
        assert_eq!(err.grant(), Some("sockets:db.lan:5432".parse().unwrap()));
        // A name that resolves to a private address: the grant to give is the address's.
        let set = grants(&["sockets:db.lan:5432"]);
        let err = decide(&set, at("10.1.2.3:5432"), &["db.lan".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "db.lan resolves to 10.1.2.3, a private-network address: refused unless a grant names the address itself (`sockets:10.1.2.3:5432`)"
        );
        assert_eq!(err.grant(), Some("sockets:10.1.2.3:5432".parse().unwrap()));
        let set = grants(&["sockets:169.254.169.254:80"]);
        let err = decide(&set, at("169.254.169.254:80"), &[]).unwrap_err();
        assert_eq!(err.grant(), None);
        assert!(err.to_string().contains("no grant opens it"), "{err}");
    }

    #[test]
    fn lookups_only_of_granted_names() {
        let set = grants(&[
            "sockets:db.example.com:5432",
            "sockets:*.pool.lan:6432",
            "kv",
        ]);
        assert!(may_resolve(&set, "db.example.com"));
        assert!(may_resolve(&set, "DB.example.com"));
        assert!(may_resolve(&set, "a.pool.lan"));
        assert!(!may_resolve(&set, "pool.lan"));
        assert!(!may_resolve(&set, "evil.example.com"));
        assert!(!may_resolve(&GrantSet::new(), "db.example.com"));
        assert_eq!(normal_name("DB.Example.com."), "db.example.com");
    }
}
