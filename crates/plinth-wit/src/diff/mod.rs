//! What changed between two WIT sets, and whom it breaks (docs/design/0038).
//!
//! Packages are matched by `namespace:name` whatever their versions, so
//! `plinth:tool@0.1.0` and `plinth:tool@0.2.0` are compared item by item; interfaces,
//! worlds, functions and types by name. Every difference is one [`Change`] with a
//! [`Verdict`] for each [`Direction`]; the rules are in [`rules`].

mod interface;
mod rules;
mod usage;
mod world;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use wit_parser::{PackageId, Resolve, TypeId};

use crate::print::interface_name;
use crate::served::served;
use crate::{WitError, WitSet};
use rules::{Placement, Role};
use world::world_verdicts;

/// Whether plugins keep working across a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compatibility {
    /// They keep working.
    Compatible,
    /// Some plugins fail to load, or are refused.
    Breaking,
}

impl fmt::Display for Compatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compatibility::Compatible => "compatible",
            Compatibility::Breaking => "breaking",
        })
    }
}

/// A [`Compatibility`] and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Compatible or breaking.
    #[serde(rename = "verdict")]
    pub compatibility: Compatibility,
    /// Why, for a person.
    pub reason: String,
}

impl Verdict {
    /// Whether the change breaks plugins in this direction.
    pub fn is_breaking(&self) -> bool {
        self.compatibility == Compatibility::Breaking
    }
}

/// Which plugins run on which host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Plugins built on the old WIT, on a host serving the new one (an upgraded host).
    OldPluginsOnNewHost,
    /// Plugins built on the new WIT, on a host serving the old one (a host not upgraded).
    NewPluginsOnOldHost,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::OldPluginsOnNewHost => "old plugins on new host",
            Direction::NewPluginsOnOldHost => "new plugins on old host",
        })
    }
}

/// What kind of item changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// A package (`plinth:tool`).
    Package,
    /// An interface (`plinth:tool/tool`).
    Interface,
    /// A function or resource method (`plinth:tool/tool#call`).
    Function,
    /// A type (`plinth:tool/tool#tool-info`).
    Type,
    /// A record field (`plinth:tool/tool#tool-info.output-schema`).
    Field,
    /// A variant or enum case, or a flag (`plinth:tool/tool#tool-error.failed`).
    Case,
    /// A world (`plinth:tool/plugin`).
    World,
    /// A world's import (`plinth:tool/plugin#import(plinth:host/log)`).
    Import,
    /// A world's export (`plinth:tool/plugin#export(plinth:tool/tool)`).
    Export,
}

/// How an item changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only the new WIT has it.
    Added,
    /// Only the old WIT has it.
    Removed,
    /// Both have it, differently.
    Changed,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        })
    }
}

/// One difference between the old and the new WIT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The item, without versions: `plinth:tool/tool#call`,
    /// `plinth:tool/tool#tool-info.output-schema`, `plinth:tool/plugin#export(plinth:tool/tool)`.
    pub item: String,
    /// What the item is.
    pub kind: ItemKind,
    /// Added, removed or changed.
    pub change: ChangeKind,
    /// What it was and is, when it has a text: a signature, a type, a version
    /// (`func() -> string → func(x: u32) -> string`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For plugins built on the old WIT, on a host serving the new one.
    pub old_plugins_on_new_host: Verdict,
    /// For plugins built on the new WIT, on a host serving the old one.
    pub new_plugins_on_old_host: Verdict,
}

impl Change {
    /// The verdict for one direction.
    pub fn verdict(&self, direction: Direction) -> &Verdict {
        match direction {
            Direction::OldPluginsOnNewHost => &self.old_plugins_on_new_host,
            Direction::NewPluginsOnOldHost => &self.new_plugins_on_old_host,
        }
    }
}

/// Every difference between two WIT sets, in the order of the packages and their items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// The differences.
    pub changes: Vec<Change>,
}

