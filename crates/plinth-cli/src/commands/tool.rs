//! `plinth tool TARGET NAME [INPUT_JSON]` and `plinth hook TARGET POINT [PAYLOAD_JSON]`:
//! call a plugin through a kind's typed API (docs/design/0037).

use clap::Args;
use plinth_host::kinds::{Decision, Hook, HookEvent, KindError, Tool};
use plinth_host::{LoadOptions, Plugin};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_manifest::grant::Grant;
use serde_json::{Value, json};

use crate::commands::call::call_failure;
use crate::commands::load_target;
use crate::context::Context;
use crate::output::{Failure, Outcome, finish, json_text};

/// Where the plugin comes from and what it may use: shared by `tool` and `hook`.
#[derive(Debug, Args)]
pub struct Target {
    /// Installed plugin id, plugin directory, plugin.toml or .plinth package.
    target: String,
    /// Grant a capability to a path target for this call (repeatable), e.g. `kv`.
    #[arg(long = "grant", value_name = "G")]
    grants: Vec<String>,
}

impl Target {
    /// Loads the plugin: an installed one through the manager with its entry's grants,
    /// a path with the `--grant`s.
    fn load(&self, ctx: &Context) -> Result<Plugin, Failure> {
        let limits = ctx.config.limits;
        if crate::commands::installed::is_installed_id(ctx, &self.target) {
            if !self.grants.is_empty() {
                return Err(Diagnostic::new(
                    Code::BadArgument,
                    "`--grant` is for path targets; an installed plugin uses its granted capabilities",
                )
                .with_hint(format!("grant it: `plinth grant {} G…`", self.target))
                .into());
            }
            return crate::commands::call_installed::installed_plugin(ctx, &self.target, limits);
        }
        let grants: Vec<Grant> = self
            .grants
            .iter()
            .map(|g| {
                g.parse::<Grant>()
                    .map_err(|e| Diagnostic::new(Code::BadArgument, e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let host = if grants.contains(&Grant::Kv) {
            ctx.host_with_path_data(Some(limits), std::path::Path::new(&self.target))?
        } else {
            ctx.host(Some(limits))?
        };
        Ok(load_target(
            &host,
            &self.target,
            LoadOptions::default().with_grants(grants),
        )?)
    }
}

/// A failed kind call and its exit code: bad input is a usage error (2), a trap or limit a
/// guest failure (3), anything else 1.
fn kind_failure(error: &KindError) -> Failure {
    match error {
        KindError::Call(call) => call_failure(call),
        other => {
            let outcome = match other.code() {
                Code::InvalidInput | Code::UnknownTool => Outcome::Usage,
                _ => Outcome::Failed,
            };
            Failure::with_outcome(other.to_diagnostic(), outcome)
        }
    }
}

fn json_arg(text: Option<&str>, what: &str) -> Result<Value, Diagnostic> {
    let Some(text) = text else {
        return Ok(json!({}));
    };
    serde_json::from_str(text).map_err(|e| {
        Diagnostic::new(
            Code::BadArgument,
            format!("the {what} is not JSON ({e}): {text}"),
        )
        .with_hint("pass one JSON object, e.g. '{\"text\": \"one two\"}'")
    })
}

/// Call a plugin's tool with a JSON input; print the tool's JSON output.
#[derive(Debug, Args)]
pub struct ToolArgs {
    #[command(flatten)]
    target: Target,
    /// The tool's name (`plinth show` lists them).
    name: String,
    /// The input, one JSON object (default `{}`); checked against the tool's input schema
    /// before the plugin runs.
    #[arg(value_name = "INPUT_JSON")]
    input: Option<String>,
}

impl ToolArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.call(ctx))
    }

    fn call(self, ctx: &Context) -> Result<Outcome, Failure> {
        let input = json_arg(self.input.as_deref(), "input")?;
        let plugin = self.target.load(ctx)?;
        let tools = plugin.kind::<Tool>().map_err(|e| kind_failure(&e))?;
        let output = tools
            .call(&self.name, &input)
            .map_err(|e| kind_failure(&e))?;
        let printer = &ctx.printer;
        if printer.json {
            printer.json_doc(&json!({ "result": output }));
        } else {
            printer.line(json_text(&output));
        }
        Ok(Outcome::Ok)
    }
}

/// Ask a plugin's hook about an event at a hook point; print its decision.
#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(flatten)]
    target: Target,
    /// The hook point, e.g. `before-tool-call`.
    point: String,
    /// The event's payload, one JSON object (default `{}`).
    #[arg(value_name = "PAYLOAD_JSON")]
    payload: Option<String>,
    /// What the event is about, e.g. a tool's name.
    #[arg(long, default_value = "")]
    subject: String,
}

impl HookArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.call(ctx))
    }

    fn call(self, ctx: &Context) -> Result<Outcome, Failure> {
        let payload = json_arg(self.payload.as_deref(), "payload")?;
        let plugin = self.target.load(ctx)?;
        let hooks = plugin.kind::<Hook>().map_err(|e| kind_failure(&e))?;
        let event = HookEvent::new(&self.point, &self.subject, payload);
        let decision = hooks.handle(&event).map_err(|e| kind_failure(&e))?;
        let doc = match &decision {
            Decision::Allow => json!({ "decision": "allow" }),
            Decision::Deny(reason) => json!({ "decision": "deny", "reason": reason }),
            Decision::Modify(payload) => json!({ "decision": "modify", "payload": payload }),
        };
        let printer = &ctx.printer;
        if printer.json {
            printer.json_doc(&doc);
        } else {
            match decision {
                Decision::Allow => printer.line("allow"),
                Decision::Deny(reason) => printer.line(format!("deny: {reason}")),
                Decision::Modify(payload) => {
                    printer.line(format!("modify: {}", json_text(&payload)))
                }
            }
        }
        Ok(Outcome::Ok)
    }
}
