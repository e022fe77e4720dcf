//! Comparing one interface's functions and types.

use wit_parser::{Function, InterfaceId, Resolve, Type, TypeDefKind, TypeId};

use super::rules::{self, Placement};
use super::{ChangeKind, Differ, ItemKind, Verdict};
use crate::print::{definition, function_name, qualified_name, signature, type_text};

/// `interface#member`; inside a world's inline interface (`world#export(x)`), `….member`.
fn member(interface: &str, name: &str) -> String {
    if interface.contains('#') {
        format!("{interface}.{name}")
    } else {
        format!("{interface}#{name}")
    }
}

/// One named member of a record, variant, enum or flags, with its type as text.
struct Member {
    name: String,
    ty: Option<String>,
}

impl Differ<'_> {
    /// Compares interface `old` with `new`, naming items after `name`.
    pub(super) fn interface(
        &mut self,
        old: InterfaceId,
        new: InterfaceId,
        name: &str,
        placement: &Placement,
    ) {
        let (old_resolve, new_resolve) = (self.old.resolve, self.new.resolve);
        let (old_i, new_i) = (&old_resolve.interfaces[old], &new_resolve.interfaces[new]);
        for (key, old_ty) in &old_i.types {
            let item = member(name, key);
            match new_i.types.get(key) {
                Some(new_ty) => self.type_pair(*old_ty, *new_ty, &item, placement),
                None => {
                    self.type_alone(old_resolve, *old_ty, &item, ChangeKind::Removed, placement)
                }
            }
        }
        for (key, new_ty) in &new_i.types {
            if !old_i.types.contains_key(key) {
                let item = member(name, key);
                self.type_alone(new_resolve, *new_ty, &item, ChangeKind::Added, placement);
            }
        }
        for (key, old_fn) in &old_i.functions {
            match new_i.functions.get(key) {
                Some(new_fn) => {
                    let item = member(name, &function_name(new_resolve, new_fn));
                    self.function_pair(old_fn, new_fn, &item);
                }
                None => {
                    let item = member(name, &function_name(old_resolve, old_fn));
                    let detail = Some(signature(old_resolve, old_fn));
                    let verdicts = placement.removed();
                    self.push(
                        &item,
                        ItemKind::Function,
                        ChangeKind::Removed,
                        detail,
                        verdicts,
                    );
                }
            }
        }
        for (key, new_fn) in &new_i.functions {
            if !old_i.functions.contains_key(key) {
                let item = member(name, &function_name(new_resolve, new_fn));
                let detail = Some(signature(new_resolve, new_fn));
                let verdicts = placement.added();
                self.push(
                    &item,
                    ItemKind::Function,
                    ChangeKind::Added,
                    detail,
                    verdicts,
                );
            }
        }
    }

    /// A function both sides have: any difference in its signature breaks both ways.
    pub(super) fn function_pair(&mut self, old: &Function, new: &Function, item: &str) {
        let (a, b) = (
            signature(self.old.resolve, old),
            signature(self.new.resolve, new),
        );
        if a != b {
            let verdicts = rules::both_breaking(
                "the Component Model checks function types when it links a component: both \
                 sides must have the same signature",
            );
            self.push(
                item,
                ItemKind::Function,
                ChangeKind::Changed,
                Some(format!("{a} → {b}")),
                verdicts,
            );
        }
    }

    /// A type only one side has. Resources are provided by a side, as functions are; any
    /// other type is part of the contract only through the functions that use it.
    fn type_alone(
        &mut self,
        resolve: &Resolve,
        id: TypeId,
        item: &str,
        change: ChangeKind,
        placement: &Placement,
    ) {
        let detail = Some(definition(resolve, id));
        let verdicts = match (&resolve.types[id].kind, change) {
            (TypeDefKind::Resource, ChangeKind::Removed) => placement.removed(),
            (TypeDefKind::Resource, _) => placement.added(),
            _ => placement.unused_change(
                "a type matters only to the functions that use it, whose changes are listed",
            ),
        };
        self.push(item, ItemKind::Type, change, detail, verdicts);
    }

    /// A type both sides have: its members compared one by one.
    pub(super) fn type_pair(
        &mut self,
        old: TypeId,
        new: TypeId,
        item: &str,
        placement: &Placement,
    ) {
        let (old_resolve, new_resolve) = (self.old.resolve, self.new.resolve);
        let verdicts = self.type_change_verdicts(old, new, item, placement);
        let old_members = members(old_resolve, old);
        let new_members = members(new_resolve, new);
        let (Some((old_word, old_members)), Some((new_word, new_members))) =
            (old_members, new_members)
        else {
            let (a, b) = (shape(old_resolve, old), shape(new_resolve, new));
            if a != b {
                self.push(
                    item,
                    ItemKind::Type,
                    ChangeKind::Changed,
                    Some(format!("{a} → {b}")),
                    verdicts,
                );
            }
            return;
        };
        if old_word != new_word {
            let detail = format!(
                "{} → {}",
                definition(old_resolve, old),
                definition(new_resolve, new)
            );
            self.push(
                item,
                ItemKind::Type,
                ChangeKind::Changed,
                Some(detail),
                verdicts,
            );
            return;
        }
        let kind = if old_word == "record" {
            ItemKind::Field
        } else {
            ItemKind::Case
        };
        for m in &old_members {
            let path = format!("{item}.{}", m.name);
            match new_members.iter().find(|n| n.name == m.name) {
                None => self.push(
                    &path,
                    kind,
                    ChangeKind::Removed,
                    m.ty.clone(),
                    verdicts.clone(),
                ),
                Some(n) if n.ty != m.ty => {
                    let show =
                        |t: &Option<String>| t.clone().unwrap_or_else(|| "no payload".into());
                    let detail = format!("{} → {}", show(&m.ty), show(&n.ty));
                    self.push(
                        &path,
                        kind,
                        ChangeKind::Changed,
                        Some(detail),
                        verdicts.clone(),
                    );
                }
                Some(_) => {}
            }
        }
        for n in new_members
            .iter()
            .filter(|n| !old_members.iter().any(|m| m.name == n.name))
        {
            let path = format!("{item}.{}", n.name);
            self.push(
                &path,
                kind,
                ChangeKind::Added,
                n.ty.clone(),
                verdicts.clone(),
            );
        }
        let order = |list: &[Member], other: &[Member]| -> Vec<String> {
            list.iter()
                .filter(|m| other.iter().any(|o| o.name == m.name))
                .map(|m| m.name.clone())
                .collect()
        };
        let (old_order, new_order) = (
            order(&old_members, &new_members),
            order(&new_members, &old_members),
        );
        if old_order != new_order {
            let detail = format!("order {} → {}", old_order.join(", "), new_order.join(", "));
            self.push(
                item,
                ItemKind::Type,
                ChangeKind::Changed,
                Some(detail),
                verdicts,
            );
        }
    }

    /// How a change to a type is judged: breaking both ways when a function uses it.
    fn type_change_verdicts(
        &self,
        old: TypeId,
        new: TypeId,
        item: &str,
        placement: &Placement,
    ) -> (Verdict, Verdict) {
        let mut users: Vec<&str> = Vec::new();
        let lists = [self.old.users.get(&old), self.new.users.get(&new)];
        for user in lists.into_iter().flatten().flatten() {
            if !users.contains(&user.as_str()) {
                users.push(user);
            }
        }
        if users.is_empty() {
            return placement.unused_change("no function uses it");
        }
        let name = item.rsplit(['#', '.']).next().unwrap_or(item);
        let listed: Vec<String> = users.iter().map(|u| format!("`{u}`")).collect();
        rules::both_breaking(&format!(
            "`{name}` is used by {}, and the Component Model checks types structurally: both \
             sides must agree on it",
            listed.join(", ")
        ))
    }
}

