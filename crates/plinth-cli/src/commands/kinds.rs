//! The kinds a manifest declares, as `show`, `list` and `check` print them: read from
//! `plugin.toml` and the schema files it names, without running anything.

use std::path::Path;

use plinth_manifest::Manifest;
use plinth_manifest::plugin_file::{SCHEMA_MAX_BYTES, read_to_string};
use serde_json::{Value, json};

/// A schema file as JSON, or `{"error": …}` when it cannot be read as JSON.
fn schema(dir: &Path, relative: Option<&Path>) -> Value {
    let Some(relative) = relative else {
        return Value::Null;
    };
    match read_to_string(&dir.join(relative), SCHEMA_MAX_BYTES) {
        Ok(text) => serde_json::from_str(&text)
            .unwrap_or_else(|e| json!({ "error": format!("not JSON: {e}") })),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

/// `{"tool": [...], "hook": [...], "command": [...]}` with every entry's metadata (tool
/// schemas included), and whether it is the 0.1.0 form.
pub fn provides_json(manifest: &Manifest) -> Value {
    let provides = &manifest.provides;
    let tools: Vec<Value> = provides
        .tool
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "description": t.description,
                "input_schema": schema(&manifest.dir, t.input_schema.as_deref()),
                "output_schema": schema(&manifest.dir, t.output_schema.as_deref()),
            })
        })
        .collect();
    let hooks: Vec<Value> = provides
        .hook
        .iter()
        .map(|h| json!({ "point": h.point, "priority": h.priority, "deadline_ms": h.deadline_ms }))
        .collect();
    let commands: Vec<Value> = provides
        .command
        .iter()
        .map(|c| json!({ "description": c.description }))
        .collect();
    // The Thoth kinds' entries serialize as they are (docs/design/0040).
    fn value<T: serde::Serialize>(entries: &T) -> Value {
        serde_json::to_value(entries).unwrap_or_default()
    }
    json!({
        "kinds": provides.kinds().iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "tool": tools,
        "hook": hooks,
        "command": commands,
        "file-loader": value(&provides.file_loader),
        "file-viewer": value(&provides.file_viewer),
        "exporter": value(&provides.exporter),
        "data-source": value(&provides.data_source),
        "theme": value(&provides.theme),
        "theme-provider": value(&provides.theme_provider),
        "service": value(&provides.service),
        "event-handler": value(&provides.event_handler),
        "auth-provider": value(&provides.auth_provider),
        "policy-hook": value(&provides.policy_hook),
        "search-analyzer": value(&provides.search_analyzer),
        "preview": value(&provides.preview),
        "content-transform": value(&provides.content_transform),
        "storage-provider": value(&provides.storage_provider),
        "legacy": provides.legacy,
    })
}

/// One word per kind with its entries, e.g. `tool(word_count,tally) hook(before-tool-call)`.
pub fn summary(manifest: &Manifest) -> String {
    let provides = &manifest.provides;
    let mut parts = Vec::new();
    if !provides.command.is_empty() {
        parts.push("command".to_string());
    }
    if !provides.tool.is_empty() {
        let names: Vec<&str> = provides.tool.iter().map(|t| t.name.as_str()).collect();
        parts.push(format!("tool({})", names.join(",")));
    }
    if !provides.hook.is_empty() {
        let points: Vec<&str> = provides.hook.iter().map(|h| h.point.as_str()).collect();
        parts.push(format!("hook({})", points.join(",")));
    }
    let named = |kind: &str, names: Vec<&str>, parts: &mut Vec<String>| {
        if !names.is_empty() {
            parts.push(format!("{kind}({})", names.join(",")));
        }
    };
    named(
        "file-loader",
        provides
            .file_loader
            .iter()
            .map(|f| f.name.as_str())
            .collect(),
        &mut parts,
    );
    named(
        "file-viewer",
        provides
            .file_viewer
            .iter()
            .map(|f| f.name.as_str())
            .collect(),
        &mut parts,
    );
    named(
        "exporter",
        provides.exporter.iter().map(|f| f.name.as_str()).collect(),
        &mut parts,
    );
    named(
        "data-source",
        provides
            .data_source
            .iter()
            .map(|d| d.name.as_str())
            .collect(),
        &mut parts,
    );
    named(
        "theme",
        provides.theme.iter().map(|t| t.name.as_str()).collect(),
        &mut parts,
    );
    named(
        "theme-provider",
        provides
            .theme_provider
            .iter()
            .map(|t| t.name.as_str())
            .collect(),
        &mut parts,
    );
    named(
        "event-handler",
        provides
            .event_handler
            .iter()
            .map(|h| h.name.as_str())
            .collect(),
        &mut parts,
    );
    for (kind, entries) in [
        ("auth-provider", &provides.auth_provider),
        ("policy-hook", &provides.policy_hook),
        ("search-analyzer", &provides.search_analyzer),
    ] {
        named(
            kind,
            entries.iter().map(|e| e.name.as_str()).collect(),
            &mut parts,
        );
    }
    named(
        "preview",
        provides.preview.iter().map(|p| p.name.as_str()).collect(),
        &mut parts,
    );
    named(
        "content-transform",
        provides
            .content_transform
            .iter()
            .map(|t| t.name.as_str())
            .collect(),
        &mut parts,
    );
    named(
        "storage-provider",
        provides
            .storage_provider
            .iter()
            .map(|e| e.name.as_str())
            .collect(),
        &mut parts,
    );
    for service in &provides.service {
        parts.push(format!(
            "service(queue={},{})",
            service.queue,
            service.overflow.as_str()
        ));
    }
    parts.join(" ")
}

