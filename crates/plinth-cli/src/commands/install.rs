//! `plinth install PATH|ID[@VERSION]|oci://REF [--allow-unsigned]`: verify and install a
//! plugin directory, a `.plinth` package, an index entry or an OCI artifact into the user
//! plugin directory. Never enables or grants anything.

use std::path::{Path, PathBuf};

use clap::Args;
use plinth_package::{InstallOptions, Installed, Verification, install_path};
use plinth_registry::reference::OCI_SCHEME;
use plinth_registry::{
    InstallError, OciClient, OciReference, PreReleases, PrivateAddresses, RegistryClient, SizeCaps,
    Transport, install_from_index, install_from_oci, parse_spec,
};
use serde_json::json;

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
        let opts = InstallOptions::new(policy(ctx, self.allow_unsigned));
        let installed = if self.target.starts_with(OCI_SCHEME) {
            self.install_oci(ctx, &opts)?
        } else if Path::new(&self.target).exists() || !looks_like_spec(&self.target) {
            install_path(&home(ctx), &PathBuf::from(&self.target), &opts)?
        } else {
            self.install_indexed(ctx, &opts)?
        };
        Ok(report(&ctx.printer, &installed))
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

/// Prints what an install did: the version, digest and signer, the capabilities it requests
/// and the `plinth grant` command that would grant them.
pub fn report(printer: &Printer, installed: &Installed) -> Outcome {
    let requested: Vec<String> = installed.requested.iter().map(|g| g.to_string()).collect();
    let grant_command = grant_command(installed, &requested);
    if printer.json {
        printer.json_doc(&json!({
            "ok": true,
            "id": installed.id.as_str(),
            "version": installed.version.to_string(),
            "digest": installed.digest.to_string(),
            "dir": installed.dir,
            "signer": installed.verification.signer(),
            "replaced": installed.replaced.as_ref().map(|e| e.version.to_string()),
            "requested_capabilities": requested,
            "enabled": false,
            "grant_command": grant_command,
            "diagnostics": installed.warnings,
        }));
        return Outcome::Ok;
    }
    printer.diagnostics_text(&installed.warnings);
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
    match &grant_command {
        None => printer.line("it requests no capabilities."),
        Some(command) => {
            printer.line("it requests these capabilities (none is granted yet):");
            for grant in &requested {
                printer.line(format!("  {grant}"));
            }
            printer.line("review them, then grant what you accept:");
            printer.line(format!("  {command}"));
        }
    }
    printer.line(format!(
        "it is not enabled: `plinth enable {}`",
        installed.id
    ));
    Outcome::Ok
}

/// The exact `plinth grant` command that would grant everything requested.
fn grant_command(installed: &Installed, requested: &[String]) -> Option<String> {
    if requested.is_empty() {
        return None;
    }
    let quoted: Vec<String> = requested.iter().map(|g| shell_quote(g)).collect();
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
