//! `plinth new NAME`: scaffold a plugin project that builds as is.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use plinth_manifest::diagnostic::{Code, Diagnostic};
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

mod kinds;

use kinds::{Kind, KindFiles};

/// Language of the new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lang {
    Rust,
    /// componentize-py; the project holds `app.py` and a copy of `plinth_pdk/`.
    Python,
    /// componentize-js; the project holds `app.js` and a copy of `plinth-pdk.js`.
    Js,
}

/// Create a plugin project in a new directory NAME.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Directory and crate name of the plugin (lowercase letters, digits, `-`, `_`).
    name: String,
    /// Language.
    #[arg(long, value_enum, default_value = "rust")]
    lang: Lang,
    /// The kind of plugin: its `[[provides.KIND]]` entry, template and conformance
    /// examples (`plugin`: the 0.1.0 command world).
    #[arg(long, value_enum, default_value = "tool")]
    kind: Kind,
    /// A Plinth checkout whose `crates/plinth-pdk` the project uses [default: the
    /// checkout this binary was built from, or `--vendor-pdk` when it is gone].
    #[arg(long, value_name = "DIR")]
    pdk_path: Option<PathBuf>,
    /// Write a copy of the PDK and the WIT embedded in this binary into the project
    /// (`vendor/plinth-pdk/`, `wit/`) instead of using a checkout.
    #[arg(long, conflicts_with = "pdk_path")]
    vendor_pdk: bool,
}

/// Where the new project's `plinth-pdk` comes from.
#[derive(Debug)]
enum Pdk {
    /// `crates/plinth-pdk` of a Plinth checkout, by absolute path.
    Checkout(PathBuf),
    /// The copies embedded in this binary, written into the project.
    Vendored,
}

/// Where a vendored PDK goes in the project. Its build.rs reads the WIT from `../../wit`,
/// which is then the project's `wit/`, where the vendored WIT goes.
const VENDORED_PDK: &str = "vendor/plinth-pdk";
const VENDORED_WIT: &str = "wit";

mod templates {
    pub const CARGO_TOML: &str = include_str!("../../templates/rust/Cargo.toml.tmpl");
    pub const README: &str = include_str!("../../templates/rust/README.md.tmpl");
    pub const GITIGNORE: &str = include_str!("../../templates/rust/.gitignore");
}

mod py_templates {
    pub const README: &str = include_str!("../../templates/python/README.md.tmpl");
    pub const GITIGNORE: &str = include_str!("../../templates/python/.gitignore");
}

mod js_templates {
    pub const README: &str = include_str!("../../templates/js/README.md.tmpl");
    pub const GITIGNORE: &str = include_str!("../../templates/js/.gitignore");
}

/// The PDKs' sources and the repository's WIT, as (relative path, text).
use plinth_build::vendored;

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
        finish(&ctx.printer, self.create(ctx))
    }

    fn create(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let dir = PathBuf::from(&self.name);
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        check_new_dir(&dir, &name)?;
        if self.kind == Kind::Theme {
            return theme_project(ctx, &dir, &name);
        }
        if self.lang != Lang::Rust {
            return self.new_scripted(ctx, &dir, &name);
        }
        let pdk = self.pdk()?;
        let pdk_path = match &pdk {
            Pdk::Checkout(path) => path.to_string_lossy().into_owned(),
            Pdk::Vendored => VENDORED_PDK.to_string(),
        };
        let pdk_dependency = format!("plinth-pdk = {{ path = {} }}", toml_string(&pdk_path));
        let pdk_note = match &pdk {
            Pdk::Checkout(path) => format!(
                "`plinth-pdk` is used from the Plinth checkout at `{}`.",
                path.display()
            ),
            Pdk::Vendored => format!(
                "`{VENDORED_PDK}/` and `{VENDORED_WIT}/` are copies of `plinth-pdk` and the Plinth \
                 WIT written by `plinth new`;\nthe PDK's build script reads the WIT from `{VENDORED_WIT}/`."
            ),
        };
        let kind = self.kind.files();
        let dependencies = [pdk_dependency.as_str(), kind.rust_dependencies]
            .into_iter()
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let fill = |template: &str| {
            fill(
                template,
                &kind,
                &name,
                &[
                    ("{{dependencies}}", &dependencies),
                    ("{{pdk_note}}", &pdk_note),
                ],
            )
        };
        let mut files = vec![
            ("Cargo.toml".to_string(), fill(templates::CARGO_TOML)),
            ("src/lib.rs".to_string(), fill(kind.rust)),
            ("plugin.toml".to_string(), fill(kind.manifest)),
            ("README.md".to_string(), fill(templates::README)),
            (".gitignore".to_string(), templates::GITIGNORE.to_string()),
        ];
        files.extend(data_files(&kind));
        if let Pdk::Vendored = pdk {
            let copies = |folder: &'static str, list: &'static [(&str, &str)]| {
                list.iter()
                    .map(move |(path, text)| (format!("{folder}/{path}"), text.to_string()))
            };
            files.extend(copies(VENDORED_PDK, vendored::PDK));
            files.extend(copies(VENDORED_WIT, vendored::WIT));
        }
        create_project(&dir, &files)?;
        let next = next_command(&dir, &kind);
        if printer.json {
            printer.json_doc(&json!({
                "created": dir,
                "name": name,
                "pdk": pdk_path,
                "next": next,
            }));
        } else {
            printer.line(format!(
                "created {} (plinth-pdk: {pdk_path})",
                dir.display()
            ));
            printer.line(format!("next: {next}"));
        }
        Ok(Outcome::Ok)
    }
}

