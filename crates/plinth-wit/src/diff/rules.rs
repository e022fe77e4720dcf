//! Whether a change breaks plugins, in each direction (docs/design/0038).
//!
//! The host serves what a world imports and calls what it exports; the plugin is the other
//! side. So an item added to an imported interface is new service (old plugins do not use
//! it; new plugins that do cannot load on an old host), and an item added to an exported
//! interface is a new duty (old plugins lack it; an old host ignores it in new plugins).
//! A changed type or signature breaks both ways: the Component Model checks types
//! structurally when a component is linked.

use std::collections::HashMap;

use wit_parser::Resolve;

use super::{Compatibility, Verdict};
use crate::print::interface_name;

/// Which side provides an interface, as the worlds say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Role {
    /// A world imports it: the host serves it.
    pub imported: bool,
    /// A world exports it: the plugin implements it.
    pub exported: bool,
}

impl Role {
    pub const IMPORT: Role = Role {
        imported: true,
        exported: false,
    };
    pub const EXPORT: Role = Role {
        imported: false,
        exported: true,
    };

    fn is_known(self) -> bool {
        self.imported || self.exported
    }

    /// Both roles together.
    pub fn union(self, other: Role) -> Role {
        Role {
            imported: self.imported || other.imported,
            exported: self.exported || other.exported,
        }
    }
}

/// The role of every named interface the worlds of `resolve` import or export, by
/// `namespace:package/interface` without the version. Worlds are elaborated, so an
/// interface another imported one `use`s counts as imported.
pub(crate) fn roles(resolve: &Resolve) -> HashMap<String, Role> {
    let mut roles: HashMap<String, Role> = HashMap::new();
    for (_, world) in resolve.worlds.iter() {
        let items = world
            .imports
            .values()
            .map(|item| (item, Role::IMPORT))
            .chain(world.exports.values().map(|item| (item, Role::EXPORT)));
        for (item, role) in items {
            if let wit_parser::WorldItem::Interface { id, .. } = item
                && let Some(name) = interface_name(resolve, &resolve.interfaces[*id])
            {
                let entry = roles.entry(name).or_default();
                *entry = entry.union(role);
            }
        }
    }
    roles
}

/// Where an interface's role was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoleSource {
    /// From the worlds of the WIT compared.
    Worlds,
    /// The compared WIT has no world naming it; the WIT this host serves does.
    Served,
}

/// An item's place: the role of the interface (or world item) it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    role: Role,
    source: RoleSource,
    /// The interface, for the reason when its role is unknown.
    owner: String,
}

impl Placement {
    /// The placement of interface `owner` from the compared WIT's roles, else the served
    /// WIT's.
    pub fn of(owner: &str, compared: Role, served: Option<Role>) -> Placement {
        let (role, source) = match served {
            Some(served) if !compared.is_known() => (served, RoleSource::Served),
            _ => (compared, RoleSource::Worlds),
        };
        Placement {
            role,
            source,
            owner: owner.to_string(),
        }
    }

    /// An item of a world import or export itself.
    pub fn world_item(role: Role, world: &str) -> Placement {
        Placement {
            role,
            source: RoleSource::Worlds,
            owner: world.to_string(),
        }
    }

    /// Something the host provides was added (`imported`), or something the plugin
    /// provides (`exported`).
    pub fn added(&self) -> (Verdict, Verdict) {
        self.by_role(
            || {
                (
                    compatible("old plugins do not use it"),
                    breaking(
                        "a new plugin that uses it fails to load on the old host, which lacks it",
                    ),
                )
            },
            || {
                (
                    breaking("old plugins do not export it, and the new host calls it"),
                    compatible("the old host ignores an export it does not know"),
                )
            },
        )
    }

    /// The reverse of [`Placement::added`].
    pub fn removed(&self) -> (Verdict, Verdict) {
        self.by_role(
            || {
                (
                    breaking(
                        "an old plugin that uses it fails to load on the new host, which no \
                         longer serves it",
                    ),
                    compatible("new plugins cannot use it"),
                )
            },
            || {
                (
                    compatible(
                        "the new host no longer calls it and ignores the old plugins' export",
                    ),
                    breaking("new plugins do not export it, and the old host calls it"),
                )
            },
        )
    }

    /// A change to something no function uses: harmless, unless the interface is in no
    /// world.
    pub fn unused_change(&self, reason: &str) -> (Verdict, Verdict) {
        if let Some(unknown) = self.unknown() {
            return unknown;
        }
        (compatible(reason), compatible(reason))
    }

    fn by_role(
        &self,
        import: impl Fn() -> (Verdict, Verdict),
        export: impl Fn() -> (Verdict, Verdict),
    ) -> (Verdict, Verdict) {
        if let Some(unknown) = self.unknown() {
            return unknown;
        }
        let mut verdicts = match (self.role.imported, self.role.exported) {
            (true, false) => import(),
            (false, true) => export(),
            _ => {
                let (i, e) = (import(), export());
                (worst(i.0, e.0), worst(i.1, e.1))
            }
        };
        if self.source == RoleSource::Served {
            let note = if self.role.imported {
                "; in the WIT this host serves, plugins import this interface"
            } else {
                "; in the WIT this host serves, plugins export this interface"
            };
            verdicts.0.reason.push_str(note);
            verdicts.1.reason.push_str(note);
        }
        verdicts
    }

    fn unknown(&self) -> Option<(Verdict, Verdict)> {
        if self.role.is_known() {
            return None;
        }
        let reason = format!(
            "`{}` is in no world, so it is unknown whether the host or the plugin provides \
             it: any change counts as breaking",
            self.owner
        );
        Some((breaking(&reason), breaking(&reason)))
    }
}

/// A change both sides must agree on: breaking both ways.
pub(crate) fn both_breaking(reason: &str) -> (Verdict, Verdict) {
    (breaking(reason), breaking(reason))
}

/// Harmless both ways.
pub(crate) fn both_compatible(reason: &str) -> (Verdict, Verdict) {
    (compatible(reason), compatible(reason))
}

/// A package's version changed: harmless on one semver track (`0.1.0` → `0.1.1`), where
/// interface names match, else breaking both ways.
pub(crate) fn version_change(old: &str, new: &str, same_track: bool) -> (Verdict, Verdict) {
    if same_track {
        both_compatible(&format!(
            "{old} and {new} are on one semver track, on which interface names match"
        ))
    } else {
        both_breaking(&format!(
            "interface names carry the version, and {old} and {new} are on different semver \
             tracks: a plugin finds its interfaces only on a host that serves its version"
        ))
    }
}

/// The worse of two verdicts for one direction; both reasons when both break.
pub(crate) fn worst(a: Verdict, b: Verdict) -> Verdict {
    match (a.compatibility, b.compatibility) {
        (Compatibility::Breaking, Compatibility::Breaking) if a.reason != b.reason => Verdict {
            compatibility: Compatibility::Breaking,
            reason: format!("{}; {}", a.reason, b.reason),
        },
        (_, Compatibility::Breaking) => b,
        _ => a,
    }
}

pub(crate) fn compatible(reason: &str) -> Verdict {
    Verdict {
        compatibility: Compatibility::Compatible,
        reason: reason.to_string(),
    }
}

pub(crate) fn breaking(reason: &str) -> Verdict {
    Verdict {
        compatibility: Compatibility::Breaking,
        reason: reason.to_string(),
    }
}
