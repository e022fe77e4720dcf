//! The `auth-provider` kind (docs/design/0045): a token in, the identity it stands for
//! (subject, tenant, claims) or a denial out.

use super::{Binding, Checker, KindError, block};
use crate::bindings::auth_provider_v0_1::exports::plinth::auth_provider::auth_provider as v1;
use crate::error::HostError;
use crate::plugin::Plugin;

/// The longest token the host hands a provider: 64 KiB. A longer one is `too-large`,
/// refused without running the plugin.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(String,), (Result<v1::Identity, v1::Denial>,)>(
        "authenticate",
        "func(token: string) -> result<identity, denial>",
    )
}

/// Who a token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The principal; never empty.
    pub subject: String,
    /// The tenant it acts in; a valid tenant name (docs/design/0024).
    pub tenant: String,
    /// Further claims, in the provider's order.
    pub claims: Vec<(String, String)>,
}

impl Identity {
    /// The value of claim `name`, if given.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a provider answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// The token stands for this identity.
    Identified(Identity),
    /// The token is not valid; the reason is for the server's log.
    Denied(String),
    /// The provider could not decide; the caller may try again.
    Unavailable(String),
}

/// The `auth-provider` kind of one plugin:
/// [`Plugin::kind`]`::<`[`AuthProvider`](super::AuthProvider)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct AuthProviders<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> AuthProviders<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// Asks a fresh instance who `token` stands for. A token over [`MAX_TOKEN_BYTES`] is
    /// `too-large` without running the plugin; an identity with an empty subject or a
    /// tenant that is not a tenant name is `invalid-output`.
    pub async fn authenticate_async(&self, token: &str) -> Result<Authentication, KindError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(KindError::InputTooLarge {
                plugin: self.plugin.id().into(),
                what: "the token".into(),
                size: token.len() as u64,
                limit: MAX_TOKEN_BYTES as u64,
            });
        }
        let (answer,): (Result<v1::Identity, v1::Denial>,) = self
            .plugin
            .call_async(&self.binding.func("authenticate"), (token.to_owned(),))
            .await?;
        match answer {
            Ok(identity) => self.checked(identity).map(Authentication::Identified),
            Err(v1::Denial::Denied(reason)) => Ok(Authentication::Denied(reason)),
            Err(v1::Denial::Unavailable(reason)) => Ok(Authentication::Unavailable(reason)),
        }
    }

    /// Blocking [`Self::authenticate_async`].
    pub fn authenticate(&self, token: &str) -> Result<Authentication, KindError> {
        block(
            self.plugin,
            &self.binding.func("authenticate"),
            self.authenticate_async(token),
        )
    }

    fn checked(&self, identity: v1::Identity) -> Result<Identity, KindError> {
        let invalid = |reason: String| KindError::InvalidOutput {
            plugin: self.plugin.id().into(),
            what: "auth provider".into(),
            reason,
        };
        if identity.subject.trim().is_empty() {
            return Err(invalid("the identity has an empty subject".into()));
        }
        if !is_tenant_name(&identity.tenant) {
            return Err(invalid(format!(
                "the identity's tenant {:?} is not a tenant name (1-64 of A-Z a-z 0-9 . _ -, not starting with . or -)",
                identity.tenant
            )));
        }
        Ok(Identity {
            subject: identity.subject,
            tenant: identity.tenant,
            claims: identity.claims,
        })
    }
}

/// A tenant id as docs/design/0024 defines it: one plain path component, 1-64 of
/// `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`.
pub fn is_tenant_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::is_tenant_name;

    #[test]
    fn tenant_names_are_one_plain_component() {
        for good in ["acme", "a", "Acme_2.prod-eu", &"x".repeat(64)] {
            assert!(is_tenant_name(good), "{good}");
        }
        for bad in [
            "",
            "..",
            ".hidden",
            "-x",
            "a/b",
            "a b",
            "é",
            &"x".repeat(65),
        ] {
            assert!(!is_tenant_name(bad), "{bad}");
        }
    }
}
