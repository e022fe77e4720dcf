//! The server's shared state: the token, the tenants' runtimes, the log channel, metrics.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_package::{Home, TENANTS_DIR};
use tokio::sync::{broadcast, watch};

use crate::auth::Token;
use crate::error::ApiError;
use crate::events::LogEvent;
use crate::metrics::Metrics;
use crate::tenant::{Tenant, Wiring, lock};
use crate::{Exposure, ServeOptions};

/// How often the state files are checked for edits made by someone else (`plinth enable`).
const STATE_POLL: Duration = Duration::from_millis(500);

/// Everything a request handler reaches.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) home: PathBuf,
    pub(crate) local: SocketAddr,
    pub(crate) exposure: Exposure,
    /// Whether connections are TLS.
    pub(crate) secure: bool,
    pub(crate) token: Token,
    pub(crate) logs: broadcast::Sender<LogEvent>,
    pub(crate) metrics: Metrics,
    /// `true` once the server is shutting down: event streams end.
    pub(crate) stopping: watch::Receiver<bool>,
    wiring: Wiring,
    /// Runtimes by tenant name, `""` for the main home; started on first use.
    tenants: Mutex<BTreeMap<String, Arc<Tenant>>>,
}

impl App {
    /// Reads or creates the token and starts the main home's runtime.
    pub(crate) fn start(
        options: ServeOptions,
        local: SocketAddr,
        secure: bool,
        stopping: watch::Receiver<bool>,
    ) -> Result<App, Diagnostic> {
        let token = Token::in_home(&options.home)?;
        let (logs, _) = broadcast::channel(1024);
        let wiring = Wiring {
            main_home: options.home.clone(),
            config: options.config,
            logs: logs.clone(),
            debounce: options.debounce,
            watch: options.watch,
        };
        let main = Tenant::start(&wiring, None)?;
        let tenants = BTreeMap::from([(String::new(), Arc::new(main))]);
        Ok(App {
            home: options.home,
            local,
            exposure: options.exposure,
            secure,
            token,
            logs,
            metrics: Metrics::default(),
            stopping,
            wiring,
            tenants: Mutex::new(tenants),
        })
    }

    /// `https` with TLS, `http` without.
    pub(crate) fn scheme(&self) -> &'static str {
        if self.secure { "https" } else { "http" }
    }

    /// The runtime of `tenant` (the main home for `None`), started if it is not running.
    /// Blocks: call it from a worker thread.
    pub(crate) fn tenant(&self, tenant: Option<&str>) -> Result<Arc<Tenant>, ApiError> {
        let key = tenant.unwrap_or("");
        let mut tenants = lock(&self.tenants);
        if let Some(running) = tenants.get(key) {
            return Ok(running.clone());
        }
        let started = Arc::new(Tenant::start(&self.wiring, tenant)?);
        tenants.insert(key.to_owned(), started.clone());
        Ok(started)
    }

    /// The running runtimes.
    pub(crate) fn running(&self) -> Vec<Arc<Tenant>> {
        lock(&self.tenants).values().cloned().collect()
    }

    /// The tenants of the home: the folders in `<home>/tenants/` and the running ones.
    pub(crate) fn tenant_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.home.join(TENANTS_DIR))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| plinth_package::check_tenant_id(name).is_ok())
            .collect();
        names.extend(
            lock(&self.tenants)
                .keys()
                .filter(|k| !k.is_empty())
                .cloned(),
        );
        names.sort();
        names.dedup();
        names
    }

    /// Creates tenant `name`'s home and starts its runtime.
    pub(crate) fn create_tenant(&self, name: &str) -> Result<Arc<Tenant>, ApiError> {
        Home::new(&self.home)
            .tenant(name)
            .map_err(|e| Diagnostic::new(Code::BadArgument, e.to_diagnostic().message))?;
        self.tenant(Some(name))
    }

    /// Stops every watcher.
    pub(crate) fn close(&self) {
        for tenant in self.running() {
            tenant.close();
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let tenants = std::mem::take(&mut *lock(&self.tenants));
        // A host owns a tokio runtime, which must not be dropped inside another one.
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(tenants)).join();
        }
    }
}

/// Applies each running home's state file again when someone else edited it.
pub(crate) async fn follow_state_files(app: Arc<App>) {
    let mut tick = tokio::time::interval(STATE_POLL);
    loop {
        tick.tick().await;
        for tenant in app.running() {
            let synced = crate::work::blocking(move || tenant.sync_if_changed()).await;
            if let Ok(Err(diagnostic)) = synced {
                tracing::warn!(code = %diagnostic.code, "{}", diagnostic.message);
            }
        }
    }
}