impl Diff {
    /// The changes that break plugins in `direction`.
    pub fn breaking(&self, direction: Direction) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(move |c| c.verdict(direction).is_breaking())
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Compares `old` with `new`: every package, interface, function, type and world added,
/// removed or changed, with whom each change breaks.
pub fn diff(old: &WitSet, new: &WitSet) -> Diff {
    let mut differ = Differ::new(old.resolve(), new.resolve());
    differ.packages();
    Diff {
        changes: differ.changes,
    }
}

/// Compares one interface of `old` with one of `new`, e.g. `plinth:plugin/tools` with
/// `plinth:tool/tool` (names with or without their version). Items are named after the new
/// interface; a different name is itself a change, since components find interfaces by
/// name.
pub fn diff_interfaces(
    old: &WitSet,
    old_name: &str,
    new: &WitSet,
    new_name: &str,
) -> Result<Diff, WitError> {
    let find = |set: &WitSet, name: &str| {
        find_interface(set.resolve(), name).ok_or_else(|| WitError::UnknownInterface {
            name: name.to_string(),
            place: format!("`{}`", set.path().display()),
        })
    };
    let (old_id, new_id) = (find(old, old_name)?, find(new, new_name)?);
    let mut differ = Differ::new(old.resolve(), new.resolve());
    let old_full = old.resolve().id_of(old_id).unwrap_or_default();
    let new_full = new.resolve().id_of(new_id).unwrap_or_default();
    let item = interface_name(new.resolve(), &new.resolve().interfaces[new_id]).unwrap_or_default();
    if old_full != new_full {
        let (a, b) = if strip_version(&old_full) == strip_version(&new_full) {
            rules::version_change(&old_full, &new_full, same_track(&old_full, &new_full))
        } else {
            rules::both_breaking("components import and export interfaces by name")
        };
        differ.push(
            &item,
            ItemKind::Interface,
            ChangeKind::Changed,
            Some(format!("{old_full} → {new_full}")),
            (a, b),
        );
    }
    let role_in =
        |roles: &HashMap<String, Role>, name: &str| roles.get(name).copied().unwrap_or_default();
    let role = role_in(&differ.old.roles, &strip_version(&old_full))
        .union(role_in(&differ.new.roles, &item));
    let placement = Placement::of(&item, role, differ.served_roles.get(&item).copied());
    differ.interface(old_id, new_id, &item, &placement);
    Ok(Diff {
        changes: differ.changes,
    })
}

/// The interface named `name` (`ns:pkg/iface`, with or without `@version`) in `resolve`;
/// without a version, the highest one.
pub(crate) fn find_interface(resolve: &Resolve, name: &str) -> Option<wit_parser::InterfaceId> {
    let versioned = name.contains('@');
    resolve
        .interfaces
        .iter()
        .filter(|(id, interface)| {
            if versioned {
                resolve.id_of(*id).as_deref() == Some(name)
            } else {
                interface_name(resolve, interface).as_deref() == Some(name)
            }
        })
        .max_by(|(a, _), (b, _)| package_version(resolve, *a).cmp(&package_version(resolve, *b)))
        .map(|(id, _)| id)
}

fn package_version(resolve: &Resolve, id: wit_parser::InterfaceId) -> Option<semver::Version> {
    let package = resolve.interfaces[id].package?;
    resolve.packages[package].name.version.clone()
}

/// `ns:pkg/iface@1.2.3` without `@1.2.3`.
pub(crate) fn strip_version(name: &str) -> String {
    name.split_once('@').map_or(name, |(n, _)| n).to_string()
}

/// Whether two versioned names are on one semver track (`0.1.x`, `1.x`); two names without
/// versions are too.
pub(crate) fn same_track(a: &str, b: &str) -> bool {
    let track = |name: &str| {
        name.split_once('@')
            .and_then(|(_, v)| semver::Version::parse(v).ok())
            .map(|v| wit_parser::PackageName::version_compat_track_string(&v))
    };
    track(a) == track(b)
}

/// One side of a comparison, with what the rules need to know about it.
struct Side<'a> {
    resolve: &'a Resolve,
    roles: HashMap<String, Role>,
    users: HashMap<TypeId, Vec<String>>,
}

impl<'a> Side<'a> {
    fn new(resolve: &'a Resolve) -> Side<'a> {
        Side {
            resolve,
            roles: rules::roles(resolve),
            users: usage::type_users(resolve),
        }
    }
}

/// The walk over both sides, collecting changes.
struct Differ<'a> {
    old: Side<'a>,
    new: Side<'a>,
    served_roles: HashMap<String, Role>,
    changes: Vec<Change>,
}

