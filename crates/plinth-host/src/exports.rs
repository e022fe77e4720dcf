//! The catalog of a component's exported functions, read from its type at load time, and
//! the name resolution of DESIGN §7 (`run`, `iface#func`, `ns:pkg/iface@version#func`).

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex, Type};

/// One exported function.
#[derive(Clone)]
pub struct ExportedFunc {
    /// The exporting interface instance (`plinth:plugin/tool@0.1.0`), none at world level.
    pub interface: Option<String>,
    /// The function's name inside it.
    pub name: String,
    pub(crate) index: ComponentExportIndex,
    pub(crate) ty: ComponentFunc,
    /// [`Self::qualified_name`], built once at load: calls clone this instead of
    /// formatting a new `String` each time.
    pub(crate) qualified: Arc<str>,
    /// The results' weight for the result budget ([`crate::result_budget::lift_ratio`]),
    /// computed once at load.
    pub(crate) lift_ratio: f64,
    /// How a JSON call of it is made, decided once at load (docs/design/0072).
    pub(crate) plan: Arc<crate::json_plan::JsonPlan>,
}

impl std::fmt::Debug for ExportedFunc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportedFunc")
            .field("name", &self.qualified_name())
            .finish()
    }
}

impl ExportedFunc {
    fn new(
        interface: Option<String>,
        name: String,
        index: ComponentExportIndex,
        ty: ComponentFunc,
    ) -> Self {
        let qualified = match &interface {
            Some(interface) => format!("{interface}#{name}").into(),
            None => name.as_str().into(),
        };
        let lift_ratio = crate::result_budget::results_ratio(ty.results());
        let plan = Arc::new(crate::json_plan::JsonPlan::new(&ty));
        Self {
            interface,
            name,
            index,
            ty,
            qualified,
            lift_ratio,
            plan,
        }
    }

    /// `iface#func` with the interface's full name, or just the name at world level.
    pub fn qualified_name(&self) -> String {
        self.qualified.to_string()
    }

    /// Parameter names and types.
    pub fn params(&self) -> impl ExactSizeIterator<Item = (&str, Type)> + '_ {
        self.ty.params()
    }

    /// Result types (zero or one).
    pub fn results(&self) -> impl ExactSizeIterator<Item = Type> + '_ {
        self.ty.results()
    }

    /// Whether a parameter or result holds a resource handle (or a future or stream):
    /// something made on one side that the other may wait on.
    pub(crate) fn passes_resources(&self) -> bool {
        self.params()
            .map(|(_, ty)| ty)
            .chain(self.results())
            .any(|ty| holds_handle(&ty))
    }

    /// A WIT-like signature for people: `count(text: string) -> u32`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params()
            .map(|(name, ty)| format!("{name}: {}", crate::json::type_name(&ty)))
            .collect();
        let results: Vec<String> = self
            .results()
            .map(|ty| crate::json::type_name(&ty))
            .collect();
        let mut sig = format!("{}({})", self.qualified_name(), params.join(", "));
        if !results.is_empty() {
            sig.push_str(&format!(" -> {}", results.join(", ")));
        }
        sig
    }
}

/// All exported functions of a component.
#[derive(Debug, Clone, Default)]
pub struct Exports {
    funcs: Vec<ExportedFunc>,
    /// Names that [`Exports::resolve`] answers with exactly one function, checked once at
    /// load (each function's qualified name, `iface#func` and bare name, when unambiguous),
    /// with that function's position: a call by one of these names skips the general scan.
    known: KnownNames,
}

/// The known names: a short list is scanned (cheaper than hashing a name), a long one
/// hashed.
#[derive(Debug, Clone)]
enum KnownNames {
    Few(Vec<(Box<str>, usize)>),
    Many(HashMap<Box<str>, usize>),
}

impl Default for KnownNames {
    fn default() -> Self {
        Self::Few(Vec::new())
    }
}

impl KnownNames {
    /// Up to this many names are scanned.
    const SCANNED: usize = 24;

    fn new(names: Vec<(Box<str>, usize)>) -> Self {
        if names.len() <= Self::SCANNED {
            Self::Few(names)
        } else {
            Self::Many(names.into_iter().collect())
        }
    }

    fn get(&self, query: &str) -> Option<usize> {
        match self {
            Self::Few(names) => names
                .iter()
                .find(|(name, _)| **name == *query)
                .map(|(_, position)| *position),
            Self::Many(names) => names.get(query).copied(),
        }
    }

