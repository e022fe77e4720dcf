//! The flat plugin layout (docs/design/0052): `plugins/x.wasm` beside its manifest `x.toml`
//! and signature `x.sig`, as Stack Composer lays plugins out, next to the folder-per-plugin
//! layout. `x.toml` is either a Plinth manifest (with `[runtime]`) or Stack Composer's own:
//!
//! ```toml
//! [plugin]
//! id           = "org.example.hello"
//! version      = "0.1.0"
//! wasm_target  = "wasm32-wasi"
//! signature    = "file:hello-plugin.sig"
//! capabilities = ["log", "retrieval"]
//! entry        = "_start"
//!
//! [meta]
//! name        = "Hello Plugin"
//! description = "Echo back the user input."
//! license     = "MIT"
//! authors     = ["Jane Dev <jane@example.org>"]
//! ```
//!
//! which is read into Plinth's model: `[meta]` into the plugin's metadata, the component
//! `x.wasm`, `log` into the `log` capability, `fs_read` into reading the host directory
//! named `data`, and every other capability (`retrieval`, `llm`, `plan`, `network`) into an
//! app-defined capability of the same name. What does not carry over is a diagnostic.

use std::path::Path;

use toml::{Table, Value};

use super::{Manifest, ManifestError, Parsed, syntax_error};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::plugin_file::{MANIFEST_MAX_BYTES, PluginFileError};

/// The host directory name Stack Composer's `fs_read` capability reads (its sandboxed
/// `/plugin/data`), which the embedder maps in host config `[dirs]`.
pub const FLAT_DATA_DIR: &str = "data";

/// The manifest beside component `x.wasm`: `x.toml`, when it exists.
pub fn manifest_beside(component: &Path) -> Option<std::path::PathBuf> {
    let manifest = component.with_extension("toml");
    (component.extension().is_some_and(|e| e == "wasm") && manifest.is_file()).then_some(manifest)
}

/// The component a flat manifest `x.toml` belongs to: `x.wasm` beside it.
pub fn component_beside(manifest: &Path) -> std::path::PathBuf {
    manifest.with_extension("wasm")
}

impl Manifest {
    /// Reads the flat manifest `x.toml` of component `x.wasm` (a Plinth manifest or Stack
    /// Composer's), at most [`MANIFEST_MAX_BYTES`]; the manifest's directory is the plugin
    /// directory holding both files.
    pub fn load_flat(file: &Path) -> Result<Parsed, ManifestError> {
        let text = match crate::plugin_file::read_to_string(file, MANIFEST_MAX_BYTES) {
            Ok(text) => text,
            Err(PluginFileError::Missing { .. }) => {
                return Err(ManifestError::Missing {
                    path: file.to_path_buf(),
                });
            }
            Err(PluginFileError::Io { source, .. }) => {
                return Err(ManifestError::Io {
                    path: file.to_path_buf(),
                    source,
                });
            }
            Err(refused) => return Err(ManifestError::Refused(refused)),
        };
        let table: Table = text.parse().map_err(|e| syntax_error(&text, file, &e))?;
        if table.contains_key("runtime") {
            return Manifest::parse(&text, file);
        }
        let (plinth, mut notes) = from_stack_composer(&table, file)?;
        let text = toml::to_string(&plinth).map_err(|e| invalid(file, "plugin", e.to_string()))?;
        let mut parsed = Manifest::parse(&text, file)?;
        let id = parsed.manifest.plugin.id.to_string();
        for note in &mut notes {
            *note = note.clone().with_plugin(&id);
        }
        parsed.warnings.extend(notes);
        Ok(parsed)
    }
}

fn invalid(file: &Path, key: &str, reason: impl Into<String>) -> ManifestError {
    ManifestError::Invalid {
        file: file.to_path_buf(),
        key: key.into(),
        reason: reason.into(),
    }
}

fn note(code: Code, message: String, hint: &str) -> Diagnostic {
    Diagnostic::new(code, message)
        .with_severity(Severity::Warning)
        .with_hint(hint)
}

