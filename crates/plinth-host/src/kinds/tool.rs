//! The `tool` kind: named tools with a JSON Schema input, called with JSON values.
//!
//! The host owns the contract around the guest: the input is checked against the tool's
//! schema from the manifest before the guest runs (`invalid-input` with the JSON path and
//! rule), the output must be JSON (and match the output schema when one is declared),
//! and the guest's own `list-tools` can be cross-checked against the manifest.

use std::pin::pin;

use plinth_manifest::{Kind, Manifest};
use serde_json::Value;

use super::{Binding, Checker, KindError, Served, block};
use crate::bindings::tool::exports::plinth::plugin::tools as v0;
use crate::bindings::tool_v0_1::exports::plinth::tool::tool as v1;
use crate::error::{CallError, HostError};
use crate::plugin::Plugin;
use crate::schemas::{CompiledSchemas, LazySchema};
use crate::settings::{SchemaFileError, read_schema, summarize, violations};

/// A tool as the manifest declares it, its schemas read at load and compiled at load or
/// at first use (docs/design/0076).
#[derive(Clone)]
pub struct ToolSpec {
    /// The tool's name.
    pub name: String,
    /// What it does (empty when a 0.1.0 manifest left it out).
    pub description: String,
    /// The input's JSON Schema (none: a 0.1.0 tool without one; any input goes).
    pub input_schema: Option<Value>,
    /// The output's JSON Schema, when declared.
    pub output_schema: Option<Value>,
    input: Option<LazySchema>,
    output: Option<LazySchema>,
}

impl std::fmt::Debug for ToolSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolSpec")
            .field("name", &self.name)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl ToolSpec {
    /// The tool as a model sees it: `{"name", "description", "input_schema"}`, the shape
    /// function-calling APIs and agent tool registries take.
    pub fn model_visible(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema.clone().unwrap_or_else(|| serde_json::json!({"type": "object"})),
        })
    }
}

/// A tool as the component itself reports it through `list-tools`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedTool {
    /// The name.
    pub name: String,
    /// The description.
    pub description: String,
    /// The input schema as the component wrote it (JSON text).
    pub input_schema: String,
    /// The output schema, when the component reports one (JSON text).
    pub output_schema: Option<String>,
}

/// A guest's own `tool-error`, the same for every served version.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum GuestError {
    UnknownTool(String),
    InvalidInput(String),
    Failed(String),
}

impl From<v1::ToolError> for GuestError {
    fn from(e: v1::ToolError) -> Self {
        match e {
            v1::ToolError::UnknownTool(m) => GuestError::UnknownTool(m),
            v1::ToolError::InvalidInput(m) => GuestError::InvalidInput(m),
            v1::ToolError::Failed(m) => GuestError::Failed(m),
        }
    }
}

impl From<v0::ToolError> for GuestError {
    fn from(e: v0::ToolError) -> Self {
        match e {
            v0::ToolError::UnknownTool(m) => GuestError::UnknownTool(m),
            v0::ToolError::InvalidInput(m) => GuestError::InvalidInput(m),
            v0::ToolError::Failed(m) => GuestError::Failed(m),
        }
    }
}

impl From<v1::ToolInfo> for ReportedTool {
    fn from(i: v1::ToolInfo) -> Self {
        ReportedTool {
            name: i.name,
            description: i.description,
            input_schema: i.input_schema,
            output_schema: i.output_schema,
        }
    }
}

impl From<v0::ToolInfo> for ReportedTool {
    fn from(i: v0::ToolInfo) -> Self {
        ReportedTool {
            name: i.name,
            description: i.description,
            input_schema: i.input_schema,
            output_schema: None,
        }
    }
}

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    match checker.binding.served {
        Served::Current => {
            checker.func::<(), (Vec<v1::ToolInfo>,)>("list-tools", "func() -> list<tool-info>")?;
            checker.func::<(String, String), (Result<String, v1::ToolError>,)>(
                "call",
                "func(name: string, input: string) -> result<string, tool-error>",
            )
        }
        Served::Legacy => {
            checker.func::<(), (Vec<v0::ToolInfo>,)>("list-tools", "func() -> list<tool-info>")?;
            checker.func::<(String, String), (Result<String, v0::ToolError>,)>(
                "call",
                "func(name: string, input: string) -> result<string, tool-error>",
            )
        }
    }
}