    #[cfg(test)]
    fn contains(&self, query: &str) -> bool {
        self.get(query).is_some()
    }
}

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg/iface`, `iface`, version).
fn split_interface(name: &str) -> (&str, &str, Option<semver::Version>) {
    let (path, version) = match name.split_once('@') {
        Some((path, version)) => (path, semver::Version::parse(version).ok()),
        None => (name, None),
    };
    let short = path.rsplit_once('/').map_or(path, |(_, iface)| iface);
    (path, short, version)
}

/// Versions match the way Wasmtime's linker matches them: same major, or for 0.x the
/// same minor.
fn compatible(wanted: &semver::Version, have: &semver::Version) -> bool {
    if wanted.major != have.major {
        return false;
    }
    wanted.major != 0 || wanted.minor == have.minor
}

/// The functions among `candidates` that `query` names (DESIGN §7): every form requires
/// the function's own name to match, so candidates may be limited to namesakes.
fn matching<'a>(
    candidates: impl Iterator<Item = &'a ExportedFunc> + Clone,
    query: &str,
) -> Vec<&'a ExportedFunc> {
    match query.split_once('#') {
        Some((iface, func)) => {
            let (wanted_path, wanted_short, wanted_version) = split_interface(iface);
            let qualified = wanted_path.contains('/');
            candidates
                .filter(|f| f.name == func)
                .filter(|f| {
                    let Some(interface) = &f.interface else {
                        return false;
                    };
                    let (path, short, version) = split_interface(interface);
                    let name_ok = if qualified {
                        path == wanted_path
                    } else {
                        short == wanted_short
                    };
                    let version_ok = match (&wanted_version, &version) {
                        (Some(wanted), Some(have)) => compatible(wanted, have),
                        (Some(_), None) => false,
                        (None, _) => true,
                    };
                    name_ok && version_ok
                })
                .collect()
        }
        None => {
            let world_level: Vec<&ExportedFunc> = candidates
                .clone()
                .filter(|f| f.interface.is_none() && f.name == query)
                .collect();
            if world_level.is_empty() {
                // A bare name may also mean an interface function, when only one
                // interface has it (`run` for `plinth:plugin/command#run`).
                candidates.filter(|f| f.name == query).collect()
            } else {
                world_level
            }
        }
    }
}

