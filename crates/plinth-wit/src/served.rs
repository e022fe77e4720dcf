//! The WIT packages this host serves, compiled into the crate from `wit/`.
//!
//! Each package version folder under `wit/` is frozen once released
//! (docs/design/0038): a new version is a new folder, added to [`PACKAGES`]. A test fails
//! when a versioned folder on disk is missing here.

use std::sync::OnceLock;

use wit_parser::{InterfaceId, PackageId, Resolve, SourceMap};

use crate::WitError;
use crate::diff::find_interface;

/// One `.wit` file: its path under `wit/` and its text.
pub type WitFile = (&'static str, &'static str);

macro_rules! wit_files {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../wit/", $path)))),*]
    };
}

/// The served packages' files, one slice per package, each after the packages it uses.
pub const PACKAGES: &[&[WitFile]] = &[
    wit_files![
        "plinth-host@0.1.0/config.wit",
        "plinth-host@0.1.0/events.wit",
        "plinth-host@0.1.0/fs.wit",
        "plinth-host@0.1.0/http.wit",
        "plinth-host@0.1.0/kv.wit",
        "plinth-host@0.1.0/log.wit",
        "plinth-host@0.1.0/watch.wit",
    ],
    wit_files!["plinth-plugin@0.1.0/plugin.wit"],
    wit_files!["plinth-command@0.1.0/command.wit"],
    wit_files!["plinth-tool@0.1.0/tool.wit"],
    wit_files!["plinth-hook@0.1.0/hook.wit"],
    wit_files!["plinth-file-loader@0.1.0/file-loader.wit"],
    wit_files!["plinth-file-viewer@0.1.0/file-viewer.wit"],
    wit_files!["plinth-exporter@0.1.0/exporter.wit"],
    wit_files!["plinth-data-source@0.1.0/data-source.wit"],
    wit_files!["plinth-theme-provider@0.1.0/theme-provider.wit"],
    wit_files!["plinth-event-handler@0.1.0/event-handler.wit"],
    wit_files!["plinth-auth-provider@0.1.0/auth-provider.wit"],
    wit_files!["plinth-policy-hook@0.1.0/policy-hook.wit"],
    wit_files!["plinth-search-analyzer@0.1.0/search-analyzer.wit"],
    wit_files!["plinth-preview@0.1.0/preview.wit"],
    wit_files!["plinth-service@0.1.0/service.wit"],
    wit_files!["wasi-io@0.2.0/io.wit"],
    wit_files!["plinth-content-transform@0.1.0/content-transform.wit"],
    wit_files!["plinth-storage-provider@0.1.0/storage-provider.wit"],
];

/// The WIT this host serves, resolved: `plinth:host@0.1.0`, `plinth:plugin@0.1.0`,
/// `plinth:command@0.1.0`, `plinth:tool@0.1.0`, `plinth:hook@0.1.0` and Thoth's kinds
/// (`plinth:file-loader`, `plinth:file-viewer`, `plinth:exporter`, `plinth:data-source`,
/// `plinth:theme-provider`, all `@0.1.0`), BitVault's (`plinth:event-handler`,
/// `plinth:auth-provider`, `plinth:policy-hook`, `plinth:search-analyzer`,
/// `plinth:preview`, all `@0.1.0`), `plinth:service@0.1.0`, and the streaming kinds
/// `plinth:content-transform@0.1.0` and `plinth:storage-provider@0.1.0` with the
/// `wasi:io@0.2.0` they use.
#[derive(Debug)]
pub struct Served {
    resolve: Resolve,
    packages: Vec<PackageId>,
}

