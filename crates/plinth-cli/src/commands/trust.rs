//! `plinth trust add FILE.pub [--name N] | list | remove N`: edit the trust store.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use plinth_package::{PackageError, read_public_key_file};
use serde_json::json;

use crate::commands::package_support::home;
use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Manage the trusted public keys (<home>/trusted_keys.toml).
#[derive(Debug, Args)]
pub struct TrustArgs {
    #[command(subcommand)]
    command: TrustCommand,
}

#[derive(Debug, Subcommand)]
enum TrustCommand {
    /// Trust a public key (a NAME.pub file written by `plinth keygen`).
    Add {
        /// The public key file.
        file: PathBuf,
        /// The name to trust it under [default: the name in the file, else the file stem].
        #[arg(long)]
        name: Option<String>,
    },
    /// List the trusted keys.
    List,
    /// Stop trusting the key named N.
    Remove {
        /// The key's name.
        name: String,
    },
}

impl TrustArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        let done = match self.command {
            TrustCommand::Add { file, name } => add(ctx, &file, name),
            TrustCommand::List => list(ctx),
            TrustCommand::Remove { name } => remove(ctx, &name),
        };
        finish(&ctx.printer, done)
    }
}

fn add(ctx: &Context, file: &std::path::Path, name: Option<String>) -> Result<Outcome, Failure> {
    let printer = &ctx.printer;
    let home = home(ctx);
    let (key, file_name) = read_public_key_file(file)?;
    let name = name
        .or(file_name)
        .or_else(|| file.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
        .unwrap_or_default();
    let mut store = home.trust_store()?;
    store.add(&name, key)?;
    store.save(&home.trust_store_path())?;
    if printer.json {
        printer.json_doc(&json!({"ok": true, "name": name, "key": key.to_string()}));
    } else {
        printer.line(format!("trusted `{name}`: {key}"));
    }
    Ok(Outcome::Ok)
}

fn list(ctx: &Context) -> Result<Outcome, Failure> {
    let printer = &ctx.printer;
    let store = home(ctx).trust_store()?;
    if printer.json {
        let keys: Vec<_> = store
            .keys()
            .map(|(name, key)| json!({"name": name, "key": key.to_string()}))
            .collect();
        printer.json_doc(&json!({"keys": keys}));
    } else if store.keys().next().is_none() {
        printer.note("no trusted keys; add one with `plinth trust add NAME.pub`");
    } else {
        for (name, key) in store.keys() {
            printer.line(format!("{name}\t{key}"));
        }
    }
    Ok(Outcome::Ok)
}

fn remove(ctx: &Context, name: &str) -> Result<Outcome, Failure> {
    let printer = &ctx.printer;
    let home = home(ctx);
    let mut store = home.trust_store()?;
    let key = store.remove(name).ok_or_else(|| {
        PackageError::BadInput(format!(
            "no trusted key is named `{name}`; `plinth trust list` shows the names"
        ))
    })?;
    store.save(&home.trust_store_path())?;
    if printer.json {
        printer.json_doc(&json!({"ok": true, "name": name, "key": key.to_string()}));
    } else {
        printer.line(format!("no longer trusted: `{name}` ({key})"));
    }
    Ok(Outcome::Ok)
}
