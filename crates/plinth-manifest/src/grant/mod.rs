//! Grants (DESIGN §3.3): what the operator allows a plugin to do.
//!
//! A grant string is `CAPABILITY[:SCOPE]`, e.g. `log`, `http:api.example.com`,
//! `fs.read:data`, `events.publish:discovery`, `sockets:db.internal:5432`, or an app-defined
//! capability such as `retrieval` / `retrieval:docs`. Access is two-sided: a plugin reaches a
//! capability only where its manifest requested it *and* the operator granted it, which is
//! what [`GrantSet::effective`] computes.

mod scope;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::diagnostic::{Code, Diagnostic, ToDiagnostic};
pub use scope::HostPattern;

/// One permission, as written in `plugins.toml` `grants = [...]` or `plinth grant ID G`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grant {
    /// `log`: write to the plugin's log.
    Log,
    /// `config`: read the plugin's settings.
    Config,
    /// `http:<host-pattern>`: outgoing HTTP to matching hosts (see [`HostPattern`]).
    Http(String),
    /// `fs.read:<dir-name>`: read a directory named in host config `[dirs]`.
    FsRead(String),
    /// `fs.write:<dir-name>`: read and write a directory named in host config `[dirs]`.
    FsWrite(String),
    /// `watch:<dir-name>`: receive change events for a directory.
    Watch(String),
    /// `kv`: the plugin's key-value store.
    Kv,
    /// `events.publish:<channel>`: publish on an event channel.
    EventsPublish(String),
    /// `sockets:<host:port>`: raw TCP to a host and port.
    Sockets(String),
    /// `websocket:<endpoint>`: send and close frames on the host-owned WebSocket
    /// connections of an endpoint the operator configured (a service's output commands).
    WebSocket(String),
    /// An app-defined capability registered by the embedder, e.g. `retrieval` or
    /// `retrieval:docs`.
    Custom {
        /// The capability name (`[a-z][a-z0-9_-]*`).
        name: String,
        /// The app-defined scope, if any. An unscoped grant allows every scope.
        scope: Option<String>,
    },
}

/// Plinth's own capabilities and what their scope is, so parse errors can show the form.
const BUILTIN: &[(&str, Option<&str>)] = &[
    ("log", None),
    ("config", None),
    ("http", Some("<host-pattern>")),
    ("fs.read", Some("<dir-name>")),
    ("fs.write", Some("<dir-name>")),
    ("watch", Some("<dir-name>")),
    ("kv", None),
    ("events.publish", Some("<channel>")),
    ("sockets", Some("<host:port>")),
    ("websocket", Some("<endpoint>")),
];

impl Grant {
    /// The capability part of the grant: `"log"`, `"http"`, `"fs.read"`, …, or the custom
    /// capability's name.
    pub fn capability_name(&self) -> &str {
        match self {
            Grant::Log => "log",
            Grant::Config => "config",
            Grant::Http(_) => "http",
            Grant::FsRead(_) => "fs.read",
            Grant::FsWrite(_) => "fs.write",
            Grant::Watch(_) => "watch",
            Grant::Kv => "kv",
            Grant::EventsPublish(_) => "events.publish",
            Grant::Sockets(_) => "sockets",
            Grant::WebSocket(_) => "websocket",
            Grant::Custom { name, .. } => name,
        }
    }

    /// The scope part of the grant, if it has one.
    pub fn scope(&self) -> Option<&str> {
        match self {
            Grant::Log | Grant::Config | Grant::Kv => None,
            Grant::Http(s)
            | Grant::FsRead(s)
            | Grant::FsWrite(s)
            | Grant::Watch(s)
            | Grant::EventsPublish(s)
            | Grant::Sockets(s)
            | Grant::WebSocket(s) => Some(s),
            Grant::Custom { scope, .. } => scope.as_deref(),
        }
    }

    /// Whether `self` permits everything `other` permits: equal grants; `fs.write:X` covers
    /// `fs.read:X` (write implies read); a host pattern covers the hosts inside it
    /// (`http:*.example.com` covers `http:api.example.com`); an unscoped custom capability
    /// covers every scope of it.
    pub fn covers(&self, other: &Grant) -> bool {
        match (self, other) {
            (a, b) if a == b => true,
            (Grant::FsWrite(w), Grant::FsRead(r)) => w == r,
            (Grant::Http(a), Grant::Http(b)) | (Grant::Sockets(a), Grant::Sockets(b)) => {
                match (a.parse::<HostPattern>(), b.parse::<HostPattern>()) {
                    (Ok(a), Ok(b)) => a.covers(&b),
                    _ => false,
                }
            }
            (
                Grant::Custom {
                    name: a,
                    scope: None,
                },
                Grant::Custom { name: b, .. },
            ) => a == b,
            _ => false,
        }
    }

    /// Whether some request in `requested` overlaps this grant, i.e. the grant has an effect.
    /// `plinth grant` warns when it does not.
    pub fn is_requested(&self, requested: &[Grant]) -> bool {
        requested.iter().any(|r| r.covers(self) || self.covers(r))
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.capability_name())?;
        if let Some(scope) = self.scope() {
            write!(f, ":{scope}")?;
        }
        Ok(())
    }
}

