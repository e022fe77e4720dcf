//! Invocation scopes (docs/design/0047): a call made on behalf of one tenant, about one
//! object path, sees that tenant's key-value namespace and, of the granted directories,
//! only the one it was invoked for, narrowed to the object's folder.
//!
//! [`Plugin::scoped`] makes a [`Plugin`] that shares the compiled component, its
//! pre-instantiation, its settings and its kinds with the plugin it comes from, and has a
//! context of its own: a gate for the tenant, `kv` in the tenant's namespace, and an `fs`
//! map holding the scoped directory alone, opened beneath the granted one a component at a
//! time without following symlinks. Every later request of the guest resolves beneath that
//! handle, so `..`, absolute paths and symlinks cannot leave it; `wasi:filesystem` sees the
//! same folder as its only preopen.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::fs::Dir;

use crate::caps::fs::MappedDir;
use crate::caps::gate::GrantGate;
use crate::error::HostError;
use crate::plugin::{Plugin, PluginInner};
use crate::state::PluginContext;

/// Who and what one invocation acts for: a tenant, and optionally an object folder inside
/// one granted directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationScope {
    tenant: String,
    path: Option<(String, String)>,
}

impl InvocationScope {
    /// An invocation on behalf of `tenant` (a tenant name, docs/design/0024): its `kv` is
    /// the tenant's namespace; its directories are the plugin's (narrow them with
    /// [`Self::with_path`]).
    pub fn tenant(tenant: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            path: None,
        }
    }

    /// The invocation sees, of the granted directories, only `dir` (a `[dirs]` name the
    /// plugin holds a grant for), narrowed to the folder `path` inside it (relative,
    /// `/`-separated, no `..`, no symlink on the way; `""` or `.` is the whole directory).
    pub fn with_path(mut self, dir: impl Into<String>, path: impl Into<String>) -> Self {
        self.path = Some((dir.into(), path.into()));
        self
    }

    /// The tenant.
    pub fn tenant_name(&self) -> &str {
        &self.tenant
    }

    /// The directory name and folder, when narrowed.
    pub fn path(&self) -> Option<(&str, &str)> {
        self.path.as_ref().map(|(d, p)| (d.as_str(), p.as_str()))
    }
}

impl Plugin {
    /// This plugin confined to `scope` for the calls made through the returned handle
    /// (typed kinds included): `kv` in the tenant's namespace and, with a path, only that
    /// folder of that directory, seen by the guest as `/DIR` and as the `DIR` of
    /// `plinth:host/fs`. The grants stay the plugin's: the scope only narrows them.
    ///
    /// A tenant that is not a tenant name is `bad-argument`; a directory the plugin holds
    /// no `fs` grant for, or a folder that is absolute, climbs with `..`, passes through a
    /// symlink or is not a directory, is `fs-denied`.
    pub fn scoped(&self, scope: &InvocationScope) -> Result<Plugin, HostError> {
        let id = self.id().to_string();
        if !crate::kinds::is_tenant_name(&scope.tenant) {
            return Err(HostError::BadScope {
                plugin: id,
                reason: format!(
                    "{:?} is not a tenant name (1-64 of A-Z a-z 0-9 . _ -, not starting with . or -)",
                    scope.tenant
                ),
            });
        }
        let base = &self.inner;
        let gate = Arc::new(GrantGate::new(
            id.clone(),
            Some(scope.tenant.clone()),
            base.ctx.gate.grants().clone(),
        ));
        let inbox = crate::inbox::Inbox::default();
        let requested = base.ctx.caps.http.requested.clone();
        let mut caps = crate::caps::PluginCaps::for_plugin(
            &base.host.caps,
            &gate,
            requested,
            &inbox,
            base.ctx.caps.own_dirs.clone(),
        )?;
        if let Some((dir, path)) = &scope.path {
            let mapped = narrow(&caps.fs, dir, path).map_err(|reason| HostError::FsDenied {
                plugin: id.clone(),
                dir: dir.clone(),
                reason,
            })?;
            caps.fs = std::iter::once((dir.clone(), mapped)).collect();
        }
        // The base's Linker flavour holds only while the scope preopens no more.
        let sync = base.sync && caps.fs.is_empty();
        let ctx = Arc::new(PluginContext {
            gate,
            caps,
            settings: base.ctx.settings.clone(),
            limits: base.ctx.limits,
            log_sink: base.ctx.log_sink.clone(),
            inbox,
            usage: Default::default(),
            argv: base.ctx.argv.clone(),
        });
        Ok(Plugin {
            inner: Arc::new(PluginInner {
                host: base.host.clone(),
                ctx,
                manifest: base.manifest.clone(),
                component: base.component.clone(),
                pre: base.pre.clone(),
                exports: base.exports.clone(),
                kinds: base.kinds.clone(),
                digest: base.digest,
                cache: base.cache,
                hashed: base.hashed,
                deadline_ticks: base.deadline_ticks,
                sync,
            }),
        })
    }
}

