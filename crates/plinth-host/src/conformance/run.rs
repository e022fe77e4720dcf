//! Running a suite against one plugin folder.

use std::path::Path;
use std::time::{Duration, Instant};

use plinth_manifest::grant::Grant;
use plinth_manifest::{Code, Kind, Manifest};
use serde::Serialize;
use serde_json::Value;

use super::ConformanceError;
use super::fixtures::{ExpectedDecision, Fixtures};
use super::suite::{Case, Suite};
use crate::kinds::{Command, Decision, Hook, KindError, Tool};
use crate::{Host, LoadOptions, Plugin};

/// A hook's deadline in `within-deadline` when its point declares none.
const DEFAULT_HOOK_DEADLINE: Duration = Duration::from_millis(1000);

/// How one case went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "kebab-case")]
pub enum CaseOutcome {
    /// Every check held.
    Passed,
    /// A check failed; the text says which and how.
    Failed(String),
    /// The case needs something the plugin does not give (an example); not a pass.
    Skipped(String),
}

/// One case's result.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case id.
    pub id: String,
    /// What it checks.
    pub description: String,
    /// How it went.
    #[serde(flatten)]
    pub outcome: CaseOutcome,
}

/// A suite's results for one plugin.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The kind.
    pub kind: Kind,
    /// The WIT the cases are written against.
    pub wit: String,
    /// The plugin id.
    pub plugin: String,
    /// Each case, in suite order.
    pub cases: Vec<CaseResult>,
}

impl Report {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, CaseOutcome::Passed))
    }

    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, CaseOutcome::Failed(_)))
    }

    /// Cases skipped for want of an example.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, CaseOutcome::Skipped(_)))
    }

    /// Whether every case passed (a skipped case is not a pass).
    pub fn all_passed(&self) -> bool {
        self.passed() == self.cases.len()
    }

    /// The ids of the failed cases.
    pub fn failures(&self) -> Vec<&str> {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, CaseOutcome::Failed(_)))
            .map(|c| c.id.as_str())
            .collect()
    }

    fn count(&self, f: impl Fn(&CaseOutcome) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.outcome)).count()
    }
}

/// Why a check did not pass.
pub(super) enum Verdict {
    Fail(String),
    Skip(String),
}

pub(super) type Check = Result<(), Verdict>;

pub(super) fn fail(reason: impl Into<String>) -> Verdict {
    Verdict::Fail(reason.into())
}

/// Runs `kind`'s shipped suite against the plugin in `dir` on `host`: loaded with every
/// capability its manifest requests (and again without each, for the denied twins),
/// with the examples of `dir/conformance.toml`.
pub fn run(host: &Host, kind: Kind, dir: &Path) -> Result<Report, ConformanceError> {
    let suite = Suite::builtin(kind).ok_or_else(|| ConformanceError::Suite {
        name: kind.to_string(),
        reason: format!(
            "no conformance kit is shipped for the `{kind}` kind (kits: {})",
            super::KITS
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })?;
    run_suite(host, &suite, kind, dir)
}

/// Runs `suite` (cases of `kind`) against the plugin in `dir`.
pub fn run_suite(
    host: &Host,
    suite: &Suite,
    kind: Kind,
    dir: &Path,
) -> Result<Report, ConformanceError> {
    let manifest = Manifest::load(dir)
        .map_err(crate::HostError::from)?
        .manifest;
    let requested = manifest.requested_grants();
    let fixtures = Fixtures::load(dir)?;
    let ctx = Ctx {
        host,
        dir,
        fixtures: &fixtures,
        requested: &requested,
    };
    let plugin = ctx.load(&requested, Budget::default())?;
    // Not providing the kind at all is an error, not a report of failures.
    if !plugin.provides(kind) {
        return Err(KindError::NotProvided {
            plugin: plugin.id().into(),
            kind,
            provided: plugin.kinds(),
        }
        .into());
    }
    let cases = suite
        .cases
        .iter()
        .map(|case| {
            let outcome = match ctx.case(kind, case, &plugin) {
                Ok(()) => CaseOutcome::Passed,
                Err(Verdict::Fail(reason)) => CaseOutcome::Failed(reason),
                Err(Verdict::Skip(reason)) => CaseOutcome::Skipped(reason),
            };
            CaseResult {
                id: case.id.clone(),
                description: case.description.clone(),
                outcome,
            }
        })
        .collect();
    Ok(Report {
        kind,
        wit: suite.wit.clone(),
        plugin: plugin.id().to_string(),
        cases,
    })
}

struct Ctx<'a> {
    host: &'a Host,
    dir: &'a Path,
    fixtures: &'a Fixtures,
    requested: &'a [Grant],
}

