//! Installing packages into a Plinth home: verify in memory, then write `<plugins>/<id>/`
//! atomically and record it in `plinth.lock`. Installing never enables a plugin and never
//! grants anything: that stays with the operator (`plinth enable`, `plinth grant`).

use std::fs;
use std::path::{Path, PathBuf};

use plinth_manifest::{Diagnostic, Digest, Grant, PluginId};

use crate::archive::{PACKAGE_EXTENSION, UnpackLimits, pack};
use crate::error::{PackageError, io_error};
use crate::fsutil;
use crate::identity::{BeforeWrite, Continuity, ReplacePolicy, continuity};
use crate::lockfile::{LOCK_FILE, LockEntry, Lockfile};
use crate::names::is_plain_name;
use crate::signature::Subject;
use crate::trust::{SignaturePolicy, TRUST_FILE, TrustStore, Verification};
use crate::verify::{
    Verified, bad_signature, package_signature_path, parse_signature_bytes, read_capped,
    read_optional, verify,
};

/// The name under which an installed plugin directory keeps the package signature that was
/// verified at install time.
pub const INSTALLED_SIGNATURE: &str = "package.sig";

/// The directory of a home that holds one home per tenant: `<home>/tenants/<tenant>/`.
pub const TENANTS_DIR: &str = "tenants";

/// Where a Plinth home keeps what this crate reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
    plugins: PathBuf,
}

impl Home {
    /// The home at `root`, with the user plugin directory `<root>/plugins`.
    pub fn new(root: impl Into<PathBuf>) -> Home {
        let root = root.into();
        let plugins = root.join("plugins");
        Home { root, plugins }
    }

    /// Uses `dir` as the user plugin directory (host config `[paths] user_dir`).
    #[must_use]
    pub fn with_plugins_dir(mut self, dir: impl Into<PathBuf>) -> Home {
        self.plugins = dir.into();
        self
    }

    /// The home of `tenant` inside this one, `<root>/tenants/<tenant>/`, with its own plugin
    /// directory, `plugins.toml`, lockfile and trust store: what one tenant installs, grants
    /// or trusts is invisible to every other. A tenant id is 1-64 ASCII letters, digits,
    /// `.`, `_` or `-`, not starting with `.` or `-` (so it is one path component).
    pub fn tenant(&self, tenant: &str) -> Result<Home, PackageError> {
        check_tenant_id(tenant)?;
        Ok(Home::new(self.root.join(TENANTS_DIR).join(tenant)))
    }

    /// The home directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The user plugin directory.
    pub fn plugins_dir(&self) -> &Path {
        &self.plugins
    }

    /// `<plugins>/<id>`.
    pub fn plugin_dir(&self, id: &PluginId) -> PathBuf {
        self.plugins.join(id.as_str())
    }

    /// `<home>/plinth.lock`.
    pub fn lockfile_path(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    /// `<home>/trusted_keys.toml`.
    pub fn trust_store_path(&self) -> PathBuf {
        self.root.join(TRUST_FILE)
    }

    /// Reads the trust store.
    pub fn trust_store(&self) -> Result<TrustStore, PackageError> {
        TrustStore::load(&self.trust_store_path())
    }

    /// Reads the lockfile.
    pub fn lockfile(&self) -> Result<Lockfile, PackageError> {
        Lockfile::load(&self.lockfile_path())
    }

    /// Takes the home's install lock (a sidecar `plinth.lock.lock`, since the lockfile itself
    /// is replaced by rename), held until the returned file is dropped.
    fn lock(&self) -> Result<fs::File, PackageError> {
        fs::create_dir_all(&self.root).map_err(|e| io_error("create directory", &self.root, e))?;
        let path = self.root.join(format!("{LOCK_FILE}.lock"));
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_error("open", &path, e))?;
        file.lock().map_err(|e| io_error("lock", &path, e))?;
        Ok(file)
    }
}

/// Checks a tenant id (see [`Home::tenant`]); a bad one is `bad-argument`.
pub fn check_tenant_id(tenant: &str) -> Result<(), PackageError> {
    if is_plain_name(tenant) {
        return Ok(());
    }
    Err(PackageError::BadInput(format!(
        "{:?} is not a tenant id: use 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'",
        tenant.chars().take(80).collect::<String>()
    )))
}

