//! `oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]` references and the plain-HTTP rule.

use std::fmt;
use std::str::FromStr;

use crate::error::RegistryError;

/// The scheme prefix every Plinth OCI reference starts with.
pub const OCI_SCHEME: &str = "oci://";

/// A parsed `oci://` reference: registry host (with port), repository, and a tag or a digest.
///
/// Unlike Docker's short names there is no default registry: the host is always written, so a
/// reference never silently goes to a public registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciReference {
    registry: String,
    repository: String,
    target: Target,
}

/// What a reference points at inside its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A tag such as `1.2.0` or `latest`.
    Tag(String),
    /// A manifest digest, `sha256:<64 hex>`.
    Digest(String),
}

/// Whether to talk plain HTTP to a registry instead of HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// HTTPS, except for loopback hosts (`127.0.0.1`, `localhost`, `[::1]`), which use HTTP.
    #[default]
    Auto,
    /// Plain HTTP for every host (`--plain-http`).
    PlainHttp,
}

impl Transport {
    /// [`Transport::PlainHttp`] when `plain_http` (a `--plain-http` flag), else
    /// [`Transport::Auto`].
    pub fn plain_if(plain_http: bool) -> Transport {
        if plain_http {
            Transport::PlainHttp
        } else {
            Transport::Auto
        }
    }
}

impl OciReference {
    /// The registry host, with its port when one was written (`127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The host without its port.
    pub fn host(&self) -> &str {
        if let Some(rest) = self.registry.strip_prefix('[') {
            return rest.split(']').next().unwrap_or(rest);
        }
        self.registry.split(':').next().unwrap_or(&self.registry)
    }

    /// The repository path, e.g. `plugins/hello`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag or digest.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The same repository at another target (used to name a pushed manifest by its digest).
    pub fn with_target(&self, target: Target) -> OciReference {
        OciReference {
            target,
            ..self.clone()
        }
    }

    /// Whether this registry is spoken to over plain HTTP under `transport`: always with
    /// [`Transport::PlainHttp`], and for loopback hosts with [`Transport::Auto`].
    pub fn uses_plain_http(&self, transport: Transport) -> bool {
        match transport {
            Transport::PlainHttp => true,
            Transport::Auto => matches!(self.host(), "127.0.0.1" | "localhost" | "::1"),
        }
    }
}

impl fmt::Display for OciReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{OCI_SCHEME}{}/{}", self.registry, self.repository)?;
        match &self.target {
            Target::Tag(tag) => write!(f, ":{tag}"),
            Target::Digest(digest) => write!(f, "@{digest}"),
        }
    }
}

fn bad(reference: &str, reason: impl Into<String>) -> RegistryError {
    RegistryError::BadReference {
        reference: reference.to_owned(),
        reason: reason.into(),
    }
}

fn valid_host(registry: &str) -> bool {
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        match rest.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, port)) => match port.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return false,
            },
            None => return false,
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p != 0));
    host_ok && port_ok
}

/// The OCI distribution grammar for repository names: lower-case path components of
/// `[a-z0-9]+` joined by `.`, `_`, `__` or `-` runs, separated by `/`.
fn valid_repository(repository: &str) -> bool {
    !repository.is_empty()
        && repository.len() <= 255
        && repository.split('/').all(|component| {
            let bytes = component.as_bytes();
            !bytes.is_empty()
                && bytes[0].is_ascii_alphanumeric()
                && bytes[bytes.len() - 1].is_ascii_alphanumeric()
                && bytes.iter().all(|&b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        })
}

/// The OCI tag grammar: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn valid_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

impl FromStr for OciReference {
    type Err = RegistryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let Some(rest) = text.strip_prefix(OCI_SCHEME) else {
            return Err(bad(text, "it must start with `oci://`"));
        };
        let Some((registry, path)) = rest.split_once('/') else {
            return Err(bad(text, "it names no repository after the host"));
        };
        if !valid_host(registry) {
            return Err(bad(text, format!("`{registry}` is not a host[:port]")));
        }
        let (repository, target) = if let Some((repository, digest)) = path.split_once('@') {
            if !valid_digest(digest) {
                return Err(bad(
                    text,
                    format!("`{digest}` is not a sha256:<64 lower-case hex> digest"),
                ));
            }
            (repository, Target::Digest(digest.to_owned()))
        } else {
            // The tag follows the last `:` after the last `/`.
            let last_slash = path.rfind('/').map_or(0, |i| i + 1);
            match path[last_slash..].rfind(':') {
                Some(i) => {
                    let tag = &path[last_slash + i + 1..];
                    if !valid_tag(tag) {
                        return Err(bad(text, format!("`{tag}` is not a valid tag")));
                    }
                    (&path[..last_slash + i], Target::Tag(tag.to_owned()))
                }
                None => {
                    return Err(bad(
                        text,
                        "it names no tag (`:TAG`) or digest (`@sha256:…`)",
                    ));
                }
            }
        };
        if !valid_repository(repository) {
            return Err(bad(
                text,
                format!(
                    "`{repository}` is not a repository name (lower-case letters, digits, `.`, `_`, `-`, `/`)"
                ),
            ));
        }
        Ok(OciReference {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            target,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_digests_and_ports() {
        let r: OciReference = "oci://127.0.0.1:5000/plugins/hello:1.2.0".parse().unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.host(), "127.0.0.1");
        assert_eq!(r.repository(), "plugins/hello");
        assert_eq!(r.target(), &Target::Tag("1.2.0".into()));
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/plugins/hello:1.2.0");

        let digest = format!("sha256:{}", "a".repeat(64));
        let r: OciReference = format!("oci://registry.example.org/hello@{digest}")
            .parse()
            .unwrap();
        assert_eq!(r.registry(), "registry.example.org");
        assert_eq!(r.target(), &Target::Digest(digest.clone()));

        let r: OciReference = "oci://[::1]:5000/a/b:v1".parse().unwrap();
        assert_eq!(r.host(), "::1");
    }

    #[test]
    fn refuses_malformed_references() {
        for text in [
            "127.0.0.1:5000/hello:1",
            "oci://127.0.0.1:5000",
            "oci://127.0.0.1:5000/hello",
            "oci://127.0.0.1:5000/Hello:1",
            "oci://127.0.0.1:5000/hello:",
            "oci://127.0.0.1:5000/hello:-x",
            "oci://127.0.0.1:99999/hello:1",
            "oci://host/hello@sha256:abc",
            "oci://host/hello@md5:0123",
            "oci://ho st/hello:1",
            "oci:///hello:1",
            "oci://host//hello:1",
        ] {
            let error = text.parse::<OciReference>().unwrap_err();
            assert!(
                matches!(error, RegistryError::BadReference { .. }),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn plain_http_only_when_asked_or_loopback() {
        let cases = [
            ("oci://127.0.0.1:5000/a:1", Transport::Auto, true),
            ("oci://localhost:5000/a:1", Transport::Auto, true),
            ("oci://[::1]:5000/a:1", Transport::Auto, true),
            ("oci://registry.example.org/a:1", Transport::Auto, false),
            ("oci://10.0.0.1:5000/a:1", Transport::Auto, false),
            ("oci://127.0.0.1.example.org/a:1", Transport::Auto, false),
            ("oci://registry.example.org/a:1", Transport::PlainHttp, true),
        ];
        for (text, transport, plain) in cases {
            let r: OciReference = text.parse().unwrap();
            assert_eq!(r.uses_plain_http(transport), plain, "{text}");
        }
    }
}