/// The folder `path` of the granted directory `dir`, opened beneath it without following
/// any symlink, as a mapped directory of its own.
fn narrow(
    fs: &std::collections::BTreeMap<String, MappedDir>,
    dir: &str,
    path: &str,
) -> Result<MappedDir, String> {
    let granted = fs.get(dir).ok_or_else(|| {
        format!("the plugin holds no `fs.read:{dir}` or `fs.write:{dir}` grant to narrow")
    })?;
    let relative = folder(path)?;
    let mut current: Option<Dir> = None;
    for part in relative.components() {
        let Component::Normal(part) = part else {
            continue;
        };
        let parent = current.as_ref().unwrap_or(&granted.dir);
        let next = open_real_dir(parent, Path::new(part))
            .map_err(|e| format!("the folder `{path}` cannot be opened beneath `{dir}`: {e}"))?;
        current = Some(next);
    }
    let host_path = granted.host_path.join(&relative);
    let Some(dir_handle) = current else {
        return Ok(MappedDir {
            host_path: granted.host_path.clone(),
            writable: granted.writable,
            dir: granted.dir.clone(),
        });
    };
    Ok(MappedDir {
        host_path: real_path(&dir_handle).unwrap_or(host_path),
        writable: granted.writable,
        dir: Arc::new(dir_handle),
    })
}

/// Opens the directory `name` (one component) of `parent`, refusing a symlink: the entry
/// must be a directory before the open, and the directory opened must be that same one
/// (device and inode), so a symlink swapped in between is caught too.
fn open_real_dir(parent: &Dir, name: &Path) -> Result<Dir, String> {
    use cap_std::fs::MetadataExt;
    let before = parent.symlink_metadata(name).map_err(|e| e.to_string())?;
    if before.file_type().is_symlink() {
        return Err(format!(
            "{} is a symlink; a scope passes through none",
            name.display()
        ));
    }
    if !before.is_dir() {
        return Err(format!("{} is not a directory", name.display()));
    }
    let opened = parent.open_dir(name).map_err(|e| e.to_string())?;
    let after = opened.dir_metadata().map_err(|e| e.to_string())?;
    if (before.dev(), before.ino()) != (after.dev(), after.ino()) {
        return Err(format!("{} changed while it was opened", name.display()));
    }
    Ok(opened)
}

/// A scope's folder: relative, `/`-separated, no `..`, no NUL, no backslash.
fn folder(path: &str) -> Result<PathBuf, String> {
    if path.contains('\\') {
        return Err(format!(
            "`{path}` holds a backslash: folders are `/`-separated"
        ));
    }
    crate::caps::fs::relative_path(path)
}

/// Where the opened folder is, read from its descriptor, so the `wasi:filesystem` preopen
/// (which Wasmtime opens by path) names the folder that was checked, not a path a symlink
/// could redirect.
fn real_path(dir: &Dir) -> Option<PathBuf> {
    use std::os::fd::{AsFd, AsRawFd};
    let fd = dir.as_fd().as_raw_fd();
    std::fs::read_link(Path::new("/proc/self/fd").join(fd.to_string())).ok()
}

#[cfg(test)]
mod tests {
    use super::folder;

    #[test]
    fn scope_folders_are_plain_relative_paths() {
        assert_eq!(
            folder("acme/photos").unwrap(),
            std::path::Path::new("acme/photos")
        );
        assert_eq!(folder("").unwrap(), std::path::Path::new("."));
        for bad in [
            "../globex",
            "/etc",
            "acme/../../x",
            "acme\\..\\globex",
            "a\0b",
        ] {
            assert!(folder(bad).is_err(), "{bad}");
        }
    }
}