/// How to install.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// Whether an unsigned package is accepted.
    pub policy: SignaturePolicy,
    /// What the lockfile records as the source (default: the path installed from).
    pub source: Option<String>,
    /// The archive caps.
    pub limits: UnpackLimits,
    /// A pin the package must match (a restore from the lockfile): `version-mismatch` or
    /// `digest-mismatch` otherwise, before anything is written.
    pub expect: Option<LockEntry>,
    /// The plugin id the package must have (a registry install of `ID`): `package-rejected`
    /// otherwise, before anything is written, so an index entry cannot install another plugin.
    pub expect_id: Option<PluginId>,
    /// Whether the package may take over the id of a plugin installed from another origin
    /// or signed by another key (default: refuse, `identity-changed`).
    pub replace: ReplacePolicy,
    /// Run after every check passed and before the first write (see [`BeforeWrite`]).
    pub before_write: Option<BeforeWrite>,
}

impl InstallOptions {
    /// Options with `policy`, default caps, no source override and no pin.
    pub fn new(policy: SignaturePolicy) -> InstallOptions {
        InstallOptions {
            policy,
            source: None,
            limits: UnpackLimits::default(),
            expect: None,
            expect_id: None,
            replace: ReplacePolicy::Refuse,
            before_write: None,
        }
    }
}

/// What an install did.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The plugin id.
    pub id: PluginId,
    /// The installed version.
    pub version: semver::Version,
    /// The package digest recorded in the lockfile.
    pub digest: Digest,
    /// The plugin's directory.
    pub dir: PathBuf,
    /// How the signature checked out.
    pub verification: Verification,
    /// The capabilities the manifest requests (none is granted by installing).
    pub requested: Vec<Grant>,
    /// The lock entry this install replaced, if the plugin was installed before.
    pub replaced: Option<LockEntry>,
    /// How the install relates to what was installed under its id: the same plugin (an
    /// update or reinstall), a new one, or a replacement.
    pub continuity: Continuity,
    /// Manifest warnings.
    pub warnings: Vec<Diagnostic>,
}

/// Installs a package from its bytes and the bytes of its detached signature (if any), e.g.
/// as downloaded from a registry. `opts.source` should name where they came from.
pub fn install_bytes(
    home: &Home,
    bytes: &[u8],
    signature: Option<&[u8]>,
    opts: &InstallOptions,
) -> Result<Installed, PackageError> {
    let trust = home.trust_store()?;
    let verified = verify(bytes, signature, &trust, opts.policy, &opts.limits)?;
    let source = opts.source.clone().unwrap_or_else(|| "<bytes>".into());
    let extra: Vec<(&str, &[u8])> = signature
        .filter(|_| verified.verification != Verification::Unsigned)
        .map(|sig| (INSTALLED_SIGNATURE, sig))
        .into_iter()
        .collect();
    commit(home, verified, source, &extra, opts)
}

/// Installs a `.plinth` file; its detached signature is `FILE.sig` beside it.
pub fn install_package_file(
    home: &Home,
    path: &Path,
    opts: &InstallOptions,
) -> Result<Installed, PackageError> {
    let bytes = read_capped(path, opts.limits.max_archive_bytes)?;
    let sig_path = package_signature_path(path);
    let signature = read_optional(&sig_path)?;
    let mut opts = opts.clone();
    opts.source.get_or_insert_with(|| absolute(path));
    install_bytes(home, &bytes, signature.as_deref(), &opts)
}

