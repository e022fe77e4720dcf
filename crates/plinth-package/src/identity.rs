//! Plugin identity (docs/design/0034): a plugin id, once installed, belongs to where it came
//! from and to the key that signed it. A package claiming the id from another origin or
//! signer is refused (`identity-changed`) unless the operator replaces the plugin on purpose,
//! and the operator's review (enablement, grants) does not carry over to a new identity.

use std::fmt;
use std::sync::Arc;

use plinth_manifest::{Diagnostic, PluginId};

use crate::error::PackageError;
use crate::lockfile::{LockEntry, Lockfile};
use crate::signature::PublicKey;
use crate::trust::Verification;

/// Whether an install may take over the id of a plugin installed from another origin or
/// signed by another key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReplacePolicy {
    /// Refuse it (`identity-changed`) and write nothing (the default).
    #[default]
    Refuse,
    /// Replace the installed plugin (`plinth install --replace`): its key pin is replaced
    /// too, and [`Continuity::Replaced`] tells the caller to reset the operator's review.
    Replace,
}

/// How an install relates to what was installed under its id before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuity {
    /// No plugin of this id is installed: a first install, or a reinstall after `uninstall`.
    /// Enablement and grants left in `plugins.toml` from before are the operator's review of
    /// another install and must be reviewed again.
    New,
    /// The same plugin again, from the same origin and signer as its lock entry: an update
    /// or a reinstall. Enablement and grants stay.
    Same,
    /// Another origin or signer took the id over ([`ReplacePolicy::Replace`]): enablement
    /// and grants must be reviewed again.
    Replaced,
}

impl Continuity {
    /// Whether the operator's enablement and grants no longer apply to what is installed.
    pub fn needs_review(self) -> bool {
        !matches!(self, Continuity::Same)
    }

    /// `new`, `same` or `replaced`.
    pub fn as_str(self) -> &'static str {
        match self {
            Continuity::New => "new",
            Continuity::Same => "same",
            Continuity::Replaced => "replaced",
        }
    }
}

/// Runs after every check of an install passed and before its first write, under the home's
/// install lock, with the plugin id and how the install relates to what was installed. The
/// CLI resets enablement and grants here when [`Continuity::needs_review`]; an error refuses
/// the install with nothing written.
#[derive(Clone)]
pub struct BeforeWrite(Arc<BeforeWriteFn>);

type BeforeWriteFn = dyn Fn(&PluginId, Continuity) -> Result<(), Diagnostic> + Send + Sync;

impl BeforeWrite {
    /// Wraps `hook`.
    pub fn new(
        hook: impl Fn(&PluginId, Continuity) -> Result<(), Diagnostic> + Send + Sync + 'static,
    ) -> BeforeWrite {
        BeforeWrite(Arc::new(hook))
    }

    pub(crate) fn run(&self, id: &PluginId, continuity: Continuity) -> Result<(), PackageError> {
        (self.0)(id, continuity).map_err(|d| PackageError::BeforeWrite(Box::new(d)))
    }
}

impl fmt::Debug for BeforeWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BeforeWrite(..)")
    }
}

/// The origin of a lockfile source, for the identity rule: an `oci://` reference's registry
/// and repository (without tag or digest), an `http(s)://` URL's scheme, host and port, and
/// for a path (a plugin folder or a `.plinth` file) the folder it lies in. Two versions of a
/// plugin published at the same place have the same origin; the same id from another
/// registry, repository, server or folder has another.
pub fn origin(source: &str) -> String {
    if let Some(rest) = source.strip_prefix("oci://") {
        let rest = rest.split('@').next().unwrap_or_default();
        let (repo, last) = rest.rsplit_once('/').unwrap_or(("", rest));
        let last = last.split(':').next().unwrap_or_default();
        let joined = if repo.is_empty() {
            last.to_owned()
        } else {
            format!("{repo}/{last}")
        };
        return format!("oci://{}", lowercase_host(&joined));
    }
    for scheme in ["https://", "http://"] {
        let prefix = source.get(..scheme.len());
        if let (Some(prefix), Some(rest)) = (prefix, source.get(scheme.len()..))
            && prefix.eq_ignore_ascii_case(scheme)
        {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let host = authority.rsplit('@').next().unwrap_or_default();
            return format!("{scheme}{}", host.to_ascii_lowercase());
        }
    }
    let path = source.strip_prefix("file://").unwrap_or(source);
    let path = path.trim_end_matches('/');
    match std::path::Path::new(path).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.display().to_string(),
        _ => ".".to_owned(),
    }
}

