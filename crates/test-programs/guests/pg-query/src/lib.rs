//! `pg-query`: a PostgreSQL data source as a `tool`, over `wasi:sockets` TCP.
//!
//! `postgres-protocol` builds and parses the wire messages; std's `TcpStream` (which
//! `wasm32-wasip2` implements with `wasi:sockets`) carries them. Simple query protocol;
//! trust, cleartext, MD5 and SCRAM-SHA-256 password authentication.
//!
//! - `query` `{"host", "port", "user", "password"?, "database"?, "sql"}` →
//!   `{"columns": [..], "rows": [[text or null, ..], ..], "command": "SELECT 2"}`;
//! - `connect_many` `{"host", "port", "count"}` opens `count` connections and holds them
//!   until the call ends → `{"opened": n, "error": text or null}`;
//! - `udp` `{}` → `{"error": text or null}` from binding a UDP socket;
//! - `listen` `{}` → `{"error": text or null}` from listening on a TCP port.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use plinth_pdk::prelude::*;
use postgres_protocol::authentication::sasl::{ChannelBinding, SCRAM_SHA_256, ScramSha256};
use postgres_protocol::message::backend::{self, Message};
use postgres_protocol::message::frontend;

struct PgQuery;

impl Plugin for PgQuery {}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

fn connection_properties(extra: Value) -> Value {
    let mut props = json!({
        "host": {"type": "string"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    });
    if let (Some(props), Some(extra)) = (props.as_object_mut(), extra.as_object()) {
        props.extend(extra.clone());
    }
    props
}

impl Tool for PgQuery {
    fn tools() -> Vec<ToolInfo> {
        vec![
            ToolInfo::new(
                "query",
                "Runs SQL on a PostgreSQL server and returns the rows.",
                object(
                    connection_properties(json!({
                        "user": {"type": "string"},
                        "password": {"type": "string"},
                        "database": {"type": "string"},
                        "sql": {"type": "string"},
                    })),
                    &["host", "port", "user", "sql"],
                ),
            ),
            ToolInfo::new(
                "connect_many",
                "Opens `count` TCP connections and holds them for the call.",
                object(
                    connection_properties(json!({"count": {"type": "integer", "minimum": 0}})),
                    &["host", "port", "count"],
                ),
            ),
            ToolInfo::new("udp", "Binds a UDP socket.", object(json!({}), &[])),
            ToolInfo::new("listen", "Listens on a TCP port.", object(json!({}), &[])),
        ]
    }

    fn call(name: &str, input: Value) -> Result<Value, ToolError> {
        match name {
            "query" => query(&input),
            "connect_many" => connect_many(&input),
            "udp" => {
                Ok(json!({"error": UdpSocket::bind("0.0.0.0:0").err().map(|e| e.to_string())}))
            }
            "listen" => {
                Ok(json!({"error": TcpListener::bind("127.0.0.1:0").err().map(|e| e.to_string())}))
            }
            other => Err(ToolError::UnknownTool(other.to_string())),
        }
    }
}

fn text<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input.get(key).and_then(Value::as_str)
}

fn address(input: &Value) -> Result<String, ToolError> {
    let host = text(input, "host").ok_or_else(|| invalid("`host` is required"))?;
    let port = input
        .get("port")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid("`port` is required"))?;
    Ok(format!("{host}:{port}"))
}

fn invalid(message: &str) -> ToolError {
    ToolError::InvalidInput(message.to_string())
}

fn failed(context: &str, error: impl std::fmt::Display) -> ToolError {
    ToolError::Failed(format!("{context}: {error}"))
}

fn connect_many(input: &Value) -> Result<Value, ToolError> {
    let address = address(input)?;
    let count = input.get("count").and_then(Value::as_u64).unwrap_or(0);
    let mut held = Vec::new();
    let mut error = None;
    for _ in 0..count {
        match TcpStream::connect(&address) {
            Ok(stream) => held.push(stream),
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    Ok(json!({"opened": held.len(), "error": error}))
}

/// One PostgreSQL session: a stream and a read buffer.
struct Session {
    stream: TcpStream,
    buffer: BytesMut,
}

impl Session {
    fn send(&mut self, message: &[u8]) -> Result<(), ToolError> {
        self.stream
            .write_all(message)
            .map_err(|e| failed("send", e))
    }

    fn next(&mut self) -> Result<Message, ToolError> {
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
                return Err(ToolError::Failed("the server closed the connection".into()));
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

fn server_error(body: &backend::ErrorResponseBody) -> ToolError {
    let mut fields = body.fields();
    let mut message = String::new();
    while let Ok(Some(field)) = fields.next() {
        if field.type_() == b'M' {
            message = String::from_utf8_lossy(field.value_bytes()).into_owned();
        }
    }
    ToolError::Failed(format!("server: {message}"))
}

fn query(input: &Value) -> Result<Value, ToolError> {
    let address = address(input)?;
    let user = text(input, "user").ok_or_else(|| invalid("`user` is required"))?;
    let password = text(input, "password").unwrap_or_default();
    let database = text(input, "database").unwrap_or(user);
    let sql = text(input, "sql").ok_or_else(|| invalid("`sql` is required"))?;

    let stream =
        TcpStream::connect(&address).map_err(|e| failed(&format!("connect {address}"), e))?;
    let mut session = Session {
        stream,
        buffer: BytesMut::new(),
    };
    let mut out = BytesMut::new();
    frontend::startup_message([("user", user), ("database", database)], &mut out)
        .map_err(|e| failed("startup", e))?;
    session.send(&out)?;
    authenticate(&mut session, user, password)?;
    out.clear();
    frontend::query(sql, &mut out).map_err(|e| failed("query", e))?;
    session.send(&out)?;

    let mut columns = Vec::new();
    let mut rows = Vec::new();
    let mut command = None;
    let mut error = None;
    loop {
        match session.next()? {
            Message::RowDescription(body) => {
                let mut fields = body.fields();
                columns.clear();
                while let Ok(Some(field)) = fields.next() {
                    columns.push(field.name().to_string());
                }
            }
            Message::DataRow(body) => {
                let buffer = body.buffer();
                let mut values = Vec::new();
                let mut ranges = body.ranges();
                while let Ok(Some(range)) = ranges.next() {
                    values.push(match range {
                        Some(range) => json!(String::from_utf8_lossy(&buffer[range])),
                        None => Value::Null,
                    });
                }
                rows.push(Value::Array(values));
            }
            Message::CommandComplete(body) => {
                command = body.tag().ok().map(str::to_string);
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
        None => Ok(json!({"columns": columns, "rows": rows, "command": command})),
    }
}

/// Answers the server's authentication request, then reads up to `ReadyForQuery`.
fn authenticate(session: &mut Session, user: &str, password: &str) -> Result<(), ToolError> {
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
                    return Err(ToolError::Failed("no SASL mechanism in common".into()));
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
                    .ok_or_else(|| ToolError::Failed("SASL continue without a start".into()))?;
                state.update(body.data()).map_err(|e| failed("sasl", e))?;
                frontend::sasl_response(state.message(), &mut out)
                    .map_err(|e| failed("sasl", e))?;
                session.send(&out)?;
            }
            Message::AuthenticationSaslFinal(body) => {
                let mut state = scram
                    .take()
                    .ok_or_else(|| ToolError::Failed("SASL final without a start".into()))?;
                state.finish(body.data()).map_err(|e| failed("sasl", e))?;
            }
            Message::ErrorResponse(body) => return Err(server_error(&body)),
            Message::ReadyForQuery(_) => return Ok(()),
            _ => {}
        }
    }
}

plinth_pdk::export!(PgQuery: tool);
