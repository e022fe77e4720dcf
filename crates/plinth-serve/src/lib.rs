//! `plinth serve`: a long-running plugin host with a JSON HTTP API (docs/serve.md).
//!
//! A [`Server`] runs the plugin manager of a home (and of each of its tenants) with hot
//! reload, and answers the API under `/api/` and Prometheus metrics at `/metrics`. What it
//! does to plugins, it does through the same library calls as the `plinth` command, and its
//! errors are the same coded diagnostics as `plinth --json` prints.
//!
//! Safe by default: it binds to loopback only unless told otherwise, every request that
//! changes something needs the home's token (`<home>/serve.token`, mode 0600) as
//! `Authorization: Bearer …` and a JSON body, and requests from another origin or for
//! another host name are refused (docs/design/0056).
//!
//! ```no_run
//! use plinth_serve::{ServeOptions, Server};
//!
//! # async fn run() -> Result<(), plinth_serve::ServeError> {
//! let options = ServeOptions::new("/var/lib/plinth", "127.0.0.1:7878".parse().unwrap());
//! let server = Server::bind(options).await?;
//! println!("http://{} (token in {})", server.local_addr(), server.token_file().display());
//! server.run(plinth_serve::shutdown_signal()).await?;
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]
#![deny(clippy::unwrap_used)]

mod app;
mod auth;
mod body;
mod error;
mod events;
mod metrics;
mod routes;
mod tenant;
mod tls;
mod work;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use plinth_host::HostConfig;
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use auth::TOKEN_FILE;
pub use routes::{RouteSpec, routes};
pub use tls::{TlsError, TlsFiles};

/// The OpenAPI 3 document of the API, as served at `/api/openapi.json` (kept in
/// `docs/openapi.json`).
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");

/// The largest request body the API reads, in bytes; a larger one is `too-large` (413).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Who may connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Exposure {
    /// Only a loopback address may be bound, and requests must name it (`Host`).
    #[default]
    Loopback,
    /// Any address, over plain HTTP: the operator accepted that the token and the plugins'
    /// data cross the network unencrypted (`--allow-remote --no-tls`).
    RemotePlainHttp,
    /// Any address, over HTTPS only: [`ServeOptions::tls`] must name a certificate and key
    /// (`--allow-remote --tls-cert … --tls-key …`).
    Remote,
}

/// How to run a [`Server`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The home directory (its tenants live in `<home>/tenants/`).
    pub home: PathBuf,
    /// The host configuration (`<home>/config.toml`).
    pub config: HostConfig,
    /// Where to listen; port 0 picks a free port ([`Server::local_addr`] tells which).
    pub addr: SocketAddr,
    /// Whether a non-loopback address is allowed.
    pub exposure: Exposure,
    /// How long the hot-reload watcher waits for file changes to settle.
    pub debounce: Duration,
    /// Whether plugin files are watched and a changed plugin reloaded (hot reload), and a
    /// plugin in `Error` retried with backoff (the default). Without it nothing reloads on
    /// its own: a change on disk takes effect on `POST /api/plugins/{id}/reload` (the
    /// dashboard's Retry), an update, or a restart.
    pub watch: bool,
    /// Serve HTTPS with this certificate and key (any exposure); plain HTTP when `None`.
    pub tls: Option<TlsFiles>,
}

impl ServeOptions {
    /// Options for `home` on `addr`: the home's `config.toml` is not read (set
    /// [`ServeOptions::config`]), loopback only, files watched with a 100 ms debounce.
    pub fn new(home: impl Into<PathBuf>, addr: SocketAddr) -> ServeOptions {
        ServeOptions {
            home: home.into(),
            config: HostConfig::default(),
            addr,
            exposure: Exposure::Loopback,
            debounce: Duration::from_millis(100),
            watch: true,
            tls: None,
        }
    }
}

/// The server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A non-loopback address without [`Exposure::RemotePlainHttp`].
    #[error("{addr} is not a loopback address: the API would be reachable from the network")]
    NotLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// [`Exposure::Remote`] without a certificate and key.
    #[error(
        "{addr}: serving the network needs TLS (a certificate and key), or an explicit opt-out"
    )]
    TlsRequired {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The certificate or key cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The address could not be bound, or serving failed.
    #[error("{addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The home (token, state, plugin directories, host) could not be set up.
    #[error("{}", .0.message)]
    Setup(Box<Diagnostic>),
}