/// Stack Composer's manifest as a Plinth manifest table, and what did not carry over.
fn from_stack_composer(
    table: &Table,
    file: &Path,
) -> Result<(Table, Vec<Diagnostic>), ManifestError> {
    let shown = file.display();
    let mut notes = Vec::new();
    let plugin = table
        .get("plugin")
        .and_then(Value::as_table)
        .ok_or_else(|| {
            invalid(
                file,
                "plugin",
                "missing: a [plugin] table with id and version",
            )
        })?;
    let meta = match table.get("meta") {
        None => Table::new(),
        Some(Value::Table(meta)) => meta.clone(),
        Some(_) => return Err(invalid(file, "meta", "is not a table")),
    };
    for key in table
        .keys()
        .filter(|k| !matches!(k.as_str(), "plugin" | "meta"))
    {
        notes.push(note(
            Code::UnknownKey,
            format!("{shown}: [{key}] is not part of a Stack Composer manifest and is ignored"),
            "a flat manifest has [plugin] and [meta]; use a plugin folder with plugin.toml for more",
        ));
    }

    let mut out_plugin = Table::new();
    for key in ["id", "version"] {
        if let Some(value) = plugin.get(key) {
            out_plugin.insert(key.into(), value.clone());
        }
    }
    for key in ["name", "description", "license", "authors"] {
        if let Some(value) = meta.get(key) {
            out_plugin.insert(key.into(), value.clone());
        }
    }
    for key in meta
        .keys()
        .filter(|k| !matches!(k.as_str(), "name" | "description" | "license" | "authors"))
    {
        notes.push(note(
            Code::UnknownKey,
            format!("{shown}: meta.{key} has no place in Plinth's model and is ignored"),
            "Plinth keeps name, description, license and authors",
        ));
    }

    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| invalid(file, "plugin", "the manifest's file name is not UTF-8"))?;
    let component = format!("{stem}.wasm");
    match plugin.get("wasm_target").map(Value::as_str) {
        None | Some(Some("wasm32-wasip2")) => {}
        Some(Some(target)) => notes.push(note(
            Code::NotAComponent,
            format!(
                "{shown}: plugin.wasm_target = {target:?} builds a core module; Plinth loads WebAssembly components only"
            ),
            "rebuild for `wasm32-wasip2` (`cargo build --target wasm32-wasip2`) and sign again; docs/stack-composer.md",
        )),
        Some(None) => return Err(invalid(file, "plugin.wasm_target", "is not a string")),
    }
    match plugin.get("signature").map(Value::as_str) {
        None => {}
        Some(Some(reference)) => {
            let expected = format!("file:{stem}.sig");
            if reference != expected {
                notes.push(note(
                    Code::BadSignature,
                    format!(
                        "{shown}: plugin.signature = {reference:?} is not read; the signature of {component} is always {stem}.sig beside it"
                    ),
                    "move the signature to STEM.sig beside STEM.wasm",
                ));
            }
        }
        Some(None) => return Err(invalid(file, "plugin.signature", "is not a string")),
    }
    if let Some(entry) = plugin.get("entry") {
        let entry = entry.as_str().unwrap_or_default();
        notes.push(
            note(
                Code::UnknownKey,
                format!("{shown}: plugin.entry = {entry:?} is ignored: a component's exports are called by name"),
                "export `run` (the command world) or the functions the application calls",
            )
            .with_severity(Severity::Note),
        );
    }
    for key in plugin.keys().filter(|k| {
        !matches!(
            k.as_str(),
            "id" | "version" | "wasm_target" | "signature" | "capabilities" | "entry"
        )
    }) {
        notes.push(note(
            Code::UnknownKey,
            format!(
                "{shown}: plugin.{key} is not part of a Stack Composer manifest and is ignored"
            ),
            "see docs/stack-composer.md for the keys that carry over",
        ));
    }

    let mut capabilities = Table::new();
    let requested = match plugin.get("capabilities") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    invalid(
                        file,
                        "plugin.capabilities",
                        format!("{item} is not a capability name"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(invalid(
                file,
                "plugin.capabilities",
                "is not an array of names",
            ));
        }
    };
    for capability in requested {
        match capability.as_str() {
            "log" => {
                capabilities.insert("log".into(), Value::Boolean(true));
            }
            "fs_read" => {
                let mut fs = Table::new();
                fs.insert(
                    "read".into(),
                    Value::Array(vec![Value::String(FLAT_DATA_DIR.into())]),
                );
                capabilities.insert("fs".into(), Value::Table(fs));
            }
            other => {
                capabilities.insert(other.to_owned(), Value::Boolean(true));
            }
        }
    }

    let mut runtime = Table::new();
    runtime.insert("kind".into(), Value::String("wasm-component".into()));
    runtime.insert("component".into(), Value::String(component));
    let mut out = Table::new();
    out.insert("plugin".into(), Value::Table(out_plugin));
    out.insert("runtime".into(), Value::Table(runtime));
    if !capabilities.is_empty() {
        out.insert("capabilities".into(), Value::Table(capabilities));
    }
    Ok((out, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const HELLO: &str = r#"[plugin]
id           = "org.example.hello"
version      = "0.1.0"
wasm_target  = "wasm32-wasi"
signature    = "file:hello-plugin.sig"
capabilities = ["log", "retrieval", "fs_read", "network"]
entry        = "_start"

[meta]
name        = "Hello Plugin"
description = "Echo back the user input."
license     = "MIT"
authors     = ["Jane Dev <jane@example.org>"]
homepage    = "https://example.org"
"#;

    #[test]
    fn a_stack_composer_manifest_maps_into_plinths_model() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "hello-plugin.toml", HELLO);
        let parsed = Manifest::load_flat(&file).unwrap();
        let m = &parsed.manifest;
        assert_eq!(m.plugin.id.as_str(), "org.example.hello");
        assert_eq!(m.plugin.version.to_string(), "0.1.0");
        assert_eq!(m.plugin.name.as_deref(), Some("Hello Plugin"));
        assert_eq!(m.plugin.license.as_deref(), Some("MIT"));
        assert_eq!(m.plugin.authors, ["Jane Dev <jane@example.org>"]);
        assert_eq!(
            m.component_path().unwrap(),
            dir.path().join("hello-plugin.wasm")
        );
        assert!(m.capabilities.log);
        assert_eq!(m.capabilities.fs_read, [FLAT_DATA_DIR]);
        assert_eq!(
            m.capabilities.custom.keys().collect::<Vec<_>>(),
            ["network", "retrieval"]
        );
        let grants: Vec<String> = m.requested_grants().iter().map(|g| g.to_string()).collect();
        assert!(grants.contains(&"retrieval".to_owned()), "{grants:?}");
        let codes: Vec<(&str, Severity)> = parsed
            .warnings
            .iter()
            .map(|d| (d.code.as_str(), d.severity))
            .collect();
        assert!(
            codes.contains(&("not-a-component", Severity::Warning)),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("unknown-key", Severity::Note)),
            "{codes:?}"
        );
        assert!(
            parsed
                .warnings
                .iter()
                .any(|d| d.message.contains("meta.homepage")),
            "{:?}",
            parsed.warnings
        );
        assert!(
            parsed
                .warnings
                .iter()
                .all(|d| d.plugin.as_deref() == Some("org.example.hello"))
        );
    }

    #[test]
    fn a_wrong_signature_path_and_broken_fields_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "x.toml",
            "[plugin]\nid = \"org.example.x\"\nversion = \"1.0.0\"\nwasm_target = \"wasm32-wasip2\"\nsignature = \"file:elsewhere.sig\"\n",
        );
        let parsed = Manifest::load_flat(&file).unwrap();
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
        assert_eq!(parsed.warnings[0].code.as_str(), "bad-signature");

        let bad = write(
            dir.path(),
            "y.toml",
            "[plugin]\nid = \"org.example.y\"\nversion = \"1.0.0\"\ncapabilities = [1]\n",
        );
        let err = Manifest::load_flat(&bad).unwrap_err();
        assert!(err.to_string().contains("plugin.capabilities"), "{err}");
        let none = write(dir.path(), "z.toml", "[meta]\nname = \"z\"\n");
        assert!(Manifest::load_flat(&none).is_err());
        let missing_version = write(dir.path(), "w.toml", "[plugin]\nid = \"org.example.w\"\n");
        assert!(Manifest::load_flat(&missing_version).is_err());
    }

    #[test]
    fn a_plinth_manifest_beside_its_component_is_read_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "tool.toml",
            "[plugin]\nid = \"example.tool\"\nversion = \"2.0.0\"\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"tool.wasm\"\n[capabilities]\nkv = true\n",
        );
        let parsed = Manifest::load_flat(&file).unwrap();
        assert!(parsed.manifest.capabilities.kv);
        assert_eq!(component_beside(&file), dir.path().join("tool.wasm"));
        std::fs::write(dir.path().join("tool.wasm"), b"").unwrap();
        assert_eq!(manifest_beside(&dir.path().join("tool.wasm")), Some(file));
    }
}