/// The limits a case lowers: a fuel budget, a memory limit.
#[derive(Debug, Clone, Copy, Default)]
struct Budget {
    fuel: Option<u64>,
    memory: Option<u64>,
}

impl Budget {
    fn is_default(&self) -> bool {
        self.fuel.is_none() && self.memory.is_none()
    }
}

impl Ctx<'_> {
    fn load(&self, grants: &[Grant], budget: Budget) -> Result<Plugin, crate::HostError> {
        let mut options = LoadOptions::default().with_grants(grants.to_vec());
        if budget.fuel.is_some() || budget.memory.is_some() {
            let mut limits = *self.host.limits();
            if let Some(fuel) = budget.fuel {
                limits = limits.with_fuel(fuel);
            }
            if let Some(memory) = budget.memory {
                limits = limits.with_memory(memory);
            }
            options = options.with_limits(limits);
        }
        self.host.load_with(self.dir, options)
    }

    fn case(&self, kind: Kind, case: &Case, plugin: &Plugin) -> Check {
        let fuel = Budget {
            fuel: case.fuel,
            memory: case.memory,
        };
        match case.grants.as_deref() {
            None | Some("requested") if fuel.is_default() => self.step(kind, case, plugin),
            None | Some("requested") => {
                let plugin = self
                    .load(self.requested, fuel)
                    .map_err(|e| fail(format!("does not load with a fuel budget: {e}")))?;
                self.step(kind, case, &plugin)
            }
            Some("without-each") => {
                if self.requested.is_empty() {
                    // Nothing to deny: the plugin already ran without any capability.
                    return self.step(kind, case, plugin);
                }
                for denied in self.requested {
                    let grants: Vec<Grant> = self
                        .requested
                        .iter()
                        .filter(|g| *g != denied)
                        .cloned()
                        .collect();
                    let plugin = self
                        .load(&grants, fuel)
                        .map_err(|e| fail(format!("does not load without `{denied}`: {e}")))?;
                    self.step(kind, case, &plugin)
                        .map_err(|v| prefix(v, &format!("without `{denied}`")))?;
                }
                Ok(())
            }
            Some(other) => Err(fail(format!("unknown `grants = {other:?}` in the suite"))),
        }
    }

    fn step(&self, kind: Kind, case: &Case, plugin: &Plugin) -> Check {
        match kind {
            Kind::Tool => self.tool(case, plugin),
            Kind::Hook => self.hook(case, plugin),
            Kind::Command => self.command(case, plugin),
            Kind::DataSource => super::data_source::step(case, plugin),
            Kind::FileLoader => super::file_loader::step(case, plugin, self.fixtures),
            Kind::FileViewer => super::file_viewer::step(case, plugin, self.fixtures),
            Kind::Exporter => super::exporter::step(case, plugin, self.fixtures),
            Kind::ThemeProvider => super::theme_provider::step(case, plugin),
            Kind::EventHandler => super::event_handler::step(case, plugin),
            Kind::AuthProvider => super::auth_provider::step(case, plugin, self.fixtures),
            Kind::PolicyHook => super::policy_hook::step(case, plugin),
            Kind::SearchAnalyzer => super::search_analyzer::step(case, plugin),
            Kind::Preview => super::preview::step(case, plugin, self.fixtures),
            Kind::ContentTransform => super::content_transform::step(case, plugin, self.fixtures),
            Kind::StorageProvider => super::storage_provider::step(case, plugin),
            Kind::Theme => super::theme::step(case, plugin, &|| {
                self.load(self.requested, Budget::default())
                    .map_err(|e| e.to_string())
            }),
            Kind::Service => Err(fail(format!("no kit steps for the `{kind}` kind"))),
        }
    }

    fn tool(&self, case: &Case, plugin: &Plugin) -> Check {
        let tools = plugin.kind::<Tool>().map_err(|e| fail(e.to_string()))?;
        let examples = self.fixtures.tools();
        let need_examples = || {
            if examples.is_empty() {
                Err(Verdict::Skip("conformance.toml has no tool example".into()))
            } else {
                Ok(())
            }
        };
        let declared: Vec<&str> = tools.list().iter().map(|t| t.name.as_str()).collect();
        match (case.step.as_str(), case.expect.as_str()) {
            ("list-tools", expect) => {
                let reported = tools
                    .reported()
                    .map_err(|e| fail(format!("list-tools failed: {e}")))?;
                let differences = crate::kinds::tool_differences(tools.list(), &reported);
                let wanted = match expect {
                    "names-match-manifest" => {
                        "is declared but not reported|is reported but not declared"
                    }
                    "descriptions-match-manifest" => "the description differs",
                    "schemas-match-manifest" => "input schema",
                    other => return Err(unknown(case, other)),
                };
                let found: Vec<&String> = differences
                    .iter()
                    .filter(|d| wanted.split('|').any(|w| d.contains(w)))
                    .collect();
                if found.is_empty() {
                    Ok(())
                } else {
                    Err(fail(join(&found)))
                }
            }
            ("manifest", "input-schemas-are-objects") => {
                for spec in tools.list() {
                    let object = spec
                        .input_schema
                        .as_ref()
                        .and_then(|s| s.get("type"))
                        .is_some_and(|t| t == "object");
                    if !object {
                        return Err(fail(format!(
                            "tool `{}`: the input schema does not say \"type\": \"object\"",
                            spec.name
                        )));
                    }
                }
                Ok(())
            }
            ("call", "example-output") => {
                need_examples()?;
                for (tool, input, output) in &examples {
                    let got = tools
                        .call(tool, input)
                        .map_err(|e| fail(format!("`{tool}` with {input}: {e}")))?;
                    if &got != *output {
                        return Err(fail(format!(
                            "`{tool}` with {input}: expected {output}, got {got}"
                        )));
                    }
                }
                Ok(())
            }
            ("call-guest", "json-output") => {
                need_examples()?;
                for (tool, input, _) in &examples {
                    let text = raw_ok(tools.call_unchecked(tool, &input.to_string()), tool)?;
                    serde_json::from_str::<Value>(&text).map_err(|e| {
                        fail(format!(
                            "`{tool}` answered text that is not JSON ({e}): {text:.80}"
                        ))
                    })?;
                }
                Ok(())
            }
            ("call", "same-twice") => {
                need_examples()?;
                for (tool, input, _) in &examples {
                    let first = tools.call(tool, input).map_err(|e| fail(e.to_string()))?;
                    let second = tools.call(tool, input).map_err(|e| fail(e.to_string()))?;
                    if first != second {
                        return Err(fail(format!(
                            "`{tool}` with {input} answered {first}, then {second}"
                        )));
                    }
                }
                Ok(())
            }
            ("call-guest", "error:unknown-tool") => {
                let input = case.input.as_deref().unwrap_or("{}");
                match tools.call_unchecked("conformance-unknown-tool", input) {
                    Ok(Err(KindError::UnknownTool { .. })) => Ok(()),
                    other => Err(fail(format!(
                        "expected `unknown-tool` for a name no tool has, got {}",
                        describe_raw(&other)
                    ))),
                }
            }
            ("call-guest", "error:invalid-input") => {
                let input = case.input.as_deref().unwrap_or("");
                for tool in &declared {
                    match tools.call_unchecked(tool, input) {
                        Ok(Err(KindError::Refused { .. })) => {}
                        other => {
                            return Err(fail(format!(
                                "`{tool}` with {input:?}: expected `invalid-input`, got {}",
                                describe_raw(&other)
                            )));
                        }
                    }
                }
                Ok(())
            }
            ("call", "host-refused") => {
                let text = case.input.as_deref().unwrap_or("null");
                let input: Value = serde_json::from_str(text)
                    .map_err(|e| fail(format!("the suite's input is not JSON: {e}")))?;
                for tool in &declared {
                    let before = plugin.usage().calls;
                    match tools.call(tool, &input) {
                        Err(KindError::InvalidInput { violations, .. })
                            if !violations.is_empty() => {}
                        other => {
                            return Err(fail(format!(
                                "`{tool}` with {input}: expected the host to refuse it (`invalid-input`), got {}",
                                describe(&other)
                            )));
                        }
                    }
                    if plugin.usage().calls != before {
                        return Err(fail(format!("`{tool}`: the guest ran on a refused input")));
                    }
                }
                Ok(())
            }
            ("call", "no-trap") => {
                need_examples()?;
                for (tool, input, _) in &examples {
                    match tools.call(tool, input) {
                        Ok(_) => {}
                        Err(e) if clean(&e) => {}
                        Err(e) => return Err(fail(format!("`{tool}` with {input}: {e}"))),
                    }
                }
                Ok(())
            }
            (_, other) => Err(unknown(case, other)),
        }
    }

    fn hook(&self, case: &Case, plugin: &Plugin) -> Check {
        let hooks = plugin.kind::<Hook>().map_err(|e| fail(e.to_string()))?;
        let mut events: Vec<Probe<'_>> = Vec::new();
        match &case.event {
            Some(Value::String(s)) if s == "example" => {
                let examples = self.fixtures.hooks();
                if examples.is_empty() {
                    return Err(Verdict::Skip("conformance.toml has no hook example".into()));
                }
                for (event, decision) in examples {
                    let deadline = hooks
                        .point(&event.point)
                        .and_then(|d| d.deadline_ms)
                        .map(Duration::from_millis);
                    events.push(Probe {
                        point: event.point.clone(),
                        subject: event.subject.clone(),
                        payload: event.payload.to_string(),
                        expected: Some(decision),
                        deadline,
                    });
                }
            }
            Some(Value::Object(event)) => {
                let text = |key: &str| event.get(key).and_then(Value::as_str).unwrap_or("");
                let mut point = text("point").to_string();
                if point == "declared" {
                    point = hooks
                        .points()
                        .first()
                        .map(|d| d.point.clone())
                        .ok_or_else(|| {
                            Verdict::Skip("the manifest declares no hook point".into())
                        })?;
                }
                let payload = match text("payload").strip_prefix("large:") {
                    Some(n) => large_payload(n.parse().unwrap_or(65_536)),
                    None => text("payload").to_string(),
                };
                events.push(Probe {
                    point,
                    subject: text("subject").into(),
                    payload,
                    expected: None,
                    deadline: None,
                });
            }
            _ => return Err(fail("the case has no `event`")),
        }
        for Probe {
            point,
            subject,
            payload,
            expected,
            deadline,
        } in events
        {
            let label = format!("`{point}` event about {subject:?}");
            let ask = |deadline| hooks.handle_raw(&point, &subject, &payload, deadline);
            match case.expect.as_str() {
                "example-decision" => {
                    let got = ask(deadline).map_err(|e| fail(format!("{label}: {e}")))?;
                    let matches = match (expected, &got) {
                        (Some(ExpectedDecision::Allow), Decision::Allow) => true,
                        (Some(ExpectedDecision::Deny), Decision::Deny(_)) => true,
                        (Some(ExpectedDecision::Modify(want)), Decision::Modify(have)) => {
                            want == have
                        }
                        _ => false,
                    };
                    if !matches {
                        return Err(fail(format!("{label}: expected {expected:?}, got {got:?}")));
                    }
                }
                "allow" => match ask(deadline) {
                    Ok(Decision::Allow) => {}
                    other => return Err(fail(format!("{label}: expected allow, got {other:?}"))),
                },
                "answers" => {
                    ask(deadline).map_err(|e| fail(format!("{label}: no decision: {e}")))?;
                }
                "deny-has-reason" => match ask(deadline) {
                    Ok(Decision::Deny(reason)) if reason.trim().is_empty() => {
                        return Err(fail(format!("{label}: denied without a reason")));
                    }
                    Ok(_) => {}
                    Err(e) => return Err(fail(format!("{label}: {e}"))),
                },
                "modify-is-object" => {
                    if let Err(e @ KindError::InvalidOutput { .. }) = ask(deadline) {
                        return Err(fail(format!("{label}: {e}")));
                    }
                }
                "within-deadline" => {
                    let limit = deadline.unwrap_or(DEFAULT_HOOK_DEADLINE);
                    let started = Instant::now();
                    let result = ask(Some(limit));
                    let took = started.elapsed();
                    if let Err(e) = result {
                        return Err(fail(format!("{label}: {e}")));
                    }
                    if took > limit {
                        return Err(fail(format!(
                            "{label}: took {} ms, the deadline is {} ms",
                            took.as_millis(),
                            limit.as_millis()
                        )));
                    }
                }
                "same-twice" => {
                    let first = ask(deadline).map_err(|e| fail(e.to_string()))?;
                    let second = ask(deadline).map_err(|e| fail(e.to_string()))?;
                    if first != second {
                        return Err(fail(format!("{label}: decided {first:?}, then {second:?}")));
                    }
                }
                other => return Err(unknown(case, other)),
            }
        }
        Ok(())
    }

    fn command(&self, case: &Case, plugin: &Plugin) -> Check {
        let command = plugin.kind::<Command>().map_err(|e| fail(e.to_string()))?;
        let mut runs: Vec<(Vec<String>, Option<&CommandAnswer>)> = Vec::new();
        match &case.args {
            Some(Value::String(s)) if s == "example" => {
                let examples = self.fixtures.commands();
                if examples.is_empty() {
                    return Err(Verdict::Skip(
                        "conformance.toml has no command example".into(),
                    ));
                }
                runs.extend(examples.into_iter().map(|(a, o)| (a.to_vec(), Some(o))));
            }
            Some(Value::String(s)) if s.starts_with("repeat:") => {
                let n = s["repeat:".len()..].parse().unwrap_or(1000);
                runs.push((vec!["x".to_string(); n], None));
            }
            Some(Value::Array(items)) => runs.push((
                items
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect(),
                None,
            )),
            _ => return Err(fail("the case has no `args`")),
        }
        for (args, expected) in runs {
            let label = format!("args {args:.60?}");
            let result = command.run(&args);
            match case.expect.as_str() {
                "example-output" => {
                    let got = result.map_err(|e| fail(format!("{label}: {e}")))?;
                    let ok = match expected {
                        Some(Ok(want)) => got.as_ref() == Ok(want),
                        Some(Err(())) => got.is_err(),
                        None => true,
                    };
                    if !ok {
                        return Err(fail(format!("{label}: expected {expected:?}, got {got:?}")));
                    }
                }
                "answers" => {
                    // Ok or err, either is an answer; only a failure of the call is not.
                    let _answer = result.map_err(|e| fail(format!("{label}: {e}")))?;
                }
                "err-has-message" => match result {
                    Ok(Err(message)) if message.trim().is_empty() => {
                        return Err(fail(format!("{label}: an err without a message")));
                    }
                    Ok(_) => {}
                    Err(e) => return Err(fail(format!("{label}: {e}"))),
                },
                "same-twice" => {
                    let first = result.map_err(|e| fail(e.to_string()))?;
                    let second = command.run(&args).map_err(|e| fail(e.to_string()))?;
                    if first != second {
                        return Err(fail(format!(
                            "{label}: answered {first:?}, then {second:?}"
                        )));
                    }
                }
                other => return Err(unknown(case, other)),
            }
        }
        Ok(())
    }
}

