//! A component's imports and exports, read from its type alone: nothing is compiled,
//! instantiated or run. Decoding parses the component's sections and validates its types,
//! but not its function bodies, so it takes about as long as reading the bytes.

use std::fmt;
use std::path::Path;

use serde::Serialize;
use wit_parser::{Function, Resolve, Type, TypeDefKind, WorldId, WorldItem, WorldKey};

use crate::WitError;
use crate::diff::{same_track, strip_version};
use crate::print::{definition, signature, signature_structure, structure};
use crate::served::{Served, served};
use crate::source::{Origin, WitSet};

/// A component's type, decoded as a WIT world.
#[derive(Debug)]
pub struct Component {
    resolve: Resolve,
    world: WorldId,
}

/// What an import or export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// An interface: `plinth:tool/tool@0.1.0`.
    Interface,
    /// A function of the world itself: `run`.
    Function,
    /// A type of the world itself.
    Type,
}

/// One import or export of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// `plinth:tool/tool@0.1.0` for an interface, else the item's name.
    pub name: String,
    /// Interface, function or type.
    pub kind: EntryKind,
    /// Its functions (the function itself for [`EntryKind::Function`]).
    pub functions: Vec<FunctionSignature>,
}

/// A function and its type in WIT syntax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionSignature {
    /// `call`, or `file.read` for a resource's method.
    pub name: String,
    /// `func(name: string, input: string) -> result<string, tool-error>`.
    pub signature: String,
}

/// Something a component lacks, or has with another type, that the host requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum Problem {
    /// No export of the interface on the required semver track.
    MissingInterface {
        /// The required interface: `plinth:tool/tool@0.1.0`.
        interface: String,
        /// An export of the same interface on another track: `plinth:tool/tool@0.2.0`.
        found: Option<String>,
    },
    /// The interface is exported without a function.
    MissingFunction {
        /// The required interface.
        interface: String,
        /// The function: `call`, `file.read`.
        function: String,
        /// Its required signature.
        expected: String,
    },
    /// The function is exported with another type.
    MistypedFunction {
        /// The required interface.
        interface: String,
        /// The function.
        function: String,
        /// The required signature.
        expected: String,
        /// The exported signature.
        found: String,
        /// The innermost named type that differs, when the signatures read the same.
        difference: Option<TypeDifference>,
    },
    /// The component imports an interface of a served package that the host does not serve
    /// on its semver track.
    UnservedInterface {
        /// The imported interface: `plinth:host/log@0.2.0`.
        interface: String,
    },
    /// The component imports a function that the served interface lacks.
    UnservedFunction {
        /// The imported interface.
        interface: String,
        /// The function.
        function: String,
        /// The signature the component imports it with.
        found: String,
    },
}

/// A named type that differs between what is required and what is exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeDifference {
    /// The type's name: `tool-info`.
    pub name: String,
    /// The required definition: `record { name: string, … }`.
    pub expected: String,
    /// The exported definition.
    pub found: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::MissingInterface { interface, found } => {
                write!(f, "the component does not export `{interface}`")?;
                if let Some(found) = found {
                    write!(f, " (it exports `{found}`, of another semver track)")?;
                }
                Ok(())
            }
            Problem::MissingFunction {
                interface,
                function,
                expected,
            } => write!(
                f,
                "`{interface}` is exported without `{function}`; expected `{function}: {expected}`"
            ),
            Problem::MistypedFunction {
                interface,
                function,
                expected,
                found,
                difference,
            } => {
                write!(
                    f,
                    "`{interface}#{function}` has the wrong type: expected `{expected}`, found \
                     `{found}`"
                )?;
                if let Some(d) = difference {
                    write!(
                        f,
                        "; `{}` should be `{}` but is `{}`",
                        d.name, d.expected, d.found
                    )?;
                }
                Ok(())
            }
            Problem::UnservedInterface { interface } => write!(
                f,
                "the component imports `{interface}`, which this host does not serve"
            ),
            Problem::UnservedFunction {
                interface,
                function,
                found,
            } => write!(
                f,
                "the component imports `{interface}#{function}: {found}`, which this host's \
                 `{interface}` lacks"
            ),
        }
    }
}

