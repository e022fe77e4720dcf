//! `plinth build [DIR]`: build a plugin project into a component next to its manifest
//! (plinth-build does the building), then validate it like `plinth check`.

use std::path::PathBuf;

use clap::Args;
use plinth_build::{BuildError, Language, RUST_TARGET, World};
use plinth_host::LoadOptions;
use plinth_manifest::Manifest;
use plinth_manifest::diagnostic::{Code, Diagnostic};
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Build the plugin in DIR (a Rust crate, or a Python `app.py` / JavaScript `app.js`
/// project, with a plugin.toml) into its component.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The plugin project [default: .].
    #[arg(default_value = ".")]
    dir: PathBuf,
}

impl BuildArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.build(ctx))
    }

    fn build(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let manifest = Manifest::load(&self.dir)?.manifest;
        let id = manifest.plugin.id.to_string();
        let Some(destination) = manifest.component_path() else {
            return Err(Failure::from(
                Diagnostic::new(
                    Code::BadArgument,
                    format!("{id} has no component to build: it provides themes alone"),
                )
                .with_hint("check it with `plinth check`, or add [runtime] to give it a component"),
            )
            .with_plugin(&id));
        };
        let language = Language::detect(&self.dir).ok_or_else(|| {
            Failure::from(BuildError::NotAProject {
                dir: self.dir.clone(),
            })
            .with_plugin(&id)
        })?;
        match language {
            Language::Rust => printer.note(format!("building {id} for {RUST_TARGET}")),
            _ => printer.note(format!("building {id} with {}", language.toolchain_name())),
        }
        // The kinds of `[[provides.*]]`, else the 0.1.0 `runtime.world`.
        World::for_project(&self.dir, manifest.world())
            .and_then(|world| plinth_build::build(language, &self.dir, world, &destination))
            .map_err(|e| Failure::from(e).with_plugin(&id))?;
        let plugin = ctx
            .host(None)?
            .load_with(&self.dir, LoadOptions::default())?;
        if printer.json {
            printer.json_doc(&json!({
                "plugin": plugin.id(),
                "component": destination,
                "digest": plugin.digest().to_string(),
            }));
        } else {
            printer.line(format!(
                "built {} → {} ({})",
                plugin.id(),
                destination.display(),
                plugin.digest()
            ));
        }
        Ok(Outcome::Ok)
    }
}
