//! `plinth pull oci://…`: download a plugin artifact into `FILE.plinth` (+ `FILE.plinth.sig`).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use plinth_manifest::diagnostic::{Code, Diagnostic};
use plinth_registry::oci::is_plain_package_name;
use plinth_registry::{OciClient, OciReference, Pulled, SizeCaps, Transport};
use serde_json::json;

use crate::context::Context;
use crate::output::{Outcome, fail};
use crate::progress::{Bar, block_on, fail_registry, fail_runtime};

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

/// Writes `bytes` to `path` through a temporary file in the same directory, fsync'd and
/// renamed into place, so a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    // A package is an ordinary readable file, not a secret (tempfile's default is 0600).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut temp = builder.prefix(".plinth-pull-").tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

impl PullArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        let printer = &ctx.printer;
        let reference: OciReference = match self.reference.parse() {
            Ok(reference) => reference,
            Err(e) => return fail_registry(printer, &e),
        };
        if !self.output.is_dir() {
            return fail(
                printer,
                Diagnostic::new(
                    Code::BadArgument,
                    format!("{} is not a directory", self.output.display()),
                ),
                Outcome::Usage,
            );
        }
        let transport = Transport::plain_if(self.plain_http);
        let client = OciClient::new(transport, SizeCaps::default());
        let bar = Bar::new(printer);
        let pulled = match block_on(client.pull(&reference, &bar)) {
            Ok(Ok(pulled)) => pulled,
            Ok(Err(e)) => return fail_registry(printer, &e),
            Err(e) => return fail_runtime(printer, &e),
        };
        let package_path = self.output.join(file_name(&pulled, &reference));
        let signature_path = PathBuf::from(format!("{}.sig", package_path.display()));
        let io_failure = |path: &Path, e: std::io::Error| {
            fail(
                printer,
                Diagnostic::new(Code::RegistryError, format!("{}: {e}", path.display()))
                    .with_hint("check that the output directory is writable"),
                Outcome::Failed,
            )
        };
        // The signature first: a package never sits next to a signature of another version.
        match &pulled.signature {
            Some(signature) => {
                if let Err(e) =
                    write_atomically(&signature_path, format!("{signature}\n").as_bytes())
                {
                    return io_failure(&signature_path, e);
                }
            }
            None => match std::fs::remove_file(&signature_path) {
                Ok(()) => printer.note(format!(
                    "note: removed {}: the pulled package is unsigned",
                    signature_path.display()
                )),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return io_failure(&signature_path, e),
            },
        }
        if let Err(e) = write_atomically(&package_path, &pulled.package) {
            return io_failure(&package_path, e);
        }
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
        Outcome::Ok
    }
}