/// Reads the schemas of the manifest's tools, compiling those whose text `schemas` has not
/// seen compile.
pub(crate) fn specs(
    manifest: Option<&Manifest>,
    id: &str,
    schemas: &CompiledSchemas,
) -> Result<Vec<ToolSpec>, HostError> {
    let Some(manifest) = manifest else {
        return Ok(Vec::new());
    };
    manifest
        .provides
        .tool
        .iter()
        .map(|decl| {
            let read = |relative: &Option<std::path::PathBuf>| -> Result<_, HostError> {
                let Some(relative) = relative else {
                    return Ok((None, None));
                };
                let file = manifest.dir.join(relative);
                let unusable = |reason| HostError::ToolSchema {
                    plugin: id.into(),
                    tool: decl.name.clone(),
                    file: file.clone(),
                    reason,
                };
                let (text, schema) = read_schema(&file).map_err(|e| match e {
                    SchemaFileError::Unusable(reason) => unusable(reason),
                    SchemaFileError::Refused(refused) => HostError::PluginFile(refused),
                })?;
                let lazy = schemas.load(&text, schema.clone()).map_err(unusable)?;
                Ok((Some(schema), Some(lazy)))
            };
            let (input_schema, input) = read(&decl.input_schema)?;
            let (output_schema, output) = read(&decl.output_schema)?;
            Ok(ToolSpec {
                name: decl.name.clone(),
                description: decl.description.clone().unwrap_or_default(),
                input_schema,
                output_schema,
                input,
                output,
            })
        })
        .collect()
}

/// The `tool` kind of one plugin: [`Plugin::kind`]`::<`[`Tool`](super::Tool)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct Tools<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
    specs: &'p [ToolSpec],
}