fn lowercase_host(reference: &str) -> String {
    match reference.split_once('/') {
        Some((host, path)) => format!("{}/{path}", host.to_ascii_lowercase()),
        None => reference.to_ascii_lowercase(),
    }
}

/// Decides whether a package of `id` from `source`, verified as `verification`, may be
/// installed over what `lock` records, under `policy`. The signer counts by key: the key
/// pinned for the id ([`Lockfile::pinned_key`], kept across `uninstall`), else for an old
/// lock entry without a pin its signer's trust-store name; an unsigned install has no signer,
/// and an unsigned package never continues a signed plugin.
pub(crate) fn continuity(
    lock: &Lockfile,
    id: &PluginId,
    source: &str,
    verification: &Verification,
    policy: ReplacePolicy,
) -> Result<Continuity, PackageError> {
    let previous = lock.get(id);
    let pinned = lock.pinned_key(id);
    let offered_key = verification.key();
    let same_signer = match (pinned, previous) {
        (Some(pinned), _) => offered_key == Some(pinned),
        (None, Some(previous)) => previous.signer.as_deref() == verification.signer(),
        (None, None) => true,
    };
    let same_origin = previous.is_none_or(|p| origin(&p.source) == origin(source));
    if same_signer && same_origin {
        return Ok(match previous {
            Some(_) => Continuity::Same,
            None => Continuity::New,
        });
    }
    match policy {
        ReplacePolicy::Replace => Ok(Continuity::Replaced),
        ReplacePolicy::Refuse => Err(PackageError::IdentityChanged {
            id: id.to_string(),
            installed: describe(previous, pinned),
            offered: format!(
                "from {} {}",
                origin(source),
                describe_signer(verification.signer(), offered_key.as_ref())
            ),
        }),
    }
}

fn describe(previous: Option<&LockEntry>, pinned: Option<PublicKey>) -> String {
    let signer = describe_signer(previous.and_then(|p| p.signer.as_deref()), pinned.as_ref());
    match previous {
        Some(previous) => format!(
            "installed ({}) from {} {signer}",
            previous.version,
            origin(&previous.source)
        ),
        None => format!("pinned (by an earlier install) to {signer}"),
    }
}

