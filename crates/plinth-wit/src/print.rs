//! WIT text of types and function signatures, for messages and for comparing them.
//!
//! Three renderings:
//!
//! - [`type_text`] and [`signature`]: as written in WIT, named types by their name
//!   (`func(name: string) -> result<string, tool-error>`). Two sides that agree on this
//!   text and on every named type it mentions agree on the function.
//! - [`definition`]: one named type's definition, its members in the first rendering
//!   (`record { name: string, output-schema: option<string> }`).
//! - [`structure`]: the whole structure with every alias and name resolved but resources
//!   (which are nominal), the way the Component Model checks types. Two types from
//!   different [`Resolve`]s are the same to a host when this text is.

use std::fmt::Write as _;

use wit_parser::{
    Function, FunctionKind, Handle, Interface, Resolve, Type, TypeDefKind, TypeId, TypeOwner,
};

/// How named types are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// By their name, as WIT source writes them.
    Names,
    /// Expanded to their structure; resources stay names.
    Structure,
}

/// `ty` as WIT writes it: `string`, `list<u8>`, `tool-info`, `borrow<file>`.
pub(crate) fn type_text(resolve: &Resolve, ty: &Type) -> String {
    let mut out = String::new();
    write_type(resolve, ty, Depth::Names, &mut out);
    out
}

/// `ty` with every name expanded but resources: what the Component Model compares.
pub(crate) fn structure(resolve: &Resolve, ty: &Type) -> String {
    let mut out = String::new();
    write_type(resolve, ty, Depth::Structure, &mut out);
    out
}

/// A function's type as WIT writes it, without its name: `func(a: u32) -> string`,
/// `async func()`, `static func() -> r`, `constructor(x: u32)`. A method's `self` is left
/// out, as in WIT.
pub(crate) fn signature(resolve: &Resolve, function: &Function) -> String {
    write_signature(resolve, function, Depth::Names)
}

/// [`signature`] with [`structure`] for every type.
pub(crate) fn signature_structure(resolve: &Resolve, function: &Function) -> String {
    write_signature(resolve, function, Depth::Structure)
}

/// The definition of the named type `id`, its members as WIT writes them:
/// `record { a: u32 }`, `variant { none, some(string) }`, `enum { a, b }`,
/// `flags { read, write }`, `resource`, or the aliased type (`list<u8>`).
pub(crate) fn definition(resolve: &Resolve, id: TypeId) -> String {
    let mut out = String::new();
    write_definition(resolve, id, Depth::Names, &mut out);
    out
}

/// Where a named type is defined and its name, without the version:
/// `plinth:host/log.level`, or the bare name for a type of a world or of no package.
pub(crate) fn qualified_name(resolve: &Resolve, id: TypeId) -> String {
    let ty = &resolve.types[id];
    let name = ty.name.as_deref().unwrap_or("_");
    match ty.owner {
        TypeOwner::Interface(owner) => match interface_name(resolve, &resolve.interfaces[owner]) {
            Some(interface) => format!("{interface}.{name}"),
            None => name.to_string(),
        },
        TypeOwner::World(_) | TypeOwner::None => name.to_string(),
    }
}

/// `namespace:package/interface` of a named interface in a package, without the version.
pub(crate) fn interface_name(resolve: &Resolve, interface: &Interface) -> Option<String> {
    let name = interface.name.as_deref()?;
    let package = &resolve.packages[interface.package?].name;
    Some(format!("{}:{}/{name}", package.namespace, package.name))
}

/// The name a function is known by in its interface: `call`, `file.read` for method `read`
/// of resource `file`, `file.constructor` for its constructor.
pub(crate) fn function_name(resolve: &Resolve, function: &Function) -> String {
    match function.kind.resource() {
        None => function.name.clone(),
        Some(resource) => {
            let owner = resolve.types[resource].name.as_deref().unwrap_or("_");
            match function.kind {
                FunctionKind::Constructor(_) => format!("{owner}.constructor"),
                _ => format!("{owner}.{}", function.item_name()),
            }
        }
    }
}