impl<'a> Differ<'a> {
    fn new(old: &'a Resolve, new: &'a Resolve) -> Differ<'a> {
        Differ {
            old: Side::new(old),
            new: Side::new(new),
            served_roles: rules::roles(served().resolve()),
            changes: Vec::new(),
        }
    }

    fn push(
        &mut self,
        item: &str,
        kind: ItemKind,
        change: ChangeKind,
        detail: Option<String>,
        (old_plugins_on_new_host, new_plugins_on_old_host): (Verdict, Verdict),
    ) {
        self.changes.push(Change {
            item: item.to_string(),
            kind,
            change,
            detail,
            old_plugins_on_new_host,
            new_plugins_on_old_host,
        });
    }

    /// Where interface `name` stands: its role in either side's worlds, else in the served
    /// WIT's.
    fn placement(&self, name: &str) -> Placement {
        let role = |roles: &HashMap<String, Role>| roles.get(name).copied().unwrap_or_default();
        let compared = role(&self.old.roles).union(role(&self.new.roles));
        Placement::of(name, compared, self.served_roles.get(name).copied())
    }

    fn packages(&mut self) {
        let (pairs, removed, added) = match_packages(self.old.resolve, self.new.resolve);
        for old in removed {
            self.whole_package(old, ChangeKind::Removed);
        }
        for (old, new) in pairs {
            self.package(old, new);
        }
        for new in added {
            self.whole_package(new, ChangeKind::Added);
        }
    }

    /// A package only one side has: one change, as bad as removing (or adding) each of
    /// its interfaces and worlds.
    fn whole_package(&mut self, id: PackageId, change: ChangeKind) {
        let resolve = match change {
            ChangeKind::Removed => self.old.resolve,
            _ => self.new.resolve,
        };
        let package = &resolve.packages[id];
        let mut verdicts = rules::both_compatible("it has no interfaces or worlds");
        let mut first = true;
        let items = package
            .interfaces
            .values()
            .filter_map(|i| interface_name(resolve, &resolve.interfaces[*i]))
            .map(|name| self.placement(&name))
            .map(|p| match change {
                ChangeKind::Removed => p.removed(),
                _ => p.added(),
            })
            .chain(package.worlds.values().map(|_| world_verdicts(change)));
        for (a, b) in items.collect::<Vec<_>>() {
            verdicts = if first {
                (a, b)
            } else {
                (rules::worst(verdicts.0, a), rules::worst(verdicts.1, b))
            };
            first = false;
        }
        let name = format!("{}:{}", package.name.namespace, package.name.name);
        let detail = package
            .name
            .version
            .as_ref()
            .map(|v| format!("version {v}"));
        self.push(&name, ItemKind::Package, change, detail, verdicts);
    }

    fn package(&mut self, old_id: PackageId, new_id: PackageId) {
        let (old_resolve, new_resolve) = (self.old.resolve, self.new.resolve);
        let (old, new) = (&old_resolve.packages[old_id], &new_resolve.packages[new_id]);
        let name = format!("{}:{}", new.name.namespace, new.name.name);
        if old.name.version != new.name.version {
            let show = |v: &Option<semver::Version>| {
                v.as_ref()
                    .map_or_else(|| "no version".to_string(), ToString::to_string)
            };
            let (a, b) = (show(&old.name.version), show(&new.name.version));
            let same = old
                .name
                .version
                .as_ref()
                .map(wit_parser::PackageName::version_compat_track)
                == new
                    .name
                    .version
                    .as_ref()
                    .map(wit_parser::PackageName::version_compat_track);
            let verdicts = rules::version_change(&a, &b, same);
            self.push(
                &name,
                ItemKind::Package,
                ChangeKind::Changed,
                Some(format!("version {a} → {b}")),
                verdicts,
            );
        }
        let (old_interfaces, new_interfaces) = (&old.interfaces, &new.interfaces);
        for (key, old_id) in old_interfaces {
            let item = format!("{name}/{key}");
            match new_interfaces.get(key) {
                Some(new_id) => {
                    let placement = self.placement(&item);
                    self.interface(*old_id, *new_id, &item, &placement);
                }
                None => {
                    let verdicts = self.placement(&item).removed();
                    self.push(
                        &item,
                        ItemKind::Interface,
                        ChangeKind::Removed,
                        None,
                        verdicts,
                    );
                }
            }
        }
        for key in new_interfaces
            .keys()
            .filter(|k| !old_interfaces.contains_key(*k))
        {
            let item = format!("{name}/{key}");
            let verdicts = self.placement(&item).added();
            self.push(
                &item,
                ItemKind::Interface,
                ChangeKind::Added,
                None,
                verdicts,
            );
        }
        let (old_worlds, new_worlds) = (&old.worlds, &new.worlds);
        for (key, old_id) in old_worlds {
            let item = format!("{name}/{key}");
            match new_worlds.get(key) {
                Some(new_id) => self.world(*old_id, *new_id, &item),
                None => self.push(
                    &item,
                    ItemKind::World,
                    ChangeKind::Removed,
                    None,
                    world_verdicts(ChangeKind::Removed),
                ),
            }
        }
        for key in new_worlds.keys().filter(|k| !old_worlds.contains_key(*k)) {
            let item = format!("{name}/{key}");
            let verdicts = world_verdicts(ChangeKind::Added);
            self.push(&item, ItemKind::World, ChangeKind::Added, None, verdicts);
        }
    }
}

/// Pairs the packages of both sides: same name and version first, then same name.
fn match_packages(
    old: &Resolve,
    new: &Resolve,
) -> (Vec<(PackageId, PackageId)>, Vec<PackageId>, Vec<PackageId>) {
    let mut unpaired_new: Vec<PackageId> = new.packages.iter().map(|(id, _)| id).collect();
    let mut pairs = Vec::new();
    let mut unpaired_old = Vec::new();
    for (old_id, old_package) in old.packages.iter() {
        if let Some(i) = unpaired_new
            .iter()
            .position(|n| new.packages[*n].name == old_package.name)
        {
            pairs.push((old_id, unpaired_new.remove(i)));
        } else {
            unpaired_old.push(old_id);
        }
    }
    let mut removed = Vec::new();
    for old_id in unpaired_old {
        let name = &old.packages[old_id].name;
        let found = unpaired_new.iter().position(|n| {
            let candidate = &new.packages[*n].name;
            candidate.namespace == name.namespace && candidate.name == name.name
        });
        match found {
            Some(i) => pairs.push((old_id, unpaired_new.remove(i))),
            None => removed.push(old_id),
        }
    }
    // Report in the old side's order.
    pairs.sort_by_key(|(old_id, _)| old_id.index());
    (pairs, removed, unpaired_new)
}