fn describe_signer(name: Option<&str>, key: Option<&PublicKey>) -> String {
    match (name, key) {
        (Some(name), Some(key)) => format!("signed by `{name}` ({key})"),
        (None, Some(key)) => format!("signed by {key}"),
        (Some(name), None) => format!("signed by `{name}`"),
        (None, None) => "unsigned".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use plinth_manifest::{Code, Digest};

    use super::*;
    use crate::signature::SecretKey;

    #[test]
    fn origins_table() {
        let cases = [
            (
                "oci://reg.example:5000/team/hello:1.0.0",
                "oci://reg.example:5000/team/hello",
            ),
            (
                "oci://Reg.Example/team/hello@sha256:ab",
                "oci://reg.example/team/hello",
            ),
            (
                "oci://reg.example/team/hello:2@sha256:ab",
                "oci://reg.example/team/hello",
            ),
            (
                "oci://reg.example/team/other:1",
                "oci://reg.example/team/other",
            ),
            (
                "https://Plugins.Example.org/p/hello-0.1.0.plinth",
                "https://plugins.example.org",
            ),
            (
                "https://plugins.example.org:8443/x",
                "https://plugins.example.org:8443",
            ),
            ("http://127.0.0.1:9/a?b", "http://127.0.0.1:9"),
            ("/srv/plugins/hello-0.1.0.plinth", "/srv/plugins"),
            ("/srv/plugins/hello", "/srv/plugins"),
            ("/srv/plugins/hello/", "/srv/plugins"),
            ("file:///srv/plugins/hello.plinth", "/srv/plugins"),
            ("hello.plinth", "."),
        ];
        for (source, expected) in cases {
            assert_eq!(origin(source), expected, "{source}");
        }
    }

    fn entry(source: &str, signer: Option<&str>) -> LockEntry {
        LockEntry {
            version: "1.0.0".parse().unwrap(),
            digest: Digest::of(b"x"),
            source: source.into(),
            signer: signer.map(str::to_owned),
        }
    }

    #[test]
    fn continuity_table() {
        let id = PluginId::new("example.hello").unwrap();
        let alice = SecretKey::from_seed([1; 32]).public_key();
        let bob = SecretKey::from_seed([2; 32]).public_key();
        let by = |name: &str, key| Verification::Trusted {
            name: name.into(),
            key,
        };
        let mut pinned = Lockfile::default();
        pinned.insert(id.clone(), entry("/srv/a/hello-1.plinth", Some("alice")));
        pinned.pin_key(id.clone(), alice);
        let mut legacy = Lockfile::default();
        legacy.insert(id.clone(), entry("/srv/a/hello-1.plinth", Some("alice")));
        let mut uninstalled = Lockfile::default();
        uninstalled.pin_key(id.clone(), alice);
        let mut unsigned = Lockfile::default();
        unsigned.insert(id.clone(), entry("/srv/a/hello", None));
        let empty = Lockfile::default();
        let refuse = ReplacePolicy::Refuse;
        type Case<'a> = (
            &'a str,
            &'a Lockfile,
            &'a str,
            Verification,
            Result<Continuity, Code>,
        );
        let cases: Vec<Case> = vec![
            (
                "first",
                &empty,
                "/x/h.plinth",
                by("alice", alice),
                Ok(Continuity::New),
            ),
            (
                "update",
                &pinned,
                "/srv/a/hello-2.plinth",
                by("alice", alice),
                Ok(Continuity::Same),
            ),
            (
                "renamed key",
                &pinned,
                "/srv/a/h.plinth",
                by("al", alice),
                Ok(Continuity::Same),
            ),
            (
                "other key",
                &pinned,
                "/srv/a/h.plinth",
                by("bob", bob),
                Err(Code::IdentityChanged),
            ),
            (
                "other origin",
                &pinned,
                "/tmp/h.plinth",
                by("alice", alice),
                Err(Code::IdentityChanged),
            ),
            (
                "unsigned",
                &pinned,
                "/srv/a/h.plinth",
                Verification::Unsigned,
                Err(Code::IdentityChanged),
            ),
            (
                "legacy same",
                &legacy,
                "/srv/a/h.plinth",
                by("alice", alice),
                Ok(Continuity::Same),
            ),
            (
                "legacy other",
                &legacy,
                "/srv/a/h.plinth",
                by("bob", bob),
                Err(Code::IdentityChanged),
            ),
            (
                "after uninstall",
                &uninstalled,
                "/y/h.plinth",
                by("alice", alice),
                Ok(Continuity::New),
            ),
            (
                "after uninstall, other key",
                &uninstalled,
                "/y/h.plinth",
                by("bob", bob),
                Err(Code::IdentityChanged),
            ),
            (
                "unsigned again",
                &unsigned,
                "/srv/a/hello",
                Verification::Unsigned,
                Ok(Continuity::Same),
            ),
            (
                "unsigned, now signed",
                &unsigned,
                "/srv/a/hello",
                by("bob", bob),
                Err(Code::IdentityChanged),
            ),
        ];
        for (name, lock, source, verification, expected) in cases {
            let got = continuity(lock, &id, source, &verification, refuse).map_err(|e| e.code());
            assert_eq!(got, expected, "{name}");
            let replaced = continuity(lock, &id, source, &verification, ReplacePolicy::Replace)
                .map_err(|e| e.code());
            let expected = expected.or(Ok(Continuity::Replaced));
            assert_eq!(replaced, expected, "{name}, --replace");
        }
    }
}
