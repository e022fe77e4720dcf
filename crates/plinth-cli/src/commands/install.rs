//! `plinth install PATH|ID[@VERSION]|oci://REF [--allow-unsigned] [--replace]`: verify and
//! install a plugin directory, a `.plinth` package, an index entry or an OCI artifact into
//! the user plugin directory. Never enables or grants anything.
//!
//! A plugin id keeps its identity (docs/design/0034): a package claiming an installed id
//! from another origin or signer is refused (`identity-changed`) unless `--replace`; a
//! replacement, and a reinstall after `uninstall`, resets the id's enablement and grants in
//! `plugins.toml` before the new files are written, so the operator reviews them again.

use std::path::{Path, PathBuf};

use clap::Args;
use plinth_manager::state::{PluginEntry, ReviewReset, review_hook};
use plinth_manifest::diagnostic::{Diagnostic, Severity};
use plinth_package::{
    Continuity, InstallOptions, Installed, ReplacePolicy, Verification, install_path,
};
use plinth_registry::reference::OCI_SCHEME;
use plinth_registry::{
    InstallError, OciClient, OciReference, PreReleases, PrivateAddresses, RegistryClient, SizeCaps,
    Transport, install_from_index, install_from_oci, parse_spec,
};
use serde_json::json;

use crate::commands::installed::{read_state, state_file};
use crate::commands::package_support::{home, policy};
use crate::commands::search::index_location;
use crate::context::Context;
use crate::output::{Failure, Outcome, Printer, finish};
use crate::progress::{Bar, block_on, runtime_failure};

/// Install a plugin directory, .plinth package, index entry (ID[@VERSION]) or OCI artifact,
/// verifying its signature; record it in plinth.lock and print what it asks for. Installing
/// does not enable it.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// A plugin directory or .plinth file (signature FILE.sig, or x.sig beside x.wasm), an
    /// index entry `ID[@VERSION]`, or `oci://HOST[:PORT]/REPO:TAG`.
    target: String,
    /// Install even without a signature (a signature that is present must still verify).
    #[arg(long)]
    allow_unsigned: bool,
    /// Replace an installed plugin of the same id from another source or signer; it is
    /// then disabled and its grants are reset for review.
    #[arg(long)]
    replace: bool,
    /// The index for `ID[@VERSION]` [default: host config `[registry] index`].
    #[arg(long, value_name = "URL|PATH")]
    index: Option<String>,
    /// Let `ID` resolve to a pre-release.
    #[arg(long)]
    pre: bool,
    /// Talk plain HTTP to the OCI registry (implied for 127.0.0.1 and localhost).
    #[arg(long)]
    plain_http: bool,
    /// Let the index or registry send requests to loopback, private or link-local
    /// addresses on other hosts than the one you named.
    #[arg(long)]
    allow_private: bool,
}

impl InstallArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.install(ctx))
    }

    fn install(self, ctx: &Context) -> Result<Outcome, Failure> {
        let mut opts = InstallOptions::new(policy(ctx, self.allow_unsigned));
        if self.replace {
            opts.replace = ReplacePolicy::Replace;
        }
        let (hook, reset) = review_hook(state_file(ctx));
        opts.before_write = Some(hook);
        let installed = if self.target.starts_with(OCI_SCHEME) {
            self.install_oci(ctx, &opts)?
        } else if Path::new(&self.target).exists() || !looks_like_spec(&self.target) {
            install_path(&home(ctx), &PathBuf::from(&self.target), &opts)?
        } else {
            self.install_indexed(ctx, &opts)?
        };
        let reset = reset.lock().unwrap_or_else(|p| p.into_inner()).take();
        Ok(report(
            &ctx.printer,
            &installed,
            &Review::read(ctx, &installed, reset),
        ))
    }

    fn transport(&self) -> Transport {
        Transport::plain_if(self.plain_http)
    }

    fn install_oci(&self, ctx: &Context, opts: &InstallOptions) -> Result<Installed, Failure> {
        let reference = self.target.parse::<OciReference>()?;
        let client = OciClient::new(self.transport(), SizeCaps::default())
            .private_addresses(PrivateAddresses::allow_if(self.allow_private));
        let bar = Bar::new(&ctx.printer);
        let home = home(ctx);
        let result = block_on(install_from_oci(&client, &home, &reference, opts, &bar));
        result.map_err(runtime_failure)?.map_err(install_failure)
    }

    fn install_indexed(&self, ctx: &Context, opts: &InstallOptions) -> Result<Installed, Failure> {
        let printer = &ctx.printer;
        let (id, request) = parse_spec(&self.target)?;
        let location = index_location(ctx, self.index.as_deref())?;
        let pre = if self.pre {
            PreReleases::Include
        } else {
            PreReleases::Exclude
        };
        let home = home(ctx);
        let bar = Bar::new(printer);
        let result = block_on(async {
            let client = RegistryClient::new(SizeCaps::default(), self.transport())?
                .private_addresses(PrivateAddresses::allow_if(self.allow_private));
            let index = client.load_index(&location).await?;
            printer.diagnostics_text(&index.parsed.warnings);
            install_from_index(&client, &home, &index, &id, &request, pre, opts, &bar).await
        });
        result.map_err(runtime_failure)?.map_err(install_failure)
    }
}

/// Whether `target` reads as `ID[@VERSION]` rather than a path: no path separator and no
/// `.plinth` extension.
fn looks_like_spec(target: &str) -> bool {
    !target.contains(std::path::MAIN_SEPARATOR) && !target.ends_with(".plinth")
}