impl ToDiagnostic for ServeError {
    fn to_diagnostic(&self) -> Diagnostic {
        match self {
            ServeError::NotLoopback { .. } => Diagnostic::new(Code::BadArgument, self.to_string())
                .with_hint(
                    "bind to 127.0.0.1 or ::1, or pass `--allow-remote --no-tls` to serve the \
                     network over plain HTTP",
                ),
            ServeError::TlsRequired { .. } => Diagnostic::new(Code::BadArgument, self.to_string())
                .with_hint(
                    "pass `--tls-cert CERT.pem --tls-key KEY.pem`, or `--no-tls` to serve plain \
                     HTTP behind a TLS proxy",
                ),
            ServeError::Tls(_) => Diagnostic::new(Code::BadArgument, self.to_string())
                .with_hint("give a PEM certificate chain (leaf first) and its PEM private key"),
            ServeError::Io { .. } => Diagnostic::new(Code::IoError, self.to_string())
                .with_hint("pick a free address with `--addr`"),
            ServeError::Setup(diagnostic) => (**diagnostic).clone(),
        }
    }
}

/// A bound server, not yet answering.
pub struct Server {
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Arc<app::App>,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("url", &self.url())
            .field("home", &self.app.home)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Creates the token if the home has none, starts the home's manager (its state file
    /// applied, so the plugins enabled before a restart run again) with hot reload, and
    /// binds `options.addr`.
    pub async fn bind(options: ServeOptions) -> Result<Server, ServeError> {
        let addr = options.addr;
        if options.exposure == Exposure::Loopback && !addr.ip().is_loopback() {
            return Err(ServeError::NotLoopback { addr });
        }
        if options.exposure == Exposure::Remote && options.tls.is_none() {
            return Err(ServeError::TlsRequired { addr });
        }
        let tls = options.tls.as_ref().map(tls::acceptor).transpose()?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Io { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ServeError::Io { addr, source })?;
        let (shutdown, stopping) = watch::channel(false);
        let secure = tls.is_some();
        let app = work::blocking(move || app::App::start(options, local, secure, stopping))
            .await
            .map_err(|e| ServeError::Setup(Box::new(e.into_diagnostic())))?
            .map_err(|d| ServeError::Setup(Box::new(d)))?;
        Ok(Server {
            listener,
            tls,
            app: Arc::new(app),
            shutdown,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.app.local
    }

    /// The server's base URL: `http://ADDR` or, with TLS, `https://ADDR`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.app.scheme(), self.app.local)
    }

    /// The token state-changing requests need (`Authorization: Bearer TOKEN`).
    pub fn token(&self) -> &str {
        self.app.token.value()
    }

    /// Where the token is kept (mode 0600).
    pub fn token_file(&self) -> &Path {
        self.app.token.path()
    }

    /// Answers requests until `shutdown` completes, then stops taking new ones, ends the
    /// event streams and waits for the requests in flight (plugin calls included).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let addr = self.app.local;
        let poller = tokio::spawn(app::follow_state_files(self.app.clone()));
        let router = routes::router(self.app.clone());
        let stop = self.shutdown;
        let shutdown = async move {
            shutdown.await;
            // Event streams end now, or the graceful shutdown would wait for them forever.
            let _ = stop.send(true);
        };
        let served = match self.tls {
            None => {
                axum::serve(self.listener, router)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            Some(acceptor) => match tls::TlsListener::new(self.listener, acceptor) {
                Ok(listener) => {
                    axum::serve(listener, router)
                        .with_graceful_shutdown(shutdown)
                        .await
                }
                Err(e) => Err(e),
            },
        };
        poller.abort();
        let _ = poller.await;
        release(self.app).await;
        served.map_err(|source| ServeError::Io { addr, source })
    }
}

/// Stops the watchers and drops the app (its hosts, and so the key-value store's file lock)
/// before `run` returns, so the home can be served again at once. Connection tasks let go
/// of their handles to the app just after the server future ends: they get a moment.
async fn release(app: Arc<app::App>) {
    app.close();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while Arc::strong_count(&app) > 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    drop(app);
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
