//! The `hook` kind: the application names hook points; the hooks registered on a point
//! decide, one after another, whether it goes on.

use std::time::Duration;

use plinth_manifest::{HookDecl, Kind};
use serde_json::Value;

use super::{Binding, Checker, KindError, block};
use crate::bindings::hook_v0_1::exports::plinth::hook::hook as v1;
use crate::error::HostError;
use crate::plugin::Plugin;

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker
        .func::<(v1::HookEvent,), (v1::Decision,)>("handle", "func(event: hook-event) -> decision")
}

/// What happens at a hook point.
#[derive(Debug, Clone, PartialEq)]
pub struct HookEvent {
    /// The hook point, e.g. `before-tool-call`.
    pub point: String,
    /// What the event is about, e.g. the tool's name.
    pub subject: String,
    /// The event's data, a JSON object.
    pub payload: Value,
}

impl HookEvent {
    /// An event at `point` about `subject`.
    pub fn new(point: impl Into<String>, subject: impl Into<String>, payload: Value) -> Self {
        Self {
            point: point.into(),
            subject: subject.into(),
            payload,
        }
    }
}

/// One hook's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Go on with the payload as it is.
    Allow,
    /// Stop, for this reason.
    Deny(String),
    /// Go on with this payload (a JSON object) instead.
    Modify(Value),
}

/// The `hook` kind of one plugin: [`Plugin::kind`]`::<`[`Hook`](super::Hook)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct Hooks<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> Hooks<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// The points the manifest hooks, with their priorities and deadlines.
    pub fn points(&self) -> &'p [HookDecl] {
        self.plugin
            .manifest()
            .map_or(&[], |m| m.provides.hook.as_slice())
    }

    /// The declaration for `point`, if the plugin hooks it.
    pub fn point(&self, point: &str) -> Option<&'p HookDecl> {
        self.points().iter().find(|d| d.point == point)
    }

    /// Asks the hook about `event` in a fresh instance, under the point's `deadline_ms`
    /// (at most the plugin's wall clock). A `modify` payload that is not a JSON object
    /// is `invalid-output`.
    pub async fn handle_async(&self, event: &HookEvent) -> Result<Decision, KindError> {
        let deadline = self
            .point(&event.point)
            .and_then(|d| d.deadline_ms)
            .map(Duration::from_millis);
        let wit = v1::HookEvent {
            point: event.point.clone(),
            subject: event.subject.clone(),
            payload: event.payload.to_string(),
        };
        self.handle_text_async(wit, deadline).await
    }

    /// Blocking [`Self::handle_async`].
    pub fn handle(&self, event: &HookEvent) -> Result<Decision, KindError> {
        block(
            self.plugin,
            &self.binding.func("handle"),
            self.handle_async(event),
        )
    }

    /// Asks the hook with a payload given as text, as is, under `deadline` (else the
    /// plugin's wall clock): for conformance kits that see how a hook copes with a payload
    /// that is not JSON.
    pub async fn handle_raw_async(
        &self,
        point: &str,
        subject: &str,
        payload: &str,
        deadline: Option<Duration>,
    ) -> Result<Decision, KindError> {
        let wit = v1::HookEvent {
            point: point.into(),
            subject: subject.into(),
            payload: payload.into(),
        };
        self.handle_text_async(wit, deadline).await
    }

    /// Blocking [`Self::handle_raw_async`].
    pub fn handle_raw(
        &self,
        point: &str,
        subject: &str,
        payload: &str,
        deadline: Option<Duration>,
    ) -> Result<Decision, KindError> {
        block(
            self.plugin,
            &self.binding.func("handle"),
            self.handle_raw_async(point, subject, payload, deadline),
        )
    }

    async fn handle_text_async(
        &self,
        event: v1::HookEvent,
        deadline: Option<Duration>,
    ) -> Result<Decision, KindError> {
        let (decision,): (v1::Decision,) = self
            .plugin
            .call_within_async(&self.binding.func("handle"), deadline, (event,))
            .await?;
        match decision {
            v1::Decision::Allow => Ok(Decision::Allow),
            v1::Decision::Deny(reason) => Ok(Decision::Deny(reason)),
            v1::Decision::Modify(text) => match serde_json::from_str::<Value>(&text) {
                Ok(payload @ Value::Object(_)) => Ok(Decision::Modify(payload)),
                Ok(_) => Err(self.invalid("the `modify` payload is not a JSON object")),
                Err(e) => Err(self.invalid(&format!("the `modify` payload is not JSON ({e})"))),
            },
        }
    }

    fn invalid(&self, reason: &str) -> KindError {
        KindError::InvalidOutput {
            plugin: self.plugin.id().into(),
            what: "hook".into(),
            reason: reason.into(),
        }
    }
}

