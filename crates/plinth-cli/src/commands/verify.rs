//! `plinth verify FILE`: check a package's (or a directory layout's) signature against the
//! trust store.

use std::path::PathBuf;

use clap::Args;
use plinth_manifest::{Diagnostic, ToDiagnostic};
use plinth_package::{
    LayoutEntry, PackageError, SignaturePolicy, UnpackLimits, Verification, verify_package_file,
};
use serde_json::{Value, json};

use crate::commands::package_support::home;
use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Verify the signature of a .plinth package (FILE.sig), a plugin directory or a directory in
/// the x.wasm + x.sig + x.toml layout against the trust store.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A .plinth package, a plugin directory, a directory of x.wasm/x.sig/x.toml, or x.wasm.
    file: PathBuf,
}

/// One verified unit, for the report.
struct Checked {
    file: PathBuf,
    result: Result<(String, String, String, Verification), PackageError>,
}

impl VerifyArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.verify(ctx))
    }

    /// Verifies every unit and reports each; only a trust store or directory that cannot be
    /// read ends it early.
    fn verify(self, ctx: &Context) -> Result<Outcome, Failure> {
        let trust = home(ctx).trust_store()?;
        let policy = SignaturePolicy::Require;
        let checked: Vec<Checked> = if self.file.is_dir() {
            let entries = LayoutEntry::scan_dir(&self.file)?;
            if entries.is_empty() {
                return Err(PackageError::Missing {
                    what: "plugin.toml or x.wasm with x.toml",
                    path: self.file.display().to_string(),
                }
                .into());
            }
            entries
                .into_iter()
                .map(|entry| Checked {
                    result: entry.verify(&trust, policy).map(|(s, v)| {
                        (
                            s.id.to_string(),
                            s.version.to_string(),
                            s.digest.to_string(),
                            v,
                        )
                    }),
                    file: entry.component,
                })
                .collect()
        } else if self.file.extension().is_some_and(|e| e == "wasm") {
            let result = LayoutEntry::for_component(&self.file)
                .and_then(|entry| entry.verify(&trust, policy))
                .map(|(s, v)| {
                    (
                        s.id.to_string(),
                        s.version.to_string(),
                        s.digest.to_string(),
                        v,
                    )
                });
            vec![Checked {
                file: self.file.clone(),
                result,
            }]
        } else {
            let result = verify_package_file(&self.file, &trust, policy, &UnpackLimits::default())
                .map(|v| {
                    let p = &v.package;
                    (
                        p.id().to_string(),
                        p.version().to_string(),
                        p.digest().to_string(),
                        v.verification,
                    )
                });
            vec![Checked {
                file: self.file.clone(),
                result,
            }]
        };
        Ok(report(ctx, &checked))
    }
}

fn report(ctx: &Context, checked: &[Checked]) -> Outcome {
    let printer = &ctx.printer;
    let ok = checked.iter().all(|c| c.result.is_ok());
    let diagnostics: Vec<Diagnostic> = checked
        .iter()
        .filter_map(|c| c.result.as_ref().err().map(ToDiagnostic::to_diagnostic))
        .collect();
    if printer.json {
        let results: Vec<Value> = checked
            .iter()
            .map(|c| match &c.result {
                Ok((id, version, digest, verification)) => json!({
                    "file": c.file,
                    "ok": true,
                    "id": id,
                    "version": version,
                    "digest": digest,
                    "signer": verification.signer(),
                }),
                Err(e) => json!({
                    "file": c.file,
                    "ok": false,
                    "code": e.code().as_str(),
                }),
            })
            .collect();
        printer.json_doc(&json!({
            "ok": ok,
            "results": results,
            "diagnostics": diagnostics,
        }));
    } else {
        printer.diagnostics_text(&diagnostics);
        for c in checked {
            if let Ok((id, version, digest, verification)) = &c.result {
                printer.line(format!(
                    "ok: {id} {version} ({digest}) signed by trusted key `{}`: {}",
                    verification.signer().unwrap_or_default(),
                    c.file.display()
                ));
            }
        }
    }
    if ok { Outcome::Ok } else { Outcome::Failed }
}
