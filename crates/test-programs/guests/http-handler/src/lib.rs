//! `http-handler`: a plain `wasi:http` proxy component, exporting
//! `wasi:http/incoming-handler` and nothing of Plinth's. Routes by path:
//!
//! - `/echo`: 200, `you sent: BODY` (`METHOD PATH?QUERY` when the body is empty), header
//!   `x-handler: wasi-http` and the request's `x-test` header echoed back as `x-test-echo`;
//! - `/big?N`: 200 with N bytes of `a`, written in 4 KiB chunks (more than a pipe holds);
//! - `/none`: returns without setting a response;
//! - `/error`: sets the error code `internal-error("refused")`;
//! - `/trap`: panics;
//! - `/spin`: loops until the deadline ends it;
//! - anything else: 404.

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Handler;

/// The request's body, read whole.
fn body(request: &IncomingRequest) -> Vec<u8> {
    let Ok(body) = request.consume() else {
        return Vec::new();
    };
    let Ok(stream) = body.stream() else {
        return Vec::new();
    };
    let mut bytes = Vec::new();
    while let Ok(chunk) = stream.blocking_read(64 * 1024) {
        bytes.extend(chunk);
    }
    bytes
}

/// Sets a response with `status`, `headers` and `chunks` written one after another.
fn respond(out: ResponseOutparam, status: u16, headers: &[(&str, &[u8])], chunks: &[&[u8]]) {
    let fields = Fields::new();
    for (name, value) in headers {
        let _ = fields.append(name, value);
    }
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(status);
    let body = response.body().expect("the body, once");
    ResponseOutparam::set(out, Ok(response));
    {
        let stream = body.write().expect("the body's stream, once");
        for chunk in chunks {
            for piece in chunk.chunks(4096) {
                stream
                    .blocking_write_and_flush(piece)
                    .expect("the host reads the body");
            }
        }
    }
    OutgoingBody::finish(body, None).expect("the body ends");
}

impl Guest for Handler {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        match path {
            "/echo" => {
                let method = match request.method() {
                    Method::Get => "GET".to_owned(),
                    Method::Post => "POST".to_owned(),
                    Method::Put => "PUT".to_owned(),
                    Method::Delete => "DELETE".to_owned(),
                    other => format!("{other:?}"),
                };
                let test: Vec<u8> = request
                    .headers()
                    .get("x-test")
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                let received = body(&request);
                let text = if received.is_empty() {
                    format!("{method} {target}").into_bytes()
                } else {
                    received
                };
                let said = [b"you sent: ".as_slice(), &text].concat();
                respond(
                    out,
                    200,
                    &[("x-handler", b"wasi-http"), ("x-test-echo", &test)],
                    &[&said],
                );
            }
            "/big" => {
                let n: usize = query.parse().unwrap_or(0);
                respond(out, 200, &[], &[&vec![b'a'; n]]);
            }
            "/none" => drop(out),
            "/error" => {
                ResponseOutparam::set(out, Err(ErrorCode::InternalError(Some("refused".into()))))
            }
            "/trap" => panic!("the handler trapped"),
            "/spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            _ => respond(out, 404, &[], &[b"no such route"]),
        }
    }
}

wasip2::http::proxy::export!(Handler);