fn write_signature(resolve: &Resolve, function: &Function, depth: Depth) -> String {
    let mut out = String::new();
    let params = match function.kind {
        FunctionKind::Method(_) | FunctionKind::AsyncMethod(_) => function.params.get(1..),
        _ => Some(&function.params[..]),
    }
    .unwrap_or_default();
    out.push_str(match function.kind {
        FunctionKind::Freestanding | FunctionKind::Method(_) => "func(",
        FunctionKind::AsyncFreestanding | FunctionKind::AsyncMethod(_) => "async func(",
        FunctionKind::Static(_) => "static func(",
        FunctionKind::AsyncStatic(_) => "static async func(",
        FunctionKind::Constructor(_) => "constructor(",
    });
    for (i, param) in params.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&param.name);
        out.push_str(": ");
        write_type(resolve, &param.ty, depth, &mut out);
    }
    out.push(')');
    if let Some(result) = &function.result
        && !is_implicit_constructor_result(resolve, function, result)
    {
        out.push_str(" -> ");
        write_type(resolve, result, depth, &mut out);
    }
    out
}

/// A constructor returns `own<its resource>` without WIT saying so.
fn is_implicit_constructor_result(resolve: &Resolve, function: &Function, result: &Type) -> bool {
    let (FunctionKind::Constructor(resource), Type::Id(id)) = (&function.kind, result) else {
        return false;
    };
    matches!(resolve.types[*id].kind, TypeDefKind::Handle(Handle::Own(r)) if r == *resource)
}

fn write_type(resolve: &Resolve, ty: &Type, depth: Depth, out: &mut String) {
    let primitive = match ty {
        Type::Bool => "bool",
        Type::U8 => "u8",
        Type::U16 => "u16",
        Type::U32 => "u32",
        Type::U64 => "u64",
        Type::S8 => "s8",
        Type::S16 => "s16",
        Type::S32 => "s32",
        Type::S64 => "s64",
        Type::F32 => "f32",
        Type::F64 => "f64",
        Type::Char => "char",
        Type::String => "string",
        Type::ErrorContext => "error-context",
        Type::Id(id) => return write_type_id(resolve, *id, depth, out),
    };
    out.push_str(primitive);
}

fn write_type_id(resolve: &Resolve, id: TypeId, depth: Depth, out: &mut String) {
    let ty = &resolve.types[id];
    if let TypeDefKind::Resource = ty.kind {
        out.push_str(ty.name.as_deref().unwrap_or("resource"));
        return;
    }
    match (&ty.name, depth) {
        (Some(name), Depth::Names) => out.push_str(name),
        _ => write_definition(resolve, id, depth, out),
    }
}

