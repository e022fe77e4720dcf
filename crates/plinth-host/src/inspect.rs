//! What a component imports and exports, and whether a plugin would load, read from the
//! component's type alone: nothing is compiled, linked or run (docs/design/0054). This is
//! what `plinth show` and `plinth check` use, so they answer in milliseconds on a component
//! the compile cache has never seen.
//!
//! [`Host::check`](crate::Host::check) makes the checks [`Host::load`](crate::Host::load)
//! makes, in the same order and with the same errors, from the component's WIT world:
//! the header, validation of every function body, the runtime API version, the imports
//! the host provides and their types, the declared world and kinds with each function's
//! type, the tools' schemas and the settings schema. What only compiling finds (the
//! engine's own limits, a memory that starts too large) is left to the load.

use plinth_manifest::digest::Digest;
use plinth_manifest::{Kind, Manifest};
use plinth_wit::{Component, EntryKind, Problem};
use wit_parser::{Type, TypeDefKind, TypeOwner, WorldItem};

use crate::caps::custom::HostInterfaces;
use crate::error::HostError;
use crate::kinds::ToolSpec;
use crate::settings::SettingsCell;

/// A component's type, as [`Host::inspect`](crate::Host::inspect) reads it.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// sha256 of the bytes.
    pub digest: Digest,
    /// Imports, in the component's order, and whether this host provides each.
    pub imports: Vec<ImportInfo>,
    /// Exported functions, in the component's order.
    pub exports: Vec<ExportInfo>,
}

/// One import of a component.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportInfo {
    /// `wasi:cli/stdout@0.2.6`.
    pub name: String,
    /// Whether this host provides it.
    pub provided: bool,
}

/// One exported function of a component.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportInfo {
    /// `plinth:tool/tool@0.1.0#call`, or `run` for a function of the world itself.
    pub name: String,
    /// Its type in WIT: `func(name: string, input: string) -> result<string, tool-error>`.
    pub ty: String,
}

impl ExportInfo {
    /// The name and type on one line:
    /// `plinth:tool/tool@0.1.0#call(name: string, input: string) -> result<string, tool-error>`.
    pub fn signature(&self) -> String {
        let ty = self.ty.strip_prefix("async ").unwrap_or(&self.ty);
        let rest = ty.strip_prefix("func").unwrap_or(ty);
        format!("{}{rest}", self.name)
    }
}

/// What [`Host::check`](crate::Host::check) found: a plugin that would load.
#[derive(Debug)]
pub struct Checked {
    id: String,
    inspection: Inspection,
    kinds: Vec<Kind>,
    tools: Vec<ToolSpec>,
    settings: SettingsCell,
}

impl Checked {
    /// The plugin's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The component's imports and exports.
    pub fn inspection(&self) -> &Inspection {
        &self.inspection
    }

    /// The kinds the plugin provides, as a load would bind them.
    pub fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    /// The tools the manifest declares, with their compiled schemas.
    pub fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    /// Checks `settings` against the manifest's settings schema, as a load with them would.
    pub fn validate_settings(&self, settings: &serde_json::Value) -> Result<(), HostError> {
        self.settings.validate(&self.id, settings)
    }
}

/// Reads the component in `bytes`: header, validation, imports and exports.
pub(crate) fn inspect(
    bytes: &[u8],
    id: &str,
    custom: &HostInterfaces,
) -> Result<(Inspection, Component), HostError> {
    crate::runtime::check_header(bytes, id)?;
    read_type(bytes, custom)
}

/// [`inspect`] after the header check: validation, imports and exports.
fn read_type(bytes: &[u8], custom: &HostInterfaces) -> Result<(Inspection, Component), HostError> {
    let digest = Digest::of(bytes);
    validate(bytes)?;
    let component = Component::decode(bytes).map_err(|e| HostError::Compile(e.to_string()))?;
    let imports = imports(&component, custom);
    let exports = component
        .exports()
        .into_iter()
        .flat_map(|entry| {
            let interface = entry.kind == EntryKind::Interface;
            entry.functions.into_iter().map(move |function| ExportInfo {
                name: if interface {
                    format!("{}#{}", entry.name, function.name)
                } else {
                    function.name
                },
                ty: function.signature,
            })
        })
        .collect();
    Ok((
        Inspection {
            digest,
            imports,
            exports,
        },
        component,
    ))
}

