//! What a plugin sees of a response or a failure: the WIT `http-error`, and the payload of
//! the `http-response` event a `submit` delivers.
//!
//! The event's payload is a JSON object (docs/capabilities.md), with the request's `id`
//! (as text, as the event's subject) and `final`:
//!
//! - success: `{"ok": true, "status": 200, "headers": [["name", "value"], …],
//!   "body": "…", "encoding": "utf-8" | "base64"}` — the body as text when it is valid
//!   UTF-8, else base64 (standard alphabet, padded);
//! - failure: `{"ok": false, "error": "timeout", "message": "…", "err": {"code": "error",
//!   "message": "…"}}` with the `http-error` case name as `error`, and `err` in the shape
//!   Thoth's plugins read (`consent_pending` or `error`);
//! - held for consent: a first event with `"final": false` and `error` `consent-pending`,
//!   then the request's final event once a person decided (docs/design/0042).

use base64::Engine as _;
use serde_json::json;

use super::error_code::Failure;
use super::wire::Reply;
use crate::bindings::http;
use crate::inbox::PluginEvent;

/// The event kind of a submitted request's outcome.
pub(crate) const RESPONSE_EVENT: &str = "http-response";

/// Header names (lower case) and values in order; values that are not text are decoded
/// lossily.
pub(crate) fn header_pairs(headers: &::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The WIT case of a failure (a missing grant is the caller's: it carries the hint).
pub(crate) fn wit_error(failure: Failure) -> http::HttpError {
    match failure {
        Failure::MissingGrant(grant) => {
            http::HttpError::MissingGrant(format!("no grant covers this host: needs `{grant}`"))
        }
        Failure::Denied(m) => http::HttpError::Denied(m),
        Failure::ConsentPending(m) | Failure::Awaiting { message: m, .. } => {
            http::HttpError::ConsentPending(m)
        }
        Failure::RateLimited(m) => http::HttpError::RateLimited(m),
        Failure::TooLarge(m) => http::HttpError::TooLarge(m),
        Failure::Timeout(m) => http::HttpError::Timeout(m),
        Failure::Invalid(m) => http::HttpError::InvalidRequest(m),
        Failure::Transport(wire) => http::HttpError::Transport(wire.message),
    }
}

/// The `http-error` case name, as the PDKs' `code()` spells it.
fn code(error: &http::HttpError) -> (&'static str, &str) {
    match error {
        http::HttpError::MissingGrant(m) => ("missing-grant", m),
        http::HttpError::Denied(m) => ("denied", m),
        http::HttpError::ConsentPending(m) => ("consent-pending", m),
        http::HttpError::RateLimited(m) => ("rate-limited", m),
        http::HttpError::TooLarge(m) => ("too-large", m),
        http::HttpError::Timeout(m) => ("timeout", m),
        http::HttpError::InvalidRequest(m) => ("invalid-request", m),
        http::HttpError::Transport(m) => ("transport", m),
    }
}

/// The failure payload: the `http-error` case and, for Thoth's plugins, `err`.
fn failure_payload(id: u64, error: &http::HttpError, last: bool) -> serde_json::Value {
    let (code, message) = code(error);
    let thoth = if code == "consent-pending" {
        "consent_pending"
    } else {
        "error"
    };
    json!({
        "id": id.to_string(),
        "final": last,
        "ok": false,
        "error": code,
        "message": message,
        "err": {"code": thoth, "message": message},
    })
}

/// The provisional `http-response` event of a request held for consent: `"final": false`.
pub(crate) fn held_event(id: u64, message: String) -> PluginEvent {
    let payload = failure_payload(id, &http::HttpError::ConsentPending(message), false);
    PluginEvent {
        kind: RESPONSE_EVENT.into(),
        subject: id.to_string(),
        payload: payload.to_string(),
    }
}

/// The (final) `http-response` event for request `id`.
pub(crate) fn response_event(id: u64, outcome: Result<Reply, Failure>) -> PluginEvent {
    let payload = match outcome {
        Ok(reply) => {
            let (body, encoding) = match std::str::from_utf8(&reply.body) {
                Ok(text) => (text.to_owned(), "utf-8"),
                Err(_) => (
                    base64::engine::general_purpose::STANDARD.encode(&reply.body),
                    "base64",
                ),
            };
            json!({
                "id": id.to_string(),
                "final": true,
                "ok": true,
                "status": reply.status,
                "headers": header_pairs(&reply.headers),
                "body": body,
                "encoding": encoding,
            })
        }
        Err(failure) => failure_payload(id, &wit_error(failure), true),
    };
    PluginEvent {
        kind: RESPONSE_EVENT.into(),
        subject: id.to_string(),
        payload: payload.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(body: &'static [u8]) -> Reply {
        let mut headers = ::http::HeaderMap::new();
        headers.insert("content-type", "text/plain".parse().unwrap());
        Reply {
            status: 201,
            headers,
            body: bytes::Bytes::from_static(body),
        }
    }

    #[test]
    fn payload_has_text_or_base64() {
        let event = response_event(7, Ok(reply(b"hello")));
        assert_eq!(
            (event.kind.as_str(), event.subject.as_str()),
            ("http-response", "7")
        );
        let v: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(v["status"], 201);
        assert_eq!(v["body"], "hello");
        assert_eq!(v["encoding"], "utf-8");
        assert_eq!(v["headers"][0], json!(["content-type", "text/plain"]));
        let event = response_event(8, Ok(reply(&[0xff, 0x00])));
        let v: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(
            (v["body"].as_str(), v["encoding"].as_str()),
            (Some("/wA="), Some("base64"))
        );
    }

    #[test]
    fn payload_of_a_failure_names_the_case() {
        let event = response_event(1, Err(Failure::Timeout("slow".into())));
        let v: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(
            v,
            json!({"id": "1", "final": true, "ok": false, "error": "timeout", "message": "slow",
                   "err": {"code": "error", "message": "slow"}})
        );
    }

    #[test]
    fn a_held_request_says_consent_pending_in_thoths_shape() {
        let event = held_event(4, "api.example.com awaits".into());
        let v: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(v["final"], false);
        assert_eq!(v["error"], "consent-pending");
        assert_eq!(
            v["err"],
            json!({"code": "consent_pending", "message": "api.example.com awaits"})
        );
        assert_eq!(event.subject, "4");
    }
}