/// The lines `plinth show` prints under `provides:`.
pub fn lines(manifest: &Manifest) -> Vec<String> {
    let provides = &manifest.provides;
    let mut lines = Vec::new();
    for c in &provides.command {
        match &c.description {
            Some(d) => lines.push(format!("  command: {d}")),
            None => lines.push("  command".to_string()),
        }
    }
    for t in &provides.tool {
        lines.push(format!(
            "  tool {}: {}",
            t.name,
            t.description.as_deref().unwrap_or("")
        ));
        let input = schema(&manifest.dir, t.input_schema.as_deref());
        if !input.is_null() {
            lines.push(format!("    input schema:  {input}"));
        }
        let output = schema(&manifest.dir, t.output_schema.as_deref());
        if !output.is_null() {
            lines.push(format!("    output schema: {output}"));
        }
    }
    for h in &provides.hook {
        let deadline = h
            .deadline_ms
            .map_or(String::new(), |ms| format!(", deadline {ms} ms"));
        lines.push(format!(
            "  hook on {} (priority {}{deadline})",
            h.point, h.priority
        ));
    }
    let formats = |kind: &str, f: &plinth_manifest::FileFormatDecl| {
        let mut keys = f
            .extensions
            .iter()
            .map(|e| format!(".{e}"))
            .collect::<Vec<_>>();
        keys.extend(f.media_types.iter().cloned());
        format!("  {kind} {}: {}", f.name, keys.join(" "))
    };
    lines.extend(
        provides
            .file_loader
            .iter()
            .map(|f| formats("file-loader", f)),
    );
    lines.extend(
        provides
            .file_viewer
            .iter()
            .map(|f| formats("file-viewer", f)),
    );
    for e in &provides.exporter {
        lines.push(format!(
            "  exporter {}: .{} {}",
            e.name, e.extension, e.media_type
        ));
    }
    for d in &provides.data_source {
        lines.push(format!("  data-source {}: {}", d.name, d.title));
    }
    for t in &provides.theme {
        lines.push(format!("  theme {}: {}", t.name, t.file.display()));
    }
    for t in &provides.theme_provider {
        lines.push(format!("  theme-provider {}", t.name));
    }
    for h in &provides.event_handler {
        let actions: Vec<&str> = h.actions.iter().map(|a| a.as_str()).collect();
        lines.push(format!("  event-handler {}: {}", h.name, actions.join(" ")));
    }
    for (kind, entries) in [
        ("auth-provider", &provides.auth_provider),
        ("policy-hook", &provides.policy_hook),
        ("search-analyzer", &provides.search_analyzer),
    ] {
        for e in entries {
            lines.push(format!("  {kind} {}", e.name));
        }
    }
    for p in &provides.preview {
        lines.push(format!("  preview {}: {}", p.name, p.media_types.join(" ")));
    }
    for t in &provides.content_transform {
        let output = t
            .output_media_type
            .as_deref()
            .map_or_else(String::new, |m| format!(" -> {m}"));
        lines.push(format!(
            "  content-transform {}: {}{output}",
            t.name,
            t.media_types.join(" ")
        ));
    }
    for e in &provides.storage_provider {
        lines.push(format!("  storage-provider {}", e.name));
    }
    for service in &provides.service {
        let deadline = service
            .deadline_ms
            .map_or_else(|| "the wall clock".to_owned(), |ms| format!("{ms} ms"));
        lines.push(format!(
            "  service: queue {} ({} when full), {} at once, deadline {deadline}, {} attempts",
            service.queue,
            service.overflow.as_str(),
            service.concurrency,
            service.max_attempts
        ));
    }
    lines
}
