//! The dashboard: one page and its script and style, compiled into the binary (no CDN, works
//! offline). Every action on the page is a call of this API; the page holds no logic the
//! API lacks.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// What the page may load: only this origin (no inline script, no other site).
const POLICY: &str = "default-src 'self'; style-src 'self'; script-src 'self'; \
                      connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; \
                      base-uri 'none'; form-action 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`: the page.
pub(crate) async fn page() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("../../assets/index.html"),
    )
}

/// `GET /dashboard.js`.
pub(crate) async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/dashboard.js"),
    )
}

/// `GET /dashboard.css`.
pub(crate) async fn style() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/dashboard.css"),
    )
}
