//! `plinth push FILE oci://…`: publish a `.plinth` package (and `FILE.sig`) to an OCI registry.

use std::path::PathBuf;

use bytes::Bytes;
use clap::Args;
use plinth_manifest::diagnostic::{Code, Diagnostic};
use plinth_package::{PackageError, UnpackLimits, read_package_manifest};
use plinth_registry::{
    OciClient, OciReference, PluginArtifact, PrivateAddresses, SizeCaps, Transport,
};
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish};
use crate::progress::{block_on, runtime_failure};

/// Push a .plinth package and its signature to an OCI registry.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The .plinth package; FILE.sig travels with it when present.
    file: PathBuf,
    /// Where to: oci://HOST[:PORT]/REPO:TAG.
    reference: String,
    /// Talk plain HTTP (implied for 127.0.0.1 and localhost).
    #[arg(long)]
    plain_http: bool,
    /// Let the index or registry send requests to loopback, private or link-local
    /// addresses on other hosts than the one you named.
    #[arg(long)]
    allow_private: bool,
}

impl PushArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.push(ctx))
    }

    fn push(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let reference: OciReference = self.reference.parse()?;
        let package = std::fs::read(&self.file).map_err(|e| {
            Diagnostic::new(
                Code::MissingPackage,
                format!("{}: {e}", self.file.display()),
            )
            .with_hint("pass a .plinth file made by `plinth pack`")
        })?;
        let rejected = |reason: String| {
            Diagnostic::new(
                Code::PackageRejected,
                format!("{}: {reason}", self.file.display()),
            )
            .with_hint("pass a .plinth file made by `plinth pack`")
        };
        // plinth-package reads the manifest; the registry stores the bytes as they are (the
        // package is verified in full where it is installed).
        let (manifest_toml, manifest) = read_package_manifest(&package, &UnpackLimits::default())
            .map_err(|e| match e {
            PackageError::Rejected { .. } => Failure::from(rejected(e.to_string())),
            other => Failure::from(other),
        })?;
        let signature_path = PathBuf::from(format!("{}.sig", self.file.display()));
        let signature = match std::fs::read_to_string(&signature_path) {
            Ok(text) => Some(text.trim().to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(rejected(format!("{}: {e}", signature_path.display())).into()),
        };
        let file_name = self
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| plinth_registry::oci::is_plain_package_name(n))
            .unwrap_or_else(|| {
                format!("{}-{}.plinth", manifest.plugin.id, manifest.plugin.version)
            });
        let artifact = PluginArtifact {
            id: manifest.plugin.id.to_string(),
            version: manifest.plugin.version.clone(),
            name: manifest.plugin.name.clone(),
            manifest_toml,
            package: Bytes::from(package),
            file_name,
            signature,
        };
        let transport = Transport::plain_if(self.plain_http);
        let client = OciClient::new(transport, SizeCaps::default())
            .private_addresses(PrivateAddresses::allow_if(self.allow_private));
        let pushed = block_on(client.push(&reference, &artifact)).map_err(runtime_failure)??;
        let signed = artifact.signature.is_some();
        if printer.json {
            printer.json_doc(&json!({
                "reference": pushed.reference.to_string(),
                "pinned": pushed.pinned.to_string(),
                "manifest_digest": pushed.manifest_digest,
                "package_digest": pushed.package_digest.to_string(),
                "id": artifact.id,
                "version": artifact.version.to_string(),
                "signed": signed,
            }));
        } else {
            if !signed {
                printer.note(format!(
                    "note: no {} found; pushed unsigned",
                    signature_path.display()
                ));
            }
            printer.line(format!(
                "pushed {} {} to {}",
                artifact.id, artifact.version, pushed.reference
            ));
            printer.line(format!("pinned: {}", pushed.pinned));
        }
        Ok(Outcome::Ok)
    }
}