fn write_definition(resolve: &Resolve, id: TypeId, depth: Depth, out: &mut String) {
    let write = |ty: &Type, out: &mut String| write_type(resolve, ty, depth, out);
    match &resolve.types[id].kind {
        TypeDefKind::Record(record) => {
            out.push_str("record { ");
            for (i, field) in record.fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}: ", field.name);
                write(&field.ty, out);
            }
            out.push_str(" }");
        }
        TypeDefKind::Variant(variant) => {
            out.push_str("variant { ");
            for (i, case) in variant.cases.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&case.name);
                if let Some(payload) = &case.ty {
                    out.push('(');
                    write(payload, out);
                    out.push(')');
                }
            }
            out.push_str(" }");
        }
        TypeDefKind::Enum(e) => {
            let names: Vec<&str> = e.cases.iter().map(|c| c.name.as_str()).collect();
            let _ = write!(out, "enum {{ {} }}", names.join(", "));
        }
        TypeDefKind::Flags(flags) => {
            let names: Vec<&str> = flags.flags.iter().map(|f| f.name.as_str()).collect();
            let _ = write!(out, "flags {{ {} }}", names.join(", "));
        }
        TypeDefKind::Resource => out.push_str("resource"),
        TypeDefKind::Handle(Handle::Own(resource)) => {
            write_type_id(resolve, *resource, depth, out);
        }
        TypeDefKind::Handle(Handle::Borrow(resource)) => {
            out.push_str("borrow<");
            write_type_id(resolve, *resource, depth, out);
            out.push('>');
        }
        TypeDefKind::Tuple(tuple) => {
            out.push_str("tuple<");
            for (i, ty) in tuple.types.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(ty, out);
            }
            out.push('>');
        }
        TypeDefKind::Option(ty) => {
            out.push_str("option<");
            write(ty, out);
            out.push('>');
        }
        TypeDefKind::Result(result) => {
            out.push_str("result");
            match (&result.ok, &result.err) {
                (None, None) => {}
                (Some(ok), None) => {
                    out.push('<');
                    write(ok, out);
                    out.push('>');
                }
                (ok, Some(err)) => {
                    out.push('<');
                    match ok {
                        Some(ok) => write(ok, out),
                        None => out.push('_'),
                    }
                    out.push_str(", ");
                    write(err, out);
                    out.push('>');
                }
            }
        }
        TypeDefKind::List(ty) => {
            out.push_str("list<");
            write(ty, out);
            out.push('>');
        }
        TypeDefKind::FixedLengthList(ty, length) => {
            out.push_str("list<");
            write(ty, out);
            let _ = write!(out, ", {length}>");
        }
        TypeDefKind::Map(key, value) => {
            out.push_str("map<");
            write(key, out);
            out.push_str(", ");
            write(value, out);
            out.push('>');
        }
        TypeDefKind::Future(payload) | TypeDefKind::Stream(payload) => {
            out.push_str(resolve.types[id].kind.as_str());
            if let Some(payload) = payload {
                out.push('<');
                write(payload, out);
                out.push('>');
            }
        }
        TypeDefKind::Type(aliased) => write(aliased, out),
        TypeDefKind::Unknown => out.push_str("unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_structures_read_as_wit() {
        let mut resolve = Resolve::default();
        let package = resolve
            .push_str(
                "t.wit",
                "package t:t;
                 interface i {
                     record info { name: string, schema: option<string> }
                     variant error { missing, failed(string) }
                     type bytes = list<u8>;
                     resource file {
                         constructor(path: string);
                         read: func(n: u32) -> result<bytes, error>;
                         open: static func() -> file;
                     }
                     call: func(name: string, info: borrow<file>) -> result<list<info>, error>;
                     pair: func() -> tuple<u8, s64>;
                 }",
            )
            .expect("valid WIT");
        let interface = resolve.packages[package].interfaces["i"];
        let functions = &resolve.interfaces[interface].functions;
        let text = |name: &str| signature(&resolve, &functions[name]);
        assert_eq!(
            text("call"),
            "func(name: string, info: borrow<file>) -> result<list<info>, error>"
        );
        assert_eq!(text("[constructor]file"), "constructor(path: string)");
        assert_eq!(
            text("[method]file.read"),
            "func(n: u32) -> result<bytes, error>"
        );
        assert_eq!(text("[static]file.open"), "static func() -> file");
        assert_eq!(text("pair"), "func() -> tuple<u8, s64>");
        assert_eq!(
            signature_structure(&resolve, &functions["[method]file.read"]),
            "func(n: u32) -> result<list<u8>, variant { missing, failed(string) }>"
        );
        assert_eq!(
            function_name(&resolve, &functions["[method]file.read"]),
            "file.read"
        );
        let info = resolve.interfaces[interface].types["info"];
        assert_eq!(
            definition(&resolve, info),
            "record { name: string, schema: option<string> }"
        );
        assert_eq!(qualified_name(&resolve, info), "t:t/i.info");
    }
}
