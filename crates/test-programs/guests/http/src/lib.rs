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
            _ => Err(format!("unknown verb or wrong arguments: {args:?}")),
        }
    }
}

plinth_pdk::export_command!(Http);
