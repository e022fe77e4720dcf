//! Verifying packages and directory layouts against the trust store.
//!
//! Two things can be signed:
//!
//! - a `.plinth` package: the detached `FILE.plinth.sig` covers the package digest with the
//!   id and version from its `plugin.toml`, so it covers every file in the package;
//! - a component in the directory layout: `x.wasm` with `x.sig` and a manifest beside it,
//!   either `x.toml` (the Stack Composer layout) or the `plugin.toml` of a plugin directory
//!   naming `x.wasm`. The signature covers the component's digest with the id and version from
//!   that manifest's `[plugin]` table; the rest of the manifest is not covered.

use std::fs;
use std::path::{Path, PathBuf};

use plinth_manifest::{Digest, MANIFEST_FILE, Manifest, PluginId};

use crate::archive::{Package, UnpackLimits};
use crate::error::{PackageError, io_error};
use crate::signature::{SecretKey, Signature, Subject};
use crate::trust::{SignaturePolicy, TrustStore, Verification};

/// A package that passed [`verify`].
#[derive(Debug, Clone)]
pub struct Verified {
    /// The package.
    pub package: Package,
    /// How its signature checked out.
    pub verification: Verification,
}

/// Reads package `bytes` (within `limits`) and checks `signature` (the bytes of its `.sig`
/// file, if any) against `trust` under `policy`. See [`TrustStore::verify`] for the outcomes;
/// a signature file that does not parse is `bad-signature`.
///
/// A signature in the full form names the subject it covers, so it is checked first, against
/// the digest of `bytes`: changed bytes, a forged signature or an untrusted key refuse the
/// package before anything is decompressed. Only then is the archive read and its id and
/// version compared with the signed ones.
pub fn verify(
    bytes: &[u8],
    signature: Option<&[u8]>,
    trust: &TrustStore,
    policy: SignaturePolicy,
    limits: &UnpackLimits,
) -> Result<Verified, PackageError> {
    verify_with(
        bytes,
        signature,
        trust,
        policy,
        limits,
        "the package's detached .sig file",
    )
}

fn verify_with(
    bytes: &[u8],
    signature: Option<&[u8]>,
    trust: &TrustStore,
    policy: SignaturePolicy,
    limits: &UnpackLimits,
    expected: &str,
) -> Result<Verified, PackageError> {
    let signature = match signature.map(parse_signature_bytes).transpose() {
        Ok(signature) => signature,
        Err(reason) => {
            let subject = Package::from_bytes_with(bytes, limits)?.subject();
            return Err(bad_signature(&subject, reason));
        }
    };
    if let Some(sig) = &signature
        && let Some(claimed) = &sig.subject
    {
        let actual = Subject {
            digest: Digest::of(bytes),
            ..claimed.clone()
        };
        trust.verify(&actual, Some(sig), policy, expected)?;
    }
    let package = Package::from_bytes_with(bytes, limits)?;
    let verification = trust.verify(&package.subject(), signature.as_ref(), policy, expected)?;
    Ok(Verified {
        package,
        verification,
    })
}

/// Reads `FILE` and its detached `FILE.sig` (when present) and [`verify`]s them.
pub fn verify_package_file(
    path: &Path,
    trust: &TrustStore,
    policy: SignaturePolicy,
    limits: &UnpackLimits,
) -> Result<Verified, PackageError> {
    let bytes = read_capped(path, limits.max_archive_bytes)?;
    let sig_path = package_signature_path(path);
    let signature = read_optional(&sig_path)?;
    verify_with(
        &bytes,
        signature.as_deref(),
        trust,
        policy,
        limits,
        &sig_path.display().to_string(),
    )
}

/// Largest file of a plugin without a component read to sign or verify it.
const COMPONENTLESS_FILE_MAX: u64 = 16 << 20;

