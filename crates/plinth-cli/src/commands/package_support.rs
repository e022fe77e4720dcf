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
