//! A plugin that sends HTTP requests through the PDK, for the host's end-to-end and hostile
//! network tests. `run` takes a verb and its arguments and returns the result as text, or
//! `Err("CODE: message")` with the http error's code.
//!
//! | args | does |
//! | --- | --- |
//! | `["fetch", METHOD, URL]` | `"STATUS BODY"` |
//! | `["fetch-body", METHOD, URL, BODY]` | sends BODY with header `x-plinth: test`; `"STATUS BODY"` |
//! | `["fetch-timeout", URL, MS]` | a GET with `timeout-ms` = MS |
//! | `["fetch-n", URL, N]` | N GETs in a row; `"ok"` or `"I: CODE: message"` at the first failure |
//! | `["submit", URL]` | a background GET; the request id |
//! | `["submit-n", URL, N]` | N background GETs; ids joined with `,`, or the first failure |
//! | `["wasi-fetch", METHOD, URL]` | the same request through `wasi:http/outgoing-handler`; `"STATUS BODY"`, or `Err("wasi:http ERROR-CODE")` |
//! | `["wasi-fetch-body", METHOD, URL, BODY]` | with a body and header `x-plinth: wasi` |
//!
//! `handle_event` logs each event as `event KIND SUBJECT PAYLOAD`.

use plinth_pdk::http::{Method, Request};
use plinth_pdk::prelude::*;

struct Http;

impl Plugin for Http {
    fn handle_event(event: Event) -> Result<(), String> {
        log::info(&format!(
            "event {} {} {}",
            event.kind, event.subject, event.payload
        ));
        Ok(())
    }
}

fn method(name: &str) -> Result<Method, String> {
    Ok(match name {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        "OPTIONS" => Method::Options,
        other => return Err(format!("unknown method {other}")),
    })
}

fn num<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("`{s}` is not a number"))
}

fn answer(request: Request) -> Result<String, String> {
    let response = request.fetch().map_err(|e| e.to_string())?;
    Ok(format!("{} {}", response.status, response.text()))
}

impl Command for Http {
    fn run(args: Vec<String>) -> Result<String, String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["fetch", m, url] => answer(Request::new(method(m)?, *url)),
            ["fetch-body", m, url, body] => answer(
                Request::new(method(m)?, *url)
                    .header("x-plinth", "test")
                    .body(body.as_bytes()),
            ),
            ["fetch-timeout", url, ms] => answer(Request::get(*url).timeout_ms(num(ms)?)),
            ["fetch-n", url, n] => {
                for i in 0..num::<u32>(n)? {
                    Request::get(*url)
                        .fetch()
                        .map_err(|e| format!("{i}: {e}"))?;
                }
                Ok("ok".into())
            }
            ["submit", url] => Request::get(*url)
                .submit()
                .map(|id| id.to_string())
                .map_err(|e| e.to_string()),
            ["submit-n", url, n] => {
                let mut ids = Vec::new();
                for i in 0..num::<u32>(n)? {
                    let id = Request::get(*url)
                        .submit()
                        .map_err(|e| format!("{i}: {e}"))?;
                    ids.push(id.to_string());
                }
                Ok(ids.join(","))
            }
            ["hoard-fields", n, size] => wasi_http::hoard_fields(num(n)?, num(size)?),
            ["wasi-fetch", m, url] => wasi_http::fetch(m, url, None),
            ["wasi-fetch-body", m, url, body] => wasi_http::fetch(m, url, Some(body.as_bytes())),
            _ => Err(format!("unknown verb or wrong arguments: {args:?}")),
        }
    }
}

/// The same requests through the standard `wasi:http/outgoing-handler`, as a component
/// not written for Plinth would send them.
mod wasi_http {
    use wasip2::http::outgoing_handler;
    use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
    use wasip2::io::streams::StreamError;

    /// Makes `n` header sets with one `size`-byte value each and keeps them all alive:
    /// host memory a plugin with no grant at all can ask for (`wasi:http/types` needs none).
    pub fn hoard_fields(n: u32, size: usize) -> Result<String, String> {
        let value = vec![b'a'; size];
        let mut kept = Vec::new();
        for i in 0..n {
            let fields = Fields::new();
            fields
                .append("x-hoard", &value)
                .map_err(|e| format!("{i}: header: {e:?}"))?;
            kept.push(fields);
        }
        Ok(kept.len().to_string())
    }

    pub fn fetch(method: &str, url: &str, body: Option<&[u8]>) -> Result<String, String> {
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            return Err(format!("not an http(s) URL: {url}"));
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        let headers = Fields::new();
        if body.is_some() {
            headers
                .append("x-plinth", b"wasi")
                .map_err(|e| format!("header: {e:?}"))?;
        }
        let request = OutgoingRequest::new(headers);
        let method = match method {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            other => Method::Other(other.to_string()),
        };
        request.set_method(&method).map_err(|()| "method")?;
        request.set_scheme(Some(&scheme)).map_err(|()| "scheme")?;
        request
            .set_authority(Some(authority))
            .map_err(|()| "authority")?;
        request
            .set_path_with_query(Some(path))
            .map_err(|()| "path")?;
        let outgoing = request.body().map_err(|()| "body taken")?;
        let future = outgoing_handler::handle(request, None)
            .map_err(|code| format!("wasi:http {code:?}"))?;
        if let Some(bytes) = body {
            let stream = outgoing.write().map_err(|()| "body stream")?;
            for chunk in bytes.chunks(4096) {
                // A host that refused the request closes the stream; its reason comes
                // with the response below.
                if stream.blocking_write_and_flush(chunk).is_err() {
                    break;
                }
            }
        }
        // As for the writes: a refused request's finish fails, the response says why.
        let _ = OutgoingBody::finish(outgoing, None);
        future.subscribe().block();
        let response = future
            .get()
            .ok_or("no response after the pollable was ready")?
            .map_err(|()| "response taken twice")?
            .map_err(|code| format!("wasi:http {code:?}"))?;
        let status = response.status();
        let incoming = response.consume().map_err(|()| "response body taken")?;
        let stream = incoming.stream().map_err(|()| "response stream taken")?;
        let mut read = Vec::new();
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => read.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(format!("reading the body: {}", e.to_debug_string()));
                }
            }
        }
        Ok(format!("{status} {}", String::from_utf8_lossy(&read)))
    }
}

plinth_pdk::export_command!(Http);
