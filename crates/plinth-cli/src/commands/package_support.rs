//! What the distribution commands (`pack`, `keygen`, `sign`, `verify`, `trust`, `install`,
//! `uninstall`) share: the home's layout, the install policy, and how a package error ends.

use plinth_manifest::ToDiagnostic;
use plinth_package::{Home, PackageError, SignaturePolicy};

use crate::context::Context;
use crate::output::{Outcome, Printer, fail};

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

/// Prints the error's diagnostic; a bad argument (an unusable key file or name) is a usage
/// error (exit 2), everything else a failure (exit 1).
pub fn fail_with(printer: &Printer, error: &PackageError) -> Outcome {
    let outcome = match error {
        PackageError::BadInput(_) => Outcome::Usage,
        _ => Outcome::Failed,
    };
    fail(printer, error.to_diagnostic(), outcome)
}

/// The signature status of a plugin directory (or `x.wasm` beside `x.toml`) for `check`:
/// `{"status": "trusted", "signer": NAME}`, `unsigned`, `untrusted-key` or `bad-signature`,
/// and the diagnostic to report when the signature is bad. `None` when `path` is not in the
/// directory layout (other errors are `check`'s own to report).
pub fn signature_status(
    ctx: &Context,
    path: &std::path::Path,
) -> Option<(serde_json::Value, Option<plinth_manifest::Diagnostic>)> {
    use plinth_package::{LayoutEntry, Verification};
    use serde_json::json;
    let entry = if path.is_dir() {
        LayoutEntry::for_plugin_dir(path).ok()?
    } else if path.extension().is_some_and(|e| e == "wasm") {
        LayoutEntry::for_component(path).ok()?
    } else {
        LayoutEntry::for_plugin_dir(path.parent()?).ok()?
    };
    let trust = home(ctx).trust_store().ok()?;
    match entry.verify(&trust, SignaturePolicy::Require) {
        Ok((_, Verification::Trusted { name, .. })) => {
            Some((json!({"status": "trusted", "signer": name}), None))
        }
        Ok((_, Verification::Unsigned)) => Some((json!({"status": "unsigned"}), None)),
        Err(e @ PackageError::BadSignature { .. }) => {
            Some((json!({"status": "bad-signature"}), Some(e.to_diagnostic())))
        }
        Err(PackageError::Unsigned { .. }) => Some((json!({"status": "unsigned"}), None)),
        Err(PackageError::UntrustedKey { key, .. }) => {
            Some((json!({"status": "untrusted-key", "key": key}), None))
        }
        Err(_) => None,
    }
}
