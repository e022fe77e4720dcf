//! Errors a producer or the embedder sees.

use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};

/// Why a service refused something. Each variant maps to one diagnostic code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// The ingress queue is full and the policy is `reject` (`queue-full`).
    #[error("{plugin}: the ingress queue is full ({capacity} events); event refused")]
    QueueFull {
        /// The service's plugin.
        plugin: String,
        /// The queue's capacity.
        capacity: usize,
    },
    /// The service is stopped or stopping (`service-stopped`).
    #[error("{plugin}: the service is stopped")]
    Stopped {
        /// The service's plugin.
        plugin: String,
    },
    /// The plugin does not provide the `service` kind (`kind-mismatch`).
    #[error("{plugin}: does not provide the `service` kind")]
    NotAService {
        /// The plugin.
        plugin: String,
    },
}

impl ServiceError {
    /// The diagnostic code.
    pub fn code(&self) -> Code {
        match self {
            ServiceError::QueueFull { .. } => Code::QueueFull,
            ServiceError::Stopped { .. } => Code::ServiceStopped,
            ServiceError::NotAService { .. } => Code::KindMismatch,
        }
    }
}

impl ToDiagnostic for ServiceError {
    fn to_diagnostic(&self) -> Diagnostic {
        let diagnostic = Diagnostic::new(self.code(), self.to_string());
        match self {
            ServiceError::QueueFull { plugin, .. }
            | ServiceError::Stopped { plugin }
            | ServiceError::NotAService { plugin } => diagnostic.with_plugin(plugin),
        }
    }
}
