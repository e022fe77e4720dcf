//! `plinth pull oci://…`: download a plugin artifact into `FILE.plinth` (+ `FILE.plinth.sig`).

use std::path::{Path, PathBuf};

use clap::Args;
use plinth_manifest::diagnostic::{Code, Diagnostic};
use plinth_manifest::{FileMode, write_atomic};
use plinth_registry::oci::is_plain_package_name;
use plinth_registry::{OciClient, OciReference, PrivateAddresses, Pulled, SizeCaps, Transport};
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish};
use crate::progress::{Bar, block_on, runtime_failure};

/// Pull a plugin package (and its signature) from an OCI registry.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// oci://HOST[:PORT]/REPO:TAG or oci://HOST[:PORT]/REPO@sha256:DIGEST.
    reference: String,
    /// Directory to write FILE.plinth and FILE.plinth.sig into.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    output: PathBuf,
    /// Talk plain HTTP (implied for 127.0.0.1 and localhost).
    #[arg(long)]
    plain_http: bool,
    /// Let the index or registry send requests to loopback, private or link-local
    /// addresses on other hosts than the one you named.
    #[arg(long)]
    allow_private: bool,
}

/// The file name to write: the layer's title, else `ID-VERSION.plinth`, else the repository's
/// last segment.
fn file_name(pulled: &Pulled, reference: &OciReference) -> String {
    if let Some(name) = &pulled.file_name {
        return name.clone();
    }
    if let (Some(id), Some(version)) = (&pulled.id, &pulled.version) {
        let name = format!("{id}-{version}.plinth");
        if is_plain_package_name(&name) {
            return name;
        }
    }
    let last = reference
        .repository()
        .rsplit('/')
        .next()
        .unwrap_or("plugin");
    format!("{last}.plinth")
}

/// A package or signature written whole or not at all, an ordinary readable file.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    write_atomic(path, bytes, FileMode::Readable).map_err(|e| io_failure(path, e.source))
}

/// `io-error`: the output directory could not be written.
fn io_failure(path: &Path, e: std::io::Error) -> Failure {
    Diagnostic::new(Code::IoError, format!("{}: {e}", path.display()))
        .with_hint("check that the output directory is writable")
        .into()
}

impl PullArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.pull(ctx))
    }

    fn pull(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let reference: OciReference = self.reference.parse()?;
        if !self.output.is_dir() {
            return Err(Diagnostic::new(
                Code::BadArgument,
                format!("{} is not a directory", self.output.display()),
            )
            .into());
        }
        let transport = Transport::plain_if(self.plain_http);
        let client = OciClient::new(transport, SizeCaps::default())
            .private_addresses(PrivateAddresses::allow_if(self.allow_private));
        let bar = Bar::new(printer);
        let pulled = block_on(client.pull(&reference, &bar)).map_err(runtime_failure)??;
        let package_path = self.output.join(file_name(&pulled, &reference));
        let signature_path = PathBuf::from(format!("{}.sig", package_path.display()));
        // The signature first: a package never sits next to a signature of another version.
        match &pulled.signature {
            Some(signature) => write_file(&signature_path, format!("{signature}\n").as_bytes())?,
            None => match std::fs::remove_file(&signature_path) {
                Ok(()) => printer.note(format!(
                    "note: removed {}: the pulled package is unsigned",
                    signature_path.display()
                )),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_failure(&signature_path, e)),
            },
        }
        write_file(&package_path, &pulled.package)?;
        let signature_written = pulled.signature.as_ref().map(|_| &signature_path);
        if printer.json {
            printer.json_doc(&json!({
                "reference": reference.to_string(),
                "manifest_digest": pulled.manifest_digest,
                "id": pulled.id,
                "version": pulled.version,
                "package": package_path,
                "package_digest": pulled.package_digest.to_string(),
                "signature": signature_written,
            }));
        } else {
            printer.line(format!("wrote {}", package_path.display()));
            match signature_written {
                Some(path) => printer.line(format!("wrote {}", path.display())),
                None => printer.note("note: the artifact carries no signature"),
            }
            printer.line(format!("digest: {}", pulled.package_digest));
        }
        Ok(Outcome::Ok)
    }
}
