//! API errors: the coded diagnostics of `plinth --json`, with an HTTP status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use plinth_manifest::diagnostic::{Code, Diagnostic, ExitClass, ToDiagnostic};
use serde_json::json;

/// A failed request: `{"diagnostics": [{"code", "severity", "message", "plugin", "hint"}]}`
/// with the status its first diagnostic's code implies ([`status_of`]).
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl ApiError {
    /// The diagnostic of the first error (for the server's own setup errors).
    pub(crate) fn into_diagnostic(self) -> Diagnostic {
        self.diagnostics
            .into_iter()
            .next()
            .unwrap_or_else(|| Diagnostic::new(Code::HostSetup, "unknown error"))
    }
}

impl From<Diagnostic> for ApiError {
    fn from(diagnostic: Diagnostic) -> ApiError {
        ApiError {
            status: status_of(diagnostic.code),
            diagnostics: vec![diagnostic],
        }
    }
}

/// Every library error the handlers see converts through its diagnostic.
macro_rules! api_error_from {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for ApiError {
            fn from(error: $error) -> ApiError {
                error.to_diagnostic().into()
            }
        }
    )*};
}

api_error_from!(
    plinth_host::HostError,
    plinth_host::CallError,
    plinth_host::kinds::KindError,
    plinth_manager::ManagerError,
    plinth_manager::state::StateError,
    plinth_manifest::ManifestError,
    plinth_package::PackageError,
    plinth_registry::RegistryError,
    plinth_registry::InstallError,
    plinth_manifest::grant::GrantError,
);

/// The HTTP status of a failure with `code`: usage errors 400, an unknown plugin 404, a
/// plugin that is disabled or waiting for a decision (or a stopped service) 409, a body over
/// the cap 413, a service's full queue 503 (with `Retry-After`), settings
/// against the schema and refused packages 422, a plugin that trapped or hit a limit 502,
/// the host's own storage and setup 500.
pub(crate) fn status_of(code: Code) -> StatusCode {
    match code {
        Code::Unauthorized => StatusCode::UNAUTHORIZED,
        Code::Forbidden => StatusCode::FORBIDDEN,
        Code::MissingPackage => StatusCode::NOT_FOUND,
        Code::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Code::Disabled
        | Code::ConsentPending
        | Code::StateTooNew
        | Code::IdentityChanged
        | Code::ServiceStopped => StatusCode::CONFLICT,
        Code::QueueFull => StatusCode::SERVICE_UNAVAILABLE,
        Code::HostSetup | Code::StorageError | Code::IoError => StatusCode::INTERNAL_SERVER_ERROR,
        Code::RegistryError => StatusCode::BAD_GATEWAY,
        other => match other.exit_class() {
            ExitClass::Usage => StatusCode::BAD_REQUEST,
            ExitClass::GuestFailed => StatusCode::BAD_GATEWAY,
            ExitClass::Failed => StatusCode::UNPROCESSABLE_ENTITY,
        },
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let busy = self.status == StatusCode::SERVICE_UNAVAILABLE;
        let mut response = (
            self.status,
            Json(json!({ "diagnostics": self.diagnostics })),
        )
            .into_response();
        if unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if busy {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
