//! The SSRF guard: which IP addresses a plugin may connect to, shared by outgoing HTTP
//! ([`super::http`]) and raw TCP ([`super::sockets`]). The classification lives in
//! `plinth-manifest` ([`plinth_manifest::address`]) so the registry client refuses the same
//! ranges without depending on this crate.

pub(crate) use plinth_manifest::address::{Forbidden, forbidden};