/// A registry install's error, with the exit code of its diagnostic code.
fn install_failure(error: InstallError) -> Failure {
    match error {
        InstallError::Registry(e) => e.into(),
        InstallError::Package(e) => e.into(),
    }
}

/// The enablement and grants of an installed plugin after the install, as `plugins.toml`
/// has them, and what the install reset.
pub struct Review {
    /// The plugin's entry; `None` when it has none (not enabled, nothing granted).
    entry: Option<PluginEntry>,
    /// Why the state could not be read, if it could not.
    unreadable: Option<Diagnostic>,
    reset: Option<ReviewReset>,
}

impl Review {
    pub fn read(ctx: &Context, installed: &Installed, reset: Option<ReviewReset>) -> Review {
        match read_state(ctx) {
            Ok(section) => Review {
                entry: section.entry(installed.id.as_str()).cloned(),
                unreadable: None,
                reset,
            },
            Err(diagnostic) => Review {
                entry: None,
                unreadable: Some(diagnostic.with_severity(Severity::Warning)),
                reset,
            },
        }
    }

    fn enabled(&self) -> Option<bool> {
        match (&self.entry, &self.unreadable) {
            (_, Some(_)) => None,
            (Some(entry), None) => Some(entry.enabled),
            (None, None) => Some(false),
        }
    }

    fn grants(&self) -> Vec<String> {
        self.entry
            .as_ref()
            .map(|e| e.grants.clone())
            .unwrap_or_default()
    }
}

/// Prints what an install did: the version, digest and signer, whether it continues,
/// replaces or is new under its id (and what that reset), the capabilities it requests
/// with the ones granted, the `plinth grant` command for the rest, and whether it is
/// enabled, as `plugins.toml` has it now.
pub fn report(printer: &Printer, installed: &Installed, review: &Review) -> Outcome {
    let requested: Vec<String> = installed.requested.iter().map(|g| g.to_string()).collect();
    let granted = review.grants();
    let ungranted: Vec<String> = requested
        .iter()
        .filter(|g| !granted.contains(g))
        .cloned()
        .collect();
    let grant_command = grant_command(installed, &ungranted);
    let mut diagnostics = installed.warnings.clone();
    diagnostics.extend(review.unreadable.clone());
    if printer.json {
        printer.json_doc(&json!({
            "ok": true,
            "id": installed.id.as_str(),
            "version": installed.version.to_string(),
            "digest": installed.digest.to_string(),
            "dir": installed.dir,
            "signer": installed.verification.signer(),
            "key": installed.verification.key().map(|k| k.to_string()),
            "replaced": installed.replaced.as_ref().map(|e| e.version.to_string()),
            "continuity": installed.continuity.as_str(),
            "review_reset": review.reset,
            "requested_capabilities": requested,
            "enabled": review.enabled(),
            "grants": granted,
            "grant_command": grant_command,
            "diagnostics": diagnostics,
        }));
        return Outcome::Ok;
    }
    printer.diagnostics_text(&diagnostics);
    let signed = match &installed.verification {
        Verification::Trusted { name, .. } => format!("signed by `{name}`"),
        Verification::Unsigned => "UNSIGNED".to_owned(),
    };
    let replaced = installed
        .replaced
        .as_ref()
        .map(|e| format!(", replacing {}", e.version))
        .unwrap_or_default();
    printer.line(format!(
        "installed {} {} ({}, {signed}{replaced}) into {}",
        installed.id,
        installed.version,
        installed.digest,
        installed.dir.display()
    ));
    if let Some(reset) = &review.reset {
        let why = match installed.continuity {
            Continuity::Replaced => "it replaces a plugin of this id from another source or signer",
            _ => "it is a new install of an id plugins.toml already had",
        };
        let grants = if reset.grants.is_empty() {
            "none".to_owned()
        } else {
            reset.grants.join(", ")
        };
        printer.line(format!(
            "{why}: its enablement ({}) and grants ({grants}) were reset for review",
            if reset.was_enabled {
                "was enabled"
            } else {
                "was disabled"
            }
        ));
    }
    if requested.is_empty() {
        printer.line("it requests no capabilities.");
    } else {
        if granted.is_empty() {
            printer.line("it requests these capabilities (none is granted yet):");
        } else {
            printer.line("it requests these capabilities:");
        }
        for grant in &requested {
            let mark = if granted.contains(grant) {
                " (granted)"
            } else {
                ""
            };
            printer.line(format!("  {grant}{mark}"));
        }
        if let Some(command) = &grant_command {
            printer.line("review them, then grant what you accept:");
            printer.line(format!("  {command}"));
        }
    }
    match review.enabled() {
        Some(true) => printer.line(format!(
            "it is enabled (plugins.toml): `plinth disable {}` to stop it",
            installed.id
        )),
        Some(false) => printer.line(format!(
            "it is not enabled: `plinth enable {}`",
            installed.id
        )),
        None => printer.line("its enablement is unknown: plugins.toml cannot be read"),
    }
    Outcome::Ok
}

/// The exact `plinth grant` command that would grant `grants` (the requested ones not yet
/// granted).
fn grant_command(installed: &Installed, grants: &[String]) -> Option<String> {
    if grants.is_empty() {
        return None;
    }
    let quoted: Vec<String> = grants.iter().map(|g| shell_quote(g)).collect();
    Some(format!(
        "plinth grant {} {}",
        installed.id,
        quoted.join(" ")
    ))
}

/// Quotes a word for a POSIX shell when it has characters the shell would interpret.
fn shell_quote(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/' | '@' | '='));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
