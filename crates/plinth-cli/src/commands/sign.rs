//! `plinth sign FILE --key K`: write a detached Ed25519 signature.

use std::path::{Path, PathBuf};

use clap::Args;
use plinth_package::{
    LayoutEntry, PACKAGE_EXTENSION, PackageError, SecretKey, Subject, package_signature_path,
    read_secret_key_file, sign_package, write_atomic,
};
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Sign a .plinth package (writes FILE.sig), or a component in the directory layout
/// (a plugin directory, or x.wasm beside x.toml; writes x.sig).
#[derive(Debug, Args)]
pub struct SignArgs {
    /// A .plinth package, a plugin directory, or a component x.wasm.
    file: PathBuf,
    /// The secret key file written by `plinth keygen` (NAME.key).
    #[arg(long, value_name = "K")]
    key: PathBuf,
}

impl SignArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.sign_target(ctx))
    }

    fn sign_target(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let key = read_secret_key_file(&self.key)?;
        let (signature, subject, key) = sign(&self.file, &key)?;
        if printer.json {
            printer.json_doc(&json!({
                "ok": true,
                "signature": signature,
                "id": subject.id.as_str(),
                "version": subject.version.to_string(),
                "digest": subject.digest.to_string(),
                "key": key,
            }));
        } else {
            printer.line(format!(
                "signed {} {} ({}) with {key}: {}",
                subject.id,
                subject.version,
                subject.digest,
                signature.display()
            ));
        }
        Ok(Outcome::Ok)
    }
}

/// Signs `file` and returns where the signature went, what it covers and the key.
fn sign(file: &Path, key: &SecretKey) -> Result<(PathBuf, Subject, String), PackageError> {
    let public = key.public_key().to_string();
    if file.is_dir() || file.extension().is_some_and(|e| e == "wasm") {
        let entry = if file.is_dir() {
            LayoutEntry::for_plugin_dir(file)?
        } else {
            LayoutEntry::for_component(file)?
        };
        let subject = entry.sign(key)?;
        return Ok((entry.signature, subject, public));
    }
    if file.extension().is_none_or(|e| e != PACKAGE_EXTENSION) {
        return Err(PackageError::BadInput(format!(
            "{} is not a .{PACKAGE_EXTENSION} package, a plugin directory or a .wasm component",
            file.display()
        )));
    }
    let bytes = std::fs::read(file).map_err(|e| PackageError::Io {
        action: "read",
        path: file.to_path_buf(),
        source: e,
    })?;
    let (package, text) = sign_package(&bytes, key)?;
    let path = package_signature_path(file);
    write_atomic(&path, text.as_bytes())?;
    Ok((path, package.subject(), public))
}
