//! Outgoing HTTP under the host's network policy (`plinth:host/http`).
//!
//! Needs an `http:<host-pattern>` grant for each host (`http:api.example.com`,
//! `http:*.example.org`, `http:svc.example.net:8443`). The host follows redirects itself,
//! re-checking each hop, and caps the rate, the concurrency, the body size and the time.
//!
//! ```no_run
//! use plinth_pdk::http;
//! let response = http::Request::get("https://api.example.com/v1/items")
//!     .header("accept", "application/json")
//!     .timeout_ms(5_000)
//!     .fetch()?;
//! assert!(response.is_success());
//! let text = response.text();
//! // In the background: the response arrives as an `http-response` event.
//! let id = http::Request::post("https://api.example.com/v1/log").body("{}").submit()?;
//! # let _ = (text, id);
//! # Ok::<(), http::HttpError>(())
//! ```

use crate::bindings::plinth::host::http as host;

pub use host::Method;

/// Why a request was not answered; each case carries the host's explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    /// No `http:` grant covers the host; the text is the hint (`plinth grant ID http:HOST`).
    MissingGrant(String),
    /// The network policy refused it (scheme, SSRF guard, redirect).
    Denied(String),
    /// The domain awaits a person's approval; retry after it is given.
    ConsentPending(String),
    /// Over the plugin's request rate or concurrent-request cap.
    RateLimited(String),
    /// The response body exceeded the host's cap.
    TooLarge(String),
    /// No complete response within the time allowed.
    Timeout(String),
    /// The URL, a header or the method is malformed.
    InvalidRequest(String),
    /// Connection, TLS or protocol failure.
    Transport(String),
}

impl HttpError {
    /// The diagnostic code of this case (`missing-grant`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingGrant(_) => "missing-grant",
            Self::Denied(_) => "denied",
            Self::ConsentPending(_) => "consent-pending",
            Self::RateLimited(_) => "rate-limited",
            Self::TooLarge(_) => "too-large",
            Self::Timeout(_) => "timeout",
            Self::InvalidRequest(_) => "invalid-request",
            Self::Transport(_) => "transport",
        }
    }

    /// The host's explanation.
    pub fn message(&self) -> &str {
        match self {
            Self::MissingGrant(m)
            | Self::Denied(m)
            | Self::ConsentPending(m)
            | Self::RateLimited(m)
            | Self::TooLarge(m)
            | Self::Timeout(m)
            | Self::InvalidRequest(m)
            | Self::Transport(m) => m,
        }
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for HttpError {}

impl From<host::HttpError> for HttpError {
    fn from(e: host::HttpError) -> Self {
        match e {
            host::HttpError::MissingGrant(m) => Self::MissingGrant(m),
            host::HttpError::Denied(m) => Self::Denied(m),
            host::HttpError::ConsentPending(m) => Self::ConsentPending(m),
            host::HttpError::RateLimited(m) => Self::RateLimited(m),
            host::HttpError::TooLarge(m) => Self::TooLarge(m),
            host::HttpError::Timeout(m) => Self::Timeout(m),
            host::HttpError::InvalidRequest(m) => Self::InvalidRequest(m),
            host::HttpError::Transport(m) => Self::Transport(m),
        }
    }
}

/// A request under construction: [`Request::get`], [`Request::post`], [`Request::new`].
#[derive(Debug, Clone)]
pub struct Request {
    inner: host::Request,
}

impl Request {
    /// A request with `method` to the absolute URL `url`.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            inner: host::Request {
                method,
                url: url.into(),
                headers: Vec::new(),
                body: None,
                timeout_ms: None,
            },
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// Adds a header (names may repeat; the order is kept).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.inner.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.inner.body = Some(body.into());
        self
    }

    /// Waits at most `ms` milliseconds (the call's remaining time caps it too).
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.inner.timeout_ms = Some(ms);
        self
    }

    /// Sends the request and waits for the response.
    pub fn fetch(&self) -> Result<Response, HttpError> {
        fetch(self)
    }

    /// Sends the request in the background; see [`submit`].
    pub fn submit(&self) -> Result<u64, HttpError> {
        submit(self)
    }
}

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, read up to the host's size cap.
    pub body: Vec<u8>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (compared without regard to case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` and waits for the response.
pub fn fetch(request: &Request) -> Result<Response, HttpError> {
    let r = host::fetch(&request.inner)?;
    Ok(Response {
        status: r.status,
        headers: r.headers,
        body: r.body,
    })
}

/// Sends `request` in the background and returns its id at once. The outcome arrives as an
/// [`Event`](crate::Event) of kind `http-response` to the plugin's `handle_event`, with the
/// id as its subject and a JSON payload (see the host's `docs/capabilities.md`).
pub fn submit(request: &Request) -> Result<u64, HttpError> {
    Ok(host::submit(&request.inner)?)
}