impl Component {
    /// Decodes the type of the component in `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Component, WitError> {
        let set = WitSet::decode_as(bytes, Path::new("component.wasm"), "the input".into())?;
        match set.origin() {
            Origin::Component(world) => Ok(Component {
                world,
                resolve: set.into_resolve(),
            }),
            Origin::Package(_) => Err(WitError::NotAComponent {
                what: "the input".into(),
                message: "it is a WIT package encoded as wasm".into(),
            }),
        }
    }

    /// The decoded world and the packages it uses.
    pub fn resolve(&self) -> &Resolve {
        &self.resolve
    }

    /// The component's world in [`Component::resolve`].
    pub fn world(&self) -> WorldId {
        self.world
    }

    /// What the component imports, in its order.
    pub fn imports(&self) -> Vec<Entry> {
        let world = &self.resolve.worlds[self.world];
        world
            .imports
            .iter()
            .map(|(k, i)| self.entry(k, i))
            .collect()
    }

    /// What the component exports, in its order.
    pub fn exports(&self) -> Vec<Entry> {
        let world = &self.resolve.worlds[self.world];
        world
            .exports
            .iter()
            .map(|(k, i)| self.entry(k, i))
            .collect()
    }

    fn entry(&self, key: &WorldKey, item: &WorldItem) -> Entry {
        let resolve = &self.resolve;
        let sig = |function: &Function| FunctionSignature {
            name: crate::print::function_name(resolve, function),
            signature: signature(resolve, function),
        };
        let (kind, functions) = match item {
            WorldItem::Interface { id, .. } => (
                EntryKind::Interface,
                resolve.interfaces[*id]
                    .functions
                    .values()
                    .map(sig)
                    .collect(),
            ),
            WorldItem::Function(function) => (EntryKind::Function, vec![sig(function)]),
            WorldItem::Type { .. } => (EntryKind::Type, Vec::new()),
        };
        Entry {
            name: resolve.name_world_key(key),
            kind,
            functions,
        }
    }

    /// Checks that the component exports each `required` interface of `served` (named with
    /// its version, `plinth:tool/tool@0.1.0`) with every function, each of the same type.
    /// An export of a later version on the same semver track (`@0.1.1`) counts. No problem
    /// means the host's typed bindings will find everything they call.
    pub fn check_exports(
        &self,
        served: &Served,
        required: &[&str],
    ) -> Result<Vec<Problem>, WitError> {
        let mut problems = Vec::new();
        for name in required {
            let wanted = served.interface(name)?;
            let wanted_name = served.resolve().id_of(wanted).unwrap_or_default();
            let Some(found) = self.export_on_track(&wanted_name) else {
                problems.push(Problem::MissingInterface {
                    found: self.export_named(&strip_version(&wanted_name)),
                    interface: wanted_name,
                });
                continue;
            };
            let found = &self.resolve.interfaces[found];
            for (key, expected) in &served.resolve().interfaces[wanted].functions {
                let function = crate::print::function_name(served.resolve(), expected);
                let expected_text = signature(served.resolve(), expected);
                let Some(exported) = found.functions.get(key) else {
                    problems.push(Problem::MissingFunction {
                        interface: wanted_name.clone(),
                        function,
                        expected: expected_text,
                    });
                    continue;
                };
                if signature_structure(served.resolve(), expected)
                    != signature_structure(&self.resolve, exported)
                {
                    problems.push(Problem::MistypedFunction {
                        interface: wanted_name.clone(),
                        function,
                        expected: expected_text,
                        found: signature(&self.resolve, exported),
                        difference: first_difference(
                            (served.resolve(), expected),
                            (&self.resolve, exported),
                        ),
                    });
                }
            }
        }
        Ok(problems)
    }

    /// Checks that `served` has everything the component imports from served packages: each
    /// interface on its semver track, each function with the same type (a
    /// [`Problem::MistypedFunction`] gives the served signature as expected). Imports of
    /// other packages (WASI, an application's own interfaces) are not checked here.
    pub fn check_imports(&self, served: &Served) -> Vec<Problem> {
        let resolve = served.resolve();
        let mut problems = Vec::new();
        for item in self.resolve.worlds[self.world].imports.values() {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let Some(name) = self.resolve.id_of(*id) else {
                continue;
            };
            let Some(serving) = served_on_track(served, &name) else {
                if serves_package_of(served, &name) {
                    problems.push(Problem::UnservedInterface { interface: name });
                }
                continue;
            };
            for (key, imported) in &self.resolve.interfaces[*id].functions {
                let function = crate::print::function_name(&self.resolve, imported);
                let found = signature(&self.resolve, imported);
                match resolve.interfaces[serving].functions.get(key) {
                    None => problems.push(Problem::UnservedFunction {
                        interface: name.clone(),
                        function,
                        found,
                    }),
                    Some(provided)
                        if signature_structure(resolve, provided)
                            != signature_structure(&self.resolve, imported) =>
                    {
                        problems.push(Problem::MistypedFunction {
                            interface: name.clone(),
                            function,
                            expected: signature(resolve, provided),
                            found,
                            difference: first_difference(
                                (resolve, provided),
                                (&self.resolve, imported),
                            ),
                        });
                    }
                    Some(_) => {}
                }
            }
        }
        problems
    }

    /// The highest exported version of interface `name` on its semver track.
    fn export_on_track(&self, name: &str) -> Option<wit_parser::InterfaceId> {
        self.exported_interfaces()
            .filter(|(_, full)| {
                strip_version(full) == strip_version(name) && same_track(full, name)
            })
            .max_by_key(|(_, full)| version_of(full))
            .map(|(id, _)| id)
    }

    /// An export of interface `bare` (no version) in any version.
    fn export_named(&self, bare: &str) -> Option<String> {
        self.exported_interfaces()
            .map(|(_, full)| full)
            .find(|full| strip_version(full) == bare)
    }

    fn exported_interfaces(&self) -> impl Iterator<Item = (wit_parser::InterfaceId, String)> + '_ {
        self.resolve.worlds[self.world]
            .exports
            .values()
            .filter_map(|item| match item {
                WorldItem::Interface { id, .. } => Some((*id, self.resolve.id_of(*id)?)),
                _ => None,
            })
    }
}

