//! `pdk-kinds`: one component written with plinth-pdk providing three kinds:
//! `export!(Kinds: tool, hook, command)` exports `lifecycle` once and the `tool`, `hook` and
//! `command` interfaces.

use plinth_pdk::prelude::*;

struct Kinds;

impl Plugin for Kinds {}

impl Tool for Kinds {
    fn tools() -> Vec<ToolInfo> {
        vec![
            ToolInfo::new(
                "echo",
                "Returns its input.",
                json!({"type": "object", "properties": {"n": {"type": "integer"}}}),
            )
            .with_output_schema(json!({"type": "object"})),
        ]
    }

    fn call(_name: &str, input: Value) -> Result<Value, ToolError> {
        Ok(input)
    }
}

impl Hook for Kinds {
    const POINTS: &'static [&'static str] = &["before-echo"];

    fn handle(event: HookEvent) -> Decision {
        match event.subject.as_str() {
            "quiet" => Decision::deny(""),
            "add" => {
                let mut payload = event.payload_object().cloned().unwrap_or_default();
                payload.insert("added".into(), json!(true));
                Decision::modify(payload)
            }
            _ => Decision::Allow,
        }
    }
}

impl Command for Kinds {
    fn run(args: Vec<String>) -> Result<String, String> {
        Ok(args.join(" "))
    }
}

plinth_pdk::export!(Kinds: tool, hook, command);
