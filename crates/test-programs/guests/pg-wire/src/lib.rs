//! A small PostgreSQL client for guest components: `postgres-protocol` builds and parses
//! the wire messages; std's `TcpStream` (which `wasm32-wasip2` implements with
//! `wasi:sockets`) carries them. Simple query protocol; trust, cleartext, MD5 and
//! SCRAM-SHA-256 password authentication. Every value comes back as text.

use std::io::{Read, Write};
use std::net::TcpStream;

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::sasl::{ChannelBinding, SCRAM_SHA_256, ScramSha256};
use postgres_protocol::message::backend::{self, Message};
use postgres_protocol::message::frontend;

/// Where and as whom to connect.
pub struct Target<'a> {
    /// `host:port`.
    pub address: &'a str,
    /// The role.
    pub user: &'a str,
    /// The password (empty for trust).
    pub password: &'a str,
    /// The database.
    pub database: &'a str,
}

/// What a query answered.
pub struct Answer {
    /// The column names of the last result.
    pub columns: Vec<String>,
    /// The rows of the last result, each value as text or `None` for SQL NULL.
    pub rows: Vec<Vec<Option<String>>>,
    /// The last command tag, e.g. `SELECT 2`.
    pub command: Option<String>,
}

/// Why a query failed: the step and the reason.
#[derive(Debug)]
pub struct PgError(pub String);

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn failed(context: &str, error: impl std::fmt::Display) -> PgError {
    PgError(format!("{context}: {error}"))
}

/// Connects, authenticates, runs `sql` (one or more statements) and disconnects.
pub fn query(target: &Target<'_>, sql: &str) -> Result<Answer, PgError> {
    let address = target.address;
    let stream =
        TcpStream::connect(address).map_err(|e| failed(&format!("connect {address}"), e))?;
    let mut session = Session {
        stream,
        buffer: BytesMut::new(),
    };
    let mut out = BytesMut::new();
    frontend::startup_message([("user", target.user), ("database", target.database)], &mut out)
        .map_err(|e| failed("startup", e))?;
    session.send(&out)?;
    authenticate(&mut session, target.user, target.password)?;
    out.clear();
    frontend::query(sql, &mut out).map_err(|e| failed("query", e))?;
    session.send(&out)?;

    let mut answer = Answer {
        columns: Vec::new(),
        rows: Vec::new(),
        command: None,
    };
    let mut error = None;
    loop {
        match session.next()? {
            Message::RowDescription(body) => {
                let mut fields = body.fields();
                answer.columns.clear();
                answer.rows.clear();
                while let Ok(Some(field)) = fields.next() {
                    answer.columns.push(field.name().to_string());
                }
            }
            Message::DataRow(body) => {
                let buffer = body.buffer();
                let mut values = Vec::new();
                let mut ranges = body.ranges();
                while let Ok(Some(range)) = ranges.next() {
                    values.push(
                        range.map(|range| String::from_utf8_lossy(&buffer[range]).into_owned()),
                    );
                }
                answer.rows.push(values);
            }
            Message::CommandComplete(body) => {
                answer.command = body.tag().ok().map(str::to_string);
            }
            Message::ErrorResponse(body) => error = Some(server_error(&body)),
            Message::ReadyForQuery(_) => break,
            _ => {}
        }
    }
    out.clear();
    frontend::terminate(&mut out);
    let _ = session.send(&out);
    match error {
        Some(error) => Err(error),
        None => Ok(answer),
    }
}

/// One PostgreSQL session: a stream and a read buffer.
struct Session {
    stream: TcpStream,
    buffer: BytesMut,
}

impl Session {
    fn send(&mut self, message: &[u8]) -> Result<(), PgError> {
        self.stream
            .write_all(message)
            .map_err(|e| failed("send", e))
    }

    fn next(&mut self) -> Result<Message, PgError> {
        loop {
            if let Some(message) =
                Message::parse(&mut self.buffer).map_err(|e| failed("protocol", e))?
            {
                return Ok(message);
            }
            let mut chunk = [0u8; 8192];
            let n = self
                .stream
                .read(&mut chunk)
                .map_err(|e| failed("receive", e))?;
            if n == 0 {
                return Err(PgError("the server closed the connection".into()));
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

fn server_error(body: &backend::ErrorResponseBody) -> PgError {
    let mut fields = body.fields();
    let mut message = String::new();
    while let Ok(Some(field)) = fields.next() {
        if field.type_() == b'M' {
            message = String::from_utf8_lossy(field.value_bytes()).into_owned();
        }
    }
    PgError(format!("server: {message}"))
}

/// Answers the server's authentication request, then reads up to `ReadyForQuery`.
fn authenticate(session: &mut Session, user: &str, password: &str) -> Result<(), PgError> {
    let mut out = BytesMut::new();
    let mut scram: Option<ScramSha256> = None;
    loop {
        out.clear();
        match session.next()? {
            Message::AuthenticationOk => {}
            Message::AuthenticationCleartextPassword => {
                frontend::password_message(password.as_bytes(), &mut out)
                    .map_err(|e| failed("password", e))?;
                session.send(&out)?;
            }
            Message::AuthenticationMd5Password(body) => {
                let hash = postgres_protocol::authentication::md5_hash(
                    user.as_bytes(),
                    password.as_bytes(),
                    body.salt(),
                );
                frontend::password_message(hash.as_bytes(), &mut out)
                    .map_err(|e| failed("password", e))?;
                session.send(&out)?;
            }
            Message::AuthenticationSasl(body) => {
                let mut mechanisms = body.mechanisms();
                let mut offered = false;
                while let Ok(Some(mechanism)) = mechanisms.next() {
                    offered |= mechanism == SCRAM_SHA_256;
                }
                if !offered {
                    return Err(PgError("no SASL mechanism in common".into()));
                }
                let state = ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
                frontend::sasl_initial_response(SCRAM_SHA_256, state.message(), &mut out)
                    .map_err(|e| failed("sasl", e))?;
                scram = Some(state);
                session.send(&out)?;
            }
            Message::AuthenticationSaslContinue(body) => {
                let state = scram
                    .as_mut()
                    .ok_or_else(|| PgError("SASL continue without a start".into()))?;
                state.update(body.data()).map_err(|e| failed("sasl", e))?;
                frontend::sasl_response(state.message(), &mut out)
                    .map_err(|e| failed("sasl", e))?;
                session.send(&out)?;
            }
            Message::AuthenticationSaslFinal(body) => {
                let mut state = scram
                    .take()
                    .ok_or_else(|| PgError("SASL final without a start".into()))?;
                state.finish(body.data()).map_err(|e| failed("sasl", e))?;
            }
            Message::ErrorResponse(body) => return Err(server_error(&body)),
            Message::ReadyForQuery(_) => return Ok(()),
            _ => {}
        }
    }
}

