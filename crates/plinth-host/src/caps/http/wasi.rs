//! `wasi:http/outgoing-handler` behind the same gate as `plinth:host/http`: the grant check,
//! per-domain consent, the plugin's rate and concurrency limits, the SSRF guard at connect
//! time, the body cap and the call's wall clock. Wasmtime's `wasi:http` types do the rest;
//! Plinth owns only [`WasiHttpHooks::send_request`], so no request leaves by another path.
//!
//! wasi:http follows no redirects: a 3xx reaches the guest as it is.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::time::Instant;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::HttpPlugin;
use super::client::Admitted;
use super::error_code::Failure;
use super::wire::{Outgoing, Reply};

/// What `wasi:http` hands back from one `send_request`.
type SendOutcome = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

/// The per-Store `wasi:http` hooks: one plugin's gate to the network.
pub(crate) struct WasiHttpGate {
    plugin: Arc<HttpPlugin>,
    /// The current call's wall clock, copied in when the guest reaches `wasi:http`.
    pub(crate) call_deadline: Option<Instant>,
    /// Refusals to report after the call (missing grants, consent, limits, caps).
    refusals: Arc<Mutex<Vec<Failure>>>,
}

impl WasiHttpGate {
    pub(crate) fn new(plugin: Arc<HttpPlugin>) -> WasiHttpGate {
        WasiHttpGate {
            plugin,
            call_deadline: None,
            refusals: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The refusals since the last call, oldest first.
    pub(crate) fn take_refusals(&mut self) -> Vec<Failure> {
        match self.refusals.lock() {
            Ok(mut refusals) => std::mem::take(&mut *refusals),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

impl WasiHttpHooks for WasiHttpGate {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = SendOutcome> + Send> {
        let url = request.uri().to_string();
        let admitted = super::decide(&self.plugin, &url, None)
            .and_then(|target| self.plugin.http.admit(target));
        let refusals = self.refusals.clone();
        let admitted = match admitted {
            Ok(admitted) => admitted,
            Err(failure) => {
                let error = wasi_error(&failure);
                record(&refusals, failure);
                return Box::new(async move { Err(error) });
            }
        };
        let net = self.plugin.http.net.clone();
        let deadline = net.deadline(own_timeout_ms(options), self.call_deadline);
        let max_body = net.settings.max_body_bytes;
        Box::new(async move {
            let Admitted { target, slot } = admitted;
            let (parts, body) = request.into_parts();
            let work = async {
                let body = collect(body, max_body).await?;
                let outgoing = Outgoing {
                    method: parts.method,
                    url,
                    headers: parts
                        .headers
                        .iter()
                        .map(|(name, value)| {
                            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                            (name.as_str().to_owned(), value)
                        })
                        .collect(),
                    body,
                };
                let request = super::wire::build(&target, &outgoing).map_err(refused)?;
                net.exchange(&target, request, max_body)
                    .await
                    .map_err(refused)
            };
            let outcome = match tokio::time::timeout_at(deadline, work).await {
                Ok(outcome) => outcome,
                Err(_) => Err(refused(net.too_slow())),
            };
            drop(slot);
            match outcome {
                Ok(reply) => Ok((response(reply)?, Box::new(async { Ok(()) }) as Box<_>)),
                Err(Refused { error, failure }) => {
                    record(&refusals, failure);
                    Err(error)
                }
            }
        })
    }
}

/// A refusal: what the guest sees and what the operator is told.
struct Refused {
    error: Error,
    failure: Failure,
}

fn refused(failure: Failure) -> Refused {
    Refused {
        error: wasi_error(&failure),
        failure,
    }
}

fn record(refusals: &Mutex<Vec<Failure>>, failure: Failure) {
    match refusals.lock() {
        Ok(mut list) => list.push(failure),
        Err(poisoned) => poisoned.into_inner().push(failure),
    }
}

/// The shortest timeout the guest set in its `request-options`, in milliseconds.
fn own_timeout_ms(options: Option<RequestOptions>) -> Option<u32> {
    let options = options?;
    [
        options.connect_timeout,
        options.first_byte_timeout,
        options.between_bytes_timeout,
    ]
    .into_iter()
    .flatten()
    .min()
    .map(|d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX))
}

/// The guest's request body, at most `max` bytes.
async fn collect(mut body: WasiBody, max: u64) -> Result<Bytes, Refused> {
    let mut collected = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| refused(super::error_code::internal(format!("request body: {e}"))))?;
        if let Ok(data) = frame.into_data() {
            if (collected.len() + data.len()) as u64 > max {
                return Err(Refused {
                    error: Error::HttpRequestBodySize(Some(max)),
                    failure: Failure::TooLarge(format!(
                        "the request body is over the host's cap of {max} bytes ([network] max_body_bytes)"
                    )),
                });
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(collected))
}

fn response(reply: Reply) -> wasmtime_wasi_http::Result<http::Response<WasiBody>> {
    let body = Full::new(reply.body)
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = http::Response::builder()
        .status(reply.status)
        .body(body)
        .map_err(|e| Error::InternalError(Some(e.to_string())))?;
    *response.headers_mut() = reply.headers;
    Ok(response)
}

/// The `wasi:http` error code a guest sees for a refusal (a request body over the cap is
/// told apart where it is read).
fn wasi_error(failure: &Failure) -> Error {
    match failure {
        Failure::MissingGrant(_)
        | Failure::Denied(_)
        | Failure::ConsentPending(_)
        | Failure::Awaiting { .. } => Error::HttpRequestDenied,
        Failure::RateLimited(_) => Error::ConnectionLimitReached,
        Failure::TooLarge(_) => Error::HttpResponseBodySize(None),
        Failure::Timeout(_) => Error::ConnectionTimeout,
        Failure::Invalid(_) => Error::HttpRequestUriInvalid,
        Failure::Transport(wire) => super::error_code::to_wasi(wire),
    }
}
