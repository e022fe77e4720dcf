//! The API's guard: the token, the `Host` and `Origin` checks and the JSON content type
//! (docs/design/0056).
//!
//! - A request must name the server by a loopback name (`Host: 127.0.0.1:PORT`,
//!   `localhost:PORT`, `[::1]:PORT`) unless it serves the network: a web page that rebinds
//!   its own DNS name to 127.0.0.1 reaches the port, but under its own name.
//! - A request carrying an `Origin` must come from the server's own origin: no other page
//!   may drive the API from a person's browser (no CORS headers are ever sent either).
//! - A request that changes something (any method but GET, HEAD, OPTIONS) needs the home's
//!   token as `Authorization: Bearer TOKEN`, and a POST, PUT or PATCH must say its body is
//!   JSON (`Content-Type: application/json`), which no HTML form can send.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use plinth_manifest::diagnostic::{Code, Diagnostic};

use crate::Exposure;
use crate::app::App;
use crate::error::ApiError;

/// The token's file in the home.
pub const TOKEN_FILE: &str = "serve.token";

/// The home's API token, read from or created in `<home>/serve.token`.
#[derive(Debug)]
pub(crate) struct Token {
    value: String,
    path: PathBuf,
}

impl Token {
    /// Reads the token of `home`, or creates one (32 random bytes as hex, mode 0600). The
    /// file's mode is set to 0600 either way.
    pub(crate) fn in_home(home: &Path) -> Result<Token, Diagnostic> {
        let path = home.join(TOKEN_FILE);
        let io = |e: std::io::Error| {
            Diagnostic::new(Code::IoError, format!("{}: {e}", path.display()))
                .with_hint("check that the home directory is writable")
        };
        std::fs::create_dir_all(home).map_err(io)?;
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                restrict(&path).map_err(io)?;
                let value = text.trim().to_owned();
                if value.len() < 32 {
                    return Err(Diagnostic::new(
                        Code::InvalidManifest,
                        format!(
                            "{}: the token is shorter than 32 characters",
                            path.display()
                        ),
                    )
                    .with_hint("delete the file: a new token is made at the next start"));
                }
                Ok(Token { value, path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                getrandom::fill(&mut bytes).map_err(|e| {
                    Diagnostic::new(Code::HostSetup, format!("no randomness for the token: {e}"))
                })?;
                let value = hex::encode(bytes);
                let mut file = create_private(&path).map_err(io)?;
                writeln!(file, "{value}")
                    .and_then(|()| file.sync_all())
                    .map_err(io)?;
                Ok(Token { value, path })
            }
            Err(e) => Err(io(e)),
        }
    }

    pub(crate) fn value(&self) -> &str {
        &self.value
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `offered` is the token, compared in time independent of where it differs.
    fn matches(&self, offered: &str) -> bool {
        let (a, b) = (self.value.as_bytes(), offered.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The middleware: refuses a request that fails a check, before any handler reads it.
pub(crate) async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    match check(&app, request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

fn check(app: &App, method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if app.exposure == Exposure::Loopback && !host.is_some_and(|h| loopback_name(h, app.local)) {
        return Err(forbidden(format!(
            "the request names another host ({}) than this server",
            host.unwrap_or("none")
        )));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = host.map(|h| format!("{}://{h}", app.scheme()));
        if origin.to_str().ok() != own.as_deref() {
            return Err(forbidden(format!(
                "a request from another origin ({}) is refused",
                String::from_utf8_lossy(origin.as_bytes())
            )));
        }
    }
    if method.is_safe() {
        return Ok(());
    }
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !offered.is_some_and(|t| app.token.matches(t.trim())) {
        return Err(Diagnostic::new(
            Code::Unauthorized,
            format!(
                "{method} needs the server's token{}",
                if offered.is_some() {
                    " (a wrong one was given)"
                } else {
                    ""
                }
            ),
        )
        .with_hint(format!(
            "send `Authorization: Bearer TOKEN` with the token in {}",
            app.token.path().display()
        ))
        .into());
    }
    let has_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if has_body && !is_json(headers) {
        return Err(ApiError {
            status: axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            diagnostics: vec![
                Diagnostic::new(
                    Code::BadArgument,
                    format!("{method} needs a JSON body (`Content-Type: application/json`)"),
                )
                .with_hint("send the body as JSON, `{}` when there is nothing to say"),
            ],
        });
    }
    Ok(())
}

/// `application/json`, with parameters (`; charset=utf-8`) or not.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Whether `host` (a `Host` header) names this server by a loopback name and its port.
fn loopback_name(host: &str, local: SocketAddr) -> bool {
    let Some((name, port)) = host.rsplit_once(':') else {
        return false;
    };
    port.parse::<u16>().ok() == Some(local.port())
        && matches!(
            name.to_ascii_lowercase().as_str(),
            "127.0.0.1" | "localhost" | "[::1]"
        )
}

fn forbidden(message: String) -> ApiError {
    Diagnostic::new(Code::Forbidden, message)
        .with_hint(
            "call the API from its own origin, by the name it listens on (127.0.0.1 or localhost)",
        )
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_the_right_port_only() {
        let local: SocketAddr = "127.0.0.1:7878".parse().expect("address");
        for (host, ok) in [
            ("127.0.0.1:7878", true),
            ("localhost:7878", true),
            ("LOCALHOST:7878", true),
            ("[::1]:7878", true),
            ("127.0.0.1:7879", false),
            ("127.0.0.1", false),
            ("evil.example:7878", false),
            ("127.0.0.1.evil.example:7878", false),
        ] {
            assert_eq!(loopback_name(host, local), ok, "{host}");
        }
    }

    #[test]
    fn token_comparison() {
        let token = Token {
            value: "a".repeat(64),
            path: PathBuf::from("serve.token"),
        };
        assert!(token.matches(&"a".repeat(64)));
        assert!(!token.matches(&"a".repeat(63)));
        assert!(!token.matches(&format!("{}b", "a".repeat(63))));
        assert!(!token.matches(""));
    }
}
