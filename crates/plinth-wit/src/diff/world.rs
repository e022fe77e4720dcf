//! Comparing worlds: their imports and exports.

use wit_parser::{PackageId, Resolve, WorldId, WorldItem, WorldKey};

use super::rules::{self, Placement, Role};
use super::{ChangeKind, Differ, ItemKind, Verdict, same_track};
use crate::print::interface_name;

impl Differ<'_> {
    /// Compares world `old` with `new`, named `name`: their imports and exports by name.
    pub(super) fn world(&mut self, old: WorldId, new: WorldId, name: &str) {
        let (old_resolve, new_resolve) = (self.old.resolve, self.new.resolve);
        let (old, new) = (&old_resolve.worlds[old], &new_resolve.worlds[new]);
        let sides = [
            (
                &old.imports,
                &new.imports,
                Role::IMPORT,
                "import",
                ItemKind::Import,
            ),
            (
                &old.exports,
                &new.exports,
                Role::EXPORT,
                "export",
                ItemKind::Export,
            ),
        ];
        for (old_items, new_items, role, word, kind) in sides {
            let old_keyed = keyed(old_resolve, old_items);
            let new_keyed = keyed(new_resolve, new_items);
            let placement = Placement::world_item(role, name);
            for (key, old_item) in &old_keyed {
                let item = format!("{name}#{word}({key})");
                match new_keyed.iter().find(|(k, _)| k == key) {
                    Some((_, new_item)) => {
                        self.world_item(old_item, new_item, &item, kind, &placement);
                    }
                    None => self.push(&item, kind, ChangeKind::Removed, None, placement.removed()),
                }
            }
            for (key, _) in new_keyed
                .iter()
                .filter(|(k, _)| !old_keyed.iter().any(|(o, _)| o == k))
            {
                let item = format!("{name}#{word}({key})");
                self.push(&item, kind, ChangeKind::Added, None, placement.added());
            }
        }
    }

    /// Compares one import or export both worlds have.
    pub(super) fn world_item(
        &mut self,
        old: &WorldItem,
        new: &WorldItem,
        item: &str,
        kind: ItemKind,
        placement: &Placement,
    ) {
        match (old, new) {
            (WorldItem::Interface { id: old_id, .. }, WorldItem::Interface { id: new_id, .. }) => {
                let old_name = self.old.resolve.interfaces[*old_id].name.is_some();
                let new_name = self.new.resolve.interfaces[*new_id].name.is_some();
                if old_name && new_name {
                    // Named interfaces are compared under their package; here only the
                    // version the world names can differ.
                    let a = self.old.resolve.id_of(*old_id).unwrap_or_default();
                    let b = self.new.resolve.id_of(*new_id).unwrap_or_default();
                    // With one version of the package on each side, the package's own
                    // version change says it already.
                    let reported = single_version(self.old.resolve, *old_id)
                        && single_version(self.new.resolve, *new_id);
                    if a != b && !reported {
                        let verdicts = rules::version_change(&a, &b, same_track(&a, &b));
                        self.push(
                            item,
                            kind,
                            ChangeKind::Changed,
                            Some(format!("{a} → {b}")),
                            verdicts,
                        );
                    }
                } else {
                    self.interface(*old_id, *new_id, item, placement);
                }
            }
            (WorldItem::Function(old_fn), WorldItem::Function(new_fn)) => {
                self.function_pair(old_fn, new_fn, item);
            }
            (WorldItem::Type { id: old_ty, .. }, WorldItem::Type { id: new_ty, .. }) => {
                self.type_pair(*old_ty, *new_ty, item, placement);
            }
            _ => self.push(
                item,
                kind,
                ChangeKind::Changed,
                Some(format!("{} → {}", item_kind(old), item_kind(new))),
                rules::both_breaking("a world item of another kind is another item to both sides"),
            ),
        }
    }
}

/// Whether `interface`'s package is the only version of that package in `resolve`.
fn single_version(resolve: &Resolve, interface: wit_parser::InterfaceId) -> bool {
    let Some(package) = resolve.interfaces[interface].package else {
        return true;
    };
    let name = &resolve.packages[package].name;
    let same = |(_, p): &(PackageId, &wit_parser::Package)| {
        p.name.namespace == name.namespace && p.name.name == name.name
    };
    resolve.packages.iter().filter(same).count() == 1
}

/// World added or removed: the host serves worlds (it checks the world a plugin declares),
/// so they follow the rules of an import.
pub(super) fn world_verdicts(change: ChangeKind) -> (Verdict, Verdict) {
    match change {
        ChangeKind::Removed => (
            rules::breaking(
                "the new host does not know this world and refuses old plugins that declare it",
            ),
            rules::compatible("no new plugin is built for it"),
        ),
        _ => (
            rules::compatible("no old plugin is built for it"),
            rules::breaking(
                "the old host does not know this world and refuses new plugins that declare it",
            ),
        ),
    }
}

fn item_kind(item: &WorldItem) -> &'static str {
    match item {
        WorldItem::Interface { .. } => "interface",
        WorldItem::Function(_) => "function",
        WorldItem::Type { .. } => "type",
    }
}

/// A world's imports or exports by a name that does not depend on the version:
/// `plinth:host/log` for an interface, the plain name otherwise.
fn keyed<'r>(
    resolve: &Resolve,
    items: impl IntoIterator<Item = (&'r WorldKey, &'r WorldItem)>,
) -> Vec<(String, &'r WorldItem)> {
    items
        .into_iter()
        .map(|(key, item)| {
            let name = match key {
                WorldKey::Name(name) => name.clone(),
                WorldKey::Interface(id) => interface_name(resolve, &resolve.interfaces[*id])
                    .unwrap_or_else(|| resolve.name_world_key(key)),
            };
            (name, item)
        })
        .collect()
}