impl Exports {
    /// Reads the catalog from a compiled component.
    pub(crate) fn of(component: &Component, engine: &Engine) -> Self {
        let mut funcs = Vec::new();
        let ty = component.component_type();
        for (name, export) in ty.exports(engine) {
            match export.ty {
                ComponentItem::ComponentFunc(func) => {
                    if let Some(index) = component.get_export_index(None, name) {
                        funcs.push(ExportedFunc::new(None, name.to_string(), index, func));
                    }
                }
                ComponentItem::ComponentInstance(instance) => {
                    let Some(instance_index) = component.get_export_index(None, name) else {
                        continue;
                    };
                    for (func_name, item) in instance.exports(engine) {
                        let ComponentItem::ComponentFunc(func) = item.ty else {
                            continue;
                        };
                        if let Some(index) =
                            component.get_export_index(Some(&instance_index), func_name)
                        {
                            funcs.push(ExportedFunc::new(
                                Some(name.to_string()),
                                func_name.to_string(),
                                index,
                                func,
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        Self::from_funcs(funcs)
    }

    /// The catalog of `funcs`, with the names calls usually use resolved up front.
    fn from_funcs(funcs: Vec<ExportedFunc>) -> Self {
        // Every form of name resolves among the functions of that function name only, so
        // each name is checked against its namesakes: linear in the usual case. A name
        // shared by very many functions is left to the general scan.
        const MAX_NAMESAKES: usize = 16;
        let mut namesakes: HashMap<&str, Vec<&ExportedFunc>> = HashMap::new();
        for func in &funcs {
            namesakes.entry(func.name.as_str()).or_default().push(func);
        }
        let mut known: Vec<(Box<str>, usize)> = Vec::new();
        for (position, func) in funcs.iter().enumerate() {
            let Some(group) = namesakes.get(func.name.as_str()) else {
                continue;
            };
            if group.len() > MAX_NAMESAKES {
                continue;
            }
            // A name resolves to one function at most, so only a function's own forms can
            // repeat (a world-level function's qualified name is its bare name).
            let mut names = vec![func.qualified.to_string()];
            if let Some(interface) = &func.interface {
                let (_, short, _) = split_interface(interface);
                names.push(func.name.clone());
                names.push(format!("{short}#{}", func.name));
            }
            for name in names {
                let resolves_here = matches!(
                    matching(group.iter().copied(), &name).as_slice(),
                    [only] if std::ptr::eq(*only, func)
                );
                if resolves_here {
                    known.push((name.into_boxed_str(), position));
                }
            }
        }
        Self {
            funcs,
            known: KnownNames::new(known),
        }
    }

    /// Every exported function.
    pub fn iter(&self) -> impl Iterator<Item = &ExportedFunc> {
        self.funcs.iter()
    }

    /// Names of the exported interface instances, in order, without duplicates.
    pub fn interfaces(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for name in self.funcs.iter().filter_map(|f| f.interface.as_deref()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Resolves an export name. `Err` carries the candidates: the functions that
    /// matched (when several did) or all of them (when none did).
    pub fn resolve(&self, query: &str) -> Result<&ExportedFunc, Vec<String>> {
        if let Some(func) = self.known.get(query).and_then(|p| self.funcs.get(p)) {
            return Ok(func);
        }
        self.scan(query)
    }

    /// The general resolution of DESIGN §7: every function, every name form.
    fn scan(&self, query: &str) -> Result<&ExportedFunc, Vec<String>> {
        let matches = matching(self.funcs.iter(), query);
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(self
                .funcs
                .iter()
                .map(ExportedFunc::qualified_name)
                .collect()),
            several => Err(several.iter().map(|f| f.qualified_name()).collect()),
        }
    }
}

/// Whether a value of type `ty` can hold a handle: a resource (owned or borrowed), a
/// future, a stream or an error context.
fn holds_handle(ty: &Type) -> bool {
    match ty {
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            true
        }
        Type::List(list) => holds_handle(&list.ty()),
        Type::FixedLengthList(list) => holds_handle(&list.ty()),
        Type::Map(map) => holds_handle(&map.key()) || holds_handle(&map.value()),
        Type::Record(record) => record.fields().any(|field| holds_handle(&field.ty)),
        Type::Tuple(tuple) => tuple.types().any(|ty| holds_handle(&ty)),
        Type::Variant(variant) => variant
            .cases()
            .any(|case| case.ty.as_ref().is_some_and(holds_handle)),
        Type::Option(option) => holds_handle(&option.ty()),
        Type::Result(result) => {
            result.ok().as_ref().is_some_and(holds_handle)
                || result.err().as_ref().is_some_and(holds_handle)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_compatibility_follows_semver_tracks() {
        let v = |s: &str| semver::Version::parse(s).unwrap();
        assert!(compatible(&v("0.1.0"), &v("0.1.9")));
        assert!(!compatible(&v("0.1.0"), &v("0.2.0")));
        assert!(compatible(&v("1.0.0"), &v("1.4.0")));
        assert!(!compatible(&v("1.0.0"), &v("2.0.0")));
    }

    /// Two interfaces exporting `run`, one exporting `only`, one world-level `top`.
    fn catalog() -> Exports {
        let engine = Engine::default();
        let component = Component::new(
            &engine,
            r#"(component
                (core module $m (func (export "f")))
                (core instance $i (instantiate $m))
                (func $f (canon lift (core func $i "f")))
                (instance $a (export "run" (func $f)) (export "only" (func $f)))
                (instance $b (export "run" (func $f)))
                (export "x:y/a@0.1.0" (instance $a))
                (export "x:y/b@0.1.0" (instance $b))
                (export "top" (func $f))
            )"#,
        )
        .unwrap();
        Exports::of(&component, &engine)
    }

    #[test]
    fn known_names_answer_as_the_general_resolution() {
        let exports = catalog();
        let names = [
            "run",
            "only",
            "top",
            "a#run",
            "b#run",
            "a#only",
            "b#only",
            "x:y/a@0.1.0#run",
            "x:y/a@0.1.7#run",
            "x:y/a@0.2.0#run",
            "x:y/a#run",
            "x:y/b@0.1.0#run",
            "nope",
        ];
        for name in names {
            let fast = exports.resolve(name).map(|f| f.qualified_name());
            let general = exports.scan(name).map(|f| f.qualified_name());
            assert_eq!(fast, general, "{name}");
        }
        // An ambiguous bare name is never a known name: both candidates come back.
        assert!(!exports.known.contains("run"));
        assert!(exports.known.contains("x:y/a@0.1.0#run"));
        assert_eq!(
            exports.resolve("run").unwrap_err(),
            ["x:y/a@0.1.0#run", "x:y/b@0.1.0#run"]
        );
        assert_eq!(
            exports.resolve("only").unwrap().qualified_name(),
            "x:y/a@0.1.0#only"
        );
        assert_eq!(exports.resolve("top").unwrap().qualified_name(), "top");
    }

    #[test]
    fn many_exports_are_found_through_the_hashed_names() {
        let engine = Engine::default();
        let funcs: String = (0..40)
            .map(|i| format!(r#"(export "f{i}" (func $f))"#))
            .collect();
        let wat = format!(
            r#"(component
                (core module $m (func (export "f")))
                (core instance $i (instantiate $m))
                (func $f (canon lift (core func $i "f")))
                (instance $a {funcs})
                (export "x:y/a@1.2.0" (instance $a))
            )"#
        );
        let exports = Exports::of(&Component::new(&engine, wat).unwrap(), &engine);
        assert!(matches!(exports.known, KnownNames::Many(_)));
        for name in [
            "f7",
            "a#f7",
            "x:y/a@1.2.0#f7",
            "x:y/a@1.0.0#f39",
            "f40",
            "b#f1",
        ] {
            let fast = exports.resolve(name).map(|f| f.qualified_name());
            let general = exports.scan(name).map(|f| f.qualified_name());
            assert_eq!(fast, general, "{name}");
        }
        assert_eq!(
            exports.resolve("f7").unwrap().qualified_name(),
            "x:y/a@1.2.0#f7"
        );
    }

    #[test]
    fn interface_names_split() {
        let (path, short, version) = split_interface("plinth:plugin/tool@0.1.0");
        assert_eq!(path, "plinth:plugin/tool");
        assert_eq!(short, "tool");
        assert_eq!(version.unwrap().to_string(), "0.1.0");
        assert_eq!(split_interface("tool").1, "tool");
    }
}