/// The highest served version of interface `name` on its semver track.
fn served_on_track(served: &Served, name: &str) -> Option<wit_parser::InterfaceId> {
    let resolve = served.resolve();
    resolve
        .interfaces
        .iter()
        .filter_map(|(id, _)| Some((id, resolve.id_of(id)?)))
        .filter(|(_, full)| strip_version(full) == strip_version(name) && same_track(full, name))
        .max_by_key(|(_, full)| version_of(full))
        .map(|(id, _)| id)
}

/// Whether the served WIT has a package of the interface `ns:pkg/iface@v`, in any version.
fn serves_package_of(served: &Served, name: &str) -> bool {
    let package = name.split('/').next().unwrap_or_default();
    served.packages().iter().any(|id| {
        let p = &served.resolve().packages[*id].name;
        format!("{}:{}", p.namespace, p.name) == package
    })
}

fn version_of(name: &str) -> Option<semver::Version> {
    name.split_once('@')
        .and_then(|(_, v)| semver::Version::parse(v).ok())
}

/// [`Component::decode`] and [`Component::exports`].
pub fn component_exports(bytes: &[u8]) -> Result<Vec<Entry>, WitError> {
    Ok(Component::decode(bytes)?.exports())
}

/// [`Component::decode`] and [`Component::imports`].
pub fn component_imports(bytes: &[u8]) -> Result<Vec<Entry>, WitError> {
    Ok(Component::decode(bytes)?.imports())
}

/// Checks, without compiling or running it, that the component in `bytes` exports each
/// `required` interface of the [served](crate::served()) WIT with every function typed as
/// served ([`Component::check_exports`]).
pub fn check_exports(bytes: &[u8], required: &[&str]) -> Result<Vec<Problem>, WitError> {
    Component::decode(bytes)?.check_exports(served(), required)
}

/// The innermost named type that differs between two functions whose structures differ.
fn first_difference(
    (expected_resolve, expected): (&Resolve, &Function),
    (found_resolve, found): (&Resolve, &Function),
) -> Option<TypeDifference> {
    let types =
        |f: &Function| -> Vec<Type> { f.params.iter().map(|p| p.ty).chain(f.result).collect() };
    let (a, b) = (types(expected), types(found));
    if a.len() != b.len() {
        return None;
    }
    a.iter()
        .zip(&b)
        .find_map(|(a, b)| difference(expected_resolve, *a, found_resolve, *b))
}

fn difference(ra: &Resolve, a: Type, rb: &Resolve, b: Type) -> Option<TypeDifference> {
    if structure(ra, &a) == structure(rb, &b) {
        return None;
    }
    let (Type::Id(a), Type::Id(b)) = (unalias(ra, a), unalias(rb, b)) else {
        return None;
    };
    let (kind_a, kind_b) = (&ra.types[a].kind, &rb.types[b].kind);
    let (children_a, children_b) = (children(kind_a), children(kind_b));
    if kind_a.as_str() == kind_b.as_str() && children_a.len() == children_b.len() {
        let inner = children_a
            .iter()
            .zip(&children_b)
            .find_map(|(x, y)| difference(ra, *x, rb, *y));
        if inner.is_some() {
            return inner;
        }
    }
    let name = ra.types[a].name.as_ref().or(rb.types[b].name.as_ref())?;
    Some(TypeDifference {
        name: name.clone(),
        expected: definition(ra, a),
        found: definition(rb, b),
    })
}

/// `ty` with named aliases (`type x = y`) followed to what they name.
fn unalias(resolve: &Resolve, mut ty: Type) -> Type {
    while let Type::Id(id) = ty {
        match resolve.types[id].kind {
            TypeDefKind::Type(target) => ty = target,
            _ => break,
        }
    }
    ty
}

/// The types directly inside a type, in order.
fn children(kind: &TypeDefKind) -> Vec<Type> {
    match kind {
        TypeDefKind::Record(r) => r.fields.iter().map(|f| f.ty).collect(),
        TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty).collect(),
        TypeDefKind::Tuple(t) => t.types.clone(),
        TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::FixedLengthList(t, _) => {
            vec![*t]
        }
        TypeDefKind::Map(k, v) => vec![*k, *v],
        TypeDefKind::Result(r) => r.ok.iter().chain(r.err.iter()).copied().collect(),
        TypeDefKind::Future(t) | TypeDefKind::Stream(t) => t.iter().copied().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