/// Installs a plugin directory: it is packed (so the lockfile pins the digest of the package
/// [`pack`] makes from it) and its component signature (`x.sig` beside `x.wasm`, see
/// [`LayoutEntry`](crate::LayoutEntry)) is checked against the component bytes that were
/// packed, so a file changing on disk meanwhile cannot slip past the check. The signature is
/// kept beside the installed component.
pub fn install_dir(
    home: &Home,
    dir: &Path,
    opts: &InstallOptions,
) -> Result<Installed, PackageError> {
    let packed = pack(dir)?;
    let package = &packed.package;
    let sig_name = package.signature_member();
    let sig_path = dir.join(&sig_name);
    let subject = Subject {
        id: package.id().clone(),
        version: package.version().clone(),
        digest: package.payload_digest(),
    };
    let sig_bytes = read_optional(&sig_path)?;
    let signature = sig_bytes
        .as_deref()
        .map(parse_signature_bytes)
        .transpose()
        .map_err(|reason| bad_signature(&subject, reason))?;
    let trust = home.trust_store()?;
    let verification = trust.verify(
        &subject,
        signature.as_ref(),
        opts.policy,
        &sig_path.display().to_string(),
    )?;
    let extra: Vec<(&str, &[u8])> = sig_bytes
        .as_deref()
        .filter(|_| verification != Verification::Unsigned)
        .map(|bytes| (sig_name.as_str(), bytes))
        .into_iter()
        .collect();
    let verified = Verified {
        package: packed.package.clone(),
        verification,
    };
    let source = opts.source.clone().unwrap_or_else(|| absolute(dir));
    commit(home, verified, source, &extra, opts)
}

/// Installs a plugin directory or a `.plinth` file, whichever `path` is.
pub fn install_path(
    home: &Home,
    path: &Path,
    opts: &InstallOptions,
) -> Result<Installed, PackageError> {
    if path.is_dir() {
        install_dir(home, path, opts)
    } else if path.is_file() {
        if path.extension().is_some_and(|e| e != PACKAGE_EXTENSION) {
            return Err(PackageError::BadInput(format!(
                "{} is neither a plugin directory nor a .{PACKAGE_EXTENSION} package",
                path.display()
            )));
        }
        install_package_file(home, path, opts)
    } else {
        Err(PackageError::Missing {
            what: "plugin directory or package",
            path: path.display().to_string(),
        })
    }
}

/// Checks an installed plugin against its lockfile entry: packs `<plugins>/<id>` again (the
/// package format is deterministic, so an untouched directory packs to the installed bytes)
/// and compares version (`version-mismatch`) and digest (`digest-mismatch`). A plugin without
/// an entry is `missing-package`.
pub fn check_installed(home: &Home, id: &PluginId) -> Result<LockEntry, PackageError> {
    let lock = home.lockfile()?;
    let Some(entry) = lock.get(id) else {
        return Err(PackageError::Missing {
            what: "lockfile entry",
            path: format!("{}: {id}", home.lockfile_path().display()),
        });
    };
    let packed = pack(&home.plugin_dir(id))?;
    entry.check(id, packed.package.version(), &packed.package.digest())?;
    Ok(entry.clone())
}

/// How an installed plugin's signature checks out now, read without running anything: a
/// package install's `package.sig` ([`INSTALLED_SIGNATURE`]) against the package its
/// directory packs to (the format is deterministic, so an untouched directory packs to the
/// bytes that were signed), or a directory install's component signature (`x.sig` beside
/// `x.wasm`). A file changed since the install is `bad-signature`.
pub fn verify_installed(
    dir: &Path,
    trust: &TrustStore,
    policy: SignaturePolicy,
) -> Result<Verification, PackageError> {
    let Some(signature) = read_optional(&dir.join(INSTALLED_SIGNATURE))? else {
        let entry = crate::verify::LayoutEntry::for_plugin_dir(dir)?;
        return entry
            .verify(trust, policy)
            .map(|(_, verification)| verification);
    };
    let packed = pack(dir)?;
    let verified = verify(
        &packed.bytes,
        Some(&signature),
        trust,
        policy,
        &UnpackLimits::default(),
    )?;
    Ok(verified.verification)
}

