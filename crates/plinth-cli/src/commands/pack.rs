//! `plinth pack DIR [-o FILE]`: make a deterministic `.plinth` package.

use std::path::PathBuf;

use clap::Args;
use plinth_package::{PACKAGE_EXTENSION, pack, write_atomic};
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Pack a plugin directory into a `.plinth` package and print its sha256 digest.
#[derive(Debug, Args)]
pub struct PackArgs {
    /// The plugin directory (holding plugin.toml and the built component).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Where to write the package [default: ID-VERSION.plinth in the current directory].
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

impl PackArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.pack(ctx))
    }

    fn pack(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let packed = pack(&self.dir)?;
        let package = &packed.package;
        printer.diagnostics_text(package.warnings());
        let output = self.output.unwrap_or_else(|| {
            PathBuf::from(format!(
                "{}-{}.{PACKAGE_EXTENSION}",
                package.id(),
                package.version()
            ))
        });
        write_atomic(&output, &packed.bytes)?;
        let members: Vec<&str> = package.members().map(|(path, _)| path).collect();
        if printer.json {
            printer.json_doc(&json!({
                "ok": true,
                "id": package.id().as_str(),
                "version": package.version().to_string(),
                "file": output,
                "digest": package.digest().to_string(),
                "bytes": packed.bytes.len(),
                "members": members,
                "diagnostics": package.warnings(),
            }));
        } else {
            printer.note(format!(
                "packed {} {} ({} files, {} bytes) into {}",
                package.id(),
                package.version(),
                members.len(),
                packed.bytes.len(),
                output.display()
            ));
            printer.line(package.digest());
        }
        Ok(Outcome::Ok)
    }
}
