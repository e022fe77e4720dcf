//! `plinth serve [--addr 127.0.0.1:7878]`: run the home's plugins as a service with a JSON
//! HTTP API (docs/serve.md), until SIGINT or SIGTERM. Thin over `plinth-serve`.

use std::net::SocketAddr;

use clap::Args;
use plinth_manifest::diagnostic::{Code, Diagnostic};
use plinth_serve::{Exposure, ServeOptions, Server, shutdown_signal};
use serde_json::json;

use crate::context::Context;
use crate::output::{Failure, Outcome, finish};

/// Serve the plugins of the home (and of its tenants) over a JSON HTTP API.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDR:PORT")]
    addr: SocketAddr,
    /// Allow a non-loopback address: the API becomes reachable from the network.
    #[arg(long)]
    allow_remote: bool,
    /// With --allow-remote: serve plain HTTP (TLS is not built in; put a TLS proxy in front).
    #[arg(long, requires = "allow_remote")]
    no_tls: bool,
}

impl ServeArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.serve(ctx))
    }

    fn exposure(&self) -> Result<Exposure, Failure> {
        match (self.allow_remote, self.no_tls) {
            (false, _) => Ok(Exposure::Loopback),
            (true, true) => Ok(Exposure::RemotePlainHttp),
            (true, false) => Err(Failure::with_outcome(
                Diagnostic::new(
                    Code::BadArgument,
                    "--allow-remote serves the network, and plinth serve has no TLS of its own",
                )
                .with_hint("put a TLS proxy in front and pass `--allow-remote --no-tls`"),
                Outcome::Usage,
            )),
        }
    }

    fn serve(self, ctx: &Context) -> Result<Outcome, Failure> {
        if ctx.tenant.is_some() {
            return Err(Failure::with_outcome(
                Diagnostic::new(
                    Code::BadArgument,
                    "plinth serve runs every tenant of the home",
                )
                .with_hint("drop --tenant; the API takes `?tenant=NAME` on each request"),
                Outcome::Usage,
            ));
        }
        let mut options = ServeOptions::new(&ctx.main_home, self.addr);
        options.config = ctx.config.clone();
        options.exposure = self.exposure()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Diagnostic::new(Code::HostSetup, format!("no async runtime: {e}")))?;
        let printer = ctx.printer;
        runtime.block_on(async move {
            let server = Server::bind(options).await?;
            let url = format!("http://{}", server.local_addr());
            if printer.json {
                printer.json_doc(&json!({
                    "listening": url,
                    "token_file": server.token_file(),
                }));
            } else {
                printer.line(format!("listening on {url} (the dashboard is at {url}/)"));
                printer.note(format!(
                    "state-changing requests need `Authorization: Bearer $(cat {})`",
                    server.token_file().display()
                ));
            }
            server.run(shutdown_signal()).await?;
            printer.note("stopped");
            Ok::<Outcome, Failure>(Outcome::Ok)
        })
    }
}