/// The detached signature of a package file: `FILE` + `.sig` (`hello.plinth.sig`).
pub fn package_signature_path(package: &Path) -> PathBuf {
    let mut name = package.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// The signature of a component in the directory layout: `x.wasm` → `x.sig`.
pub fn component_signature_path(component: &Path) -> PathBuf {
    component.with_extension("sig")
}

/// Signs a package's bytes with `key` and returns the signature file text.
pub fn sign_package(bytes: &[u8], key: &SecretKey) -> Result<(Package, String), PackageError> {
    let package = Package::from_bytes(bytes)?;
    let text = key.sign(&package.subject()).to_text();
    Ok((package, text))
}

/// One signed unit of a directory layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutEntry {
    /// The component, `x.wasm`.
    pub component: PathBuf,
    /// The manifest giving id and version: `x.toml` or `plugin.toml`.
    pub manifest: PathBuf,
    /// Where its signature is (or would be): `x.sig`.
    pub signature: PathBuf,
}

impl LayoutEntry {
    /// The unit of a plugin directory: its `plugin.toml` and the component it names (for
    /// a plugin without a component, the `plugin.toml` itself, signed as `plugin.sig`).
    pub fn for_plugin_dir(dir: &Path) -> Result<LayoutEntry, PackageError> {
        let parsed = Manifest::load(dir)?;
        let manifest = parsed.manifest.dir.join(MANIFEST_FILE);
        Ok(match parsed.manifest.component_path() {
            Some(component) => LayoutEntry {
                signature: component_signature_path(&component),
                manifest,
                component,
            },
            None => LayoutEntry {
                signature: parsed.manifest.dir.join(crate::COMPONENTLESS_SIGNATURE),
                component: manifest.clone(),
                manifest,
            },
        })
    }

    /// The unit of a component file: `x.toml` beside `x.wasm` if there is one, else the
    /// `plugin.toml` of its directory if it names this component.
    pub fn for_component(component: &Path) -> Result<LayoutEntry, PackageError> {
        let sibling = component.with_extension("toml");
        if sibling.is_file() {
            return Ok(LayoutEntry {
                component: component.to_path_buf(),
                signature: component_signature_path(component),
                manifest: sibling,
            });
        }
        let dir = component.parent().unwrap_or(Path::new("."));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let entry = LayoutEntry::for_plugin_dir(dir).map_err(|_| PackageError::Missing {
            what: "manifest for the component",
            path: format!(
                "{} (or a plugin.toml naming {})",
                sibling.display(),
                component.display()
            ),
        })?;
        let same = fs::canonicalize(&entry.component).ok() == fs::canonicalize(component).ok();
        if !same {
            return Err(PackageError::Missing {
                what: "manifest for the component",
                path: sibling.display().to_string(),
            });
        }
        Ok(entry)
    }

    /// Every unit of a directory: the plugin directory's own (if it has a `plugin.toml`) and
    /// each top-level `x.wasm` with an `x.toml` beside it, sorted by component path.
    pub fn scan_dir(dir: &Path) -> Result<Vec<LayoutEntry>, PackageError> {
        let mut found = Vec::new();
        if dir.join(MANIFEST_FILE).is_file() {
            found.push(LayoutEntry::for_plugin_dir(dir)?);
        }
        let listing = fs::read_dir(dir).map_err(|e| io_error("list", dir, e))?;
        let mut components: Vec<PathBuf> = listing
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
            .filter(|p| p.with_extension("toml").is_file())
            .collect();
        components.sort();
        for component in components {
            let known = found.iter().any(|e: &LayoutEntry| {
                fs::canonicalize(&e.component).ok() == fs::canonicalize(&component).ok()
            });
            if !known {
                found.push(LayoutEntry::for_component(&component)?);
            }
        }
        Ok(found)
    }