/// Checks what a load of the component `bytes` (with its `manifest`, when it has one)
/// checks, without compiling.
pub(crate) fn check(
    id: String,
    manifest: Option<&Manifest>,
    bytes: &[u8],
    custom: &HostInterfaces,
) -> Result<Checked, HostError> {
    crate::runtime::check_header(bytes, &id)?;
    if let Some(manifest) = manifest {
        manifest.check_digest(&Digest::of(bytes))?;
        crate::plugin::check_api(manifest, &id)?;
    }
    let (inspection, component) = read_type(bytes, custom)?;
    let unsupported: Vec<String> = inspection
        .imports
        .iter()
        .filter(|import| !import.provided)
        .map(|import| import.name.clone())
        .collect();
    if !unsupported.is_empty() {
        return Err(HostError::UnsupportedHostApi {
            plugin: id,
            interfaces: unsupported,
        });
    }
    let problems = component.check_imports(plinth_wit::served());
    if !problems.is_empty() {
        return Err(HostError::ImportMismatch {
            plugin: id,
            reason: joined(&problems),
        });
    }
    let exported = exported_interfaces(&component);
    let exported: Vec<&str> = exported.iter().map(String::as_str).collect();
    if let Some(manifest) = manifest {
        crate::world::check_names(manifest, &exported, &id)?;
    }
    if let Some(world) = manifest.and_then(|m| m.world()) {
        let required = crate::world::exported_interfaces(world)
            .ok_or_else(|| crate::world::unknown_world(world, &id))?;
        let required: Vec<&str> = required.iter().map(String::as_str).collect();
        let problems = exports_problems(&component, &required, &id)?;
        if !problems.is_empty() {
            return Err(crate::world::not_implemented(
                world,
                &joined(&problems),
                &id,
            ));
        }
    }
    let kinds = check_kinds(manifest, &component, &exported, &id)?;
    let tools = if kinds.contains(&Kind::Tool) {
        // `plinth check` compiles every schema, whatever a cache has seen.
        crate::kinds::tool_specs(manifest, &id, &crate::schemas::CompiledSchemas::default())?
    } else {
        Vec::new()
    };
    let settings = SettingsCell::load(manifest, &id, serde_json::Value::Null)?;
    Ok(Checked {
        id,
        inspection,
        kinds,
        tools,
        settings,
    })
}

/// Every function body validated, as compiling would, on all cores.
fn validate(bytes: &[u8]) -> Result<(), HostError> {
    wasmparser::Validator::new()
        .validate_all(bytes)
        .map(drop)
        .map_err(|e| HostError::Compile(e.to_string()))
}

/// The kinds a load binds ([`kinds::select`](crate::kinds::select)), each export checked
/// against the served WIT of its kind with every function's type.
fn check_kinds(
    manifest: Option<&Manifest>,
    component: &Component,
    exported: &[&str],
    id: &str,
) -> Result<Vec<Kind>, HostError> {
    let selection = crate::kinds::select(manifest, exported, id)?;
    for (kind, binding) in &selection.bindings {
        // Checked against wasmtime-wasi-http's own types when the component is loaded.
        if binding.is_wasi_http() {
            continue;
        }
        let required = match binding.served {
            crate::kinds::Served::Current => kind.versioned_interface().unwrap_or_default(),
            crate::kinds::Served::Legacy => binding.interface.clone(),
        };
        let problems = exports_problems(component, &[required.as_str()], id)?;
        if !problems.is_empty() {
            return Err(crate::kinds::mismatch(id, *kind, joined(&problems)));
        }
    }
    Ok(selection.kinds())
}

fn exports_problems(
    component: &Component,
    required: &[&str],
    id: &str,
) -> Result<Vec<Problem>, HostError> {
    component
        .check_exports(plinth_wit::served(), required)
        .map_err(|e| HostError::WorldMismatch {
            plugin: id.into(),
            reason: e.to_string(),
            code: plinth_manifest::diagnostic::Code::RuntimeMismatch,
        })
}

fn joined(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The names of the interfaces the component exports, with their versions.
fn exported_interfaces(component: &Component) -> Vec<String> {
    component
        .exports()
        .into_iter()
        .filter(|entry| entry.kind == EntryKind::Interface)
        .map(|entry| entry.name)
        .collect()
}

/// Every import and whether the host provides it, judged as
/// the linker module judges a compiled component: interfaces by name and version track; a
/// type imported at world level is provided unless it is a resource, which is provided
/// when it is (an alias of) a resource of a provided interface.
fn imports(component: &Component, custom: &HostInterfaces) -> Vec<ImportInfo> {
    let resolve = component.resolve();
    resolve.worlds[component.world()]
        .imports
        .iter()
        .map(|(key, item)| {
            let name = resolve.name_world_key(key);
            let provided = match item {
                WorldItem::Interface { .. } | WorldItem::Function(_) => {
                    crate::linker::provided(&name, custom)
                }
                WorldItem::Type { id, .. } => {
                    let mut id = *id;
                    while let TypeDefKind::Type(Type::Id(aliased)) = resolve.types[id].kind {
                        id = aliased;
                    }
                    let target = &resolve.types[id];
                    match (&target.kind, target.owner) {
                        (TypeDefKind::Resource, TypeOwner::Interface(owner)) => resolve
                            .id_of(owner)
                            .is_some_and(|owner: String| crate::linker::provided(&owner, custom)),
                        (TypeDefKind::Resource, _) => false,
                        _ => true,
                    }
                }
            };
            ImportInfo { name, provided }
        })
        .collect()
}