/// What a chain does when a hook fails (traps, times out, answers badly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnHookError {
    /// Treat the failure as a `deny` (fail closed): the default, since hooks guard things.
    #[default]
    Deny,
    /// Skip the failed hook and go on.
    Skip,
}

/// One hook's part in a chain.
#[derive(Debug, Clone, PartialEq)]
pub struct HookStep {
    /// The plugin.
    pub plugin: String,
    /// Its priority on the point.
    pub priority: i32,
    /// Its answer, or why it gave none.
    pub result: Result<Decision, KindError>,
}

/// Where a chain ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ChainDecision {
    /// Every hook let it through; the payload is the last `modify`'s, or the original.
    Proceed {
        /// The payload to go on with.
        payload: Value,
    },
    /// A hook denied (or failed, with [`OnHookError::Deny`]).
    Denied {
        /// The plugin that stopped it.
        by: String,
        /// Why.
        reason: String,
    },
}

/// A chain's result: the decision and each hook's part, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct HookOutcome {
    /// The decision.
    pub decision: ChainDecision,
    /// The hooks that ran, in order.
    pub steps: Vec<HookStep>,
}

/// The hooks of several plugins on the application's points, run in a defined order:
/// by the manifest's `priority` (lower first), then by plugin id.
#[derive(Debug, Clone, Default)]
pub struct HookChain {
    plugins: Vec<Plugin>,
    on_error: OnHookError,
}

impl HookChain {
    /// A chain over `plugins` (those that do not provide the hook kind are left out).
    pub fn new(plugins: impl IntoIterator<Item = Plugin>) -> Self {
        let mut plugins: Vec<Plugin> = plugins
            .into_iter()
            .filter(|p| p.provides(Kind::Hook))
            .collect();
        plugins.sort_by(|a, b| a.id().cmp(b.id()));
        Self {
            plugins,
            on_error: OnHookError::default(),
        }
    }

    /// What a failing hook means ([`OnHookError::Deny`] unless set).
    pub fn on_error(mut self, policy: OnHookError) -> Self {
        self.on_error = policy;
        self
    }

    /// The hooks on `point`, in the order they run: `(plugin, priority)`.
    pub fn hooks_on(&self, point: &str) -> Vec<(&Plugin, i32)> {
        let mut hooks: Vec<(&Plugin, i32)> = self
            .plugins
            .iter()
            .filter_map(|plugin| {
                let hooks = plugin.kind::<super::Hook>().ok()?;
                hooks.point(point).map(|d| (plugin, d.priority))
            })
            .collect();
        // Stable: equal priorities keep the id order of `self.plugins`.
        hooks.sort_by_key(|&(_, priority)| priority);
        hooks
    }

    /// Runs the hooks on `point`: each gets the payload as the previous one left it; a
    /// `deny` stops the chain.
    pub async fn run_async(&self, point: &str, subject: &str, payload: Value) -> HookOutcome {
        let mut payload = payload;
        let mut steps = Vec::new();
        for (plugin, priority) in self.hooks_on(point) {
            let event = HookEvent::new(point, subject, payload.clone());
            let result = match plugin.kind::<super::Hook>() {
                Ok(hooks) => hooks.handle_async(&event).await,
                Err(e) => Err(e),
            };
            let stop = match &result {
                Ok(Decision::Allow) => None,
                Ok(Decision::Modify(new)) => {
                    payload = new.clone();
                    None
                }
                Ok(Decision::Deny(reason)) => Some(reason.clone()),
                Err(error) => match self.on_error {
                    OnHookError::Deny => Some(format!("the hook failed: {error}")),
                    OnHookError::Skip => None,
                },
            };
            steps.push(HookStep {
                plugin: plugin.id().into(),
                priority,
                result,
            });
            if let Some(reason) = stop {
                return HookOutcome {
                    decision: ChainDecision::Denied {
                        by: plugin.id().into(),
                        reason,
                    },
                    steps,
                };
            }
        }
        HookOutcome {
            decision: ChainDecision::Proceed { payload },
            steps,
        }
    }

    /// Blocking [`Self::run_async`], on the first plugin's host runtime. With no hooks on
    /// the point it proceeds with the payload unchanged.
    pub fn run(&self, point: &str, subject: &str, payload: Value) -> HookOutcome {
        let Some(first) = self.plugins.first() else {
            return HookOutcome {
                decision: ChainDecision::Proceed { payload },
                steps: Vec::new(),
            };
        };
        first
            .block_on(
                point,
                std::pin::pin!(async { Ok(self.run_async(point, subject, payload).await) }),
            )
            .unwrap_or_else(|error| HookOutcome {
                decision: ChainDecision::Denied {
                    by: first.id().into(),
                    reason: error.to_string(),
                },
                steps: vec![HookStep {
                    plugin: first.id().into(),
                    priority: 0,
                    result: Err(KindError::Call(error)),
                }],
            })
    }
}
