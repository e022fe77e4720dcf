//! Which functions use which types: a changed type matters only through them.

use std::collections::HashMap;

use wit_parser::{Function, Handle, Resolve, Type, TypeDefKind, TypeId, TypeOwner};

use crate::print::{function_name, interface_name};

/// For every type some function uses (in a parameter or result, directly or inside another
/// type, through aliases), the functions using it: `call`, or `plinth:tool/tool#call` when
/// the function belongs to another interface than the type.
pub(crate) fn type_users(resolve: &Resolve) -> HashMap<TypeId, Vec<String>> {
    let mut users: HashMap<TypeId, Vec<String>> = HashMap::new();
    for (id, interface) in resolve.interfaces.iter() {
        let prefix = interface_name(resolve, interface);
        for function in interface.functions.values() {
            let short = function_name(resolve, function);
            let user = User {
                owner: TypeOwner::Interface(id),
                short: &short,
                prefix: prefix.as_deref(),
            };
            record_function(resolve, function, &user, &mut users);
        }
    }
    for (id, world) in resolve.worlds.iter() {
        let functions = world.imports.values().chain(world.exports.values());
        for item in functions {
            if let wit_parser::WorldItem::Function(function) = item {
                let user = User {
                    owner: TypeOwner::World(id),
                    short: &function.name,
                    prefix: Some(&world.name),
                };
                record_function(resolve, function, &user, &mut users);
            }
        }
    }
    users
}

/// A function that uses types.
struct User<'a> {
    owner: TypeOwner,
    short: &'a str,
    prefix: Option<&'a str>,
}

impl User<'_> {
    /// How the function is named in the reason of a change to a type owned by `owner`.
    fn name_for(&self, owner: TypeOwner) -> String {
        match self.prefix {
            Some(prefix) if owner != self.owner => format!("{prefix}#{}", self.short),
            _ => self.short.to_string(),
        }
    }
}

fn record_function(
    resolve: &Resolve,
    function: &Function,
    user: &User<'_>,
    users: &mut HashMap<TypeId, Vec<String>>,
) {
    let types = function
        .params
        .iter()
        .map(|p| &p.ty)
        .chain(function.result.as_ref());
    for ty in types {
        record(resolve, ty, user, users);
    }
}

fn record(resolve: &Resolve, ty: &Type, user: &User<'_>, users: &mut HashMap<TypeId, Vec<String>>) {
    let Type::Id(id) = ty else {
        return;
    };
    let name = user.name_for(resolve.types[*id].owner);
    let list = users.entry(*id).or_default();
    if list.contains(&name) {
        return;
    }
    list.push(name);
    let mut each = |ty: &Type| record(resolve, ty, user, users);
    match &resolve.types[*id].kind {
        TypeDefKind::Record(fields) => fields.fields.iter().for_each(|f| each(&f.ty)),
        TypeDefKind::Variant(variant) => variant
            .cases
            .iter()
            .filter_map(|c| c.ty.as_ref())
            .for_each(each),
        TypeDefKind::Tuple(tuple) => tuple.types.iter().for_each(each),
        TypeDefKind::Option(ty)
        | TypeDefKind::List(ty)
        | TypeDefKind::FixedLengthList(ty, _)
        | TypeDefKind::Type(ty) => each(ty),
        TypeDefKind::Map(key, value) => {
            each(key);
            each(value);
        }
        TypeDefKind::Result(result) => {
            result.ok.iter().chain(result.err.iter()).for_each(each);
        }
        TypeDefKind::Future(payload) | TypeDefKind::Stream(payload) => {
            payload.iter().for_each(each);
        }
        TypeDefKind::Handle(Handle::Own(resource) | Handle::Borrow(resource)) => {
            each(&Type::Id(*resource));
        }
        TypeDefKind::Resource
        | TypeDefKind::Enum(_)
        | TypeDefKind::Flags(_)
        | TypeDefKind::Unknown => {}
    }
}