/// Removes an installed plugin's directory and lockfile entry, returning the entry (if
/// there was one). The key pin of the id stays ([`Lockfile::pinned_key`]): a later install
/// of the id must be signed by the same key unless it replaces the plugin. Enablement and
/// grants in `plugins.toml` are not this crate's (the CLI resets them, docs/design/0034).
pub fn uninstall(home: &Home, id: &PluginId) -> Result<Option<LockEntry>, PackageError> {
    let dir = home.plugin_dir(id);
    let installed = |lock: &Lockfile| lock.get(id).is_some() || fs::symlink_metadata(&dir).is_ok();
    // Refuse an unknown id (or a malformed lockfile) before taking the lock, which creates
    // the home and the lock's sidecar file.
    if !installed(&home.lockfile()?) {
        return Err(PackageError::Missing {
            what: "installed plugin",
            path: dir.display().to_string(),
        });
    }
    let _guard = home.lock()?;
    let mut lock = home.lockfile()?;
    if fs::symlink_metadata(&dir).is_ok() {
        fsutil::remove_dir_atomic(&dir)?;
    }
    let removed = lock.remove(id);
    if removed.is_some() {
        lock.save(&home.lockfile_path())?;
    }
    Ok(removed)
}

/// Writes a verified package into the home: checks the pins and the plugin's identity,
/// runs [`InstallOptions::before_write`], stages and swaps the directory, records the lock
/// entry and key pin. Everything that can refuse the package has run before the first write.
fn commit(
    home: &Home,
    verified: Verified,
    source: String,
    extra: &[(&str, &[u8])],
    opts: &InstallOptions,
) -> Result<Installed, PackageError> {
    let package = &verified.package;
    let verification = &verified.verification;
    let id = package.id().clone();
    if let Some(expected) = opts.expect_id.as_ref().filter(|e| **e != id) {
        return Err(PackageError::Rejected {
            entry: "plugin.toml".into(),
            reason: format!("the package is plugin `{id}`, not the `{expected}` asked for"),
        });
    }
    if let Some(pin) = &opts.expect {
        pin.check(&id, package.version(), &package.digest())?;
    }
    // Read the lockfile before writing anything, so a malformed one or another identity
    // refuses the install before the lock (and the home) is created.
    continuity(&home.lockfile()?, &id, &source, verification, opts.replace)?;
    let _guard = home.lock()?;
    let mut lock = home.lockfile()?;
    // Again under the lock: another install may have finished meanwhile.
    let continuity = continuity(&lock, &id, &source, verification, opts.replace)?;
    if let Some(hook) = &opts.before_write {
        hook.run(&id, continuity)?;
    }
    fs::create_dir_all(home.plugins_dir())
        .map_err(|e| io_error("create directory", home.plugins_dir(), e))?;
    fsutil::remove_stale_staging(home.plugins_dir());
    let dir = home.plugin_dir(&id);
    package.unpack_with_extra(&dir, extra)?;
    let entry = LockEntry {
        version: package.version().clone(),
        digest: package.digest(),
        source,
        signer: verification.signer().map(str::to_owned),
    };
    let replaced = lock.insert(id.clone(), entry);
    match verification.key() {
        Some(key) => {
            lock.pin_key(id.clone(), key);
        }
        // An unsigned replacement ends the pin; an unsigned install never continues a
        // pinned plugin (`continuity`).
        None => {
            lock.unpin_key(&id);
        }
    }
    lock.save(&home.lockfile_path())?;
    Ok(Installed {
        id: package.id().clone(),
        version: package.version().clone(),
        digest: package.digest(),
        dir,
        verification: verification.clone(),
        requested: package.manifest().requested_grants(),
        replaced,
        continuity,
        warnings: package.warnings().to_vec(),
    })
}

/// The member name of a component's signature: `dir/x.wasm` → `dir/x.sig`.
pub(crate) fn component_sig_member(component: &str) -> String {
    let (dir, name) = match component.rsplit_once('/') {
        Some((dir, name)) => (format!("{dir}/"), name),
        None => (String::new(), component),
    };
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    format!("{dir}{stem}.sig")
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_signature_member_names() {
        assert_eq!(component_sig_member("hello.wasm"), "hello.sig");
        assert_eq!(component_sig_member("out/x.wasm"), "out/x.sig");
        assert_eq!(component_sig_member("noext"), "noext.sig");
        assert_eq!(component_sig_member("a.b/x"), "a.b/x.sig");
        assert_eq!(component_sig_member(".wasm"), ".wasm.sig");
    }
}