impl FromStr for Grant {
    type Err = GrantError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_grant(text).map_err(|kind| GrantError {
            input: text.to_owned(),
            kind,
        })
    }
}

fn parse_grant(text: &str) -> Result<Grant, GrantErrorKind> {
    if text.is_empty() {
        return Err(GrantErrorKind::Empty);
    }
    if text.chars().any(char::is_whitespace) {
        return Err(GrantErrorKind::Whitespace);
    }
    if let Some(c) = text.chars().find(|c| c.is_control() || !c.is_ascii()) {
        return Err(GrantErrorKind::BadCharacter(c));
    }
    // Split at the first colon only: a `sockets` scope is itself `host:port`.
    let (capability, scope) = match text.split_once(':') {
        Some((capability, scope)) => (capability, Some(scope)),
        None => (text, None),
    };
    if scope == Some("") {
        return Err(GrantErrorKind::EmptyScope {
            capability: capability.to_owned(),
        });
    }
    match BUILTIN.iter().find(|(name, _)| *name == capability) {
        Some((_, form)) => parse_builtin(capability, *form, scope),
        None => parse_custom(capability, scope),
    }
}

fn parse_builtin(
    capability: &str,
    form: Option<&str>,
    scope: Option<&str>,
) -> Result<Grant, GrantErrorKind> {
    let scope = match (form, scope) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(GrantErrorKind::UnexpectedScope {
                capability: capability.to_owned(),
            });
        }
        (Some(form), None) => {
            return Err(GrantErrorKind::MissingScope {
                capability: capability.to_owned(),
                form: form.to_owned(),
            });
        }
        (Some(_), Some(scope)) => Some(scope),
    };
    let bad_scope = |reason: String| GrantErrorKind::BadScope {
        capability: capability.to_owned(),
        reason,
    };
    let owned = || scope.unwrap_or_default().to_owned();
    let checked = |what: &str| {
        scope::check_name(scope.unwrap_or_default(), what)
            .map(|()| owned())
            .map_err(bad_scope)
    };
    Ok(match capability {
        "log" => Grant::Log,
        "config" => Grant::Config,
        "kv" => Grant::Kv,
        "http" => {
            let pattern: HostPattern = owned().parse().map_err(bad_scope)?;
            Grant::Http(pattern.to_string())
        }
        "sockets" => {
            let pattern = HostPattern::parse_with_port(&owned()).map_err(bad_scope)?;
            Grant::Sockets(pattern.to_string())
        }
        "fs.read" => Grant::FsRead(checked("directory name")?),
        "fs.write" => Grant::FsWrite(checked("directory name")?),
        "watch" => Grant::Watch(checked("directory name")?),
        "events.publish" => Grant::EventsPublish(checked("channel name")?),
        "websocket" => Grant::WebSocket(checked("endpoint name")?),
        _ => {
            return Err(GrantErrorKind::UnknownCapability {
                name: capability.to_owned(),
            });
        }
    })
}

fn parse_custom(name: &str, scope: Option<&str>) -> Result<Grant, GrantErrorKind> {
    // A dotted name belongs to a Plinth capability family; an unknown one is most likely a
    // typo (`fs.exec`, `event.publish`) that must not silently become an app capability.
    if name.contains('.') || name == "fs" || name == "events" {
        return Err(GrantErrorKind::UnknownCapability {
            name: name.to_owned(),
        });
    }
    scope::check_custom_name(name).map_err(|reason| GrantErrorKind::BadCapabilityName {
        name: name.to_owned(),
        reason,
    })?;
    if let Some(scope) = scope {
        scope::check_custom_scope(scope).map_err(|reason| GrantErrorKind::BadScope {
            capability: name.to_owned(),
            reason,
        })?;
    }
    Ok(Grant::Custom {
        name: name.to_owned(),
        scope: scope.map(str::to_owned),
    })
}

impl Serialize for Grant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Grant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A grant string that does not parse, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid grant {input:?}: {kind}")]
pub struct GrantError {
    /// The string as given.
    pub input: String,
    /// What is wrong with it.
    pub kind: GrantErrorKind,
}

