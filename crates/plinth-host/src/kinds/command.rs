//! The `command` kind: arguments in, text out.

use super::{Binding, Checker, KindError, block};
use crate::error::HostError;
use crate::plugin::Plugin;

const RUN: &str = "func(args: list<string>) -> result<string, string>";

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    // `plinth:command/command@0.1.0` and the legacy `plinth:plugin/command@0.1.0` have the
    // same signature.
    checker.func::<(Vec<String>,), (Result<String, String>,)>("run", RUN)
}

/// The `command` kind of one plugin: [`Plugin::kind`]`::<`[`Command`](super::Command)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct Commands<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> Commands<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// Runs the command with `args` in a fresh instance: `Ok(Ok(output))`, or
    /// `Ok(Err(message))` when the command reports a failure.
    pub async fn run_async(&self, args: &[String]) -> Result<Result<String, String>, KindError> {
        let (result,): (Result<String, String>,) = self
            .plugin
            .call_async(&self.binding.func("run"), (args.to_vec(),))
            .await?;
        Ok(result)
    }

    /// Blocking [`Self::run_async`].
    pub fn run(&self, args: &[String]) -> Result<Result<String, String>, KindError> {
        block(self.plugin, &self.binding.func("run"), self.run_async(args))
    }
}
