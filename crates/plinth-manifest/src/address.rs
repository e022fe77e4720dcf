//! The SSRF address classification: which IP addresses are not public unicast ones, and
//! why. Shared by the plugin HTTP guard (`plinth-host`) and the registry client
//! (`plinth-registry`), so both refuse the same ranges for the same reasons.
//!
//! Callers run the check on the addresses a name actually resolved to, at connect time, so a
//! name that resolves to a private address (DNS rebinding, `localhost`) is refused like the
//! literal address would be. Literal hosts in every spelling the WHATWG URL parser accepts
//! (`2130706433`, `0x7f.1`, `017700000001`) are normalised by that parser to the same
//! [`IpAddr`] before they get here.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is off limits. `Display` is the reason shown to the user or plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `100.64/10` (carrier-grade NAT).
    SharedNat,
    /// `169.254/16` (includes the cloud metadata address `169.254.169.254`), `fe80::/10`.
    LinkLocal,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18/15`.
    Benchmark,
    /// `192.0.0/24`, `192.88.99/24`, `240/4`, `100::/64`, `2001::/23` and the deprecated
    /// site-local `fec0::/10`.
    Reserved,
    /// `fc00::/7`.
    UniqueLocal,
    /// An IPv6 address that carries an IPv4 one: IPv4-mapped `::ffff:0:0/96`,
    /// IPv4-compatible `::/96`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`.
    /// These reach IPv4 hosts behind the guard's back, so they are refused outright.
    EmbedsIpv4,
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Forbidden::Unspecified => "an unspecified address",
            Forbidden::Loopback => "a loopback address",
            Forbidden::Private => "a private-network address",
            Forbidden::SharedNat => "a carrier-grade NAT address",
            Forbidden::LinkLocal => "a link-local address (incl. cloud metadata)",
            Forbidden::Multicast => "a multicast address",
            Forbidden::Broadcast => "the broadcast address",
            Forbidden::Documentation => "a documentation address",
            Forbidden::Benchmark => "a benchmarking address",
            Forbidden::Reserved => "a reserved address",
            Forbidden::UniqueLocal => "an IPv6 unique-local address",
            Forbidden::EmbedsIpv4 => "an IPv6 address embedding an IPv4 one",
        })
    }
}

/// Why `addr` may not be connected to, or `None` if it is a public unicast address.
pub fn forbidden(addr: IpAddr) -> Option<Forbidden> {
    match addr {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn in_v4(addr: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(addr) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn forbidden_v4(a: Ipv4Addr) -> Option<Forbidden> {
    use Forbidden::*;
    const TABLE: &[([u8; 4], u32, Forbidden)] = &[
        ([0, 0, 0, 0], 8, Unspecified),
        ([10, 0, 0, 0], 8, Private),
        ([100, 64, 0, 0], 10, SharedNat),
        ([127, 0, 0, 0], 8, Loopback),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([172, 16, 0, 0], 12, Private),
        ([192, 0, 0, 0], 24, Reserved),
        ([192, 0, 2, 0], 24, Documentation),
        ([192, 88, 99, 0], 24, Reserved),
        ([192, 168, 0, 0], 16, Private),
        ([198, 18, 0, 0], 15, Benchmark),
        ([198, 51, 100, 0], 24, Documentation),
        ([203, 0, 113, 0], 24, Documentation),
        ([255, 255, 255, 255], 32, Broadcast),
        ([224, 0, 0, 0], 4, Multicast),
        ([240, 0, 0, 0], 4, Reserved),
    ];
    TABLE
        .iter()
        .find(|(net, prefix, _)| in_v4(a, *net, *prefix))
        .map(|(_, _, why)| *why)
}

fn in_v6(addr: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(addr) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn forbidden_v6(a: Ipv6Addr) -> Option<Forbidden> {
    use Forbidden::*;
    if a.is_unspecified() {
        return Some(Unspecified);
    }
    if a.is_loopback() {
        return Some(Loopback);
    }
    const TABLE: &[([u16; 8], u32, Forbidden)] = &[
        ([0, 0, 0, 0, 0, 0xffff, 0, 0], 96, EmbedsIpv4),
        ([0, 0, 0, 0, 0, 0, 0, 0], 96, EmbedsIpv4),
        ([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, EmbedsIpv4),
        ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, EmbedsIpv4),
        ([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, EmbedsIpv4),
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, Reserved),
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, Documentation),
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, Reserved),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, Documentation),
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, UniqueLocal),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, LinkLocal),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, Reserved),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, Multicast),
    ];
    TABLE
        .iter()
        .find(|(net, prefix, _)| in_v6(a, *net, *prefix))
        .map(|(_, _, why)| *why)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        use Forbidden::*;
        let cases: &[(&str, Option<Forbidden>)] = &[
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Unspecified)),
            ("127.0.0.1", Some(Loopback)),
            ("127.255.255.254", Some(Loopback)),
            ("10.0.0.1", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("172.32.0.1", None),
            ("192.168.1.1", Some(Private)),
            ("100.64.0.1", Some(SharedNat)),
            ("100.127.255.255", Some(SharedNat)),
            ("100.128.0.1", None),
            ("169.254.169.254", Some(LinkLocal)),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.250", Some(Multicast)),
            ("255.255.255.255", Some(Broadcast)),
            ("240.0.0.1", Some(Reserved)),
            ("192.0.0.8", Some(Reserved)),
            ("192.0.2.1", Some(Documentation)),
            ("198.51.100.7", Some(Documentation)),
            ("203.0.113.9", Some(Documentation)),
            ("198.18.0.1", Some(Benchmark)),
            ("198.19.255.255", Some(Benchmark)),
            ("198.20.0.1", None),
            ("8.8.8.8", None),
            ("93.184.216.34", None),
            ("::", Some(Unspecified)),
            ("::1", Some(Loopback)),
            ("::ffff:127.0.0.1", Some(EmbedsIpv4)),
            ("::ffff:8.8.8.8", Some(EmbedsIpv4)),
            ("::127.0.0.1", Some(EmbedsIpv4)),
            ("64:ff9b::7f00:1", Some(EmbedsIpv4)),
            ("64:ff9b:1::1", Some(EmbedsIpv4)),
            ("2002:7f00:1::", Some(EmbedsIpv4)),
            ("fc00::1", Some(UniqueLocal)),
            ("fd12:3456::1", Some(UniqueLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("fec0::1", Some(Reserved)),
            ("ff02::1", Some(Multicast)),
            ("2001:db8::1", Some(Documentation)),
            ("3fff::1", Some(Documentation)),
            ("100::1", Some(Reserved)),
            ("2001::1", Some(Reserved)),
            ("2606:4700::1111", None),
            ("2a00:1450:4001::200e", None),
        ];
        for (text, expected) in cases {
            let addr: IpAddr = text.parse().unwrap();
            assert_eq!(forbidden(addr), *expected, "{text}");
        }
    }
}