/// The ways a grant string can be malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantErrorKind {
    /// The string is empty.
    #[error("a grant cannot be empty")]
    Empty,
    /// The string contains whitespace.
    #[error("a grant contains no whitespace")]
    Whitespace,
    /// The string contains a control or non-ASCII character.
    #[error("{0:?} is not allowed in a grant")]
    BadCharacter(char),
    /// A capability that needs a scope has none (`http`).
    #[error("`{capability}` needs a scope: `{capability}:{form}`")]
    MissingScope {
        /// The capability.
        capability: String,
        /// The form of its scope, e.g. `<host-pattern>`.
        form: String,
    },
    /// A colon with nothing after it (`http:`).
    #[error("the scope after `{capability}:` is empty")]
    EmptyScope {
        /// The capability.
        capability: String,
    },
    /// A capability that takes no scope has one (`kv:x`).
    #[error("`{capability}` takes no scope")]
    UnexpectedScope {
        /// The capability.
        capability: String,
    },
    /// A dotted capability Plinth does not know (`fs.exec`), or a bare family (`fs`).
    #[error(
        "unknown capability `{name}`: Plinth's are log, config, http, fs.read, fs.write, watch, kv, events.publish, sockets"
    )]
    UnknownCapability {
        /// The capability as written.
        name: String,
    },
    /// An app-defined capability name with bad characters.
    #[error("{reason}")]
    BadCapabilityName {
        /// The capability as written.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// A scope that does not fit its capability's grammar.
    #[error("bad `{capability}` scope: {reason}")]
    BadScope {
        /// The capability.
        capability: String,
        /// Why the scope is refused.
        reason: String,
    },
}

impl ToDiagnostic for GrantError {
    /// A malformed grant is something a person typed (`plinth grant`, `--grant`,
    /// `plugins.toml`), so it is reported as `bad-argument`.
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(Code::BadArgument, self.to_string()).with_hint(
            "write grants as CAPABILITY[:SCOPE], e.g. log, http:api.example.com, fs.read:data, kv, events.publish:discovery",
        )
    }
}

/// A set of grants, e.g. what the operator granted one plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantSet {
    grants: BTreeSet<Grant>,
}

impl GrantSet {
    /// An empty set.
    pub fn new() -> GrantSet {
        GrantSet::default()
    }

    /// Parses every string, failing on the first malformed one.
    pub fn parse_all<I, S>(strings: I) -> Result<GrantSet, GrantError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        strings.into_iter().map(|s| s.as_ref().parse()).collect()
    }

    /// Whether the set holds exactly this grant (no coverage rules; see [`Grant::covers`]).
    pub fn contains(&self, grant: &Grant) -> bool {
        self.grants.contains(grant)
    }

    /// Whether some grant in the set covers `grant` (see [`Grant::covers`]).
    pub fn allows(&self, grant: &Grant) -> bool {
        self.grants.iter().any(|g| g.covers(grant))
    }

    /// The grants, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = &Grant> + '_ {
        self.grants.iter()
    }

    /// Adds a grant; returns whether it was new.
    pub fn insert(&mut self, grant: Grant) -> bool {
        self.grants.insert(grant)
    }

    /// Removes a grant; returns whether it was present.
    pub fn remove(&mut self, grant: &Grant) -> bool {
        self.grants.remove(grant)
    }

    /// The number of grants.
    pub fn len(&self) -> usize {
        self.grants.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.grants.is_empty()
    }

    /// What a plugin may actually use: the intersection of what its manifest `requested` and
    /// what was `granted`.
    ///
    /// A granted grant is effective when a request covers it (`fs.write:X` requested covers a
    /// granted `fs.read:X`; requested `http:*.example.com` covers a granted
    /// `http:api.example.com`; a requested unscoped custom capability covers any grant of it).
    /// When instead a grant is broader than a request (granted `http:*.example.com`, requested
    /// `http:api.example.com`), the request itself is effective: both sides agreed to it.
    pub fn effective(requested: &[Grant], granted: &GrantSet) -> GrantSet {
        let mut effective = GrantSet::new();
        for grant in granted.iter() {
            for request in requested {
                if request.covers(grant) {
                    effective.insert(grant.clone());
                } else if grant.covers(request) {
                    effective.insert(request.clone());
                }
            }
        }
        effective
    }

    /// The requests that no grant overlaps: what the operator still has to consent to.
    pub fn ungranted(requested: &[Grant], granted: &GrantSet) -> Vec<Grant> {
        let mut missing: Vec<Grant> = Vec::new();
        for request in requested {
            let overlapped = granted
                .iter()
                .any(|g| request.covers(g) || g.covers(request));
            if !overlapped && !missing.contains(request) {
                missing.push(request.clone());
            }
        }
        missing
    }
}

impl FromIterator<Grant> for GrantSet {
    fn from_iter<T: IntoIterator<Item = Grant>>(iter: T) -> Self {
        GrantSet {
            grants: iter.into_iter().collect(),
        }
    }
}

impl Extend<Grant> for GrantSet {
    fn extend<T: IntoIterator<Item = Grant>>(&mut self, iter: T) {
        self.grants.extend(iter);
    }
}

impl IntoIterator for GrantSet {
    type Item = Grant;
    type IntoIter = std::collections::btree_set::IntoIter<Grant>;

    fn into_iter(self) -> Self::IntoIter {
        self.grants.into_iter()
    }
}

impl<'a> IntoIterator for &'a GrantSet {
    type Item = &'a Grant;
    type IntoIter = std::collections::btree_set::Iter<'a, Grant>;

    fn into_iter(self) -> Self::IntoIter {
        self.grants.iter()
    }
}

impl Serialize for GrantSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.grants.iter())
    }
}

impl<'de> Deserialize<'de> for GrantSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(GrantSet {
            grants: BTreeSet::deserialize(deserializer)?,
        })
    }
}
