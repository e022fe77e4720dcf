//! What a transport failure is, in `wasi:http` terms: each failure carries the
//! `error-code` Wasmtime's own sender gives for it (`DNS-error`, `connection-refused`,
//! the TLS cases, `HTTP-protocol-error`, …), so a guest behind Plinth's gate sees what it
//! would see under plain Wasmtime (docs/design/0030). `plinth:host/http` keeps reporting
//! these as its `transport` case, with the same message.

use std::io;

use wasmtime_wasi_http::p2::bindings::http::types::{
    DnsErrorPayload, ErrorCode, TlsAlertReceivedPayload,
};

use super::policy::Refusal;

/// A transport failure: the operator's message and the guest's `error-code`.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
}

impl PartialEq for Wire {
    fn eq(&self, other: &Wire) -> bool {
        self.message == other.message
            && std::mem::discriminant(&self.code) == std::mem::discriminant(&other.code)
    }
}

impl Eq for Wire {}

impl std::fmt::Display for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn failure(code: ErrorCode, message: String) -> Failure {
    Failure::Transport(Wire { code, message })
}

/// The name resolved to nothing, or the resolver failed: `DNS-error`, with the payload
/// Wasmtime gives a failed lookup.
pub(crate) fn dns(message: String) -> Failure {
    failure(
        ErrorCode::DnsError(DnsErrorPayload {
            rcode: Some("address not available".to_string()),
            info_code: None,
        }),
        message,
    )
}

/// No address accepted the connection: `connection-refused` (Wasmtime's code for a
/// connect error), `connection-timeout` for a timed-out connect.
pub(crate) fn connect(error: &io::Error, message: String) -> Failure {
    let code = match error.kind() {
        io::ErrorKind::TimedOut => ErrorCode::ConnectionTimeout,
        io::ErrorKind::AddrNotAvailable => {
            return dns(message);
        }
        _ => ErrorCode::ConnectionRefused,
    };
    failure(code, message)
}

/// The TLS handshake failed: `TLS-certificate-error` for a certificate the roots do not
/// vouch for or that names another host, `TLS-alert-received` when the server sent an
/// alert, `TLS-protocol-error` otherwise.
pub(crate) fn tls(error: &io::Error, message: String) -> Failure {
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let code = match rustls_error {
        Some(rustls::Error::InvalidCertificate(_)) => ErrorCode::TlsCertificateError,
        Some(rustls::Error::AlertReceived(alert)) => {
            ErrorCode::TlsAlertReceived(TlsAlertReceivedPayload {
                alert_id: Some(u8::from(*alert)),
                alert_message: Some(format!("{alert:?}")),
            })
        }
        _ => ErrorCode::TlsProtocolError,
    };
    failure(code, message)
}

/// Sending the request or reading the response head failed: Wasmtime's own mapping
/// (`HTTP-protocol-error` for a peer that does not speak HTTP/1.1).
pub(crate) fn request(error: hyper::Error) -> Failure {
    let message = format!("HTTP: {error}");
    failure(wasmtime_wasi_http::p2::hyper_request_error(error), message)
}

/// Reading the response body failed: Wasmtime's own mapping.
pub(crate) fn response(error: hyper::Error) -> Failure {
    let message = format!("HTTP: {error}");
    failure(wasmtime_wasi_http::p2::hyper_response_error(error), message)
}

/// A failure with no more specific case: `internal-error` with the message.
pub(crate) fn internal(message: String) -> Failure {
    failure(ErrorCode::InternalError(Some(message.clone())), message)
}

/// The `wasi:http` error of a transport failure.
pub(crate) fn to_wasi(wire: &Wire) -> wasmtime_wasi_http::Error {
    wasmtime_wasi_http::Error::from(wire.code.clone())
}

/// Why a request got no response; one case per `http-error` case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No grant covers the host (the caller turns it into the hint).
    MissingGrant(plinth_manifest::Grant),
    Denied(String),
    /// Consent could not be asked (too many pending hosts): refused at once.
    ConsentPending(String),
    /// The host awaits a person's decision, recorded as pending: `submit` holds the
    /// request until the decision (docs/design/0042), the others refuse it at once.
    Awaiting {
        /// The host as the `http:` grant names it.
        host: String,
        /// What the plugin is told meanwhile.
        message: String,
    },
    RateLimited(String),
    TooLarge(String),
    Timeout(String),
    Invalid(String),
    /// The exchange itself failed; carries the `wasi:http` error code.
    Transport(Wire),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::MissingGrant(grant) => {
                write!(f, "no grant covers this host: needs `{grant}`")
            }
            Failure::Denied(m)
            | Failure::ConsentPending(m)
            | Failure::RateLimited(m)
            | Failure::TooLarge(m)
            | Failure::Timeout(m)
            | Failure::Invalid(m)
            | Failure::Awaiting { message: m, .. } => f.write_str(m),
            Failure::Transport(wire) => wire.fmt(f),
        }
    }
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Failure {
        match refusal {
            Refusal::NotGranted(grant) => Failure::MissingGrant(grant),
            Refusal::Invalid(_) => Failure::Invalid(refusal.to_string()),
            other => Failure::Denied(other.to_string()),
        }
    }
}
