//! `plinth keygen NAME [--out DIR]`: make an Ed25519 signing key pair.

use std::path::PathBuf;

use clap::Args;
use plinth_package::write_key_pair;
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Generate an Ed25519 key pair: NAME.key (secret, mode 0600) and NAME.pub.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The key's name (letters, digits, '.', '_', '-').
    name: String,
    /// The directory to write the files into [default: the current directory].
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
}

impl KeygenArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.keygen(ctx))
    }

    fn keygen(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let files = write_key_pair(&self.out, &self.name)?;
        if printer.json {
            printer.json_doc(&json!({
                "ok": true,
                "name": self.name,
                "secret_key": files.secret,
                "public_key": files.public,
                "key": files.key.to_string(),
            }));
        } else {
            printer.line(format!(
                "wrote {} (secret: keep it private) and {}",
                files.secret.display(),
                files.public.display()
            ));
            printer.line(format!("public key: {}", files.key));
            printer.note(format!(
                "users trust it with `plinth trust add {}`",
                files.public.display()
            ));
        }
        Ok(Outcome::Ok)
    }
}
