//! `plinth search Q`: what a registry index offers.

use clap::Args;
use plinth_registry::{
    IndexLocation, PreReleases, PrivateAddresses, RegistryClient, SizeCaps, Transport,
};
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish, terminal_safe};
use crate::progress::{block_on, runtime_failure};
use plinth_manifest::diagnostic::{Code, Diagnostic};

/// Search a plugin index by id, name or description.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Text to look for (case-insensitive); empty lists everything.
    #[arg(default_value = "")]
    query: String,
    /// The index: a JSON file or an http(s) URL [default: host config `[registry] index`].
    #[arg(long, value_name = "URL|PATH")]
    index: Option<String>,
    /// Show pre-release versions as the latest when they are newest.
    #[arg(long)]
    pre: bool,
    /// Let the index or registry send requests to loopback, private or link-local
    /// addresses on other hosts than the one you named.
    #[arg(long)]
    allow_private: bool,
}

/// The index named by `--index`, else by host config `[registry] index`.
pub fn index_location(ctx: &Context, flag: Option<&str>) -> Result<IndexLocation, Failure> {
    let Some(text) = flag.or(ctx.config.registry.index.as_deref()) else {
        return Err(Diagnostic::new(Code::BadArgument, "no plugin index given")
            .with_hint("pass --index URL|PATH or set `[registry] index` in config.toml")
            .into());
    };
    Ok(IndexLocation::parse(text)?)
}

impl SearchArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.search(ctx))
    }

    fn search(self, ctx: &Context) -> Result<Outcome, Failure> {
        let printer = &ctx.printer;
        let location = index_location(ctx, self.index.as_deref())?;
        let loaded = block_on(async {
            RegistryClient::new(SizeCaps::default(), Transport::Auto)?
                .private_addresses(PrivateAddresses::allow_if(self.allow_private))
                .load_index(&location)
                .await
        })
        .map_err(runtime_failure)??;
        printer.diagnostics_text(&loaded.parsed.warnings);
        let pre = if self.pre {
            PreReleases::Include
        } else {
            PreReleases::Exclude
        };
        let found = loaded.index().search(&self.query);
        if printer.json {
            let plugins: Vec<_> = found
                .iter()
                .map(|p| {
                    let mut versions: Vec<_> = p.versions.iter().map(|v| &v.version).collect();
                    versions.sort();
                    json!({
                        "id": p.id.as_str(),
                        "name": p.name,
                        "description": p.description,
                        "latest": p.latest(pre).map(|v| v.version.to_string()),
                        "versions": versions.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                        "capabilities": p.latest(pre).map(|v| v.capabilities.clone()),
                    })
                })
                .collect();
            printer.json_doc(&json!({ "plugins": plugins }));
            return Ok(Outcome::Ok);
        }
        if found.is_empty() {
            printer.note(format!("no plugin matches `{}`", self.query));
            return Ok(Outcome::Ok);
        }
        // The index's text, escaped before the widths are measured (docs/design/0035).
        let rows: Vec<[String; 4]> = found
            .iter()
            .map(|p| {
                [
                    p.id.to_string(),
                    p.latest(pre)
                        .map_or_else(|| "-".into(), |v| v.version.to_string()),
                    p.name.clone().unwrap_or_default(),
                    p.description.clone().unwrap_or_default(),
                ]
                .map(|cell| terminal_safe(&cell).into_owned())
            })
            .collect();
        let header = ["ID", "LATEST", "NAME", "DESCRIPTION"].map(String::from);
        let widths: Vec<usize> = (0..3)
            .map(|i| {
                rows.iter()
                    .chain([&header])
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in [&header].into_iter().chain(&rows) {
            printer.line(
                format!(
                    "{:w0$}  {:w1$}  {:w2$}  {}",
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    w0 = widths[0],
                    w1 = widths[1],
                    w2 = widths[2]
                )
                .trim_end(),
            );
        }
        Ok(Outcome::Ok)
    }
}
