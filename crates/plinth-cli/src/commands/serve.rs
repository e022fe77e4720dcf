//! `plinth serve [--addr 127.0.0.1:7878]`: run the home's plugins as a service with a JSON
//! HTTP API (docs/serve.md), until SIGINT or SIGTERM. Thin over `plinth-serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use plinth_manifest::diagnostic::{Code, Diagnostic};
use plinth_serve::{Exposure, ServeOptions, Server, TlsFiles, shutdown_signal};
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
    /// With --allow-remote: serve plain HTTP (behind a TLS proxy, say).
    #[arg(long, requires = "allow_remote", conflicts_with_all = ["tls_cert", "tls_key"])]
    no_tls: bool,
    /// Serve HTTPS with this PEM certificate chain (leaf first).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// No automatic reloads (files are not watched, failed plugins not retried): a change
    /// on disk takes effect on a reload (the dashboard's Retry), an update or a restart.
    #[arg(long)]
    no_watch: bool,
}

impl ServeArgs {
    pub fn run(self, ctx: &Context) -> Outcome {
        finish(&ctx.printer, self.serve(ctx))
    }

    fn exposure(&self) -> Result<Exposure, Failure> {
        match (self.allow_remote, self.no_tls, self.tls_cert.is_some()) {
            (false, _, _) => Ok(Exposure::Loopback),
            (true, true, _) => Ok(Exposure::RemotePlainHttp),
            (true, false, true) => Ok(Exposure::Remote),
            (true, false, false) => Err(Failure::with_outcome(
                Diagnostic::new(
                    Code::BadArgument,
                    "--allow-remote serves the network: it needs TLS or an explicit opt-out",
                )
                .with_hint(
                    "pass `--tls-cert CERT.pem --tls-key KEY.pem`, or `--no-tls` behind a TLS proxy",
                ),
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
        options.watch = !self.no_watch;
        options.tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Diagnostic::new(Code::HostSetup, format!("no async runtime: {e}")))?;
        let printer = ctx.printer;
        runtime.block_on(async move {
            let server = Server::bind(options).await?;
            let url = server.url();
            // The token rides in the fragment, which the browser never sends; the page moves
            // it into the tab's sessionStorage and drops it from the address bar.
            let dashboard = format!("{url}/#token={}", server.token());
            if printer.json {
                printer.json_doc(&json!({
                    "listening": url,
                    "dashboard": dashboard,
                    "token_file": server.token_file(),
                }));
            } else {
                printer.line(format!("listening on {url}"));
                printer.line(format!("dashboard: {dashboard}"));
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
