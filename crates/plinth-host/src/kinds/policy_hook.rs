//! The `policy-hook` kind (docs/design/0045): a request's attributes in, allow / deny /
//! attributes to add out, under a deadline the embedding application gives per call.

use std::time::Duration;

use super::{Binding, Checker, KindError, block};
use crate::bindings::policy_hook_v0_1::exports::plinth::policy_hook::policy_hook as v1;
use crate::error::HostError;
use crate::plugin::Plugin;

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(v1::Request,), (v1::Decision,)>("decide", "func(request: request) -> decision")
}

/// A request the server is about to serve.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyRequest {
    /// The operation, e.g. `put`.
    pub operation: String,
    /// The authenticated principal.
    pub subject: String,
    /// The tenant the request acts in.
    pub tenant: String,
    /// The object key or prefix.
    pub path: String,
    /// Further attributes, in order.
    pub attributes: Vec<(String, String)>,
}

impl PolicyRequest {
    /// A request for `operation` by `subject` of `tenant` on `path`, without attributes.
    pub fn new(
        operation: impl Into<String>,
        subject: impl Into<String>,
        tenant: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        Self {
            operation: operation.into(),
            subject: subject.into(),
            tenant: tenant.into(),
            path: path.into(),
            attributes: Vec::new(),
        }
    }

    /// The request with attribute `name` set to `value`.
    pub fn with_attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push((name.into(), value.into()));
        self
    }
}

/// A hook's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyDecision {
    /// Serve the request as it is.
    Allow,
    /// Refuse it, for this reason.
    Deny(String),
    /// Serve it with these attributes added (names non-empty and distinct).
    Add(Vec<(String, String)>),
}

/// The `policy-hook` kind of one plugin:
/// [`Plugin::kind`]`::<`[`PolicyHook`](super::PolicyHook)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct PolicyHooks<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> PolicyHooks<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// Asks a fresh instance about `request`, which must answer within `deadline` (and
    /// the plugin's wall clock): later is a `timeout`, and the instance is dropped, no
    /// other. A `deny` without a reason, or an `add` with an empty or repeated name, is
    /// `invalid-output`.
    pub async fn decide_async(
        &self,
        request: &PolicyRequest,
        deadline: Duration,
    ) -> Result<PolicyDecision, KindError> {
        let wit = v1::Request {
            operation: request.operation.clone(),
            subject: request.subject.clone(),
            tenant: request.tenant.clone(),
            path: request.path.clone(),
            attributes: request.attributes.clone(),
        };
        let (decision,): (v1::Decision,) = self
            .plugin
            .call_within_async(&self.binding.func("decide"), Some(deadline), (wit,))
            .await?;
        let invalid = |reason: String| KindError::InvalidOutput {
            plugin: self.plugin.id().into(),
            what: "policy hook".into(),
            reason,
        };
        match decision {
            v1::Decision::Allow => Ok(PolicyDecision::Allow),
            v1::Decision::Deny(reason) if reason.trim().is_empty() => {
                Err(invalid("`deny` without a reason for the client".into()))
            }
            v1::Decision::Deny(reason) => Ok(PolicyDecision::Deny(reason)),
            v1::Decision::Add(attributes) => {
                let mut seen = std::collections::BTreeSet::new();
                for (name, _) in &attributes {
                    if name.is_empty() {
                        return Err(invalid(
                            "`add` names an attribute with an empty name".into(),
                        ));
                    }
                    if !seen.insert(name.as_str()) {
                        return Err(invalid(format!("`add` names the attribute `{name}` twice")));
                    }
                }
                Ok(PolicyDecision::Add(attributes))
            }
        }
    }

    /// Blocking [`Self::decide_async`].
    pub fn decide(
        &self,
        request: &PolicyRequest,
        deadline: Duration,
    ) -> Result<PolicyDecision, KindError> {
        block(
            self.plugin,
            &self.binding.func("decide"),
            self.decide_async(request, deadline),
        )
    }
}