/// `--kind theme`: `plugin.toml` without `[runtime]`, `theme.json` and a README; nothing
/// to build (docs/design/0044).
fn theme_project(ctx: &Context, dir: &Path, name: &str) -> Result<Outcome, Failure> {
    let printer = &ctx.printer;
    let kind = Kind::Theme.files();
    let fill = |template: &str| fill(template, &kind, name, &[]);
    let mut files = vec![
        ("plugin.toml".to_string(), fill(kind.manifest)),
        (
            "README.md".to_string(),
            fill(include_str!("../../templates/kinds/theme/README.md.tmpl")),
        ),
    ];
    files.extend(data_files(&kind));
    create_project(dir, &files)?;
    let next = kind
        .try_it
        .replace("{target}", &shell_word(&dir.to_string_lossy()));
    if printer.json {
        printer.json_doc(&json!({"created": dir, "name": name, "kind": "theme", "next": next}));
    } else {
        printer.line(format!("created {} (a theme: no component)", dir.display()));
        printer.line(format!("next: {next}"));
    }
    Ok(Outcome::Ok)
}

impl NewArgs {
    /// `--lang python|js`: the app module, the PDK and the WIT copied into the project.
    fn new_scripted(&self, ctx: &Context, dir: &Path, name: &str) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let kind = self.kind.files();
        let (entry, app, readme, gitignore, pdk) = match self.lang {
            Lang::Python => (
                plinth_build::PY_ENTRY,
                kind.python,
                py_templates::README,
                py_templates::GITIGNORE,
                vendored::PY_PDK,
            ),
            _ => (
                plinth_build::JS_ENTRY,
                kind.js,
                js_templates::README,
                js_templates::GITIGNORE,
                vendored::JS_PDK,
            ),
        };
        if app.is_empty() {
            let language = if self.lang == Lang::Python {
                "Python"
            } else {
                "JavaScript"
            };
            return Err(Diagnostic::new(
                Code::BadArgument,
                format!(
                    "`plinth new --kind {}` has no {language} template yet",
                    kind_name(self.kind)
                ),
            )
            .with_hint("use `--lang rust`: the Rust PDK provides this kind")
            .into());
        }
        let fill = |template: &str| fill(template, &kind, name, &[]);
        let manifest = self.kind.script_manifest().unwrap_or(kind.manifest);
        let mut files = vec![
            (entry.to_string(), fill(app)),
            ("plugin.toml".to_string(), fill(manifest)),
            ("README.md".to_string(), fill(readme)),
            (".gitignore".to_string(), gitignore.to_string()),
        ];
        files.extend(data_files(&kind));
        files.extend(
            pdk.iter()
                .map(|(path, text)| (path.to_string(), text.to_string())),
        );
        files.extend(
            vendored::WIT
                .iter()
                .map(|(path, text)| (format!("{VENDORED_WIT}/{path}"), text.to_string())),
        );
        create_project(dir, &files)?;
        let language = if self.lang == Lang::Python {
            "python"
        } else {
            "js"
        };
        let next = next_command(dir, &kind);
        if printer.json {
            printer.json_doc(&json!({
                "created": dir,
                "name": name,
                "lang": language,
                "next": next,
            }));
        } else {
            printer.line(format!("created {} ({language})", dir.display()));
            printer.line(format!("next: {next}"));
        }
        Ok(Outcome::Ok)
    }
}

