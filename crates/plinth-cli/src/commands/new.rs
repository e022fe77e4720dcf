//! `plinth new NAME`: scaffold a plugin project that builds as is.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use plinth_manifest::diagnostic::{Code, Diagnostic};
use serde_json::json;

use crate::context::Context;
use crate::output::{Outcome, fail};

/// Language of the new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lang {
    Rust,
}

/// Which `plinth:plugin` world the plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// Tools with JSON input and output.
    Tool,
    /// A command-style `run(args)` entry point.
    Plugin,
}

/// Create a plugin project in a new directory NAME.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Directory and crate name of the plugin (lowercase letters, digits, `-`, `_`).
    name: String,
    /// Language.
    #[arg(long, value_enum, default_value = "rust")]
    lang: Lang,
    /// World the plugin implements.
    #[arg(long, value_enum, default_value = "tool")]
    kind: Kind,
    /// A Plinth checkout whose `crates/plinth-pdk` the project uses [default: the
    /// checkout this binary was built from].
    #[arg(long, value_name = "DIR")]
    pdk_path: Option<PathBuf>,
}

mod templates {
    pub const CARGO_TOML: &str = include_str!("../../templates/rust/Cargo.toml.tmpl");
    pub const LIB_TOOL: &str = include_str!("../../templates/rust/lib-tool.rs.tmpl");
    pub const LIB_PLUGIN: &str = include_str!("../../templates/rust/lib-plugin.rs.tmpl");
    pub const PLUGIN_TOML: &str = include_str!("../../templates/rust/plugin.toml.tmpl");
    pub const README: &str = include_str!("../../templates/rust/README.md.tmpl");
    pub const GITIGNORE: &str = include_str!("../../templates/rust/.gitignore");
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.len() <= 64
}

/// The PDK of the checkout this binary was built from, if it is still there.
fn default_pdk() -> Option<PathBuf> {
    let pdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plinth-pdk");
    pdk.join("Cargo.toml")
        .is_file()
        .then(|| pdk.canonicalize().unwrap_or(pdk))
}

impl NewArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        let printer = &ctx.printer;
        let usage = |message: String, hint: &str| {
            fail(
                printer,
                Diagnostic::new(Code::BadArgument, message).with_hint(hint),
                Outcome::Usage,
            )
        };
        let dir = PathBuf::from(&self.name);
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !valid_name(&name) {
            return usage(
                format!("`{name}` is not a valid plugin name"),
                "use lowercase letters, digits, `-` and `_`, starting with a letter",
            );
        }
        if dir.exists() {
            return usage(
                format!("`{}` already exists", dir.display()),
                "choose another name or remove the directory",
            );
        }
        let pdk = match self
            .pdk_path
            .map(|p| p.join("crates/plinth-pdk"))
            .or_else(default_pdk)
        {
            Some(pdk) if pdk.join("Cargo.toml").is_file() => pdk,
            _ => {
                return fail(
                    printer,
                    Diagnostic::new(
                        Code::MissingPackage,
                        "no Plinth checkout with crates/plinth-pdk found".to_string(),
                    )
                    .with_hint("pass `--pdk-path DIR` pointing at a Plinth checkout"),
                    Outcome::Failed,
                );
            }
        };
        let Lang::Rust = self.lang;
        let crate_name = name.replace('-', "_");
        let pdk_dependency = format!(
            "plinth-pdk = {{ path = {} }}",
            toml_string(&pdk.to_string_lossy())
        );
        let fill = |template: &str| {
            template
                .replace("{{name}}", &name)
                .replace("{{crate_name}}", &crate_name)
                .replace("{{id}}", &name)
                .replace("{{pdk_dependency}}", &pdk_dependency)
        };
        let lib = match self.kind {
            Kind::Tool => templates::LIB_TOOL,
            Kind::Plugin => templates::LIB_PLUGIN,
        };
        let files = [
            ("Cargo.toml", fill(templates::CARGO_TOML)),
            ("src/lib.rs", fill(lib)),
            (
                "plugin.toml",
                fill(templates::PLUGIN_TOML).replace(
                    "{{world}}",
                    match self.kind {
                        Kind::Tool => "tool",
                        Kind::Plugin => "plugin",
                    },
                ),
            ),
            ("README.md", fill(templates::README)),
            (".gitignore", templates::GITIGNORE.to_string()),
        ];
        if let Err(e) = write_project(&dir, &files) {
            return fail(
                printer,
                Diagnostic::new(
                    Code::MissingPackage,
                    format!("cannot create {}: {e}", dir.display()),
                ),
                Outcome::Failed,
            );
        }
        if printer.json {
            printer.json_doc(&json!({ "created": dir, "name": name }));
        } else {
            printer.line(format!("created {}", dir.display()));
            printer.line(format!(
                "next: cd {} && plinth build && plinth call . --help",
                dir.display()
            ));
        }
        Outcome::Ok
    }
}

/// Writes all files into a temp directory beside `dir`, then renames it into place, so
/// a failure leaves nothing half-made.
fn write_project(dir: &Path, files: &[(&str, String)]) -> std::io::Result<()> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".plinth-new")
        .tempdir_in(&parent)?;
    for (path, content) in files {
        let target = temp.path().join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, content)?;
    }
    let temp = temp.keep();
    std::fs::rename(&temp, dir)
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
