//! Services (docs/design/0050): a serving plugin of the `service` kind runs as a
//! [`Service`] for as long as its version serves. Enabling or loading it starts the service,
//! a hot reload starts the new version's service and stops the old one's (what the old one
//! had queued is dead-lettered as `stopped`), and disabling it stops it. The embedder
//! pushes events through [`Manager::service`] and follows every service through
//! [`Manager::subscribe_services`].

use std::sync::Arc;

use plinth_host::Plugin;
use plinth_manifest::diagnostic::{Diagnostic, ToDiagnostic};
use plinth_service::{Service, ServiceConfig, ServiceEvent};
use tokio::sync::broadcast;

use super::{Manager, lock};

/// One event of one managed service, as [`Manager::subscribe_services`] reports it.
#[derive(Debug, Clone)]
pub struct ServiceNotice {
    /// The plugin id.
    pub id: String,
    /// The version whose service it is.
    pub version: String,
    /// What happened.
    pub event: ServiceEvent,
}

impl Manager {
    /// Starts `plugin` (version `version`) as a service with the manager's commands, its
    /// events forwarded to [`Manager::subscribe_services`].
    pub(super) fn start_service(
        &self,
        plugin: &Plugin,
        version: &str,
    ) -> Result<Arc<Service>, Diagnostic> {
        let config = ServiceConfig::for_plugin(plugin).map_err(|e| e.to_diagnostic())?;
        let (service, mut events) =
            Service::spawn_with_events(plugin.clone(), config, self.shared.commands.clone())
                .map_err(|e| e.to_diagnostic())?;
        let notices = self.shared.service_events.clone();
        let (id, version) = (plugin.id().to_owned(), version.to_owned());
        // The service's sender goes when the service and its workers do; so does this task.
        let runtime = tokio::runtime::Handle::try_current().unwrap_or_else(|_| plugin.runtime());
        runtime.spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => {
                        let _ = notices.send(ServiceNotice {
                            id: id.clone(),
                            version: version.clone(),
                            event,
                        });
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Ok(Arc::new(service))
    }

    /// The running service of enabled plugin `id` (the serving version's), to push events
    /// to and read the status and counters of. `None` when the plugin is not enabled,
    /// not serving, or not a service. A handle kept past a reload or a disable refuses
    /// new events (`service-stopped`).
    pub fn service(&self, id: &str) -> Option<Arc<Service>> {
        let slot = self.slot(id).filter(|s| lock(&s.entry).enabled)?;
        slot.current().and_then(|active| active.service.clone())
    }

    /// Every managed service's events from now on: status changes, shed events, dead
    /// letters and refused commands, each with its plugin and version.
    pub fn subscribe_services(&self) -> broadcast::Receiver<ServiceNotice> {
        self.shared.service_events.subscribe()
    }
}
