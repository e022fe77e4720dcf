//! `plinth push FILE oci://…`: publish a `.plinth` package (and `FILE.sig`) to an OCI registry.

use std::io::Read;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use clap::Args;
use plinth_manifest::Manifest;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_registry::{OciClient, OciReference, PluginArtifact, SizeCaps, Transport};
use serde_json::json;

use crate::context::Context;
use crate::output::{Outcome, fail};
use crate::progress::{block_on, fail_registry, fail_runtime};

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
}

/// The largest `plugin.toml` read out of a package.
const MANIFEST_CAP: u64 = 1 << 20;

/// The text of the `plugin.toml` inside a `.plinth` package (a gzip'd tar with `plugin.toml`
/// at its root, or under one top directory).
///
/// This is the one place the CLI reads the archive format itself; it is to be replaced by
/// `plinth-package`'s reader once that crate is in the workspace.
pub fn package_manifest(package: &[u8]) -> Result<String, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(package));
    let entries = archive.entries().map_err(|e| e.to_string())?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        let parts: Vec<_> = path
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect();
        let is_manifest = match parts.as_slice() {
            [name] | [_, name] => name.as_os_str() == "plugin.toml",
            _ => false,
        };
        if !is_manifest || !entry.header().entry_type().is_file() {
            continue;
        }
        if entry.size() > MANIFEST_CAP {
            return Err(format!("plugin.toml is larger than {MANIFEST_CAP} bytes"));
        }
        let mut text = String::new();
        entry
            .take(MANIFEST_CAP)
            .read_to_string(&mut text)
            .map_err(|e| format!("plugin.toml: {e}"))?;
        return Ok(text);
    }
    Err("the package has no plugin.toml".into())
}

impl PushArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        let printer = &ctx.printer;
        let reference: OciReference = match self.reference.parse() {
            Ok(reference) => reference,
            Err(e) => return fail_registry(printer, &e),
        };
        let package = match std::fs::read(&self.file) {
            Ok(bytes) => bytes,
            Err(e) => {
                return fail(
                    printer,
                    Diagnostic::new(
                        Code::MissingPackage,
                        format!("{}: {e}", self.file.display()),
                    )
                    .with_hint("pass a .plinth file made by `plinth pack`"),
                    Outcome::Failed,
                );
            }
        };
        let rejected = |reason: String| {
            fail(
                printer,
                Diagnostic::new(
                    Code::PackageRejected,
                    format!("{}: {reason}", self.file.display()),
                )
                .with_hint("pass a .plinth file made by `plinth pack`"),
                Outcome::Failed,
            )
        };
        let manifest_toml = match package_manifest(&package) {
            Ok(text) => text,
            Err(reason) => return rejected(reason),
        };
        let manifest = match Manifest::parse(&manifest_toml, Path::new("plugin.toml")) {
            Ok(parsed) => parsed.manifest,
            Err(e) => return fail(printer, e.to_diagnostic(), Outcome::Failed),
        };
        let signature_path = PathBuf::from(format!("{}.sig", self.file.display()));
        let signature = match std::fs::read_to_string(&signature_path) {
            Ok(text) => Some(text.trim().to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return rejected(format!("{}: {e}", signature_path.display())),
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
        let client = OciClient::new(transport, SizeCaps::default());
        let pushed = match block_on(client.push(&reference, &artifact)) {
            Ok(Ok(pushed)) => pushed,
            Ok(Err(e)) => return fail_registry(printer, &e),
            Err(e) => return fail_runtime(printer, &e),
        };
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
        Outcome::Ok
    }
}