    /// What the signature covers: the component's digest (for a plugin without one,
    /// [`Digest::of_files`] over the files its manifest names) and the manifest's id and
    /// version.
    pub fn subject(&self) -> Result<Subject, PackageError> {
        let (id, version) = read_identity(&self.manifest)?;
        if self.component == self.manifest {
            let manifest = Manifest::load(&self.manifest)?.manifest;
            let digest = manifest.files_digest(|path| {
                read_capped(&manifest.dir.join(path), COMPONENTLESS_FILE_MAX)
            })?;
            return Ok(Subject {
                id,
                version,
                digest,
            });
        }
        let digest = Digest::of_file(&self.component).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                PackageError::Missing {
                    what: "component",
                    path: self.component.display().to_string(),
                }
            } else {
                io_error("read", &self.component, e)
            }
        })?;
        Ok(Subject {
            id,
            version,
            digest,
        })
    }

    /// Checks the unit's signature against `trust` under `policy`.
    pub fn verify(
        &self,
        trust: &TrustStore,
        policy: SignaturePolicy,
    ) -> Result<(Subject, Verification), PackageError> {
        let subject = self.subject()?;
        let signature = read_optional(&self.signature)?
            .map(|bytes| parse_signature_bytes(&bytes))
            .transpose()
            .map_err(|reason| bad_signature(&subject, reason))?;
        let verification = trust.verify(
            &subject,
            signature.as_ref(),
            policy,
            &self.signature.display().to_string(),
        )?;
        Ok((subject, verification))
    }

    /// Signs the unit with `key`, writing [`LayoutEntry::signature`] (replacing an old one).
    pub fn sign(&self, key: &SecretKey) -> Result<Subject, PackageError> {
        let subject = self.subject()?;
        crate::fsutil::write_atomic(&self.signature, key.sign(&subject).to_text().as_bytes())?;
        Ok(subject)
    }
}

/// The `[plugin]` id and version of a manifest, read leniently: a Plinth `plugin.toml` and a
/// Stack Composer `x.toml` both have them, and nothing else is needed to check a signature.
pub fn read_identity(path: &Path) -> Result<(PluginId, semver::Version), PackageError> {
    let text = fs::read_to_string(path).map_err(|e| io_error("read", path, e))?;
    let invalid = |reason: String| PackageError::InvalidFile {
        path: path.to_path_buf(),
        reason,
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid(e.message().to_owned()))?;
    let plugin = table.get("plugin").and_then(toml::Value::as_table);
    let field = |key: &str| {
        plugin
            .and_then(|p| p.get(key))
            .and_then(toml::Value::as_str)
            .ok_or_else(|| invalid(format!("plugin.{key} is missing or not a string")))
    };
    let id = PluginId::new(field("id")?).map_err(|e| invalid(format!("plugin.id: {e}")))?;
    let version = field("version")?
        .parse::<semver::Version>()
        .map_err(|e| invalid(format!("plugin.version: {e}")))?;
    Ok((id, version))
}

/// Signature files are small; anything over this is not one.
const MAX_SIGNATURE_BYTES: u64 = 4096;

/// Parses signature file bytes, or says why they are not a signature.
pub(crate) fn parse_signature_bytes(bytes: &[u8]) -> Result<Signature, String> {
    if bytes.len() as u64 > MAX_SIGNATURE_BYTES {
        return Err("the signature file is too large".into());
    }
    let text =
        std::str::from_utf8(bytes).map_err(|_| "the signature file is not text".to_owned())?;
    Signature::parse(text).map_err(|e| e.to_string())
}

pub(crate) fn bad_signature(subject: &Subject, reason: String) -> PackageError {
    PackageError::BadSignature {
        id: subject.id.to_string(),
        version: subject.version.to_string(),
        reason,
    }
}

/// The file's bytes, or `None` if it does not exist. At most one byte more than a signature
/// file may have is read, so an oversized file is refused without reading it whole.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, PackageError> {
    use std::io::Read;
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", path, e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_SIGNATURE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error("read", path, e))?;
    Ok(Some(bytes))
}

/// Reads a file, refusing one over `cap` bytes before reading it.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, PackageError> {
    let meta = fs::metadata(path).map_err(|e| io_error("read", path, e))?;
    if meta.len() > cap {
        return Err(crate::error::rejected(
            path.display().to_string(),
            format!(
                "the file is {} bytes, over the cap of {cap} bytes",
                meta.len()
            ),
        ));
    }
    fs::read(path).map_err(|e| io_error("read", path, e))
}