/// A record's fields or a variant's, enum's or flags' cases, with the word for the kind;
/// `None` for other types.
fn members(resolve: &Resolve, id: TypeId) -> Option<(&'static str, Vec<Member>)> {
    let text = |ty: &Type| type_text(resolve, ty);
    let named = |name: &str, ty: Option<String>| Member {
        name: name.to_string(),
        ty,
    };
    Some(match &resolve.types[id].kind {
        TypeDefKind::Record(record) => (
            "record",
            record
                .fields
                .iter()
                .map(|f| named(&f.name, Some(text(&f.ty))))
                .collect(),
        ),
        TypeDefKind::Variant(variant) => (
            "variant",
            variant
                .cases
                .iter()
                .map(|c| named(&c.name, c.ty.as_ref().map(text)))
                .collect(),
        ),
        TypeDefKind::Enum(e) => (
            "enum",
            e.cases.iter().map(|c| named(&c.name, None)).collect(),
        ),
        TypeDefKind::Flags(f) => (
            "flags",
            f.flags.iter().map(|f| named(&f.name, None)).collect(),
        ),
        _ => return None,
    })
}

/// What a type other than a record, variant, enum or flags is, comparable across sides: an
/// alias of a named type by where that type is defined (`plinth:host/log.level`), any
/// other by its definition.
fn shape(resolve: &Resolve, id: TypeId) -> String {
    match &resolve.types[id].kind {
        TypeDefKind::Type(Type::Id(target)) if resolve.types[*target].name.is_some() => {
            format!("use {}", qualified_name(resolve, *target))
        }
        _ => definition(resolve, id),
    }
}