impl NewArgs {
    /// The PDK the project uses: vendored, the checkout of `--pdk-path`, or the checkout
    /// this binary was built from.
    fn pdk(&self) -> Result<Pdk, Diagnostic> {
        if self.vendor_pdk {
            return Ok(Pdk::Vendored);
        }
        let Some(checkout) = &self.pdk_path else {
            return Ok(default_pdk().map_or(Pdk::Vendored, Pdk::Checkout));
        };
        let pdk = checkout.join("crates/plinth-pdk");
        if !pdk.join("Cargo.toml").is_file() {
            return Err(Diagnostic::new(
                Code::MissingPackage,
                format!("{} has no crates/plinth-pdk", checkout.display()),
            )
            .with_hint(
                "pass the root of a Plinth checkout, or `--vendor-pdk` to use the PDK \
                 embedded in plinth",
            ));
        }
        // Absolute: the project's Cargo.toml reads the path relative to itself.
        Ok(Pdk::Checkout(
            pdk.canonicalize()
                .or_else(|_| std::path::absolute(&pdk))
                .unwrap_or(pdk),
        ))
    }
}

/// A usage error (`bad-argument`, exit 2) unless `name` is a valid plugin name and `dir`
/// does not exist yet.
fn check_new_dir(dir: &Path, name: &str) -> Result<(), Diagnostic> {
    let usage = |message: String, hint: &str| {
        Err(Diagnostic::new(Code::BadArgument, message).with_hint(hint))
    };
    if !valid_name(name) {
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
    Ok(())
}

/// [`write_project`], its error as `io-error`.
fn create_project(dir: &Path, files: &[(String, String)]) -> Result<(), Diagnostic> {
    write_project(dir, files).map_err(|e| {
        Diagnostic::new(
            Code::IoError,
            format!("cannot create {}: {e}", dir.display()),
        )
    })
}

/// Writes all files into a temp directory beside `dir`, then renames it into place, so
/// a failure leaves nothing half-made.
fn write_project(dir: &Path, files: &[(String, String)]) -> std::io::Result<()> {
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
    // On failure the temp directory is dropped, and removed.
    std::fs::rename(temp.path(), dir)?;
    let _ = temp.keep();
    Ok(())
}

/// `template` with the project's name and the kind's words in place of their `{{…}}`
/// placeholders, then `more`.
fn fill(template: &str, kind: &KindFiles, name: &str, more: &[(&str, &str)]) -> String {
    let crate_name = name.replace('-', "_");
    let mut text = template
        .replace("{{name}}", name)
        .replace("{{crate_name}}", &crate_name)
        .replace("{{id}}", name)
        .replace("{{summary}}", kind.summary)
        .replace("{{kind_section}}", kind.readme_section)
        .replace("{{wit_package}}", kind.wit_package)
        .replace("{{world}}", "plugin")
        .replace("{{try_it}}", &kind.try_it.replace("{target}", "."));
    for (placeholder, value) in more {
        text = text.replace(placeholder, value);
    }
    text
}

/// The kind's files written as they are (schemas, `conformance.toml`).
fn data_files(kind: &KindFiles) -> impl Iterator<Item = (String, String)> + '_ {
    kind.data
        .iter()
        .map(|(path, text)| (path.to_string(), text.to_string()))
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The commands to run next: build the project, then try it as its README does.
fn next_command(dir: &Path, kind: &KindFiles) -> String {
    let target = shell_word(&dir.to_string_lossy());
    let try_it = kind.try_it.replace("{target}", &target);
    format!("plinth build {target} && {try_it}")
}

/// `word` as one shell word: as is when it holds only safe characters, else single-quoted.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./+=:@%,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The kind's name as `--kind` takes it.
fn kind_name(kind: Kind) -> String {
    kind.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}
