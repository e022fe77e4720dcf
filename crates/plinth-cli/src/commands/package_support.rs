//! What the distribution commands (`pack`, `keygen`, `sign`, `verify`, `trust`, `install`,
//! `uninstall`) share: the home's layout, the install policy and signature status.

use plinth_manifest::ToDiagnostic;
use plinth_package::{Home, SignaturePolicy};

use crate::context::Context;

/// The home, with the user plugin directory from `[paths] user_dir` (relative to the home).
pub fn home(ctx: &Context) -> Home {
    let home = Home::new(&ctx.home);
    match &ctx.config.paths.user_dir {
        Some(dir) => home.with_plugins_dir(ctx.home.join(dir)),
        None => home,
    }
}

/// The install policy: host config `[security] require_signatures`, unless the command was
/// told `--allow-unsigned`.
pub fn policy(ctx: &Context, allow_unsigned: bool) -> SignaturePolicy {
    if allow_unsigned || !ctx.config.security.require_signatures {
        SignaturePolicy::AllowUnsigned
    } else {
        SignaturePolicy::Require
    }
}

/// The signature status of a plugin directory (an installed one too), `x.wasm` beside
/// `x.toml`, or `.plinth` package, for `check` and `show`:
/// `{"status": "trusted", "signer": NAME}`, `unsigned`, `untrusted-key` or `bad-signature`,
/// and the diagnostic to report when the signature is bad. `None` when `path` is not in the
/// directory layout (other errors are `check`'s own to report).
pub fn signature_status(
    ctx: &Context,
    path: &std::path::Path,
) -> Option<(serde_json::Value, Option<plinth_manifest::Diagnostic>)> {
    use plinth_package::{LayoutEntry, SignatureState};
    use serde_json::json;
    let trust = home(ctx).trust_store().ok()?;
    let outcome = if path.extension().is_some_and(|e| e == "plinth") {
        let limits = plinth_package::UnpackLimits::default();
        plinth_package::verify_package_file(path, &trust, SignaturePolicy::Require, &limits)
            .map(|verified| verified.verification)
    } else if path.is_dir() {
        // An installed folder keeps `package.sig` (package installs) or `x.sig` (directory
        // installs and authors' folders): `verify_installed` checks whichever it has.
        plinth_package::verify_installed(path, &trust, SignaturePolicy::Require)
    } else {
        let entry = if path.extension().is_some_and(|e| e == "wasm") {
            LayoutEntry::for_component(path).ok()?
        } else {
            LayoutEntry::for_plugin_dir(path.parent()?).ok()?
        };
        entry
            .verify(&trust, SignaturePolicy::Require)
            .map(|(_, v)| v)
    };
    let state = plinth_package::SignatureState::of(outcome)?;
    Some(match state {
        SignatureState::Trusted { signer } => {
            (json!({"status": "trusted", "signer": signer}), None)
        }
        SignatureState::Unsigned => (json!({"status": "unsigned"}), None),
        SignatureState::BadSignature { diagnostic } => {
            (json!({"status": "bad-signature"}), Some(diagnostic))
        }
        SignatureState::UntrustedKey { key } => {
            (json!({"status": "untrusted-key", "key": key}), None)
        }
    })
}

/// Loads a `.plinth` package as a path target of `check` or `call`: it is read within the
/// package limits, unpacked into a temporary directory and loaded from there. Like a plugin
/// directory, it runs with the grants given on the command line only; its signature is not
/// required (`check` reports it).
pub fn load_package(
    host: &plinth_host::Host,
    path: &std::path::Path,
    options: plinth_host::LoadOptions,
) -> Result<plinth_host::Plugin, plinth_manifest::Diagnostic> {
    let unpacked = unpack_package(path)?;
    // Loading reads the component and manifest into memory; the directory can go after.
    host.load_with(unpacked.dir(), options)
        .map_err(|e| e.to_diagnostic())
}

/// Reads the `.plinth` file at `path` and unpacks it, within the package limits, into a
/// temporary folder (plinth-package's [`unpack_to_temp`](plinth_package::unpack_to_temp);
/// nothing is run). The folder goes when the result is dropped.
pub fn unpack_package(
    path: &std::path::Path,
) -> Result<plinth_package::TempUnpacked, plinth_manifest::Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| {
        plinth_manifest::Diagnostic::new(
            plinth_manifest::Code::MissingPackage,
            format!("{}: {e}", path.display()),
        )
    })?;
    plinth_package::unpack_to_temp(&bytes, &plinth_package::UnpackLimits::default())
        .map_err(|e| e.to_diagnostic())
}
