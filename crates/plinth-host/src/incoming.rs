//! Requests for components that export `wasi:http/incoming-handler` (docs/design/0051):
//! the request becomes the `incoming-request` resource a `wasi:http` proxy component
//! expects, and the response it sets is read back, body included, while the guest writes it.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The interface a `wasi:http` proxy component exports, without its version.
pub const INCOMING_HANDLER: &str = "wasi:http/incoming-handler";

/// The response a component's `wasi:http/incoming-handler` set, with its whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingResponse {
    /// The status code.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// What became of the response outparam.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A response, read whole.
    Response(IncomingResponse),
    /// The guest set an error code, or its body stream failed.
    Failed(String),
    /// The guest returned without setting a response.
    NoResponse,
    /// The body went past the cap.
    TooLarge,
}

/// `request` as the body type `new_incoming_request` takes.
pub(crate) fn request_body(
    request: http::Request<Bytes>,
) -> http::Request<http_body_util::combinators::BoxBody<Bytes, wasmtime_wasi_http::Error>> {
    request.map(|body| {
        Full::new(body)
            .map_err(|never: Infallible| match never {})
            .boxed()
    })
}

/// Waits for the response the guest sets and reads its body, at most `max_body` bytes.
pub(crate) async fn read_answer(
    receiver: tokio::sync::oneshot::Receiver<Result<hyper::Response<HyperOutgoingBody>, ErrorCode>>,
    max_body: usize,
) -> Answer {
    let response = match receiver.await {
        Ok(Ok(response)) => response,
        Ok(Err(code)) => return Answer::Failed(format!("the handler answered {code:?}")),
        Err(_) => return Answer::NoResponse,
    };
    let (parts, mut body) = response.into_parts();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => return Answer::Failed(format!("the response body failed: {e}")),
        };
        if let Some(data) = frame.data_ref() {
            if bytes.len() + data.len() > max_body {
                return Answer::TooLarge;
            }
            bytes.extend_from_slice(data);
        }
    }
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    Answer::Response(IncomingResponse {
        status: parts.status.as_u16(),
        headers,
        body: bytes,
    })
}
