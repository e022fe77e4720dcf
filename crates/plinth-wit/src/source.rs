//! Loading WIT to compare: a package directory, a `.wit` file, or a component.

use std::path::{Path, PathBuf};

use plinth_manifest::plugin_file::{self, COMPONENT_MAX_BYTES};
use wit_component::DecodedWasm;
use wit_parser::{PackageId, Resolve, WorldId};

use crate::WitError;

/// What a [`WitSet`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A WIT package: a directory (its dependencies in `deps/`), a `.wit` file or a WIT
    /// package encoded as wasm. The id is the main package's.
    Package(PackageId),
    /// A component: the world its imports and exports make up.
    Component(WorldId),
}

/// WIT read from one source, resolved: the main package or the component's world and
/// every package they depend on.
#[derive(Debug)]
pub struct WitSet {
    resolve: Resolve,
    origin: Origin,
    path: PathBuf,
}

/// The first four bytes of every WebAssembly binary.
const WASM_MAGIC: &[u8] = b"\0asm";

impl WitSet {
    /// Reads `path`: a WIT package directory (with an optional `deps/` folder), a single
    /// `.wit` file, or a `.wasm` file holding a component (its world is decoded) or a
    /// WIT package. A package with no world, or a component, is fine.
    pub fn load(path: impl AsRef<Path>) -> Result<WitSet, WitError> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(WitError::Missing {
                path: path.to_path_buf(),
            });
        }
        if path.is_dir() {
            let mut resolve = Resolve::default();
            let (package, _) = resolve.push_dir(path).map_err(|e| invalid_wit(path, &e))?;
            return Ok(WitSet {
                resolve,
                origin: Origin::Package(package),
                path: path.to_path_buf(),
            });
        }
        let bytes = plugin_file::read(path, COMPONENT_MAX_BYTES)?;
        if bytes.starts_with(WASM_MAGIC) {
            return WitSet::decode(&bytes, path);
        }
        let text = String::from_utf8(bytes).map_err(|_| WitError::InvalidWit {
            path: path.to_path_buf(),
            message: "neither UTF-8 WIT text nor a WebAssembly binary".into(),
        })?;
        WitSet::from_wit(path, &text)
    }

    /// Parses `text`, one WIT file (which may hold nested packages); `path` is only named
    /// in messages.
    pub fn from_wit(path: impl AsRef<Path>, text: &str) -> Result<WitSet, WitError> {
        let path = path.as_ref();
        let mut resolve = Resolve::default();
        let package = resolve
            .push_str(path, text)
            .map_err(|e| invalid_wit(path, &e))?;
        Ok(WitSet {
            resolve,
            origin: Origin::Package(package),
            path: path.to_path_buf(),
        })
    }

    /// Decodes a component's world, or a WIT package encoded as wasm, from `bytes`; `path`
    /// is only named in messages.
    pub fn decode(bytes: &[u8], path: impl AsRef<Path>) -> Result<WitSet, WitError> {
        let path = path.as_ref();
        WitSet::decode_as(bytes, path, format!("`{}`", path.display()))
    }

    /// [`WitSet::decode`], calling the bytes `what` in errors.
    pub(crate) fn decode_as(bytes: &[u8], path: &Path, what: String) -> Result<WitSet, WitError> {
        // The layer field after the magic and version: 1 for a component, 0 for a core
        // module (which would decode as a component with an empty world).
        if bytes.starts_with(WASM_MAGIC) && bytes.get(6..8) == Some(&[0, 0]) {
            return Err(WitError::NotAComponent {
                what,
                message: "it is a core WebAssembly module".into(),
            });
        }
        let decoded = wit_component::decode(bytes).map_err(|e| WitError::NotAComponent {
            what,
            message: format!("{e:#}"),
        })?;
        let (resolve, origin) = match decoded {
            DecodedWasm::Component(resolve, world) => (resolve, Origin::Component(world)),
            DecodedWasm::WitPackage(resolve, package) => (resolve, Origin::Package(package)),
        };
        Ok(WitSet {
            resolve,
            origin,
            path: path.to_path_buf(),
        })
    }

    /// The resolved packages, interfaces, types and worlds.
    pub fn resolve(&self) -> &Resolve {
        &self.resolve
    }

    /// What the set was read from.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The resolved WIT, taken out of the set.
    pub(crate) fn into_resolve(self) -> Resolve {
        self.resolve
    }

    /// The path it was read from (or named after).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn invalid_wit(path: &Path, error: &dyn std::fmt::Display) -> WitError {
    WitError::InvalidWit {
        path: path.to_path_buf(),
        message: format!("{error:#}"),
    }
}
