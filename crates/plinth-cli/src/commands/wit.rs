//! `plinth wit diff OLD NEW [--deny-breaking]`: what changed between two versions of WIT,
//! and whether each change breaks plugins in each direction (docs/design/0038).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use plinth_manifest::diagnostic::{Code, Diagnostic};
use plinth_wit::{Change, Compatibility, Diff, Direction, Verdict, WitSet};
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Work with WIT: compare two versions of an interface package or two components.
#[derive(Debug, Args)]
pub struct WitArgs {
    #[command(subcommand)]
    command: WitCommand,
}

#[derive(Debug, Subcommand)]
enum WitCommand {
    Diff(DiffArgs),
}

/// List every package, interface, function, type and world added, removed or changed
/// between OLD and NEW, and whether each change breaks plugins built on OLD running on a
/// host that serves NEW, and plugins built on NEW running on a host that serves OLD.
#[derive(Debug, Args)]
struct DiffArgs {
    /// The old WIT: a package directory (its dependencies in deps/), a .wit file, or a
    /// .wasm component.
    old: PathBuf,
    /// The new WIT, in the same forms.
    new: PathBuf,
    /// Fail (exit 1, `breaking-wit-change`) when a change breaks plugins built on OLD on a
    /// host serving NEW.
    #[arg(long)]
    deny_breaking: bool,
}

impl WitArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        let done = match self.command {
            WitCommand::Diff(args) => args.diff(ctx),
        };
        finish(&ctx.printer, done)
    }
}

impl DiffArgs {
    fn diff(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let old = WitSet::load(&self.old)?;
        let new = WitSet::load(&self.new)?;
        let diff = plinth_wit::diff(&old, &new);
        let breaking_old = diff.breaking(Direction::OldPluginsOnNewHost).count();
        let breaking_new = diff.breaking(Direction::NewPluginsOnOldHost).count();
        let denied = (self.deny_breaking && breaking_old > 0).then(|| denied(&diff, breaking_old));
        if printer.json {
            printer.json_doc(&json!({
                "ok": denied.is_none(),
                "old": self.old,
                "new": self.new,
                "changes": diff.changes,
                "summary": {
                    "changes": diff.changes.len(),
                    "breaking_old_plugins_on_new_host": breaking_old,
                    "breaking_new_plugins_on_old_host": breaking_new,
                },
                "diagnostics": denied.iter().collect::<Vec<_>>(),
            }));
        } else {
            for change in &diff.changes {
                printer.line(change_line(change));
            }
            printer.line(summary(diff.changes.len(), breaking_old, breaking_new));
            printer.diagnostics_text(denied.as_slice());
        }
        Ok(if denied.is_some() {
            Outcome::Failed
        } else {
            Outcome::Ok
        })
    }
}

/// `ITEM: CHANGE (DETAIL); old plugins on new host: VERDICT; new plugins on old host:
/// VERDICT`, each breaking verdict with its reason; one verdict for both directions when
/// they are the same.
fn change_line(change: &Change) -> String {
    let mut line = format!("{}: {}", change.item, change.change);
    if let Some(detail) = &change.detail {
        line.push_str(&format!(" ({detail})"));
    }
    let (old, new) = (
        &change.old_plugins_on_new_host,
        &change.new_plugins_on_old_host,
    );
    if old == new {
        line.push_str(&format!(
            "; {} and {}: {}",
            Direction::OldPluginsOnNewHost,
            Direction::NewPluginsOnOldHost,
            verdict_text(old)
        ));
        return line;
    }
    for direction in [
        Direction::OldPluginsOnNewHost,
        Direction::NewPluginsOnOldHost,
    ] {
        line.push_str(&format!(
            "; {direction}: {}",
            verdict_text(change.verdict(direction))
        ));
    }
    line
}

fn verdict_text(verdict: &Verdict) -> String {
    match verdict.compatibility {
        Compatibility::Compatible => "compatible".into(),
        Compatibility::Breaking => format!("breaking ({})", verdict.reason),
    }
}

fn summary(changes: usize, breaking_old: usize, breaking_new: usize) -> String {
    if changes == 0 {
        return "no changes".into();
    }
    format!(
        "{changes} change{}: {breaking_old} break old plugins on the new host, {breaking_new} \
         break new plugins on the old host",
        if changes == 1 { "" } else { "s" }
    )
}

/// The `breaking-wit-change` diagnostic of `--deny-breaking`.
fn denied(diff: &Diff, count: usize) -> Diagnostic {
    let items: Vec<&str> = diff
        .breaking(Direction::OldPluginsOnNewHost)
        .map(|c| c.item.as_str())
        .take(3)
        .collect();
    let more = if count > items.len() { ", …" } else { "" };
    Diagnostic::new(
        Code::BreakingWitChange,
        format!(
            "{count} change{} break plugins built on the old WIT on a host serving the new one: \
             {}{more}",
            if count == 1 { "" } else { "s" },
            items.join(", ")
        ),
    )
    .with_hint(
        "never change a released version: put the change in a new version folder and keep \
         serving the old one, or make it compatible (add to imported interfaces only)",
    )
}