impl Served {
    /// Resolves [`PACKAGES`].
    fn build() -> Result<Served, WitError> {
        let mut resolve = Resolve::default();
        let mut packages = Vec::new();
        for files in PACKAGES {
            let mut map = SourceMap::default();
            for (path, text) in *files {
                map.push_str(path, *text);
            }
            let invalid = |message: String| WitError::InvalidWit {
                path: files.first().map(|(p, _)| *p).unwrap_or_default().into(),
                message,
            };
            let group = map.parse().map_err(|(_, e)| invalid(e.to_string()))?;
            let id = resolve
                .push_group(group)
                .map_err(|e| invalid(e.to_string()))?;
            packages.push(id);
        }
        Ok(Served { resolve, packages })
    }

    /// The resolved packages.
    pub fn resolve(&self) -> &Resolve {
        &self.resolve
    }

    /// The served packages, in [`PACKAGES`]' order.
    pub fn packages(&self) -> &[PackageId] {
        &self.packages
    }

    /// The served interface `name`: `plinth:tool/tool@0.1.0`, or without the version for
    /// the newest served one.
    pub fn interface(&self, name: &str) -> Result<InterfaceId, WitError> {
        find_interface(&self.resolve, name).ok_or_else(|| WitError::UnknownInterface {
            name: name.to_string(),
            place: "the WIT this host serves".into(),
        })
    }

    /// The interfaces world `world` of the served package `package` (`plinth:plugin@0.1.0`)
    /// exports, each named with its version; `None` when there is no such world.
    pub fn world_exports(&self, package: &str, world: &str) -> Option<Vec<String>> {
        let resolve = &self.resolve;
        let package = self
            .packages
            .iter()
            .find(|id| resolve.packages[**id].name.to_string() == package)?;
        let world = resolve.packages[*package].worlds.get(world)?;
        Some(
            resolve.worlds[*world]
                .exports
                .values()
                .filter_map(|item| match item {
                    wit_parser::WorldItem::Interface { id, .. } => resolve.id_of(*id),
                    _ => None,
                })
                .collect(),
        )
    }
}

/// The WIT this host serves, resolved once.
pub fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    // The files are compiled in and a test resolves them: failing here is a build defect.
    SERVED.get_or_init(|| Served::build().expect("the WIT compiled into plinth-wit resolves"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_packages_resolve() {
        let served = Served::build().expect("served WIT resolves");
        let names: Vec<String> = served
            .packages()
            .iter()
            .map(|p| served.resolve().packages[*p].name.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "plinth:host@0.1.0",
                "plinth:plugin@0.1.0",
                "plinth:command@0.1.0",
                "plinth:tool@0.1.0",
                "plinth:hook@0.1.0",
                "plinth:file-loader@0.1.0",
                "plinth:file-viewer@0.1.0",
                "plinth:exporter@0.1.0",
                "plinth:data-source@0.1.0",
                "plinth:theme-provider@0.1.0",
                "plinth:event-handler@0.1.0",
                "plinth:auth-provider@0.1.0",
                "plinth:policy-hook@0.1.0",
                "plinth:search-analyzer@0.1.0",
                "plinth:preview@0.1.0",
                "plinth:service@0.1.0",
                "wasi:io@0.2.0",
                "plinth:content-transform@0.1.0",
                "plinth:storage-provider@0.1.0",
            ]
        );
        let tool = served.interface("plinth:tool/tool@0.1.0").expect("served");
        assert_eq!(Some(tool), served.interface("plinth:tool/tool").ok());
        assert!(served.interface("plinth:tool/tool@0.2.0").is_err());
    }

    /// A new version folder under `wit/` is served (listed in [`PACKAGES`]) or it is not
    /// there.
    #[test]
    fn every_versioned_wit_file_is_served() {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
        let on_disk = crate::frozen::versioned_wit_files(&wit).expect("wit/ is readable");
        let mut served: Vec<&str> = PACKAGES
            .iter()
            .flat_map(|p| p.iter().map(|f| f.0))
            .collect();
        served.sort_unstable();
        assert_eq!(
            on_disk, served,
            "add new version folders to PACKAGES in served.rs"
        );
    }
}