impl<'p> Tools<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding, specs: &'p [ToolSpec]) -> Self {
        Self {
            plugin,
            binding,
            specs,
        }
    }

    /// The tools the manifest declares, with their schemas; nothing runs.
    pub fn list(&self) -> &'p [ToolSpec] {
        self.specs
    }

    /// The declared tool `name`.
    pub fn spec(&self, name: &str) -> Option<&'p ToolSpec> {
        self.specs.iter().find(|s| s.name == name)
    }

    /// Calls tool `name` with `input`: checked against the tool's input schema first
    /// (the guest does not run on a violation), then run in a fresh instance; the output
    /// is parsed as JSON and checked against the output schema when one is declared.
    pub async fn call_async(&self, name: &str, input: &Value) -> Result<Value, KindError> {
        let spec = self.check_input(name, input)?;
        let answer = self.call_raw_async(name, &input.to_string()).await?;
        self.finish(name, spec, answer)
    }

    /// Blocking [`Self::call_async`], on the host's runtime.
    pub fn call(&self, name: &str, input: &Value) -> Result<Value, KindError> {
        block(
            self.plugin,
            &self.binding.func("call"),
            self.call_async(name, input),
        )
    }

    /// Checks `input` for tool `name` without running anything: `unknown-tool` or
    /// `invalid-input` with every violation.
    pub fn check_input(
        &self,
        name: &str,
        input: &Value,
    ) -> Result<Option<&'p ToolSpec>, KindError> {
        // A plugin that declares no tools (a bare component, a 0.1.0 manifest without
        // `[[tools]]`) leaves every name and input to the guest.
        if self.specs.is_empty() {
            return Ok(None);
        }
        let spec = self.spec(name).ok_or_else(|| KindError::UnknownTool {
            plugin: self.plugin.id().into(),
            tool: name.into(),
            known: self.specs.iter().map(|s| s.name.clone()).collect(),
        })?;
        if let Some(schema) = &spec.input {
            let validator = schema.validator().map_err(|reason| KindError::ToolSchema {
                plugin: self.plugin.id().into(),
                tool: name.into(),
                reason: reason.into(),
            })?;
            let violations = violations(validator, input);
            if !violations.is_empty() {
                return Err(KindError::InvalidInput {
                    plugin: self.plugin.id().into(),
                    tool: name.into(),
                    summary: summarize(&violations),
                    violations,
                });
            }
        }
        Ok(Some(spec))
    }

    /// Calls the guest's `call` with `input` as given, without the host's checks: what
    /// the conformance kit uses to see how a plugin copes with input the host would have
    /// refused.
    pub(crate) async fn call_raw_async(
        &self,
        name: &str,
        input: &str,
    ) -> Result<Result<String, GuestError>, CallError> {
        let export = self.binding.func("call");
        let params = (name.to_owned(), input.to_owned());
        Ok(match self.binding.served {
            Served::Current => {
                let (r,): (Result<String, v1::ToolError>,) =
                    self.plugin.call_async(&export, params).await?;
                r.map_err(GuestError::from)
            }
            Served::Legacy => {
                let (r,): (Result<String, v0::ToolError>,) =
                    self.plugin.call_async(&export, params).await?;
                r.map_err(GuestError::from)
            }
        })
    }

    /// Calls the guest with `input` text as is (no schema check, no parsing of the
    /// output) and returns the output text or the tool's own error: for conformance kits
    /// and diagnostics, not for applications.
    pub async fn call_unchecked_async(
        &self,
        name: &str,
        input: &str,
    ) -> Result<Result<String, KindError>, CallError> {
        let answer = self.call_raw_async(name, input).await?;
        Ok(answer.map_err(|e| self.guest_error(name, e)))
    }

    /// Blocking [`Self::call_unchecked_async`].
    pub fn call_unchecked(
        &self,
        name: &str,
        input: &str,
    ) -> Result<Result<String, KindError>, CallError> {
        self.plugin.block_on(
            &self.binding.func("call"),
            pin!(self.call_unchecked_async(name, input)),
        )
    }

    fn finish(
        &self,
        name: &str,
        spec: Option<&ToolSpec>,
        answer: Result<String, GuestError>,
    ) -> Result<Value, KindError> {
        let text = answer.map_err(|e| self.guest_error(name, e))?;
        let invalid = |reason: String| KindError::InvalidOutput {
            plugin: self.plugin.id().into(),
            what: format!("tool `{name}`"),
            reason,
        };
        let output: Value = serde_json::from_str(&text)
            .map_err(|e| invalid(format!("the output is not JSON ({e})")))?;
        if let Some(schema) = spec.and_then(|s| s.output.as_ref()) {
            let validator = schema.validator().map_err(|reason| KindError::ToolSchema {
                plugin: self.plugin.id().into(),
                tool: name.into(),
                reason: reason.into(),
            })?;
            let violations = violations(validator, &output);
            if !violations.is_empty() {
                return Err(invalid(format!(
                    "the output breaks the tool's output schema: {}",
                    summarize(&violations)
                )));
            }
        }
        Ok(output)
    }

    fn guest_error(&self, name: &str, error: GuestError) -> KindError {
        let plugin = self.plugin.id().to_string();
        let tool = name.to_string();
        match error {
            GuestError::InvalidInput(reason) => KindError::Refused {
                plugin,
                tool,
                reason,
            },
            GuestError::Failed(reason) => KindError::Failed {
                plugin,
                tool,
                reason,
            },
            // A declared tool the guest does not know: the component and its manifest
            // disagree. Undeclared names never reach the guest through `call`.
            GuestError::UnknownTool(reason) if self.spec(name).is_some() => KindError::Mismatch {
                plugin,
                kind: Kind::Tool,
                reason: format!(
                    "the manifest declares tool `{name}` but the component does not know it: {reason}"
                ),
            },
            GuestError::UnknownTool(_) => KindError::UnknownTool {
                plugin,
                tool,
                known: self.specs.iter().map(|s| s.name.clone()).collect(),
            },
        }
    }

    /// The tools the component reports through `list-tools` (runs the guest once).
    pub async fn reported_async(&self) -> Result<Vec<ReportedTool>, CallError> {
        let export = self.binding.func("list-tools");
        Ok(match self.binding.served {
            Served::Current => {
                let (infos,): (Vec<v1::ToolInfo>,) = self.plugin.call_async(&export, ()).await?;
                infos.into_iter().map(ReportedTool::from).collect()
            }
            Served::Legacy => {
                let (infos,): (Vec<v0::ToolInfo>,) = self.plugin.call_async(&export, ()).await?;
                infos.into_iter().map(ReportedTool::from).collect()
            }
        })
    }

    /// Runs `list-tools` and compares it with the manifest: the same names, and for each
    /// the same description and the same input schema (as JSON values). `kind-mismatch`
    /// names every difference.
    pub async fn verify_reported_async(&self) -> Result<(), KindError> {
        let reported = self.reported_async().await?;
        let differences = compare(self.specs, &reported);
        if differences.is_empty() {
            Ok(())
        } else {
            Err(KindError::Mismatch {
                plugin: self.plugin.id().into(),
                kind: Kind::Tool,
                reason: format!(
                    "the component's list-tools disagrees with the manifest: {}",
                    differences.join("; ")
                ),
            })
        }
    }

    /// Blocking [`Self::verify_reported_async`].
    pub fn verify_reported(&self) -> Result<(), KindError> {
        block(
            self.plugin,
            &self.binding.func("list-tools"),
            self.verify_reported_async(),
        )
    }

    /// Blocking [`Self::reported_async`].
    pub fn reported(&self) -> Result<Vec<ReportedTool>, CallError> {
        self.plugin.block_on(
            &self.binding.func("list-tools"),
            pin!(self.reported_async()),
        )
    }
}

/// The differences between the declared tools and the reported ones, each said once.
pub(crate) fn compare(specs: &[ToolSpec], reported: &[ReportedTool]) -> Vec<String> {
    let mut differences = Vec::new();
    for spec in specs {
        let Some(tool) = reported.iter().find(|t| t.name == spec.name) else {
            differences.push(format!("tool `{}` is declared but not reported", spec.name));
            continue;
        };
        if !spec.description.is_empty() && tool.description != spec.description {
            differences.push(format!(
                "tool `{}`: the description differs ({:?} in the manifest, {:?} reported)",
                spec.name, spec.description, tool.description
            ));
        }
        if let Some(declared) = &spec.input_schema {
            match serde_json::from_str::<Value>(&tool.input_schema) {
                Ok(reported) if &reported == declared => {}
                Ok(_) => differences.push(format!(
                    "tool `{}`: the input schema differs from the manifest's file",
                    spec.name
                )),
                Err(e) => differences.push(format!(
                    "tool `{}`: the reported input schema is not JSON ({e})",
                    spec.name
                )),
            }
        }
    }
    for tool in reported {
        if !specs.iter().any(|s| s.name == tool.name) {
            differences.push(format!("tool `{}` is reported but not declared", tool.name));
        }
    }
    differences
}