/// One hook event a case sends, with the example's expected decision and the point's
/// deadline.
struct Probe<'a> {
    point: String,
    subject: String,
    payload: String,
    expected: Option<&'a ExpectedDecision>,
    deadline: Option<Duration>,
}

/// A command example's expected answer: the output, or `Err(())` for any `err`.
type CommandAnswer = Result<String, ()>;

/// A failure a plugin may answer with when a capability is denied: not a trap, not a
/// limit, not output its kind forbids.
pub(super) fn clean(error: &KindError) -> bool {
    match error {
        KindError::Failed { .. } | KindError::Refused { .. } | KindError::PluginFailed { .. } => {
            true
        }
        KindError::Call(call) => call.code() == Code::MissingGrant,
        _ => false,
    }
}

fn raw_ok(
    result: Result<Result<String, KindError>, crate::CallError>,
    tool: &str,
) -> Result<String, Verdict> {
    match result {
        Ok(Ok(text)) => Ok(text),
        other => Err(fail(format!("`{tool}`: {}", describe_raw(&other)))),
    }
}

fn describe_raw(result: &Result<Result<String, KindError>, crate::CallError>) -> String {
    match result {
        Ok(Ok(text)) => format!("output {text:.80}"),
        Ok(Err(e)) => format!("`{}`: {e}", e.code()),
        Err(e) => format!("`{}`: {e}", e.code()),
    }
}

fn describe(result: &Result<Value, KindError>) -> String {
    match result {
        Ok(value) => format!("output {value}"),
        Err(e) => format!("`{}`: {e}", e.code()),
    }
}

pub(super) fn unknown(case: &Case, expect: &str) -> Verdict {
    fail(format!(
        "this host does not know `expect = {expect:?}` for `step = {:?}`",
        case.step
    ))
}

fn prefix(verdict: Verdict, label: &str) -> Verdict {
    match verdict {
        Verdict::Fail(reason) => Verdict::Fail(format!("{label}: {reason}")),
        skip => skip,
    }
}

fn join(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A JSON object of `bytes` bytes: `{"data":"xxx…"}`.
pub(super) fn large_payload(bytes: usize) -> String {
    let filler = bytes.saturating_sub(r#"{"data":""}"#.len());
    format!(r#"{{"data":"{}"}}"#, "x".repeat(filler))
}

#[cfg(test)]
mod tests {
    #[test]
    fn large_payloads_have_the_size_asked_for() {
        let payload = super::large_payload(65_536);
        assert_eq!(payload.len(), 65_536);
        assert!(serde_json::from_str::<serde_json::Value>(&payload).is_ok());
    }
}
