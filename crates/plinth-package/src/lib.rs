//! Plinth's distribution formats: the `.plinth` package, Ed25519 signatures and the trust
//! store, the lockfile, and installing into a Plinth home.
//!
//! - [`pack`] makes a deterministic `.plinth` archive from a plugin directory;
//!   [`Package::from_bytes_with`] reads one back within hard [`UnpackLimits`], refusing
//!   traversal, links, duplicates and decompression bombs (`package-rejected`).
//! - [`SecretKey`] signs a [`Subject`] (plugin id, version and digest) into a detached
//!   [`Signature`]; the [`TrustStore`] (`<home>/trusted_keys.toml`) decides which keys count
//!   ([`verify`], [`LayoutEntry`] for the `x.wasm` + `x.sig` + `x.toml` directory layout).
//! - [`install_bytes`], [`install_path`] and [`uninstall`] change `<home>/plugins/<id>/`
//!   atomically and keep [`Lockfile`] (`<home>/plinth.lock`) in step. Installing never
//!   enables or grants anything. A plugin id keeps its identity: a package claiming an
//!   installed id from another origin or signer is refused (`identity-changed`) unless
//!   [`ReplacePolicy::Replace`], and [`Installed::continuity`] says whether the operator's
//!   review (enablement, grants) still applies.
//! - [`verify_dir`] reads an installed plugin once for a load and checks it against its lock
//!   entry, key pin and signature, so a host loads exactly the bytes that were checked.
//!
//! The formats are described in `docs/distribution.md`.
//!
//! ```
//! use plinth_package::{
//!     Home, InstallOptions, SecretKey, SignaturePolicy, TrustStore, pack, install_bytes,
//! };
//!
//! // An author's plugin directory (the component here is just a component header).
//! let author = tempfile::tempdir()?;
//! std::fs::write(author.path().join("plugin.toml"), r#"
//! [plugin]
//! id = "example.hello"
//! version = "0.1.0"
//! [runtime]
//! kind = "wasm-component"
//! component = "hello.wasm"
//! [capabilities]
//! log = true
//! "#)?;
//! std::fs::write(author.path().join("hello.wasm"), b"\0asm\x0d\x00\x01\x00")?;
//!
//! // Pack (deterministic) and sign.
//! let packed = pack(author.path())?;
//! assert_eq!(pack(author.path())?.bytes, packed.bytes);
//! let key = SecretKey::generate()?;
//! let signature = key.sign(&packed.package.subject()).to_text();
//!
//! // A user who trusts the author installs it.
//! let home = Home::new(tempfile::tempdir()?.keep());
//! let mut trust = TrustStore::default();
//! trust.add("author", key.public_key())?;
//! trust.save(&home.trust_store_path())?;
//! let opts = InstallOptions::new(SignaturePolicy::Require);
//! let installed = install_bytes(&home, &packed.bytes, Some(signature.as_bytes()), &opts)?;
//! assert_eq!(installed.verification.signer(), Some("author"));
//! assert!(home.plugin_dir(&installed.id).join("hello.wasm").is_file());
//! let lock = home.lockfile()?;
//! assert_eq!(lock.get(&installed.id).map(|e| e.digest), Some(packed.package.digest()));
//!
//! // Another byte in the package breaks the signature.
//! let mut tampered = packed.bytes.clone();
//! let last = tampered.len() - 1;
//! tampered[last] ^= 1;
//! assert!(install_bytes(&home, &tampered, Some(signature.as_bytes()), &opts).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![deny(clippy::unwrap_used)]

mod archive;
mod error;
mod fsutil;
mod identity;
mod install;
mod load;
mod lockfile;
mod names;
mod signature;
mod signature_state;
mod trust;
mod verify;

pub use archive::{
    COMPONENTLESS_SIGNATURE, PACKAGE_EXTENSION, Package, Packed, TempUnpacked, UnpackLimits, pack,
    read_package_manifest, unpack, unpack_to_temp,
};
pub use error::PackageError;
pub use fsutil::{STAGING_PREFIX, write_atomic};
pub use identity::{BeforeWrite, Continuity, ReplacePolicy, origin};
pub use install::{
    Home, INSTALLED_SIGNATURE, InstallOptions, Installed, TENANTS_DIR, check_installed,
    check_tenant_id, install_bytes, install_dir, install_package_file, install_path, uninstall,
    verify_installed,
};
pub use load::{VerifiedDir, verify_dir};
pub use lockfile::{LOCK_FILE, LOCK_SCHEMA_VERSION, LockEntry, Lockfile};
pub use names::check_key_name;
pub use signature::{
    KeyPairFiles, ParseError, PublicKey, SIGNATURE_FORMAT, SecretKey, Signature, Subject,
    read_public_key_file, read_secret_key_file, write_key_pair,
};
pub use signature_state::SignatureState;
pub use trust::{SignaturePolicy, TRUST_FILE, TrustStore, Verification};
pub use verify::{
    LayoutEntry, Verified, component_signature_path, package_signature_path, read_identity,
    sign_package, verify, verify_package_file,
};
